-- A plan for each call's own arguments (plan_cache_mode): with a generic plan, made for any
-- status and any page after five calls, every call walked jobs_user_created_idx and filtered, so
-- list_jobs(status => 'queued') read every job of the user to find the few it answers (10,000
-- heap rows for a user with 10,000 jobs, whatever the history's size). Planned with its values,
-- a status reads its own index (queued, processing: jobs_user_active_idx; failed, cancelled:
-- jobs_user_failed_cancelled_idx; completed, most of a history: jobs_user_created_idx until the
-- page is full) and a later page starts at its cursor (created_at <= before, an index
-- condition) instead of walking the pages before it. Planning costs a fraction of a millisecond.
create function public.list_jobs(
    status text default null,
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns setof public.jobs
language plpgsql
stable
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_custom_plan
as $$
begin
    return query
    select j.*
    from public.jobs as j
    where j.user_id = (select auth.uid())
        and (list_jobs.status is null or j.status = list_jobs.status)
        and (
            list_jobs.before is null
            or j.created_at <= list_jobs.before
            and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
        )
    order by j.created_at desc, j.id desc
    limit least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
end;
$$;
comment on function public.list_jobs(text, timestamptz, integer, uuid) is
'The signed-in user''s jobs, newest first, optionally of one status; page with before = the created_at and before_id = the id of the last row seen (keyset; jobs of one set share created_at). At most 200 rows.';
revoke all on function public.list_jobs(text, timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.list_jobs(text, timestamptz, integer, uuid) to authenticated;
