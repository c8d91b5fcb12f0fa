-- One query per kind of status, each with its kind as a literal, so that the plan cached for it
-- (generic after five calls) reads that kind's own index: queued and processing
-- jobs_user_active_idx, failed and cancelled jobs_user_failed_cancelled_idx, every job or the
-- completed ones (most of a history) jobs_user_created_idx until the page is full. With one
-- query for every status, the generic plan walked jobs_user_created_idx and filtered, so
-- list_jobs(status => 'queued') read every job of the user to find the few it answers (10,000
-- heap rows for a user with 10,000 jobs). Not a plan per call (plan_cache_mode): planning over
-- jobs' indexes added half a millisecond to every call, the unfiltered page the most.
-- Sealed history first left out of the page of every job or the completed ones: it is read
-- from ids at or above the hot leaf's lower bound (jobs_api.history_split), and is the answer
-- when it is full and its last job was made after every sealed one; otherwise it is read again
-- from every partition. A user's recent pages are in the leaf, and the plan's run-time pruning
-- then opens no sealed partition (at 10 million jobs in 24 sealed weeks, each one's index top
-- read for the page cost 0.1-0.2 ms in all).
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
declare
    c_every constant uuid := '00000000-0000-0000-0000-000000000000'::uuid;
    v_n integer := least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
    v_below uuid;
    v_upto timestamptz;
    v_from uuid;
    v_page public.jobs [];
begin
    -- Pages of unfinished jobs read every partition: the sealed ones' partial indexes of them
    -- are empty (a descent each), which cost less than asking where the leaf begins (0.04 ms
    -- more at p50, 0.16 at p95, at 10 million jobs). So do pages of failed or cancelled jobs,
    -- few and spread over the whole history: rarely the leaf's alone, they were read twice
    -- (0.1-0.3 ms more).
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
        limit v_n;
        return;
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
        limit v_n;
        return;
    end if;
    -- every job, or the completed ones (most of a history): sealed ones were made at or
    -- before v_upto
    select s.below, s.created_upto into v_below, v_upto from jobs_api.history_split() as s;
    v_from := case when v_upto is not null then coalesce(v_below, c_every) else c_every end;
    loop
        v_page := array(
            select j
            from public.jobs as j
            where j.user_id = (select auth.uid())
                and j.id >= v_from
                and (list_jobs.status is null or j.status = list_jobs.status)
                and (
                    list_jobs.before is null
                    or j.created_at <= list_jobs.before
                    and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
                )
            order by j.created_at desc, j.id desc
            limit v_n
        );
        -- a full page whose last job is newer than every sealed one: none of them ranks above
        exit when v_from = c_every
            or pg_catalog.cardinality(v_page) = v_n and (v_page[v_n]).created_at > v_upto;
        v_from := c_every;
    end loop;
    return query select * from pg_catalog.unnest(v_page);
end;
$$;
comment on function public.list_jobs(text, timestamptz, integer, uuid) is
'The signed-in user''s jobs, newest first, optionally of one status; page with before = the created_at and before_id = the id of the last row seen (keyset; jobs of one set share created_at). At most 200 rows.';
revoke all on function public.list_jobs(text, timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.list_jobs(text, timestamptz, integer, uuid) to authenticated;
