// Pieces the pages share: a job's status, an output's picture (a signed Storage URL), errors.
import { useEffect, useState } from "react";
import { type Asset, JobsError, type JobsSupabaseClient, type JobStatus } from "@jobsdb/client";

export function StatusBadge({ jobId, status }: { jobId: string; status: JobStatus }) {
  return <span className={`status ${status}`} data-testid="job-status" data-job-id={jobId}>
    {status}
  </span>;
}

/** The output's file (or its thumbnail) through a signed URL: outputs live in private buckets. */
export function AssetImage(
  { supabase, asset }: { supabase: JobsSupabaseClient; asset: Asset },
) {
  const [url, setUrl] = useState<string | null>(null);
  const path = asset.type === "video" ? asset.thumbnail_path ?? asset.file_path : asset.file_path;
  useEffect(() => {
    let live = true;
    supabase.storage.from(asset.bucket).createSignedUrl(path, 3600).then(({ data }) => {
      if (live && data) setUrl(data.signedUrl);
    });
    return () => {
      live = false;
    };
  }, [supabase, asset.bucket, path]);
  return url
    ? <img src={url} alt={asset.file_name} data-testid="asset" data-asset-id={asset.asset_id} />
    : <span className="asset-loading" />;
}

/** What the app shows of a refused call: the code of the error table and the message. */
export function describe(error: unknown): string {
  if (error instanceof JobsError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorLine({ error }: { error: string | null }) {
  return error ? <p className="error" role="alert">{error}</p> : null;
}
