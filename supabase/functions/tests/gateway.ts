// The three edge functions behind one local server, as Supabase's Edge Runtime routes
// /functions/v1/<name>, each with its production wiring (_shared/supabase.ts: supabase-js
// against SUPABASE_URL with the anon or service key). tests/py/app_stack.py starts it with
// SUPABASE_URL pointing at its PostgREST stand-in, so the example app's requests run the real
// handlers and the real supabase-js client. Not deployed: on Supabase each function is its
// own index.ts.
import { handleQueueJob } from "../queue-job/handler.ts";
import { handleSystemMetrics } from "../system-metrics/handler.ts";
import { handleJobCallback, parseSecrets } from "../job-callback/handler.ts";
import { asCaller, asServiceRole } from "../_shared/supabase.ts";
import { fail } from "../_shared/http.ts";

const secrets = parseSecrets(Deno.env.get("JOB_CALLBACK_SECRETS"));
const service = asServiceRole();

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
}, (req) => {
  const name = new URL(req.url).pathname.replace(/^\/functions\/v1\//, "").replace(/\/$/, "");
  switch (name) {
    case "queue-job":
      return handleQueueJob(req, asCaller);
    case "system-metrics":
      return handleSystemMetrics(req, asCaller);
    case "job-callback":
      return handleJobCallback(req, service, secrets);
    default:
      return fail(404, "not_found", `no function ${name}`);
  }
});
