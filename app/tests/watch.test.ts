// watchJobs against the real database, through supabase-js and the local stack: the broadcasts
// are the rows the package's trigger wrote, relayed by the Realtime stand-in, which here also
// drops, repeats, delays and reorders them, and cuts the socket. Run by
// tests/py/test_app_client.py.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { watchJobs } from "@jobsdb/client";
import {
  close,
  control,
  converge,
  differences,
  lifecycles,
  newAdmin,
  newUser,
  reconcileCalls,
  seeded,
  sleep,
  stats,
  truth,
  until,
  worker,
} from "./helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("follows every status change live, with one reconcile and no call per message", opts,
  async () => {
    const [alice, bob, admin] = [await newUser("alice"), await newUser("bob"), await newAdmin()];
    const gpu = worker();
    const watch = watchJobs(alice.supabase, { userId: alice.id });
    try {
      await until(() => watch.state === "live" && watch.loaded);
      const rnd = seeded(1);
      await Promise.all([
        lifecycles(alice, gpu, admin, 10, rnd),
        lifecycles(bob, gpu, admin, 4, seeded(2), { job_type: "image_fast", worker_pool: "wan" }),
      ]);
      assertEquals(await converge(watch, alice), []);
      const sent = (await stats()).deliveries.filter((d) =>
        (watch.jobs.has(d.job_id))
      ).length;
      assert(sent >= 25, `${sent} messages`);
      assertEquals(watch.stats.messages, sent);
      assertEquals(await reconcileCalls(alice), 1);
      assertEquals([watch.stats.gaps, watch.stats.resets], [0, 1]);
    } finally {
      await watch.stop();
      await close(alice.supabase, bob.supabase, admin.supabase, gpu);
    }
  });

Deno.test("converges when messages are repeated, delayed and reordered, with no reconcile for them",
  opts, async () => {
    const [alice, admin] = [await newUser("alice"), await newAdmin()];
    const gpu = worker();
    const watch = watchJobs(alice.supabase, { userId: alice.id, gapDelayMs: 1000 });
    try {
      await until(() => watch.state === "live" && watch.loaded);
      await control("faults", { duplicate: 0.3, delay: 0.4, max_delay_s: 0.3, seed: 3 });
      await lifecycles(alice, gpu, admin, 12, seeded(3));
      await sleep(600); // the last delayed messages
      const faults = (await stats()).faults;
      await control("faults", {});
      assert(faults.duplicated > 5 && faults.delayed > 5, JSON.stringify(faults));
      assertEquals(await converge(watch, alice), []);
      // every delay is shorter than gapDelayMs: a reordered message waited for the one before it
      assertEquals(await reconcileCalls(alice), 1);
      assert(watch.stats.ignored >= faults.duplicated, JSON.stringify(watch.stats));
    } finally {
      await watch.stop();
      await close(alice.supabase, admin.supabase, gpu);
    }
  });

Deno.test("a lost message is found by the next one of its job, and that reconcile repairs others",
  opts, async () => {
    const alice = await newUser("alice");
    const gpu = worker();
    const watch = watchJobs(alice.supabase, { userId: alice.id, gapDelayMs: 200 });
    try {
      await until(() => watch.state === "live" && watch.loaded);
      const q = await alice.jobs.queueJob({ job_type: "sdxl_image_fast", prompt: "two",
        num_images: 2 }, { via: "rpc" });
      watch.noteQueued(q);
      const [a, b] = q.jobs.map((j) => j.id);
      // lost: a's claim and b's completion
      await control("faults", { drop_where: [{ job_id: a, status: "processing" },
        { job_id: b, status: "completed" }] });
      const claimed = (await gpu.rpc("claim_jobs", { worker_pool: "sdxl", worker_id: "gpu",
        max_jobs: 2 })).data!;
      const token = (id: string) => claimed.find((c) => c.job_id === id)!.lease_token;
      await gpu.rpc("job_callback", { job_id: b, status: "completed", lease_token: token(b) });
      await until(() => watch.get(b)?.status === "processing");
      await sleep(500);
      // nothing says b finished: its view is stale, and no call was made
      assertEquals([watch.get(a)?.status, watch.get(b)?.status], ["queued", "processing"]);
      assertEquals(await reconcileCalls(alice), 1);
      // a completes: its message says it left `processing`, which the watcher never saw
      await gpu.rpc("job_callback", { job_id: a, status: "completed", lease_token: token(a) });
      assertEquals(await converge(watch, alice, 5000), []);
      assertEquals(watch.get(b)?.status, "completed");
      assertEquals([await reconcileCalls(alice), watch.stats.gaps], [2, 1]);
    } finally {
      await control("faults", {});
      await watch.stop();
      await close(alice.supabase, gpu);
    }
  });

