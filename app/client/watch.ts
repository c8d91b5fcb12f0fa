// watchJobs: a user's jobs, live. It follows the job status broadcasts of the user's private
// topic `jobs:<user id>` and reconciles with job_changes_since — when the channel is joined
// (first subscribe and every rejoin after a reconnect), after a gap, and after a reset — so the
// view converges to the database whatever messages were lost, repeated, delayed or reordered.
// It never polls: between those events it makes no call at all.
//
// Why it converges:
// - Every message and every reconcile row carries the job's whole status (status, attempts,
//   error, updated_at), and a job's updated_at grows with every write of it: the larger one is
//   the newer, so a late or repeated message never overwrites a newer state.
// - Each message also names the status it left (previous_status). Per job the watcher keeps the
//   last state it holds without a hole, and the newer messages that do not yet join onto it. A
//   message that stays unjoined for `gapDelayMs` means a message was lost (or is very late):
//   one reconcile fetches everything written since the last cursor. Reordered messages that
//   arrive within the delay join up and cost nothing.
// - A message lost while the socket is down is caught by the reconcile at rejoin. A message lost
//   on a live connection with no later message of that job is not detectable without polling:
//   it is caught at the next rejoin or gap (docs/app.md, "Live status").
import type { JobsClient, JobsSupabaseClient } from "./client.ts";
import { jobsClient } from "./client.ts";
import type {
  JobChange,
  JobChanges,
  JobStatus,
  JobStatusBroadcast,
  QueueJobAnswer,
} from "./types.ts";

/** A job as the watcher holds it: the fields of a broadcast and of the reconcile read. */
export type WatchedJob = JobChange;

export type WatchState = "connecting" | "live" | "reconnecting" | "stopped";

export interface WatchStats {
  /** broadcasts received; those that changed the view; those ignored (late, repeated, not a
   *  job status) */
  messages: number;
  applied: number;
  ignored: number;
  /** job_changes_since calls; channel joins (the first and each rejoin); gaps found; resets */
  reconciles: number;
  joins: number;
  gaps: number;
  resets: number;
}

export interface WatchJobsOptions {
  /** The signed-in user (auth.uid()): the topic is `jobs:<userId>`. */
  userId: string;
  /** How long a message that does not join onto what the watcher holds may wait for the
   *  messages before it, before a reconcile (default 300 ms). */
  gapDelayMs?: number;
  /** What to load after a reset (a first subscribe, a cursor older than 7 days or more than
   *  500 changes since it). Default: the user's newest 200 jobs and every queued or processing
   *  one (list_jobs), and each job held unfinished that is in neither (get_job). */
  reload?: (jobs: JobsClient, held: ReadonlyMap<string, WatchedJob>) => Promise<Reloaded>;
  /** A failed reconcile or reload (it is retried at the next join or gap). */
  onError?: (error: unknown) => void;
}

/** What a reload found: jobs, and ids of held jobs that no longer exist. */
export interface Reloaded {
  jobs: WatchedJob[];
  gone: string[];
}

export interface JobWatch {
  readonly userId: string;
  /** The current view; a new Map after every change (so React can compare by reference). */
  readonly jobs: ReadonlyMap<string, WatchedJob>;
  get(jobId: string): WatchedJob | undefined;
  readonly state: WatchState;
  /** The first reconcile (and its reload) has landed: the view holds the user's jobs. */
  readonly loaded: boolean;
  readonly stats: Readonly<WatchStats>;
  /** Called after every change of the view or of the state; returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** Show the jobs the app just queued (queue_job's answer; queueing is not broadcast, so
   *  otherwise a job appears with its first status change). A repeated request's answer
   *  (`deduplicated`) says nothing new and is ignored. */
  noteQueued(answer: QueueJobAnswer): void;
  /** Reconcile now (e.g. when the tab becomes visible again). */
  reconcile(): Promise<void>;
  stop(): Promise<void>;
}

const STATUSES: ReadonlySet<string> = new Set<JobStatus>([
  "queued",
  "processing",
  "completed",
  "failed",
  "cancelled",
]);
const UNFINISHED: ReadonlySet<string> = new Set<JobStatus>(["queued", "processing"]);

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::\d\d)?)$/;

/** A timestamp as the database writes it in JSON (`2026-12-04T17:49:12.123456+00:00`), in
 *  microseconds since the epoch: Date keeps only milliseconds, and two writes of a job can be a
 *  microsecond apart. */
export function timestampMicros(text: string): bigint {
  const m = TIMESTAMP.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3].length === 3 ? `${m[3]}:00` : m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new Error(`not a timestamp: ${text}`);
  return BigInt(ms) * 1000n + BigInt((m[2] ?? "").padEnd(6, "0"));
}

function isNewer(a: WatchedJob, b: WatchedJob | undefined): boolean {
  return b === undefined || timestampMicros(a.updated_at) > timestampMicros(b.updated_at);
}

