// What the client's Deno tests share: users made the way an app makes test users (Auth's admin
// API with the service key), signed-in supabase-js clients, a worker, the local stack's test
// controls, and the database's own view of a user's jobs. Run by tests/py/test_app_client.py,
// which starts the stack (tests/py/app_stack.py) on a fresh database.
import { createClient } from "@supabase/supabase-js";
import {
  type JobsClient,
  jobsClient,
  type JobsDatabase,
  type JobsSupabaseClient,
  type JobWatch,
  timestampMicros,
  type WatchedJob,
  watchedFromRow,
} from "@jobsdb/client";

export const env = (name: string): string => {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run these tests through pytest`);
  return value;
};

const url = () => env("STACK_URL");

/** Clients do not keep sessions or refresh timers between tests; reconnects are quick. */
const options = {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { reconnectAfterMs: () => 200 },
};

export interface TestUser {
  id: string;
  email: string;
  supabase: JobsSupabaseClient;
  jobs: JobsClient;
}

let serial = 0;

/** A new user, created as an app's tests would create one, then signed in. */
export async function newUser(name: string): Promise<TestUser> {
  const admin = createClient<JobsDatabase>(url(), env("SERVICE_KEY"), options);
  const email = `${name}-${Date.now()}-${serial++}@example.com`;
  const password = crypto.randomUUID();
  const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  if (created.error) throw created.error;
  const supabase = createClient<JobsDatabase>(url(), env("ANON_KEY"), options);
  const { data, error } = await supabase.auth.signInWithPassword({ email, password });
  if (error) throw error;
  return { id: data.user.id, email, supabase, jobs: jobsClient(supabase) };
}

/** A new user made an admin of the package (docs/app.md, "Making a test user"). */
export async function newAdmin(): Promise<TestUser> {
  const admin = await newUser("admin");
  await control("promote", { user_id: admin.id });
  return admin;
}

/** A GPU worker calling the worker functions over HTTPS with a jobs_worker JWT. */
export function worker(): JobsSupabaseClient {
  return createClient<JobsDatabase>(url(), env("ANON_KEY"), {
    ...options,
    accessToken: () => Promise.resolve(env("WORKER_JWT")),
  });
}

export async function close(...clients: JobsSupabaseClient[]): Promise<void> {
  for (const c of clients) {
    await c.removeAllChannels();
    c.realtime.disconnect();
  }
}

/** The stack's test controls (tests/py/app_stack.py). */
export async function control(what: string, body: unknown = {}): Promise<unknown> {
  const res = await fetch(`${url()}/_stand_in/${what}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return await res.json();
}

export interface StackStats {
  faults: { sent: number; dropped: number; duplicated: number; delayed: number };
  calls: [string, string, string | null][];
  deliveries: { job_id: string; status: string }[];
  /** (user id, topic, allowed) of every join */
  joins: [string, string, boolean][];
  sessions: number;
}

export async function stats(): Promise<StackStats> {
  return (await (await fetch(`${url()}/_stand_in/stats`)).json()) as StackStats;
}

/** job_changes_since calls the stack served for this user. */
export async function reconcileCalls(user: TestUser): Promise<number> {
  const s = await stats();
  return s.calls.filter(([fn, , sub]) => fn === "job_changes_since" && sub === user.id).length;
}

/** The user's jobs as the database has them now (list_jobs, every page). */
export async function truth(user: TestUser): Promise<Map<string, WatchedJob>> {
  const all = new Map<string, WatchedJob>();
  let next: { before: string; before_id: string } | null = null;
  for (;;) {
    const page: Awaited<ReturnType<JobsClient["listJobs"]>> = await user.jobs.listJobs({
      max_rows: 200,
      ...next,
    });
    for (const row of page) all.set(row.id, watchedFromRow(row));
    if (page.length < 200) return all;
    const last = page[page.length - 1];
    next = { before: last.created_at, before_id: last.id };
  }
}

