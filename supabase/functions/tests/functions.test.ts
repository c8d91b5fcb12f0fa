// The three edge functions' handlers against the real embedded database (through the bridge).
// Run by tests/py/test_edge_functions.py, which builds the database, mints the JWTs and
// starts the bridge.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { handleQueueJob } from "../queue-job/handler.ts";
import { handleSystemMetrics } from "../system-metrics/handler.ts";
import { handleJobCallback, SECRET_HEADER } from "../job-callback/handler.ts";
import { statusFor } from "../_shared/http.ts";
import { asCaller, bridgeClient, env } from "./bridge.ts";

const USER = () => env("USER_JWT");
const ADMIN = () => env("ADMIN_JWT");
const SECRET = () => env("WORKER_SECRET");
const service = () => bridgeClient(env("SERVICE_JWT"));

function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://functions.local/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });

async function queue(body: unknown, jwt = USER()) {
  const res = await handleQueueJob(post("queue-job", body, bearer(jwt)), asCaller);
  return { status: res.status, body: await res.json() };
}

/** A queued job claimed the way a worker does, so a callback has something to finish; its id
 *  and its owner's folder (asset paths must lie there: job_types.asset_path_prefix). */
async function processingJob(): Promise<{ id: string; folder: string }> {
  const q = await queue({ job_type: "sdxl_image_fast", prompt: "a lighthouse" });
  assertEquals(q.status, 200);
  const claimed = await service().rpc("claim_jobs", {
    worker_pool: "sdxl",
    worker_id: "gpu-edge-test",
    max_jobs: 10,
  });
  assert(claimed.data, JSON.stringify(claimed.error));
  const id = q.body.jobs[0].id as string;
  const mine = claimed.data.find((c) => c.job_id === id);
  assert(mine, "the queued job was claimed");
  return { id, folder: `${mine.user_id}/` };
}

async function callback(body: unknown, secret: string | null = SECRET()) {
  const headers: Record<string, string> = secret === null ? {} : { [SECRET_HEADER]: secret };
  const res = await handleJobCallback(post("job-callback", body, headers), service(), [SECRET()]);
  return { status: res.status, body: await res.json() };
}

Deno.test("queue-job: a signed-in user queues a group of jobs", async () => {
  const { status, body } = await queue({
    job_type: "sdxl_image_fast",
    prompt: "a red fox",
    num_images: 2,
  });
  assertEquals(status, 200);
  assertEquals(typeof body.group_id, "string");
  assertEquals(body.deduplicated, false);
  assertEquals(body.jobs.length, 2);
  assertEquals(body.jobs.map((j: { status: string }) => j.status), ["queued", "queued"]);
});

Deno.test("queue-job: bad requests get the documented 4xx and body", async () => {
  const cases: [unknown, Record<string, string>, number, string][] = [
    [{ job_type: "sdxl_image_fast", prompt: "x" }, {}, 401, "no_authorization"],
    ["{not json", bearer(USER()), 400, "invalid_json"],
    [[1, 2], bearer(USER()), 400, "invalid_json"],
    [{ job_type: "sdxl_image_fast", prompt: "x", colour: "red" }, bearer(USER()), 400,
      "unknown_field"],
    [{ job_type: "no_such_type", prompt: "x" }, bearer(USER()), 400, "22023"],
    [{ job_type: "sdxl_image_fast", prompt: "" }, bearer(USER()), 400, "22023"],
    [{ job_type: "sdxl_image_fast", prompt: "x", num_images: 99 }, bearer(USER()), 400,
      "22023"],
    [{ job_type: "sdxl_image_fast", prompt: "x", project_id: "not-a-uuid" }, bearer(USER()),
      400, "22P02"],
    [{ job_type: "sdxl_image_fast", prompt: "x", priority: 5 }, bearer(USER()), 403, "42501"],
    [{ job_type: "sdxl_image_fast", prompt: "x" }, bearer(env("ANON_JWT")), 401, "42501"],
    [{ job_type: "sdxl_image_fast", prompt: "x" }, bearer(env("FORGED_JWT")), 401,
      "PGRST301"],
  ];
  for (const [body, headers, want, code] of cases) {
    const res = await handleQueueJob(post("queue-job", body, headers), asCaller);
    const answer = await res.json();
    assertEquals([res.status, answer.code], [want, code], JSON.stringify([body, answer]));
    assertEquals(typeof answer.message, "string");
  }
  const get = await handleQueueJob(
    new Request("http://functions.local/queue-job", { headers: bearer(USER()) }),
    asCaller,
  );
  assertEquals([get.status, (await get.json()).code], [405, "method_not_allowed"]);
});