/** A broadcast payload, checked: anything else on the topic is ignored. */
function asBroadcast(payload: unknown): JobStatusBroadcast | null {
  const p = payload as Partial<JobStatusBroadcast> | null;
  if (
    !p || typeof p.job_id !== "string" || typeof p.updated_at !== "string" ||
    !STATUSES.has(p.status as string) || !STATUSES.has(p.previous_status as string)
  ) return null;
  try {
    timestampMicros(p.updated_at);
  } catch {
    return null;
  }
  return p as JobStatusBroadcast;
}

function watched(c: JobChange): WatchedJob {
  return {
    job_id: c.job_id,
    group_id: c.group_id,
    image_index: c.image_index,
    status: c.status,
    attempts: c.attempts,
    error_message: c.error_message,
    updated_at: c.updated_at,
  };
}

/** A job row (list_jobs, get_job) as the watcher holds it. */
export function watchedFromRow(row: {
  id: string;
  metadata: unknown;
  status: JobStatus;
  attempts: number;
  error_message: string | null;
  updated_at: string;
}): WatchedJob {
  const md = (row.metadata ?? {}) as { job_id?: unknown; image_index?: unknown };
  return {
    job_id: row.id,
    group_id: typeof md.job_id === "string" ? md.job_id : row.id,
    image_index: typeof md.image_index === "number" ? md.image_index : null,
    status: row.status,
    attempts: row.attempts,
    error_message: row.error_message,
    updated_at: row.updated_at,
  };
}

/** The default reload: the newest 200 jobs, every unfinished one, and each held unfinished job
 *  that is in neither (it finished or was deleted meanwhile). */
export async function reloadRecentAndUnfinished(
  jobs: JobsClient,
  held: ReadonlyMap<string, WatchedJob>,
): Promise<Reloaded> {
  const found = new Map<string, WatchedJob>();
  for (const row of await jobs.listJobs({ max_rows: 200 })) found.set(row.id, watchedFromRow(row));
  for (const status of ["queued", "processing"] as const) {
    let before: { before: string; before_id: string } | null = null;
    for (;;) {
      const page: Awaited<ReturnType<JobsClient["listJobs"]>> = await jobs.listJobs({
        status,
        max_rows: 200,
        ...before,
      });
      for (const row of page) found.set(row.id, watchedFromRow(row));
      if (page.length < 200) break;
      const last = page[page.length - 1];
      before = { before: last.created_at, before_id: last.id };
    }
  }
  const gone: string[] = [];
  for (const job of held.values()) {
    if (!UNFINISHED.has(job.status) || found.has(job.job_id)) continue;
    const row = await jobs.getJob(job.job_id);
    if (row) found.set(row.id, watchedFromRow(row));
    else gone.push(job.job_id);
  }
  return { jobs: [...found.values()], gone };
}

/** Per job: the newest state held without a hole (`base`; none for a job not seen yet, which
 *  was born queued: that status is queue_job's answer, never broadcast), and the newer
 *  messages that do not join onto it yet, oldest first, each with the time it arrived. */
interface Track {
  base: WatchedJob | null;
  pending: { msg: JobStatusBroadcast; at: number }[];
}

