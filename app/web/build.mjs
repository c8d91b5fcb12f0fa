// Bundles the example app with esbuild (from .tools, installed by `make tools`):
//   node app/web/build.mjs <.tools/node_modules> <out dir>
// React, supabase-js and the client (app/client, by its import name @jobsdb/client) go into
// one ES module, app.js, beside index.html and style.css.
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.resolve(process.argv[2]);
const out = path.resolve(process.argv[3]);
const esbuild = createRequire(path.join(modules, "package.json"))("esbuild");

mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, "main.tsx")],
  outfile: path.join(out, "app.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  nodePaths: [modules],
  alias: {
    "@jobsdb/client": path.join(here, "..", "client", "mod.ts"),
    "@jobsdb/client/react": path.join(here, "..", "client", "react.ts"),
  },
  define: { "process.env.NODE_ENV": '"production"' },
  minify: true,
  sourcemap: true,
  logLevel: "warning",
});
for (const f of ["index.html", "style.css"]) copyFileSync(path.join(here, f), path.join(out, f));
