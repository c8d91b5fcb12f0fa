-- One query per kind of status, each with its kind as a literal, so that the plan cached for it
-- (generic after five calls) reads that kind's own index: queued and processing
-- jobs_user_active_idx, failed and cancelled jobs_user_failed_cancelled_idx, every job or the
-- completed ones (most of a history) jobs_user_created_idx until the page is full. With one
-- query for every status, the generic plan walked jobs_user_created_idx and filtered, so
-- list_jobs(status => 'queued') read every job of the user to find the few it answers (10,000
-- heap rows for a user with 10,000 jobs). Not a plan per call (plan_cache_mode): planning over
-- jobs' indexes added half a millisecond to every call, the unfiltered page the most.
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
as $$
begin
    if list_jobs.status in ('queued', 'processing') then
        return query
        select j.*
        from public.jobs as j
        where j.user_id = (select auth.uid())
            and j.status in ('queued', 'processing')
            and j.status = list_jobs.status
            and (
                list_jobs.before is null
                or j.created_at <= list_jobs.before
                and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
            )
        order by j.created_at desc, j.id desc
        limit least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
    elsif list_jobs.status in ('failed', 'cancelled') then
        return query
        select j.*
        from public.jobs as j
        where j.user_id = (select auth.uid())
            and j.status in ('failed', 'cancelled')
            and j.status = list_jobs.status
            and (
                list_jobs.before is null
                or j.created_at <= list_jobs.before
                and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
            )
        order by j.created_at desc, j.id desc
        limit least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
    else
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
    end if;
end;
$$;
comment on function public.list_jobs(text, timestamptz, integer, uuid) is
'The signed-in user''s jobs, newest first, optionally of one status; page with before = the created_at and before_id = the id of the last row seen (keyset; jobs of one set share created_at). At most 200 rows.';
revoke all on function public.list_jobs(text, timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.list_jobs(text, timestamptz, integer, uuid) to authenticated;