Deno.test("converges under every fault at once and a reconnect in the middle", opts, async () => {
  const [alice, bob, admin] = [await newUser("alice"), await newUser("bob"), await newAdmin()];
  const gpu = worker();
  const watch = watchJobs(alice.supabase, { userId: alice.id });
  try {
    await until(() => watch.state === "live" && watch.loaded);
    await control("faults", { drop: 0.15, duplicate: 0.2, delay: 0.2, max_delay_s: 0.8,
      seed: 4 });
    const work = Promise.all([
      lifecycles(alice, gpu, admin, 14, seeded(4)),
      lifecycles(bob, gpu, admin, 4, seeded(5), { job_type: "image_fast", worker_pool: "wan" }),
    ]);
    await sleep(1500);
    await control("disconnect");
    await work;
    await sleep(1000);
    const faults = (await stats()).faults;
    await control("faults", {});
    // A message lost on a live socket with no later message of its job is found at the next
    // rejoin: cut the socket once more, then the view must be exact.
    const joins = watch.stats.joins;
    await control("disconnect");
    await until(() => watch.stats.joins > joins);
    assertEquals(await converge(watch, alice), []);
    const calls = await reconcileCalls(alice);
    assertEquals(calls, watch.stats.reconciles);
    // one per join, at most one per message lost or delayed past the gap delay
    assert(calls <= watch.stats.joins + faults.dropped + faults.delayed,
      JSON.stringify({ calls, faults, stats: watch.stats }));
    assert(watch.stats.joins >= 3, JSON.stringify(watch.stats));
    for (const id of watch.jobs.keys()) assert((await truth(alice)).has(id));
  } finally {
    await control("faults", {});
    await watch.stop();
    await close(alice.supabase, bob.supabase, admin.supabase, gpu);
  }
});

Deno.test("more than 500 changes while away: one reconcile reloads, and messages cost no call",
  opts, async () => {
    const alice = await newUser("alice");
    const gpu = worker();
    const watch = watchJobs(alice.supabase, { userId: alice.id });
    try {
      await until(() => watch.state === "live" && watch.loaded);
      await control("pause", { on: true });
      await until(() => watch.state === "reconnecting");
      for (let i = 0; i < 33; i++) { // 528 jobs (16 images per request in this database)
        await alice.jobs.queueJob({ job_type: "rv51_fast", prompt: `many ${i}`,
          num_images: 16 }, { via: "rpc" });
      }
      await control("pause", { on: false });
      await until(() => watch.stats.joins === 2 && watch.stats.resets === 2);
      assertEquals(await converge(watch, alice), []);
      assertEquals(watch.jobs.size, 528);
      // 528 claims and 528 completions: 1056 messages, no call
      for (let i = 0; i < 7; i++) {
        const { data } = await gpu.rpc("claim_jobs", { worker_pool: "rv51", worker_id: "gpu",
          max_jobs: 100 });
        if (!data?.length) break;
        const reports = data.map((c) => ({ job_id: c.job_id, status: "completed",
          lease_token: c.lease_token }));
        const done = await gpu.rpc("job_callbacks", { reports });
        if (done.error) throw done.error;
      }
      assertEquals(await converge(watch, alice), []);
      assert([...watch.jobs.values()].every((j) => j.status === "completed"));
      assertEquals(await reconcileCalls(alice), 2);
      assertEquals(watch.stats.messages, 1056);
    } finally {
      await control("pause", { on: false });
      await watch.stop();
      await close(alice.supabase, gpu);
    }
  });

Deno.test("never a job of another user: another user's topic is refused, their jobs never shown",
  opts, async () => {
    const [alice, mallory, admin] = [await newUser("alice"), await newUser("mallory"),
      await newAdmin()];
    const gpu = worker();
    const spy = watchJobs(mallory.supabase, { userId: alice.id, onError: () => {} });
    const own = watchJobs(mallory.supabase, { userId: mallory.id });
    try {
      await until(() => own.state === "live" && own.loaded);
      await lifecycles(alice, gpu, admin, 3, seeded(6));
      await sleep(500);
      assertEquals([spy.state === "live", spy.jobs.size, spy.stats.messages], [false, 0, 0]);
      assertEquals([own.jobs.size, own.stats.messages], [0, 0]);
      assertEquals(differences(own.jobs, await truth(mallory)), []);
      const refused = (await stats()).joins.filter(([sub, topic, allowed]) =>
        sub === mallory.id && topic === `jobs:${alice.id}` && !allowed
      );
      assert(refused.length >= 1);
    } finally {
      await spy.stop();
      await own.stop();
      await close(alice.supabase, mallory.supabase, admin.supabase, gpu);
    }
  });
