// The exact shape of every answer of the package's RPC functions and of every job status
// broadcast. Supabase's generator (supabase/types/database.ts) can only say `Json` for a
// function that returns jsonb; these types say what that JSON is, and JobsDatabase puts them
// back into the generated Database type, so `createClient<JobsDatabase>(...)` types every
// `supabase.rpc(...)` answer without a cast.
//
// Exact means: every key the database writes, no other, and the type of each value in every
// state the package produces (each status, a reset, the nulls). tests/py/test_app_answer_shapes.py
// calls each function through the real database and checks the answers against these types
// (the key sets are read from this file by TypeScript's own compiler), so a key renamed on
// either side fails `make test`.
import type { Database, Json, Tables } from "../../supabase/types/database.ts";

export type { Database, Json, Tables };

/** The error body of PostgREST and of the package's edge functions (and of JobsError). */
export interface ErrorBody {
  code: string;
  message: string;
  details: string | null;
  hint: string | null;
}

/** A row of public.jobs as the generator types it. */
export type JobRow = Tables<"jobs">;

/** queued → processing → completed | failed (an admin may retry: → queued); cancelled. */
export type JobStatus = "queued" | "processing" | "completed" | "failed" | "cancelled";
export type Destination = "library" | "workspace";
export type ModerationStatus = "pending" | "approved" | "rejected" | "flagged";
export type AssetType = "image" | "video";

/** One job of queue_job's answer (jobs_private.job_group_json). */
export interface QueuedJob {
  id: string;
  status: JobStatus;
  job_type: string;
  worker_pool: string;
  format: string | null;
  quality: string | null;
  model_type: string | null;
  destination: Destination;
  /** The job's place in its set (0-based). */
  image_index: number;
  priority: number;
  run_at: string;
  created_at: string;
}

/** queue_job (and the queue-job edge function): the jobs of one request, sharing `group_id`
 *  (`metadata.job_id`). `deduplicated`: an earlier request had the same idempotency key, and
 *  these are its jobs, in whatever status they are now. */
export interface QueueJobAnswer {
  group_id: string;
  deduplicated: boolean;
  jobs: QueuedJob[];
}

/** cancel_job. */
export interface CancelJobAnswer {
  id: string;
  status: "cancelled";
  previous_status: "queued" | "processing";
}

/** Metadata of an asset: the job's metadata (without its group key), the worker's metadata of
 *  the asset, and the job's model, quality, enhancement and template where they are set. */
export type AssetMetadata = { [key: string]: Json | undefined };

/** One output (images_videos row) with what the app shows of it (jobs_private.asset_json). */
export interface Asset {
  asset_id: string;
  job_id: string;
  asset_index: number;
  type: AssetType;
  /** The Storage bucket the file is in (the job type's output_bucket). */
  bucket: string;
  /** The object's path in `bucket`, e.g. `<user_id>/<job_id>.png`. */
  file_path: string;
  file_name: string;
  thumbnail_path: string | null;
  job_type: string;
  model_type: string | null;
  quality: string | null;
  format: string | null;
  created_at: string;
  metadata: AssetMetadata;
}

/** get_job: the job's row without the worker-side columns (`lease_token`, `locked_by`), with
 *  its outputs. */
export type JobDetail =
  & Omit<JobRow, "lease_token" | "locked_by" | "status" | "destination" | "moderation_status">
  & {
    status: JobStatus;
    destination: Destination;
    moderation_status: ModerationStatus;
    assets: Asset[];
  };

/** list_jobs: rows of public.jobs (`lease_token` is the lease's digest, never a usable token). */
export type ListedJob =
  & Omit<JobRow, "status" | "destination" | "moderation_status">
  & { status: JobStatus; destination: Destination; moderation_status: ModerationStatus };

/** One Library item: a completed job that has outputs. */
export interface LibraryItem {
  job_id: string;
  job_type: string;
  created_at: string;
  completed_at: string;
  /** `metadata.prompt`: what the user asked for (null for a job written without one). */
  prompt: string | null;
  assets: Asset[];
}

/** library_items. `next` is null on the last page. */
export interface LibraryPage {
  items: LibraryItem[];
  next: { before: string; before_id: string } | null;
}

/** A job of a Workspace group. */
export interface WorkspaceJob {
  id: string;
  job_type: string;
  status: JobStatus;
  /** null only for a job written without `metadata.image_index` (not by queue_job). */
  image_index: number | null;
  prompt: string | null;
  error_message: string | null;
  completed_at: string | null;
}