Deno.test("queue-job: the per-user queued cap answers 429", async () => {
  // CAPPED_JWT's user already has the maximum of queued jobs (set up by the pytest side)
  const { status, body } = await queue({ job_type: "sdxl_image_fast", prompt: "one more" },
    env("CAPPED_JWT"));
  assertEquals([status, body.code], [429, "PT429"]);
  assert(body.message.includes("too many queued jobs"), body.message);
});

Deno.test("queue-job: the rate of new jobs answers 429 with Retry-After", async () => {
  // RATED_JWT's user has an empty bucket (set up by the pytest side: full in 40 s)
  const res = await handleQueueJob(
    post("queue-job", { job_type: "sdxl_image_fast", prompt: "one more" },
      bearer(env("RATED_JWT"))),
    asCaller,
  );
  const body = await res.json();
  assertEquals([res.status, body.code], [429, "PT429"]);
  const wait = Number(res.headers.get("Retry-After"));
  assert(Number.isInteger(wait) && wait >= 1 && wait <= 11, `Retry-After ${wait}`);
  assert(body.message.includes(`retry in ${wait} s`), body.message);
  assertEquals(body.details, `retry_after_seconds=${wait}`);
  assert(res.headers.get("Access-Control-Expose-Headers")?.includes("Retry-After"));
  // the queued cap's 429 names no wait: no Retry-After
  const capped = await handleQueueJob(
    post("queue-job", { job_type: "sdxl_image_fast", prompt: "x" }, bearer(env("CAPPED_JWT"))),
    asCaller,
  );
  await capped.json();
  assertEquals([capped.status, capped.headers.get("Retry-After")], [429, null]);
});

Deno.test("queue-job: JSON no reader can read is 400, never 500", async () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
  const cases: [string, number, string][] = [
    // PostgreSQL's JSON parser runs out of stack at 12,000-16,000 levels: 54001, HTTP 500
    [`{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {"a": ${deep(30000)}}}`, 400,
      "invalid_json"],
    [`{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {"a": ${deep(34)}}}`, 400,
      "invalid_json"],
    // within the edge function's bound but past the database's rule: 22023 from queue_job
    [`{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {"a": ${deep(33)}}}`, 400,
      "22023"],
    // JSON.parse reads Infinity (JSON.stringify would send null): refused, not changed
    [`{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {"n": 1e5000}}`, 400,
      "invalid_json"],
    // finite for JSON.parse, past the database's rule (|n| < 1e308)
    [`{"job_type": "sdxl_image_fast", "prompt": "p", "metadata": {"n": 1.5e308}}`, 400, "22023"],
  ];
  for (const [text, want, code] of cases) {
    const res = await handleQueueJob(post("queue-job", text, bearer(USER())), asCaller);
    const answer = await res.json();
    assertEquals([res.status, answer.code], [want, code], answer.message);
  }
});

Deno.test("statusFor follows PostgREST's mapping: client errors 4xx, server faults 5xx", () => {
  const cases: [string, number, string?][] = [
    ["22023", 400], ["22P02", 400], ["23502", 400], ["23514", 400], ["23505", 409],
    ["23503", 409], ["P0001", 400], ["42703", 400], ["42P01", 404], ["42883", 404],
    ["PT404", 404], ["PT409", 409], ["PT429", 429], ["25006", 405], ["0P000", 403],
    ["21000", 400, "UPDATE requires a WHERE clause"], ["21000", 500, "more than one row"],
    ["PGRST102", 400], ["PGRST116", 406], ["PGRST202", 404], ["PGRST301", 401],
    ["54001", 500], ["57014", 500], ["57P01", 503], ["53300", 503], ["XX000", 500],
    ["P0002", 500], ["40001", 500], ["08006", 503],
  ];
  for (const [code, want, message] of cases) {
    assertEquals([code, statusFor(code, false, message)], [code, want]);
  }
  assertEquals(statusFor("42501", true), 401);
  assertEquals(statusFor("42501", false), 403);
});

