// Prints, as JSON, the shape of every answer type of app/client/types.ts, read by TypeScript's
// own compiler: for each function of JobsFunctions its Returns, and the broadcast payload and
// the error body. tests/py/test_app_answer_shapes.py checks the database's real answers
// against them, so the key sets are never written twice by hand.
//
//   node app/tests/answer_shapes.mjs <path of typescript's package>
//
// A shape is one of: {kind: "string" | "number" | "boolean" | "null" | "json"},
// {kind: "literal", value}, {kind: "array", items}, {kind: "union", of: [...]},
// {kind: "object", props: {name: {type, optional, generated}}, rest?: shape} ("json": any JSON
// value; `generated`: the property's type is a column's, as Supabase's generator wrote it).
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import process from "node:process";

const here = path.dirname(fileURLToPath(import.meta.url));
const ts = createRequire(path.resolve(process.argv[2], "package.json"))("typescript");
const entry = path.join(here, "shapes_entry.ts");

const program = ts.createProgram([entry], {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  skipLibCheck: true,
  // the client imports supabase-js as a type only; answer types do not depend on it
  noResolve: false,
});
const checker = program.getTypeChecker();
const source = program.getSourceFile(entry);
const errors = ts.getPreEmitDiagnostics(program, source)
  .filter((d) => d.category === ts.DiagnosticCategory.Error);
if (errors.length > 0) {
  for (const d of errors) console.error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  process.exit(1);
}

function exported(name) {
  const sym = checker.getExportsOfModule(checker.getSymbolAtLocation(source))
    .find((s) => s.getName() === name);
  if (!sym) throw new Error(`shapes_entry.ts exports no ${name}`);
  return checker.getDeclaredTypeOfSymbol(
    sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym,
  );
}

// Json (supabase/types/database.ts) is a union; TypeScript flattens it into bigger unions
// (`Json | null`) and drops its name, so it is recognised by its members.
const jsonMembers = exported("Json").types;
const nonNullJson = jsonMembers.filter((m) => !(m.flags & ts.TypeFlags.Null));

function isJson(t) {
  return t.isUnion() && nonNullJson.every((m) => t.types.includes(m));
}

function shape(t, seen = []) {
  if (isJson(t)) return { kind: "json" };
  const f = t.flags;
  if (f & ts.TypeFlags.StringLiteral) return { kind: "literal", value: t.value };
  if (f & ts.TypeFlags.NumberLiteral) return { kind: "literal", value: t.value };
  if (f & ts.TypeFlags.BooleanLiteral) {
    return { kind: "literal", value: checker.typeToString(t) === "true" };
  }
  if (f & ts.TypeFlags.String) return { kind: "string" };
  if (f & ts.TypeFlags.Number) return { kind: "number" };
  if (f & ts.TypeFlags.Boolean) return { kind: "boolean" };
  if (f & ts.TypeFlags.Null) return { kind: "null" };
  if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { kind: "json" };
  if (t.isUnion()) {
    const members = t.types.filter((m) => !(m.flags & ts.TypeFlags.Undefined));
    const bools = members.filter((m) => m.flags & ts.TypeFlags.BooleanLiteral);
    const rest = members.filter((m) => !(m.flags & ts.TypeFlags.BooleanLiteral));
    const of = rest.map((m) => shape(m, seen));
    if (bools.length === 2) of.push({ kind: "boolean" });
    else of.push(...bools.map((m) => shape(m, seen)));
    return of.length === 1 ? of[0] : { kind: "union", of };
  }
  if (checker.isArrayType(t)) {
    return { kind: "array", items: shape(checker.getTypeArguments(t)[0], seen) };
  }
  if (f & ts.TypeFlags.Object || t.isIntersection()) {
    if (seen.includes(t)) throw new Error(`recursive type ${checker.typeToString(t)}`);
    const props = {};
    for (const p of checker.getPropertiesOfType(t)) {
      const pt = checker.getTypeOfSymbol(p);
      props[p.getName()] = {
        type: shape(pt, [...seen, t]),
        optional: (p.flags & ts.SymbolFlags.Optional) !== 0,
        // a column typed by Supabase's generator (its nullability is the column's)
        generated: (p.declarations ?? []).some((d) =>
          d.getSourceFile().fileName.endsWith("/types/database.ts")
        ),
      };
    }
    const out = { kind: "object", props };
    const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (index) out.rest = shape(index.type, [...seen, t]);
    return out;
  }
  throw new Error(`no shape for ${checker.typeToString(t)}`);
}

const functions = {};
for (const fn of checker.getPropertiesOfType(exported("JobsFunctions"))) {
  const returns = checker.getPropertyOfType(checker.getTypeOfSymbol(fn), "Returns");
  functions[fn.getName()] = shape(checker.getTypeOfSymbol(returns));
}
console.log(JSON.stringify({
  functions,
  broadcast: shape(exported("JobStatusBroadcast")),
  error: shape(exported("ErrorBody")),
}, null, 1));