/** The jobs sharing one `metadata.job_id` (a 1x3 set is three jobs), with their outputs. */
export interface WorkspaceGroup {
  group_id: string;
  created_at: string;
  jobs: WorkspaceJob[];
  assets: Asset[];
}

/** workspace_groups. `next` is null only on an empty page. */
export interface WorkspacePage {
  groups: WorkspaceGroup[];
  next: { before: string; before_group: string } | null;
}

/** A job's status as the reconcile read and a broadcast both carry it. `updated_at` grows with
 *  every write of the job (never equal, never backwards), so the larger one is the newer. */
export interface JobChange {
  job_id: string;
  /** `metadata.job_id`: the set the job belongs to. */
  group_id: string;
  image_index: number | null;
  status: JobStatus;
  attempts: number;
  error_message: string | null;
  updated_at: string;
}

/** job_changes_since. `reset`: reload what you show (first call with a null cursor, a cursor
 *  older than 7 days, or more than 500 changes since); keep the new `cursor` either way. */
export interface JobChanges {
  cursor: string;
  reset: boolean;
  changed: JobChange[];
  /** Ids of jobs deleted (by retention) since the cursor. */
  removed: string[];
}

/** The payload of a `job_status` broadcast on the private topic `jobs:<user id>`: one per status
 *  change. `id` is the message's own id (Realtime's), not a job id. */
export interface JobStatusBroadcast extends JobChange {
  id: string;
  /** The status it left: completed and cancelled are final, so never those. */
  previous_status: "queued" | "processing" | "failed";
}

/** retry_job (admins). */
export interface RetryJobAnswer {
  id: string;
  status: "queued";
  previous_error: string | null;
}

/** review_job (admins). */
export interface ReviewJobAnswer {
  id: string;
  moderation_status: ModerationStatus;
  reviewed_by: string;
  reviewed_at: string;
  review_notes: string | null;
}

/** asset_info: one output, or null when there is no such asset for this user. */
export type AssetInfoAnswer = Asset | null;

/** One row of system_metrics' queue: jobs of a pool in one status. */
export interface QueueDepth {
  worker_pool: string;
  status: "queued" | "processing";
  jobs: number;
  /** queued jobs whose run_at has come */
  ready: number;
  /** age of the oldest job of the row */
  oldest_seconds: number;
}

/** Per job type that has finished jobs in the window. failure_rate is null without a completed
 *  or failed job, the run times without a completed one. */
export interface JobTypeMetrics {
  job_type: string;
  completed: number;
  failed: number;
  cancelled: number;
  failure_rate: number | null;
  retry_rate: number;
  avg_run_seconds: number | null;
  p50_run_seconds: number | null;
  p95_run_seconds: number | null;
  avg_total_seconds: number | null;
}

/** system_metrics (admins, service role) and the system-metrics edge function. */
export interface SystemMetrics {
  now: string;
  since: string;
  queue: QueueDepth[];
  leases: { processing: number; expired: number; active_workers: number };
  job_types: JobTypeMetrics[];
}

/** job_callback (workers, the job-callback edge function): what became of the report. */
export type JobCallbackAnswer =
  | { job_id: string; result: "completed"; asset_ids: string[] }
  | { job_id: string; result: "requeued"; retry_at: string; attempts: number }
  | { job_id: string; result: "failed"; attempts: number }
  | { job_id: string; result: "duplicate"; status: "completed" | "failed" }
  | { job_id: string; result: "stale"; status: Exclude<JobStatus, "cancelled"> }
  | { job_id: string; result: "ignored_cancelled" }
  | { job_id: string; result: "unknown_job" };

export type JobCallbackResult = JobCallbackAnswer["result"];

/** rescue_expired_jobs. */
export interface RescueAnswer {
  requeued: number;
  failed: number;
}

type Fns = Database["public"]["Functions"];

/** The rows of claim_jobs, with the metadata a job was queued with. */
export type ClaimedJob = Omit<Fns["claim_jobs"]["Returns"][number], "metadata"> & {
  metadata: { [key: string]: Json | undefined };
};

/** heartbeat_jobs: one row per job; the new lease's end only for `extended` (the generator,
 *  reading the table's column types, cannot know it is null otherwise). */
export type HeartbeatRow =
  | { job_id: string; state: "extended"; lease_expires_at: string }
  | { job_id: string; state: "cancelled" | "lost"; lease_expires_at: null };

