// Typed calls of the package's user and admin RPCs and of the queue-job / system-metrics edge
// functions, on the app's own supabase-js client. Every answer has its exact type (types.ts);
// every refusal is a JobsError carrying the code of the error tables in docs/app.md.
// supabase-js is only a type here: this module has no runtime dependency.
import type { SupabaseClient } from "@supabase/supabase-js";
import type {
  Asset,
  CancelJobAnswer,
  ErrorBody,
  FunctionAnswer,
  FunctionArgs,
  FunctionName,
  JobChanges,
  JobDetail,
  JobsDatabase,
  LibraryPage,
  ListedJob,
  QueueJobAnswer,
  RetryJobAnswer,
  ReviewJobAnswer,
  SystemMetrics,
  WorkspacePage,
} from "./types.ts";

/** The releases of the jobsdb package whose answers this client is written for: 1.x (the
 *  answers of 1.0.0; a later 1.y may add keys, a 2.0.0 may change them). */
export const SUPPORTED_RELEASES = ">=1.0.0 <2.0.0";

/** The app's supabase-js client, typed with the package's answers. */
export type JobsSupabaseClient = SupabaseClient<JobsDatabase>;

/**
 * A refused or failed call. `code` is the SQLSTATE (`22023`, `42501`, `PT404`, `PT409`,
 * `PT429`, ...), PostgREST's own (`PGRST301`, ...), an edge function's (`invalid_json`,
 * `unknown_field`, `no_authorization`, ...), or `network` when no answer came back.
 * `status` is the HTTP status (0 for `network`).
 */
export class JobsError extends Error implements ErrorBody {
  readonly code: string;
  readonly status: number;
  readonly details: string | null;
  readonly hint: string | null;

  constructor(status: number, body: ErrorBody) {
    super(body.message);
    this.name = "JobsError";
    this.code = body.code;
    this.status = status;
    this.details = body.details;
    this.hint = body.hint;
  }
}

/** The error of a supabase-js call (PostgREST's `{message, details, hint, code}`). */
interface PostgrestLikeError {
  message: string;
  details?: string | null;
  hint?: string | null;
  code?: string | null;
}

function asBody(e: PostgrestLikeError): ErrorBody {
  return {
    code: e.code || "network",
    message: e.message,
    details: e.details ?? null,
    hint: e.hint ?? null,
  };
}

/** An edge function's refusal: its status and JSON body; anything else is `network`. */
async function functionError(error: unknown): Promise<JobsError> {
  const e = error as { name?: string; message?: string; context?: unknown };
  const res = e.context as { status?: number; json?: () => Promise<unknown> } | undefined;
  if (e.name === "FunctionsHttpError" && typeof res?.json === "function") {
    const status = res.status ?? 500;
    try {
      const body = (await res.json()) as Partial<ErrorBody> | null;
      if (body && typeof body.code === "string" && typeof body.message === "string") {
        return new JobsError(status, {
          code: body.code,
          message: body.message,
          details: body.details ?? null,
          hint: body.hint ?? null,
        });
      }
    } catch {
      // not JSON: fall through
    }
    return new JobsError(status, {
      code: "internal",
      message: `the function answered ${status}`,
      details: null,
      hint: null,
    });
  }
  return new JobsError(0, {
    code: "network",
    message: e.message ?? String(error),
    details: null,
    hint: null,
  });
}

/** GET calls put their arguments in the query string, where PostgREST would read a null as the
 *  text "null": leave null and undefined out (every such parameter's default is null, or a
 *  default the function also applies to null). */
function present(args: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).filter(([, v]) => v !== null && v !== undefined));
}

