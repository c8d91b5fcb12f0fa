-- For measurement only (bench/README.md, "A hot leaf"), after scale_partitioned.sql, with
-- `python -m bench.scale --before`: list_jobs reads the 4 newest of the 26 partitions first
-- (a bound on id the maintenance would keep; here the lower bound of jobs_w23, in
-- public.recent_bound, readable by the invoker), and the rest only when they hold fewer rows
-- than the page needs. The body before it stays as public.list_jobs_before, measured beside it in the same
-- rounds. Assumes ids and created_at order a user's jobs alike (the package's ids do, up to
-- transactions racing at the same moment). Run as the superuser.
create table public.recent_bound as
select (regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::uuid as id
from pg_catalog.pg_class as c
where c.oid = 'jobs_private.jobs_w23'::regclass;
grant select on public.recent_bound to authenticated;
do $$
begin
    execute replace(replace(pg_catalog.pg_get_functiondef('public.list_jobs(text, timestamptz, integer, uuid)'::regprocedure),
        'public.list_jobs(', 'public.list_jobs_before('), 'list_jobs.', 'list_jobs_before.');
end
$$;
alter function public.list_jobs_before(text, timestamptz, integer, uuid) owner to postgres;
grant execute on function public.list_jobs_before(text, timestamptz, integer, uuid) to authenticated;
create or replace function public.list_jobs(
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
    v_n integer := least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
    v_bound uuid;
    v_got integer;
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
        -- the newest partitions first: the bound is a variable, so the cached generic plan
        -- prunes the other partitions when it starts (a subquery's value would prune only
        -- while it runs, after every partition's scan was set up); the rest of the history is
        -- read only when they hold fewer rows than the page needs
        v_bound := (select b.id from public.recent_bound as b);
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
            and j.id >= v_bound
        order by j.created_at desc, j.id desc
        limit v_n;
        get diagnostics v_got = row_count;
        if v_got < v_n then
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
                and j.id < v_bound
            order by j.created_at desc, j.id desc
            limit v_n - v_got;
        end if;
    end if;
end;
$$;