/** release_jobs: one row per job. */
export interface ReleaseRow {
  job_id: string;
  state: "released" | "requeued" | "failed" | "lost";
}

/** job_callbacks: one row per report, in the order given. */
export interface JobCallbacksRow {
  job_id: string;
  result: JobCallbackResult;
  answer: JobCallbackAnswer;
}

/** job_callback_and_claim: one row per claimed job, each with the report's answer; nothing
 *  claimed: one row with the answer and every job column null. */
export type JobCallbackAndClaimRow =
  | (ClaimedJob & { answer: JobCallbackAnswer })
  | ({ [K in keyof ClaimedJob]: null } & { answer: JobCallbackAnswer });

/** Arguments the database takes as null where the generator says only "optional". */
type Nullable<T, K extends keyof T> = Omit<T, K> & { [P in K]?: T[P] | null };

/** What each function answers, and the arguments that take null. */
export interface JobsFunctions {
  queue_job: { Args: Fns["queue_job"]["Args"]; Returns: QueueJobAnswer };
  cancel_job: { Args: Fns["cancel_job"]["Args"]; Returns: CancelJobAnswer };
  get_job: { Args: Fns["get_job"]["Args"]; Returns: JobDetail | null };
  list_jobs: {
    Args: Nullable<Fns["list_jobs"]["Args"], "status" | "before" | "before_id" | "max_rows">;
    Returns: ListedJob[];
  };
  asset_info: { Args: Fns["asset_info"]["Args"]; Returns: AssetInfoAnswer };
  workspace_groups: {
    Args: Nullable<
      Fns["workspace_groups"]["Args"],
      "before" | "before_group" | "max_groups" | "workspace_session_id"
    >;
    Returns: WorkspacePage;
  };
  library_items: {
    Args: Nullable<Fns["library_items"]["Args"], "before" | "before_id" | "max_rows">;
    Returns: LibraryPage;
  };
  job_changes_since: {
    Args: Nullable<Fns["job_changes_since"]["Args"], "cursor">;
    Returns: JobChanges;
  };
  review_job: {
    Args: Nullable<Fns["review_job"]["Args"], "review_notes">;
    Returns: ReviewJobAnswer;
  };
  retry_job: { Args: Fns["retry_job"]["Args"]; Returns: RetryJobAnswer };
  purge_finished_jobs: { Args: Fns["purge_finished_jobs"]["Args"]; Returns: number };
  system_metrics: { Args: Fns["system_metrics"]["Args"]; Returns: SystemMetrics };
  claim_jobs: { Args: Fns["claim_jobs"]["Args"]; Returns: ClaimedJob[] };
  heartbeat_jobs: { Args: Fns["heartbeat_jobs"]["Args"]; Returns: HeartbeatRow[] };
  job_callback: { Args: Fns["job_callback"]["Args"]; Returns: JobCallbackAnswer };
  job_callbacks: { Args: Fns["job_callbacks"]["Args"]; Returns: JobCallbacksRow[] };
  job_callback_and_claim: {
    Args: Nullable<Fns["job_callback_and_claim"]["Args"], "lease_seconds">;
    Returns: JobCallbackAndClaimRow[];
  };
  release_jobs: { Args: Fns["release_jobs"]["Args"]; Returns: ReleaseRow[] };
  rescue_expired_jobs: { Args: Fns["rescue_expired_jobs"]["Args"]; Returns: RescueAnswer };
  rescue_is_scheduled: { Args: Fns["rescue_is_scheduled"]["Args"]; Returns: boolean };
}

/** The generated Database with every function's exact answer:
 *  `createClient<JobsDatabase>(url, anonKey)` types `supabase.rpc(...)`'s `data`. A function
 *  of `public` without an entry in JobsFunctions (or an entry without a function) fails the
 *  type check here. */
export type JobsDatabase = Omit<Database, "public"> & {
  public: Omit<Database["public"], "Functions"> & {
    Functions: {
      [F in keyof Fns]: Omit<Fns[F], "Args" | "Returns"> & JobsFunctions[F];
    };
  };
};

/** A function of `public` that apps and workers call. */
export type FunctionName = keyof JobsFunctions;
export type FunctionArgs<F extends FunctionName> = JobsFunctions[F]["Args"];
export type FunctionAnswer<F extends FunctionName> = JobsFunctions[F]["Returns"];
