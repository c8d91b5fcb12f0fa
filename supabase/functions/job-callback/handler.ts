// job-callback: the compatibility path for the app's existing GPU workers, which POST
// {job_id, status, assets, error_message, metadata} with no lease token.
//
// What it trusts: a caller presenting one of the deployment's worker secrets
// (JOB_CALLBACK_SECRETS, comma-separated so a new one can be added before the old one is
// removed), compared in constant time, in the `x-worker-secret` header. Anyone else gets 401
// before the database is touched. A holder of the secret can report the outcome of any
// processing job (that is what a token-less report is), nothing more: job_callback, run as
// service_role, is the only thing it calls; it checks the transition (only a processing job
// changes; a repeated report answers `duplicate`; a conflicting one PT409), so retries are
// idempotent. Workers that can carry the lease token should call job_callback over HTTPS with
// a worker JWT instead (docs/workers.md, "Workers over HTTPS").
import { timingSafeEqual } from "node:crypto";
import type { Args, RpcClient } from "../_shared/rpc.ts";
import { fail, fromRpcError, json, jsonObject, unknownFields } from "../_shared/http.ts";

export const CALLBACK_FIELDS = [
  "job_id",
  "status",
  "assets",
  "error_message",
  "metadata",
  "retryable",
  "lease_token",
] as const satisfies readonly (keyof Args<"job_callback">)[];

export const SECRET_HEADER = "x-worker-secret";

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** True when `presented` equals one of `secrets`; the time taken does not depend on where
 *  they differ (fixed-length digests compared with timingSafeEqual, every secret checked). */
export async function secretMatches(presented: string, secrets: string[]): Promise<boolean> {
  const got = await digest(presented);
  let ok = false;
  for (const secret of secrets) {
    if (timingSafeEqual(got, await digest(secret))) ok = true;
  }
  return ok;
}

export function parseSecrets(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter((s) => s.length >= 32);
}

export async function handleJobCallback(
  req: Request,
  serviceClient: RpcClient,
  secrets: string[],
): Promise<Response> {
  if (req.method !== "POST") return fail(405, "method_not_allowed", "use POST");
  if (secrets.length === 0) {
    return fail(503, "not_configured", "job-callback has no worker secret configured",
      "set JOB_CALLBACK_SECRETS (at least 32 characters each)");
  }
  const presented = req.headers.get(SECRET_HEADER);
  if (presented === null || !(await secretMatches(presented, secrets))) {
    return fail(401, "bad_worker_secret", `missing or wrong ${SECRET_HEADER}`);
  }
  const parsed = await jsonObject(req);
  if ("answer" in parsed) return parsed.answer;
  const bad = unknownFields(parsed.body, CALLBACK_FIELDS);
  if (bad) return bad;
  if (typeof parsed.body.job_id !== "string" || typeof parsed.body.status !== "string") {
    return fail(400, "missing_field", "job_id and status are required strings");
  }
  const { data, error } = await serviceClient.rpc(
    "job_callback",
    parsed.body as Args<"job_callback">,
  );
  if (error) return fromRpcError(error, false);
  return json(200, data);
}