/** The package's functions, called as the signed-in user of `supabase`. */
export interface JobsClient {
  readonly supabase: JobsSupabaseClient;
  /** Any function of `public` by name, with its exact answer; `get` for a read-only call. */
  call<F extends FunctionName>(
    fn: F,
    args: FunctionArgs<F>,
    options?: { get?: boolean },
  ): Promise<FunctionAnswer<F>>;
  /** Queue a job (num_images 3: a 1x3 set), through the queue-job edge function (default) or
   *  the RPC directly (`via: "rpc"`). */
  queueJob(args: FunctionArgs<"queue_job">, options?: { via?: "function" | "rpc" }): Promise<
    QueueJobAnswer
  >;
  cancelJob(jobId: string): Promise<CancelJobAnswer>;
  /** null when there is no such job for this user (someone else's included). */
  getJob(jobId: string): Promise<JobDetail | null>;
  listJobs(args?: FunctionArgs<"list_jobs">): Promise<ListedJob[]>;
  workspaceGroups(args?: FunctionArgs<"workspace_groups">): Promise<WorkspacePage>;
  libraryItems(args?: FunctionArgs<"library_items">): Promise<LibraryPage>;
  assetInfo(assetId: string): Promise<Asset | null>;
  jobChangesSince(cursor: string | null): Promise<JobChanges>;
  /** Admins. */
  retryJob(jobId: string): Promise<RetryJobAnswer>;
  reviewJob(args: FunctionArgs<"review_job">): Promise<ReviewJobAnswer>;
  purgeFinishedJobs(args?: FunctionArgs<"purge_finished_jobs">): Promise<number>;
  /** Admins: through the system-metrics edge function (default) or the RPC. */
  systemMetrics(
    timeWindow?: string,
    options?: { via?: "function" | "rpc" },
  ): Promise<SystemMetrics>;
}

export function jobsClient(supabase: JobsSupabaseClient): JobsClient {
  async function call<F extends FunctionName>(
    fn: F,
    args: FunctionArgs<F>,
    options: { get?: boolean } = {},
  ): Promise<FunctionAnswer<F>> {
    const get = options.get ?? false;
    // supabase-js types rpc() per function name; a name chosen at run time needs a widening.
    const rpc = supabase.rpc as unknown as (
      fn: string,
      args: object,
      options: { get: boolean },
    ) => PromiseLike<{ data: unknown; error: PostgrestLikeError | null; status: number }>;
    const { data, error, status } = await rpc.call(
      supabase,
      fn,
      get ? present(args) : args,
      { get },
    );
    if (error) throw new JobsError(status, asBody(error));
    return data as FunctionAnswer<F>;
  }

  async function invoke<T>(name: string, init: { method: "GET" | "POST"; body?: object }) {
    const { data, error } = await supabase.functions.invoke<T>(name, init);
    if (error) throw await functionError(error);
    return data as T;
  }

  return {
    supabase,
    call,
    queueJob(args, options = {}) {
      if (options.via === "rpc") return call("queue_job", args);
      return invoke<QueueJobAnswer>("queue-job", { method: "POST", body: args });
    },
    cancelJob: (jobId) => call("cancel_job", { job_id: jobId }),
    getJob: (jobId) => call("get_job", { job_id: jobId }, { get: true }),
    listJobs: (args = {}) => call("list_jobs", args, { get: true }),
    workspaceGroups: (args = {}) => call("workspace_groups", args, { get: true }),
    libraryItems: (args = {}) => call("library_items", args, { get: true }),
    assetInfo: (assetId) => call("asset_info", { asset_id: assetId }, { get: true }),
    jobChangesSince: (cursor) => call("job_changes_since", { cursor }, { get: true }),
    retryJob: (jobId) => call("retry_job", { job_id: jobId }),
    reviewJob: (args) => call("review_job", args),
    purgeFinishedJobs: (args = {}) => call("purge_finished_jobs", args),
    systemMetrics(timeWindow = "1 hour", options = {}) {
      if (options.via === "rpc") {
        return call("system_metrics", { time_window: timeWindow }, { get: true });
      }
      const query = new URLSearchParams({ time_window: timeWindow });
      return invoke<SystemMetrics>(`system-metrics?${query}`, { method: "GET" });
    },
  };
}
