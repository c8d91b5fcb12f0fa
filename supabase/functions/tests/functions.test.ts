// The three edge functions' handlers against the real embedded database (through the bridge).
// Run by tests/py/test_edge_functions.py, which builds the database, mints the JWTs and
// starts the bridge.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { handleQueueJob } from "../queue-job/handler.ts";
import { handleSystemMetrics } from "../system-metrics/handler.ts";
import { handleJobCallback, SECRET_HEADER } from "../job-callback/handler.ts";
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

/** A queued job claimed the way a worker does, so a callback has something to finish. */
async function processingJob(): Promise<string> {
  const q = await queue({ job_type: "sdxl_image_fast", prompt: "a lighthouse" });
  assertEquals(q.status, 200);
  const claimed = await service().rpc("claim_jobs", {
    worker_pool: "sdxl",
    worker_id: "gpu-edge-test",
    max_jobs: 10,
  });
  assert(claimed.data, JSON.stringify(claimed.error));
  const id = q.body.jobs[0].id as string;
  assert(claimed.data.some((c) => c.job_id === id), "the queued job was claimed");
  return id;
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
  const id = await processingJob();
  const { status, body } = await callback({
    job_id: id,
    status: "completed",
    assets: [{
      type: "image",
      url: "outputs/fox-1.png",
      thumbnail_url: "outputs/fox-1.thumb.png",
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
  assert(JSON.stringify(got).includes("outputs/fox-1.png"), JSON.stringify(got));

  // the same report again (a retry): acknowledged, nothing changes
  const again = await callback({ job_id: id, status: "completed", assets: [{
    type: "image",
    url: "outputs/fox-1.png",
  }] });
  assertEquals([again.status, again.body.result], [200, "duplicate"]);
  const after = await bridgeClient(USER()).rpc("get_job", { job_id: id }, { get: true });
  assertEquals(after.data, job.data);

  // a failure after completion conflicts: 409
  const late = await callback({ job_id: id, status: "failed", error_message: "oom" });
  assertEquals([late.status, late.body.code], [409, "PT409"]);
});

Deno.test("job-callback: plain path strings are assets too", async () => {
  const id = await processingJob();
  const { status, body } = await callback({
    job_id: id,
    status: "completed",
    assets: ["outputs/plain-1.png"],
  });
  assertEquals([status, body.result], [200, "completed"]);
  const job = await bridgeClient(USER()).rpc("get_job", { job_id: id }, { get: true });
  assert(JSON.stringify(job.data).includes("outputs/plain-1.png"), JSON.stringify(job.data));
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
