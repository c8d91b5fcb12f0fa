-- One query per kind of status, each with its kind as a literal, so that the plan cached for it
-- (generic after five calls) reads that kind's own index: queued and processing
-- jobs_user_active_idx, failed and cancelled jobs_user_failed_cancelled_idx, every job or the
-- completed ones (most of a history) jobs_user_created_idx until the page is full. With one
-- query for every status, the generic plan walked jobs_user_created_idx and filtered, so
-- list_jobs(status => 'queued') read every job of the user to find the few it answers (10,000
-- heap rows for a user with 10,000 jobs). Not a plan per call (plan_cache_mode): planning over
-- jobs' indexes added half a millisecond to every call, the unfiltered page the most.
-- Sealed history first left out: the page is read from ids at or above the hot leaf's lower
-- bound (jobs_api.history_split), and is the answer when it is full and its last job was made
-- after every sealed one; otherwise it is read again from every partition. Unfinished jobs are
-- never sealed: their pages are read from the leaf's ids alone. A user's recent pages are in
-- the leaf, and the plan's run-time pruning then opens no sealed partition (each one's index
-- top cost a descent, and with 24 sealed weeks a listing 1-2 ms).
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
    select s.below, s.created_upto into v_below, v_upto from jobs_api.history_split() as s;
    -- unfinished jobs are never sealed
    if list_jobs.status in ('queued', 'processing') then
        return query
        select j.*
        from public.jobs as j
        where j.user_id = (select auth.uid())
            and j.id >= coalesce(v_below, c_every)
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
    end if;
    -- the others are, made at or before v_upto
    v_from := case when v_upto is not null then coalesce(v_below, c_every) else c_every end;
    loop
        if list_jobs.status in ('failed', 'cancelled') then
            v_page := array(
                select j
                from public.jobs as j
                where j.user_id = (select auth.uid())
                    and j.id >= v_from
                    and j.status in ('failed', 'cancelled')
                    and j.status = list_jobs.status
                    and (
                        list_jobs.before is null
                        or j.created_at <= list_jobs.before
                        and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
                    )
                order by j.created_at desc, j.id desc
                limit v_n
            );
        else
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
        end if;
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
