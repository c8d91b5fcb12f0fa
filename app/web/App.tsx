// The spec's pages behind a sign-in: Workspace (jobs grouped by metadata.job_id, 1x3 sets),
// Library (completed outputs) and, for admins, the Admin Dashboard. One watcher of the user's
// jobs (JobWatchProvider) feeds every live status on the pages.
import { useEffect, useState } from "react";
import type { Session } from "@supabase/supabase-js";
import { type JobsClient, jobsClient, type JobsSupabaseClient } from "@jobsdb/client";
import { JobWatchProvider, useWatchState } from "@jobsdb/client/react";
import { SignIn } from "./pages/SignIn.tsx";
import { Workspace } from "./pages/Workspace.tsx";
import { Library } from "./pages/Library.tsx";
import { Admin } from "./pages/Admin.tsx";

type Page = "workspace" | "library" | "admin";

function usePage(): Page {
  const read = (): Page => {
    const h = location.hash.replace(/^#\/?/, "");
    return h === "library" || h === "admin" ? h : "workspace";
  };
  const [page, setPage] = useState<Page>(read);
  useEffect(() => {
    const onHash = () => setPage(read());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  return page;
}

/** Admins have the package's admin role: a row of user_roles (each user reads their own). */
function useIsAdmin(supabase: JobsSupabaseClient, session: Session | null): boolean {
  const [admin, setAdmin] = useState(false);
  useEffect(() => {
    if (!session) return setAdmin(false);
    supabase.from("user_roles").select("role").eq("user_id", session.user.id)
      .then(({ data }) => setAdmin((data ?? []).some((r) => r.role === "admin")));
  }, [supabase, session?.user.id]);
  return admin;
}

function Live() {
  const state = useWatchState();
  return <span className={`live ${state}`} data-testid="live">{state}</span>;
}

export function App({ supabase }: { supabase: JobsSupabaseClient }) {
  const [session, setSession] = useState<Session | null>(null);
  const [checked, setChecked] = useState(false);
  const page = usePage();
  const isAdmin = useIsAdmin(supabase, session);
  const [jobs] = useState<JobsClient>(() => jobsClient(supabase));

  useEffect(() => {
    supabase.auth.getSession().then(({ data }) => {
      setSession(data.session);
      setChecked(true);
    });
    const { data } = supabase.auth.onAuthStateChange((_event, s) => setSession(s));
    return () => data.subscription.unsubscribe();
  }, [supabase]);

  if (!checked) return null;
  if (!session) return <SignIn supabase={supabase} />;
  return (
    <JobWatchProvider supabase={supabase} userId={session.user.id}>
      <header>
        <nav>
          <a href="#/workspace" className={page === "workspace" ? "here" : ""}>Workspace</a>
          <a href="#/library" className={page === "library" ? "here" : ""}>Library</a>
          {isAdmin && (
            <a href="#/admin" className={page === "admin" ? "here" : ""}>Admin Dashboard</a>
          )}
        </nav>
        <span className="who" data-testid="who">{session.user.email}</span>
        <Live />
        <button type="button" onClick={() => supabase.auth.signOut()}>Sign out</button>
      </header>
      <main>
        {page === "library"
          ? <Library jobs={jobs} />
          : page === "admin" && isAdmin
          ? <Admin jobs={jobs} />
          : <Workspace jobs={jobs} />}
      </main>
    </JobWatchProvider>
  );
}
