// The Workspace: a form that queues a job or a 1x3 set through the queue-job edge function,
// and the user's jobs grouped by metadata.job_id (workspace_groups), each job's status live
// (useJobStatus), a finished job's outputs fetched once when it completes.
import { useCallback, useEffect, useState } from "react";
import type {
  JobsClient,
  Json,
  WorkspaceGroup,
  WorkspaceJob,
  WorkspacePage,
} from "@jobsdb/client";
import { useJobStatus, useJobWatch } from "@jobsdb/client/react";
import { AssetImage, describe, ErrorLine, StatusBadge } from "../parts.tsx";

interface JobType {
  job_type: string;
  description: string | null;
}

function JobRow(
  { jobs, job, onAssets }: {
    jobs: JobsClient;
    job: WorkspaceJob;
    onAssets: (job: string) => void;
  },
) {
  const live = useJobStatus(job.id);
  const status = live?.status ?? job.status;
  const error = live ? live.error_message : job.error_message;
  useEffect(() => {
    if (status === "completed" && job.status !== "completed") onAssets(job.id);
  }, [status]);
  return (
    <li data-testid="job" data-job-id={job.id}>
      <span className="index">#{(job.image_index ?? 0) + 1}</span>
      <StatusBadge jobId={job.id} status={status} />
      {live && live.attempts > 1 && <span className="attempts">attempt {live.attempts}</span>}
      {error && status !== "completed" && <span className="job-error">{error}</span>}
      {(status === "queued" || status === "processing") && (
        <button type="button" onClick={() => jobs.cancelJob(job.id).catch(() => {})}>
          Cancel
        </button>
      )}
    </li>
  );
}

function Group(
  { jobs, group, onAssets }: {
    jobs: JobsClient;
    group: WorkspaceGroup;
    onAssets: (job: string) => void;
  },
) {
  const first = group.jobs[0];
  return (
    <section className="group" data-testid="group" data-group-id={group.group_id}>
      <h3>
        {first?.prompt ?? "(no prompt)"}{" "}
        <small>
          {first?.job_type} · {group.jobs.length === 1 ? "1 image" : `1x${group.jobs.length}`}
        </small>
      </h3>
      <ol>{group.jobs.map((j) => <JobRow key={j.id} jobs={jobs} job={j} onAssets={onAssets} />)}</ol>
      <div className="assets">
        {group.assets.map((a) => (
          <AssetImage key={a.asset_id} supabase={jobs.supabase} asset={a} />
        ))}
      </div>
    </section>
  );
}

export function Workspace({ jobs }: { jobs: JobsClient }) {
  const watch = useJobWatch();
  const [types, setTypes] = useState<JobType[]>([]);
  const [jobType, setJobType] = useState("sdxl_image_fast");
  const [prompt, setPrompt] = useState("");
  const [images, setImages] = useState(3);
  const [metadata, setMetadata] = useState("{}");
  const [page, setPage] = useState<WorkspacePage | null>(null);
  const [groups, setGroups] = useState<WorkspaceGroup[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const reload = useCallback(async () => {
    const first = await jobs.workspaceGroups({ max_groups: 20 });
    setPage(first);
    setGroups(first.groups);
  }, [jobs]);

  useEffect(() => {
    jobs.supabase.from("job_types").select("job_type,description").order("job_type")
      .then(({ data }) => setTypes(data ?? []));
    reload().catch((e) => setError(describe(e)));
  }, [jobs]);

  /** A job just completed: its outputs, once (get_job), into its group. */
  const onAssets = useCallback(async (jobId: string) => {
    const job = await jobs.getJob(jobId);
    if (!job) return;
    setGroups((gs) =>
      gs.map((g) =>
        g.jobs.some((j) => j.id === jobId)
          ? {
            ...g,
            assets: [...g.assets.filter((a) => a.job_id !== jobId), ...job.assets]
              .sort((a, b) => a.job_id.localeCompare(b.job_id) || a.asset_index - b.asset_index),
          }
          : g
      )
    );
  }, [jobs]);

  async function generate() {
    setError(null);
    let meta: Json;
    try {
      meta = JSON.parse(metadata || "{}");
    } catch {
      return setError("metadata is not JSON");
    }
    setBusy(true);
    try {
      const answer = await jobs.queueJob({
        job_type: jobType,
        prompt,
        num_images: images,
        metadata: meta,
        idempotency_key: crypto.randomUUID(),
      });
      watch?.noteQueued(answer);
      await reload();
    } catch (e) {
      setError(describe(e));
    } finally {
      setBusy(false);
    }
  }

  async function more() {
    if (!page?.next) return;
    const next = await jobs.workspaceGroups({ max_groups: 20, ...page.next });
    setPage(next);
    setGroups((gs) => [...gs, ...next.groups]);
  }

  return (
    <div className="workspace">
      <form
        className="generate"
        onSubmit={(e) => {
          e.preventDefault();
          void generate();
        }}
      >
        <label>
          Job type{" "}
          <select name="job_type" value={jobType} onChange={(e) => setJobType(e.target.value)}>
            {types.map((t) => <option key={t.job_type} value={t.job_type}>{t.job_type}</option>)}
          </select>
        </label>
        <label>
          Prompt <input name="prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <label>
          Images{" "}
          <select name="num_images" value={images} onChange={(e) => setImages(+e.target.value)}>
            <option value={1}>1</option>
            <option value={3}>1x3 set</option>
          </select>
        </label>
        <label>
          Metadata{" "}
          <input name="metadata" value={metadata} onChange={(e) => setMetadata(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>Generate</button>
      </form>
      <ErrorLine error={error} />
      <div className="groups">
        {groups.map((g) => <Group key={g.group_id} jobs={jobs} group={g} onAssets={onAssets} />)}
      </div>
      {page?.next && page.groups.length === 20 && (
        <button type="button" onClick={() => void more()}>More</button>
      )}
    </div>
  );
}