Deno.test("job-callback: no or a wrong worker secret is refused with 401", async () => {
  const body = { job_id: crypto.randomUUID(), status: "completed", assets: ["a.png"] };
  for (const secret of [null, "", "wrong", SECRET().slice(0, -1), SECRET() + "x"]) {
    const { status, body: answer } = await callback(body, secret);
    assertEquals([status, answer.code], [401, "bad_worker_secret"], `secret ${secret}`);
  }
  const unset = await handleJobCallback(
    post("job-callback", body, { [SECRET_HEADER]: SECRET() }),
    service(),
    [],
  );
  assertEquals(unset.status, 503);
});

Deno.test("job-callback: a worker's payload completes a job with its assets", async () => {
  const { id, folder } = await processingJob();
  const { status, body } = await callback({
    job_id: id,
    status: "completed",
    assets: [{
      type: "image",
      url: `${folder}outputs/fox-1.png`,
      thumbnail_url: `${folder}outputs/fox-1.thumb.png`,
      metadata: { width: 1024 },
    }],
    error_message: null,
    metadata: { seed: 42 },
  });
  assertEquals(status, 200, JSON.stringify(body));
  assertEquals(body.result, "completed");
  const job = await bridgeClient(USER()).rpc("get_job", { job_id: id }, { get: true });
  const got = job.data as { status: string; outputs?: unknown[]; assets?: unknown[] };
  assertEquals(got.status, "completed");
  assert(JSON.stringify(got).includes(`${folder}outputs/fox-1.png`), JSON.stringify(got));

  // the same report again (a retry): acknowledged, nothing changes
  const again = await callback({ job_id: id, status: "completed", assets: [{
    type: "image",
    url: `${folder}outputs/fox-1.png`,
  }] });
  assertEquals([again.status, again.body.result], [200, "duplicate"]);
  const after = await bridgeClient(USER()).rpc("get_job", { job_id: id }, { get: true });
  assertEquals(after.data, job.data);

  // a failure after completion conflicts: 409
  const late = await callback({ job_id: id, status: "failed", error_message: "oom" });
  assertEquals([late.status, late.body.code], [409, "PT409"]);
});

Deno.test("job-callback: plain path strings are assets too", async () => {
  const { id, folder } = await processingJob();
  // another user's folder is refused (400, nothing written), the owner's is taken
  const stolen = await callback({
    job_id: id,
    status: "completed",
    assets: ["00000000-0000-0000-0000-000000000000/x.png"],
  });
  assertEquals([stolen.status, stolen.body.code], [400, "22023"], stolen.body.message);
  const { status, body } = await callback({
    job_id: id,
    status: "completed",
    assets: [`${folder}outputs/plain-1.png`],
  });
  assertEquals([status, body.result], [200, "completed"]);
  const job = await bridgeClient(USER()).rpc("get_job", { job_id: id }, { get: true });
  const text = JSON.stringify(job.data);
  assert(text.includes(`${folder}outputs/plain-1.png`), text);
});

Deno.test("job-callback: bad payloads are 400, never 500", async () => {
  const cases: [unknown, string][] = [
    ["nope", "invalid_json"],
    [{ status: "completed" }, "missing_field"],
    [{ job_id: crypto.randomUUID(), status: "completed", extra: 1 }, "unknown_field"],
    [{ job_id: "not-a-uuid", status: "completed" }, "22P02"],
    [{ job_id: crypto.randomUUID(), status: "exploded" }, "22023"],
  ];
  for (const [body, code] of cases) {
    const { status, body: answer } = await callback(body);
    assertEquals([status, answer.code], [400, code], JSON.stringify([body, answer]));
  }
});

Deno.test("system-metrics: an admin gets the metrics, a user 403", async () => {
  const get = (jwt: string, query = "") =>
    handleSystemMetrics(
      new Request(`http://functions.local/system-metrics${query}`, { headers: bearer(jwt) }),
      asCaller,
    );
  const admin = await get(ADMIN(), "?time_window=2%20hours");
  const metrics = await admin.json();
  assertEquals(admin.status, 200, JSON.stringify(metrics));
  assert(typeof metrics === "object" && metrics !== null);
  const user = await get(USER());
  assertEquals([user.status, (await user.json()).code], [403, "42501"]);
  const bad = await get(ADMIN(), "?time_window=soon");
  assertEquals([bad.status, (await bad.json()).code], [400, "22007"]);
  const unknown = await get(ADMIN(), "?window=1");
  assertEquals(unknown.status, 400);
});