/** How the watcher's view differs from the database (empty: the same). */
export function differences(
  view: ReadonlyMap<string, WatchedJob>,
  db: ReadonlyMap<string, WatchedJob>,
): string[] {
  const out: string[] = [];
  for (const [id, want] of db) {
    const got = view.get(id);
    if (!got) out.push(`${id}: missing (${want.status})`);
    else if (
      got.status !== want.status || got.attempts !== want.attempts ||
      got.error_message !== want.error_message ||
      timestampMicros(got.updated_at) !== timestampMicros(want.updated_at)
    ) {
      out.push(`${id}: ${got.status}/${got.attempts} at ${got.updated_at}, db ${want.status}/` +
        `${want.attempts} at ${want.updated_at}`);
    }
  }
  for (const id of view.keys()) if (!db.has(id)) out.push(`${id}: not a job of this user`);
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until cond() holds (the test polls; the watcher does not). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await sleep(50);
  }
}

/** Wait until the view equals the database; the differences left if it does not. */
export async function converge(watch: JobWatch, user: TestUser, ms = 15000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const diff = differences(watch.jobs, await truth(user));
    if (diff.length === 0 || Date.now() > end) return diff;
    await sleep(200);
  }
}

/** A small seeded random number generator (mulberry32), so a failing run can be repeated. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Jobs through their whole life as users, a worker and an admin make them: sets of 1 to 3
 * queued, claimed, completed, failed and retried, cancelled queued or running, released by a
 * stopping worker, retried by an admin; until every job is finished. Each step is its own call
 * (its own commit, its own broadcasts).
 */
export async function lifecycles(
  user: TestUser,
  gpu: JobsSupabaseClient,
  admin: TestUser,
  sets: number,
  rnd: () => number,
  pool: { job_type: string; worker_pool: string } = {
    job_type: "sdxl_image_fast",
    worker_pool: "sdxl",
  },
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < sets; i++) {
    const q = await user.jobs.queueJob({
      job_type: pool.job_type,
      prompt: `set ${i}`,
      num_images: 1 + Math.floor(rnd() * 3),
    }, { via: "rpc" });
    ids.push(...q.jobs.map((j) => j.id));
    if (rnd() < 0.1) await user.jobs.cancelJob(q.jobs[0].id);
  }
  const retried = new Set<string>();
  for (let round = 0; round < 200; round++) {
    const { data: claimed, error } = await gpu.rpc("claim_jobs", {
      worker_pool: pool.worker_pool,
      worker_id: "gpu-test",
      max_jobs: 8,
    });
    if (error) throw error;
    for (const c of claimed) {
      const r = rnd();
      if (r < 0.08) {
        await user.jobs.cancelJob(c.job_id);
      } else if (r < 0.16) {
        await gpu.rpc("release_jobs", {
          worker_id: "gpu-test",
          job_ids: [c.job_id],
          lease_tokens: [c.lease_token],
        });
        continue;
      }
      const fail = rnd();
      const answer = await gpu.rpc("job_callback", fail < 0.6
        ? { job_id: c.job_id, status: "completed", lease_token: c.lease_token, assets: [] }
        : {
          job_id: c.job_id,
          status: "failed",
          lease_token: c.lease_token,
          error_message: `failed in round ${round}`,
          retryable: fail < 0.85,
        });
      if (answer.error) throw answer.error;
      if (answer.data.result === "failed" && !retried.has(c.job_id) && rnd() < 0.5) {
        retried.add(c.job_id);
        await admin.jobs.retryJob(c.job_id);
      }
    }
    const open = (await user.jobs.listJobs({ status: "queued", max_rows: 1 })).length +
      (await user.jobs.listJobs({ status: "processing", max_rows: 1 })).length;
    if (claimed.length === 0 && open === 0) return ids;
  }
  throw new Error("jobs still unfinished after 200 rounds");
}