export function watchJobs(
  supabase: JobsSupabaseClient,
  options: WatchJobsOptions,
): JobWatch {
  const jobs = jobsClient(supabase);
  const gapDelayMs = options.gapDelayMs ?? 300;
  const reload = options.reload ?? reloadRecentAndUnfinished;
  const onError = options.onError ?? ((e: unknown) => console.error("watchJobs:", e));

  let view: Map<string, WatchedJob> = new Map();
  const tracks = new Map<string, Track>();
  const removed = new Set<string>();
  const listeners = new Set<() => void>();
  const stats: WatchStats = {
    messages: 0,
    applied: 0,
    ignored: 0,
    reconciles: 0,
    joins: 0,
    gaps: 0,
    resets: 0,
  };
  let state: WatchState = "connecting";
  let cursor: string | null = null;
  let loaded = false; // the first reconcile (a reset) has landed
  let inFlight: Promise<void> | null = null;
  let again = false;
  let gapTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const notify = () => listeners.forEach((l) => l());

  /** Put states into the view (each only if newer than what it shows); true if it changed. */
  function show(states: Iterable<WatchedJob>, drop: Iterable<string> = []): boolean {
    let next: Map<string, WatchedJob> | null = null;
    for (const s of states) {
      if (removed.has(s.job_id) || !isNewer(s, (next ?? view).get(s.job_id))) continue;
      next ??= new Map(view);
      next.set(s.job_id, s);
    }
    for (const id of drop) {
      if (!(next ?? view).has(id)) continue;
      next ??= new Map(view);
      next.delete(id);
    }
    if (!next) return false;
    view = next;
    notify();
    return true;
  }

  function track(jobId: string): Track {
    let t = tracks.get(jobId);
    if (!t) {
      t = { base: null, pending: [] };
      tracks.set(jobId, t);
    }
    return t;
  }

  /** Join pending messages onto the base while each follows on from the one before. */
  function advance(t: Track): void {
    while (t.pending.length > 0) {
      const first = t.pending[0].msg;
      if (t.base && !isNewer(first, t.base)) {
        t.pending.shift(); // the base already says as much
      } else if ((t.base ? t.base.status : "queued") === first.previous_status) {
        t.base = watched(first);
        t.pending.shift();
      } else {
        return; // a hole: a message between the base and this one has not arrived
      }
    }
  }

  function setBase(s: WatchedJob): void {
    const t = track(s.job_id);
    if (isNewer(s, t.base ?? undefined)) t.base = s;
    advance(t);
  }

  function onMessage(payload: unknown): void {
    stats.messages++;
    const msg = asBroadcast(payload);
    if (!msg || removed.has(msg.job_id)) {
      stats.ignored++;
      return;
    }
    const t = track(msg.job_id);
    if (
      (t.base && !isNewer(msg, t.base)) ||
      t.pending.some((p) => p.msg.updated_at === msg.updated_at)
    ) {
      stats.ignored++; // late or repeated
      return;
    }
    t.pending.push({ msg, at: Date.now() });
    t.pending.sort((a, b) =>
      timestampMicros(a.msg.updated_at) < timestampMicros(b.msg.updated_at) ? -1 : 1
    );
    advance(t);
    if (show([watched(msg)])) stats.applied++;
    else stats.ignored++;
    if (t.pending.length > 0 && loaded) armGapCheck();
  }

  function armGapCheck(): void {
    if (gapTimer !== null || stopped) return;
    gapTimer = setTimeout(checkGaps, gapDelayMs);
  }

  function checkGaps(): void {
    gapTimer = null;
    if (stopped) return;
    const now = Date.now();
    let waiting = false;
    for (const t of tracks.values()) {
      if (t.pending.length === 0) continue;
      if (now - t.pending[0].at >= gapDelayMs) {
        stats.gaps++;
        void reconcile();
        return;
      }
      waiting = true;
    }
    if (waiting) armGapCheck();
  }

  async function reconcileOnce(): Promise<void> {
    stats.reconciles++;
    const answer: JobChanges = await jobs.jobChangesSince(cursor);
    if (answer.reset) {
      stats.resets++;
      const got = await reload(jobs, view);
      for (const s of got.jobs) setBase(s);
      drop(got.gone);
      show(got.jobs, got.gone);
    } else {
      const rows = answer.changed.map(watched);
      for (const s of rows) setBase(s);
      drop(answer.removed);
      show(rows, answer.removed);
    }
    // What the answer did not mention was unchanged up to its snapshot: a message still
    // pending was sent after it and waits for its predecessor (or the next gap check).
    for (const t of tracks.values()) {
      for (const p of t.pending) p.at = Date.now();
    }
    cursor = answer.cursor;
    if (!loaded) {
      loaded = true;
      notify();
    }
  }

  function drop(ids: Iterable<string>): void {
    for (const id of ids) {
      removed.add(id);
      tracks.delete(id);
    }
  }

  /** One reconcile at a time; a request during one makes one more after it. */
  function reconcile(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      try {
        do {
          again = false;
          await reconcileOnce();
        } while (again && !stopped);
      } catch (e) {
        onError(e);
      } finally {
        inFlight = null;
      }
      if ([...tracks.values()].some((t) => t.pending.length > 0)) armGapCheck();
    })();
    return inFlight;
  }

  const channel = supabase.channel(`jobs:${options.userId}`, { config: { private: true } });
  channel.on("broadcast", { event: "job_status" }, (message) => onMessage(message.payload));

  void (async () => {
    // Private channels are joined with the user's JWT.
    await supabase.realtime.setAuth();
    if (stopped) return;
    channel.subscribe((status) => {
      if (stopped) return;
      if (status === "SUBSCRIBED") {
        stats.joins++;
        state = "live";
        notify();
        void reconcile();
      } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") {
        state = "reconnecting";
        notify();
      } else if (status === "CLOSED") {
        state = stopped ? "stopped" : "reconnecting";
        notify();
      }
    });
  })().catch(onError);

  return {
    userId: options.userId,
    get jobs() {
      return view;
    },
    get: (jobId) => view.get(jobId),
    get state() {
      return state;
    },
    get loaded() {
      return loaded;
    },
    stats,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    noteQueued(answer) {
      if (answer.deduplicated || stopped) return;
      // a new job: queued, no attempt yet, and written once (updated_at is created_at)
      const states = answer.jobs.map((j): WatchedJob => ({
        job_id: j.id,
        group_id: answer.group_id,
        image_index: j.image_index,
        status: "queued",
        attempts: 0,
        error_message: null,
        updated_at: j.created_at,
      }));
      for (const st of states) setBase(st);
      show(states);
    },
    reconcile,
    async stop() {
      stopped = true;
      if (gapTimer !== null) clearTimeout(gapTimer);
      state = "stopped";
      await supabase.removeChannel(channel);
      notify();
    },
  };
}
