// React hooks on watchJobs: the spec's useJobStatus and what a page needs around it.
//
//   <JobWatchProvider supabase={supabase} userId={session.user.id}>   (one channel per user)
//     ... const job = useJobStatus(jobId);   // {status, attempts, error_message, ...} | undefined
//
// Each hook re-renders its component only when what it returns changed.
import {
  createContext,
  createElement,
  type ReactNode,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from "react";
import type { JobsSupabaseClient } from "./client.ts";
import {
  type JobWatch,
  type WatchedJob,
  watchJobs,
  type WatchJobsOptions,
  type WatchState,
} from "./watch.ts";

/** A watcher for the user while the component is mounted (null while there is no user). */
export function useWatchJobs(
  supabase: JobsSupabaseClient,
  userId: string | null | undefined,
  options: Omit<WatchJobsOptions, "userId"> = {},
): JobWatch | null {
  const [watch, setWatch] = useState<JobWatch | null>(null);
  useEffect(() => {
    if (!userId) return;
    const w = watchJobs(supabase, { ...options, userId });
    setWatch(w);
    return () => {
      setWatch(null);
      void w.stop();
    };
    // options are read once per user: a new object at each render must not resubscribe
  }, [supabase, userId]);
  return watch;
}

const WatchContext = createContext<JobWatch | null>(null);

/** Shares one watcher (one channel, one reconcile) with every hook below it. */
export function JobWatchProvider(props: {
  supabase: JobsSupabaseClient;
  userId: string | null | undefined;
  options?: Omit<WatchJobsOptions, "userId">;
  children?: ReactNode;
}): ReactNode {
  const watch = useWatchJobs(props.supabase, props.userId, props.options);
  return createElement(WatchContext.Provider, { value: watch }, props.children);
}

/** The watcher of the nearest JobWatchProvider (null before it is ready). */
export function useJobWatch(): JobWatch | null {
  return useContext(WatchContext);
}

const noWatch = () => () => {};

/** The watcher passed, else the provider's (the context is read either way: hooks run in the
 *  same order at every render). */
function useWatch(watch: JobWatch | null | undefined): JobWatch | null {
  const provided = useContext(WatchContext);
  return watch === undefined ? provided : watch;
}

/** A job's live status (the spec's useJobStatus): undefined until the watcher knows the job. */
export function useJobStatus(
  jobId: string | null | undefined,
  watch?: JobWatch | null,
): WatchedJob | undefined {
  watch = useWatch(watch);
  return useSyncExternalStore(
    watch ? watch.subscribe : noWatch,
    () => (watch && jobId ? watch.get(jobId) : undefined),
  );
}

/** Every job the watcher holds (a new Map after each change). */
export function useJobs(watch?: JobWatch | null): ReadonlyMap<string, WatchedJob> {
  watch = useWatch(watch);
  return useSyncExternalStore(
    watch ? watch.subscribe : noWatch,
    () => (watch ? watch.jobs : EMPTY),
  );
}

/** connecting, live, reconnecting or stopped. */
export function useWatchState(watch?: JobWatch | null): WatchState {
  watch = useWatch(watch);
  return useSyncExternalStore(
    watch ? watch.subscribe : noWatch,
    () => (watch ? watch.state : "connecting"),
  );
}

const EMPTY: ReadonlyMap<string, WatchedJob> = new Map();
