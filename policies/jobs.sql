-- jobs: users read their own jobs (admins read all) and change nothing directly. They create
-- jobs through queue_job and cancel through cancel_job; workers and the service role move jobs
-- through the worker functions. The spec's "System can update jobs ... to authenticated using
-- (true)" would let any signed-in user rewrite anyone's job: it is replaced by the service role
-- (table access, BYPASSRLS) and the jobs_worker role (worker functions only).
alter table public.jobs enable row level security;

revoke all on table public.jobs from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.jobs to authenticated;
grant select, insert, update, delete on table public.jobs to service_role;

-- One cheap policy, evaluated once per subscriber for every Realtime change: both sub-selects
-- become init plans computed once per statement, and the range is an index condition on
-- user_id, which leads two indexes (functions/private/visible_user_id_bound.sql says why a
-- range and not `own or admin`).
create policy "Users can view their own jobs and admins all jobs"
on public.jobs for select to authenticated
using (
    user_id between (select jobs_private.visible_user_id_bound(false))
    and (select jobs_private.visible_user_id_bound(true))
);
