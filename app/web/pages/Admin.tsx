// The Admin Dashboard: queue depth, leases and per-type performance from system_metrics
// (through the system-metrics edge function), failed jobs with a Retry (retry_job), completed
// ones awaiting review (review_job), and retention (purge_finished_jobs). Admins see every
// job under RLS; the numbers are refreshed every 5 seconds (a dashboard, not a job's status).
import { useCallback, useEffect, useState } from "react";
import type { JobsClient, SystemMetrics, Tables } from "@jobsdb/client";
import { describe, ErrorLine } from "../parts.tsx";

type JobLine = Pick<
  Tables<"jobs">,
  "id" | "user_id" | "job_type" | "status" | "error_message" | "attempts" | "updated_at"
>;

const COLUMNS = "id,user_id,job_type,status,error_message,attempts,updated_at";

function Action({ label, run }: { label: string; run: () => void }) {
  return <button type="button" onClick={run}>{label}</button>;
}

export function Admin({ jobs }: { jobs: JobsClient }) {
  const [metrics, setMetrics] = useState<SystemMetrics | null>(null);
  const [failed, setFailed] = useState<JobLine[]>([]);
  const [review, setReview] = useState<JobLine[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setMetrics(await jobs.systemMetrics("1 hour"));
      const f = await jobs.supabase.from("jobs").select(COLUMNS).eq("status", "failed")
        .order("updated_at", { ascending: false }).limit(20);
      setFailed(f.data ?? []);
      const r = await jobs.supabase.from("jobs").select(COLUMNS).eq("status", "completed")
        .eq("moderation_status", "pending").order("updated_at", { ascending: false }).limit(10);
      setReview(r.data ?? []);
      setError(null);
    } catch (e) {
      setError(describe(e));
    }
  }, [jobs]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [refresh]);

  async function act<T>(what: () => Promise<T>, done: (answer: T) => string) {
    try {
      setNote(done(await what()));
      await refresh();
    } catch (e) {
      setError(describe(e));
    }
  }

  return (
    <div className="admin">
      <ErrorLine error={error} />
      {note && <p className="note" data-testid="note">{note}</p>}
      <section>
        <h2>Queue</h2>
        <table data-testid="queue">
          <thead>
            <tr><th>pool</th><th>status</th><th>jobs</th><th>ready</th><th>oldest (s)</th></tr>
          </thead>
          <tbody>
            {metrics?.queue.map((q) => (
              <tr key={`${q.worker_pool}/${q.status}`}>
                <td>{q.worker_pool}</td>
                <td>{q.status}</td>
                <td>{q.jobs}</td>
                <td>{q.ready}</td>
                <td>{q.oldest_seconds}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {metrics && (
          <p data-testid="leases">
            {metrics.leases.processing} running on {metrics.leases.active_workers} workers,{" "}
            {metrics.leases.expired} leases expired
          </p>
        )}
      </section>
      <section>
        <h2>Last hour by job type</h2>
        <table data-testid="job-types">
          <thead>
            <tr>
              <th>type</th><th>completed</th><th>failed</th><th>cancelled</th>
              <th>failure rate</th><th>p50 (s)</th><th>p95 (s)</th>
            </tr>
          </thead>
          <tbody>
            {metrics?.job_types.map((t) => (
              <tr key={t.job_type}>
                <td>{t.job_type}</td>
                <td>{t.completed}</td>
                <td>{t.failed}</td>
                <td>{t.cancelled}</td>
                <td>{t.failure_rate === null ? "–" : `${(t.failure_rate * 100).toFixed(1)}%`}</td>
                <td>{t.p50_run_seconds ?? "–"}</td>
                <td>{t.p95_run_seconds ?? "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Failed jobs</h2>
        <table data-testid="failed">
          <tbody>
            {failed.map((j) => (
              <tr key={j.id} data-testid="failed-job" data-job-id={j.id}>
                <td>{j.job_type}</td>
                <td>{j.error_message}</td>
                <td>{j.attempts} attempts</td>
                <td>
                  <Action
                    label="Retry"
                    run={() => act(() => jobs.retryJob(j.id), (r) => `retried ${r.id}`)}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>To review</h2>
        <table>
          <tbody>
            {review.map((j) => (
              <tr key={j.id}>
                <td>{j.job_type}</td>
                <td>{j.user_id}</td>
                {(["approved", "rejected"] as const).map((d) => (
                  <td key={d}>
                    <Action
                      label={d === "approved" ? "Approve" : "Reject"}
                      run={() =>
                        act(
                          () => jobs.reviewJob({ job_id: j.id, moderation_status: d }),
                          (r) => `${r.moderation_status} ${r.id}`,
                        )}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section>
        <h2>Retention</h2>
        <Action
          label="Purge old failed and cancelled jobs"
          run={() =>
            act(() => jobs.purgeFinishedJobs(), (n) => `purged ${n} failed or cancelled jobs`)}
        />
      </section>
    </div>
  );
}
