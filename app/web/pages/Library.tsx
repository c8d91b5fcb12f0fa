// The Library: the user's completed jobs with their outputs (library_items, newest first,
// keyset pages). A job completing while the page is open brings the first page again.
import { useCallback, useEffect, useRef, useState } from "react";
import type { JobsClient, LibraryItem, LibraryPage } from "@jobsdb/client";
import { useJobs } from "@jobsdb/client/react";
import { AssetImage, describe, ErrorLine } from "../parts.tsx";

export function Library({ jobs }: { jobs: JobsClient }) {
  const [items, setItems] = useState<LibraryItem[]>([]);
  const [next, setNext] = useState<LibraryPage["next"]>(null);
  const [error, setError] = useState<string | null>(null);
  const live = useJobs();
  const completed = [...live.values()].filter((j) => j.status === "completed").length;
  const shown = useRef(-1);

  const first = useCallback(async () => {
    try {
      const page = await jobs.libraryItems({ max_rows: 24 });
      setItems(page.items);
      setNext(page.next);
    } catch (e) {
      setError(describe(e));
    }
  }, [jobs]);

  useEffect(() => {
    if (completed === shown.current) return;
    shown.current = completed;
    void first();
  }, [completed, first]);

  async function more() {
    if (!next) return;
    const page = await jobs.libraryItems({ max_rows: 24, ...next });
    setItems((xs) => [...xs, ...page.items]);
    setNext(page.next);
  }

  return (
    <div className="library">
      <ErrorLine error={error} />
      {items.length === 0 && <p>Nothing here yet: completed outputs appear here.</p>}
      <div className="items">
        {items.map((item) => (
          <figure key={item.job_id} data-testid="library-item" data-job-id={item.job_id}>
            {item.assets.map((a) => (
              <AssetImage key={a.asset_id} supabase={jobs.supabase} asset={a} />
            ))}
            <figcaption>
              {item.prompt ?? "(no prompt)"} <small>{item.job_type}</small>
            </figcaption>
          </figure>
        ))}
      </div>
      {next && <button type="button" onClick={() => void more()}>More</button>}
    </div>
  );
}
