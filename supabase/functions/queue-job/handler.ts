// queue-job: the app's "generate" request, with the user's JWT. Calls queue_job as that user
// (never with the service key): the database decides who the user is (auth.uid()), what they
// may ask for, and the answer {group_id, deduplicated, jobs: [...]}.
import type { Args, RpcClient } from "../_shared/rpc.ts";
import {
  bearer,
  corsHeaders,
  fail,
  fromRpcError,
  json,
  jsonObject,
  jwtRole,
  unknownFields,
} from "../_shared/http.ts";

/** queue_job's named arguments: the request body's only allowed keys. */
export const QUEUE_JOB_FIELDS = [
  "job_type",
  "prompt",
  "metadata",
  "quality",
  "num_images",
  "project_id",
  "destination",
  "workspace_session_id",
  "template_name",
  "api_model_id",
  "idempotency_key",
  "priority",
  "run_after",
] as const satisfies readonly (keyof Args<"queue_job">)[];

export async function handleQueueJob(
  req: Request,
  clientFor: (authorization: string) => RpcClient,
): Promise<Response> {
  if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: corsHeaders });
  if (req.method !== "POST") return fail(405, "method_not_allowed", "use POST");
  const auth = bearer(req);
  if ("answer" in auth) return auth.answer;
  const parsed = await jsonObject(req);
  if ("answer" in parsed) return parsed.answer;
  const bad = unknownFields(parsed.body, QUEUE_JOB_FIELDS);
  if (bad) return bad;
  const { data, error } = await clientFor(auth.authorization).rpc(
    "queue_job",
    parsed.body as Args<"queue_job">,
  );
  if (error) return fromRpcError(error, jwtRole(auth.authorization) !== "authenticated");
  return json(200, data);
}
