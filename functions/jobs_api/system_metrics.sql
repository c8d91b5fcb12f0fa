-- The privileged body of public.system_metrics (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures sum the roll-up of closed hours (jobs_private.rollup_job_metrics) and read
-- only the rest of the window from jobs, through jobs_job_type_idx (job_type, completed_at).
-- Security definer, after require_admin: an admin sees every row anyway, and the select
-- policy's owner-id range (every id, for an admin) only misleads the planner here (a 24-hour
-- window took 1 s instead of 10 ms through RLS at 1,000,000 jobs).
-- No JIT: the roll-up statement's estimates pass jit_above_cost and JIT compiling took
-- seconds for a 30 ms statement. A generic plan: planning the statement took 15-35 ms.
create function jobs_api.system_metrics(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set jit = off
set plan_cache_mode = force_generic_plan
as $$
declare
    v_now timestamptz := now();
    v_since timestamptz;
    v_queue jsonb;
    v_types jsonb;
    v_leases jsonb;
begin
    perform jobs_private.require_admin();
    if system_metrics.time_window is null
        or system_metrics.time_window not between interval '1 minute' and interval '31 days' then
        raise exception using errcode = '22023', message = 'time_window must be between 1 minute and 31 days';
    end if;
    v_since := v_now - system_metrics.time_window;

    select coalesce(jsonb_agg(jsonb_build_object(
        'worker_pool', q.worker_pool, 'status', q.status, 'jobs', q.jobs,
        'ready', q.ready, 'oldest_seconds', q.oldest_seconds
    ) order by q.worker_pool, q.status), '[]')
    into v_queue
    from (
        select
            j.worker_pool, j.status, count(*) as jobs,
            count(*) filter (where j.status = 'queued' and j.run_at <= v_now) as ready,
            round(extract(epoch from v_now - min(j.created_at))::numeric, 1) as oldest_seconds
        from public.jobs as j
        where j.status in ('queued', 'processing')
        group by j.worker_pool, j.status
    ) as q;

    select jsonb_build_object(
        'processing', count(*),
        'expired', count(*) filter (where j.lease_expires_at < v_now),
        'active_workers', count(distinct j.locked_by)
    )
    into v_leases
    from public.jobs as j
    where j.status = 'processing';

    -- Per job type over (v_since, v_now]: the closed hours inside the window that are rolled
    -- up and not marked stale come from the roll-up (jobs_private.rollup_job_metrics); the
    -- rest of the window (its open edges, any hour not rolled up) from jobs, one index range
    -- per gap and job type. One statement, one snapshot: a roll-up committing meanwhile is
    -- either wholly seen or not at all. The figures are those of the jobs themselves: counts
    -- and exact numeric sums add up, and p50/p95 are percentile_cont's own interpolation
    -- (float8, as it computes it) over the merged distribution of run times.
    with rolled as (
        select h.hour
        from jobs_private.job_metrics_hours as h
        where h.hour > v_since and h.hour + interval '1 hour' <= v_now
            and not exists (select from jobs_private.job_metrics_stale as m where m.hour = h.hour)
    ),
    gaps as (
        select pg_catalog.unnest(
            pg_catalog.tstzmultirange(pg_catalog.tstzrange(v_since, v_now, '(]'))
            - coalesce(
                (select pg_catalog.range_agg(pg_catalog.tstzrange(r.hour, r.hour + interval '1 hour'))
                from rolled as r),
                '{}'::pg_catalog.tstzmultirange
            )
        ) as span
    ),
    live as (
        select
            j.job_type, j.status, j.attempts,
            extract(epoch from j.completed_at - j.started_at) as run_seconds,
            extract(epoch from j.completed_at - j.created_at) as total_seconds
        from gaps as g
        cross join public.job_types as t
        cross join lateral (
            -- offset 0: one range scan of jobs_job_type_idx per gap and job type (flattened,
            -- the planner scanned the gap's range once across all types, a full index scan)
            select j.job_type, j.status, j.attempts, j.completed_at, j.started_at, j.created_at
            from public.jobs as j
            where j.job_type = t.job_type and j.completed_at is not null
                and j.completed_at >= pg_catalog.lower(g.span)
                and j.completed_at <= pg_catalog.upper(g.span)
                and j.completed_at operator(pg_catalog.<@) g.span
            offset 0
        ) as j
    ),
    parts as (
        select
            x.job_type, x.completed, x.failed, x.cancelled, x.retried,
            x.run_count, x.run_sum, x.total_count, x.total_sum
        from jobs_private.job_metrics_rollup as x
        inner join rolled as r on r.hour = x.hour
        union all
        select
            l.job_type,
            count(*) filter (where l.status = 'completed'),
            count(*) filter (where l.status = 'failed'),
            count(*) filter (where l.status = 'cancelled'),
            count(*) filter (where l.attempts > 1),
            count(l.run_seconds) filter (where l.status = 'completed'),
            sum(l.run_seconds) filter (where l.status = 'completed'),
            count(l.total_seconds) filter (where l.status = 'completed'),
            sum(l.total_seconds) filter (where l.status = 'completed')
        from live as l
        group by l.job_type
    ),
    totals as (
        select
            p.job_type,
            sum(p.completed)::bigint as completed, sum(p.failed)::bigint as failed,
            sum(p.cancelled)::bigint as cancelled, sum(p.retried)::bigint as retried,
            sum(p.run_count) as run_count, sum(p.run_sum) as run_sum,
            sum(p.total_count) as total_count, sum(p.total_sum) as total_sum
        from parts as p
        group by p.job_type
    ),
    runs as (
        select d.job_type, d.run_seconds, sum(d.jobs) as jobs
        from (
            select x.job_type, x.run_seconds, x.jobs
            from jobs_private.job_metrics_run_seconds as x
            inner join rolled as r on r.hour = x.hour
            union all
            select l.job_type, l.run_seconds, 1
            from live as l
            where l.status = 'completed' and l.run_seconds is not null
        ) as d
        group by d.job_type, d.run_seconds
    ),
    ranked as (
        select
            r.job_type, r.run_seconds::float8 as v,
            sum(r.jobs) over (partition by r.job_type order by r.run_seconds) - r.jobs as first_pos,
            sum(r.jobs) over (partition by r.job_type order by r.run_seconds) as next_pos,
            sum(r.jobs) over (partition by r.job_type) as n
        from runs as r
    ),
    pct as (
        -- percentile_cont(p): rows first = floor(p * (n - 1)) and second = ceil(...) (0-based)
        -- of the sorted values, v1 + (v2 - v1) * (p * (n - 1) - first) when they differ
        select
            q.job_type, q.p,
            case when q.second_row > q.first_row
                then q.v1 + (q.v2 - q.v1) * (q.pos - q.first_row::float8)
                else q.v1
            end as value
        from (
            select
                k.job_type, k.p, k.pos, k.first_row, k.second_row,
                min(k.v) filter (where k.first_row >= k.first_pos and k.first_row < k.next_pos) as v1,
                min(k.v) filter (where k.second_row >= k.first_pos and k.second_row < k.next_pos) as v2
            from (
                select
                    a.*, w.p, w.p * (a.n - 1)::float8 as pos,
                    pg_catalog.floor(w.p * (a.n - 1)::float8)::bigint as first_row,
                    pg_catalog.ceil(w.p * (a.n - 1)::float8)::bigint as second_row
                from ranked as a
                cross join (values (0.5::float8), (0.95::float8)) as w (p)
            ) as k
            group by k.job_type, k.p, k.pos, k.first_row, k.second_row
        ) as q
    )
    select coalesce(jsonb_agg(to_jsonb(s) order by s.job_type), '[]')
    into v_types
    from (
        select
            o.job_type, o.completed, o.failed, o.cancelled,
            round(o.failed::numeric / nullif(o.completed + o.failed, 0), 4) as failure_rate,
            round(o.retried::numeric / nullif(o.completed + o.failed + o.cancelled, 0), 4)
            as retry_rate,
            round(o.run_sum / nullif(o.run_count, 0), 3) as avg_run_seconds,
            round((select x.value from pct as x where x.job_type = o.job_type and x.p = 0.5)::numeric, 3)
            as p50_run_seconds,
            round((select x.value from pct as x where x.job_type = o.job_type and x.p = 0.95)::numeric, 3)
            as p95_run_seconds,
            round(o.total_sum / nullif(o.total_count, 0), 3) as avg_total_seconds
        from totals as o
        inner join public.job_types as t on t.job_type = o.job_type
        where o.completed + o.failed + o.cancelled > 0
    ) as s;

    return jsonb_build_object(
        'now', v_now, 'since', v_since,
        'queue', v_queue, 'leases', v_leases, 'job_types', v_types
    );
end;
$$;
comment on function jobs_api.system_metrics(interval) is
'The privileged body of public.system_metrics: call public.system_metrics.';
revoke all on function jobs_api.system_metrics(interval)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.system_metrics(interval)
to authenticated, service_role;
