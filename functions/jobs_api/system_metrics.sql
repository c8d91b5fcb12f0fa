-- The privileged body of public.system_metrics (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures sum the roll-up of closed minutes and hours (jobs_private.rollup_job_metrics),
-- and of the minute not closed yet as far as the roll-up's last run reached (the partial
-- minute), and read only the rest of the window from jobs (what finished after that, and its
-- first partial minute: the part inside the window, or the part before it, taken off the
-- minute's roll-up, whichever is shorter), through jobs_job_type_idx (job_type, completed_at). The
-- percentiles count the window's run times per coarse bucket (whole days, then whole six
-- hours, hours, ten minutes and the few minutes left at the edges), then per bucket within the
-- coarse one each percentile falls in (the minutes left: from their run times), and read the
-- exact values of that bucket only: a 31-day window reads a few times what a day does, not 31
-- times, and its edges a few minutes' jobs (in 1.11.0 they read whole hours from jobs: 0.7-1.5
-- s with 100,000 jobs finished in the last hour).
-- Sealed history is left out where it cannot hold what is read (jobs_private.history_split):
-- unfinished jobs are never sealed, and each gap is read from the first partition that can
-- hold a job finished in it (at 10 million jobs in 24 sealed weeks, measured in one run: a
-- 24-hour window 22 -> 19 ms p95, 1 minute 4.3 -> 2.8).
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
    v_origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    v_now timestamptz := now();
    v_since timestamptz;
    v_queue jsonb;
    v_types jsonb;
    v_leases jsonb;
    v_bounds float8[];
    c_every constant uuid := '00000000-0000-0000-0000-000000000000'::uuid;
    v_below uuid;
    v_lows uuid[];
    v_finished timestamptz[];
    v_job_types text[];
begin
    perform jobs_private.require_admin();
    if system_metrics.time_window is null
        or system_metrics.time_window not between interval '1 minute' and interval '31 days' then
        raise exception using errcode = '22023', message = 'time_window must be between 1 minute and 31 days';
    end if;
    v_since := v_now - system_metrics.time_window;
    select b.from_seconds into v_bounds from jobs_private.job_metrics_run_bounds as b;
    select coalesce(array_agg(t.job_type), '{}') into v_job_types from public.job_types as t;
    -- where sealed history is (a seal or a retirement committing after this read only makes
    -- these bounds wider than they need be: the ids they leave out stay sealed, and finished)
    select coalesce(s.below, c_every), s.sealed_lows, s.sealed_completed_upto
    into v_below, v_lows, v_finished
    from jobs_private.history_split as s;

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
        -- unfinished jobs are never sealed
        where j.status in ('queued', 'processing') and j.id >= v_below
        group by j.worker_pool, j.status
    ) as q;

    select jsonb_build_object(
        'processing', count(*),
        'expired', count(*) filter (where j.lease_expires_at < v_now),
        'active_workers', count(distinct j.locked_by)
    )
    into v_leases
    from public.jobs as j
    where j.status = 'processing' and j.id >= v_below;

    -- Per job type over (v_since, v_now]: the rolled-up minutes inside the window whose hour is
    -- not marked stale come from the roll-up (jobs_private.rollup_job_metrics), in whole hours,
    -- six hours and days where it can, and in ten minutes and minutes at the window's edges; the
    -- rest of the window (its open edges, any minute not rolled up) from jobs, one index range
    -- per gap and job type. One statement, one snapshot: a roll-up committing meanwhile is
    -- either wholly seen or not at all. The figures are those of the jobs themselves: counts
    -- and exact numeric sums add up, and p50/p95 are percentile_cont's own interpolation
    -- (float8, as it computes it) over the merged distribution of run times, found by bucket
    -- counts (a larger run time is never in a smaller bucket: job_metrics_run_bounds).
    with rolled as (
        -- the whole hours inside the window whose minutes are all rolled up
        select h.hour
        from jobs_private.job_metrics_hours as h
        where h.hour > v_since and h.hour + interval '1 hour' <= v_now
            and not exists (select from jobs_private.job_metrics_stale as m where m.hour = h.hour)
    ),
    lead as (
        -- the window's first, partial minute when less than half of it lies before the window:
        -- if side below has it (rolled up, its hour not stale), it counts whole, from the
        -- roll-up, and the jobs of its part before the window are read from jobs and taken off
        -- (weight -1) rather than those of its part inside being read (at most 30 s of jobs,
        -- not 60); it is the one side minute that starts before the window
        select l.minute
        from (select pg_catalog.date_bin(interval '1 minute', v_since, v_origin)) as l (minute)
        where l.minute < v_since and v_since - l.minute < interval '30 seconds'
    ),
    partial as (
        -- the minute not closed yet whose first part, [minute, upto), is rolled up: after
        -- every closed minute (job_metrics_partial)
        select p.minute, p.upto
        from jobs_private.job_metrics_partial as p
    ),
    side as (
        -- the other rolled-up minutes inside the window (its edges, the lead minute, and hours
        -- not wholly rolled up yet): an index range in each hour of the window that is not one
        -- of those; and the partial minute's part, [minute, upto), when it ends by now
        select n.minute, n.minute + interval '1 minute' as upto, true as whole
        from pg_catalog.generate_series(
            pg_catalog.date_bin(interval '1 hour', v_since, v_origin), v_now, interval '1 hour'
        ) as o (hour)
        cross join lateral (
            select m.minute
            from jobs_private.job_metrics_minutes as m
            where m.minute >= o.hour and m.minute < o.hour + interval '1 hour'
                and (m.minute > v_since or m.minute in (select d.minute from lead as d))
                and m.minute + interval '1 minute' <= v_now
        ) as n
        where not exists (select from rolled as r where r.hour = o.hour)
            and not exists (select from jobs_private.job_metrics_stale as m where m.hour = o.hour)
        union all
        select p.minute, p.upto, false
        from partial as p
        where p.upto <= v_now
            and (p.minute > v_since
                or (p.upto > v_since and p.minute in (select d.minute from lead as d)))
            and not exists (
                select from jobs_private.job_metrics_stale as m
                where m.hour = pg_catalog.date_bin(interval '1 hour', p.minute, v_origin)
            )
    ),
    tens as (
        -- the whole ten minutes among them (their counts per bucket are rolled up; a partial
        -- minute is never in one)
        select pg_catalog.date_bin(interval '10 minutes', s.minute, v_origin) as period
        from side as s
        where s.whole
        group by pg_catalog.date_bin(interval '10 minutes', s.minute, v_origin)
        having count(*) = 10
    ),
    singles as (
        select s.minute
        from side as s
        where not exists (
            select from tens as t
            where t.period = pg_catalog.date_bin(interval '10 minutes', s.minute, v_origin)
        )
    ),
    gaps as (
        -- each gap is read from the first partition that can hold a job finished in it: every
        -- sealed partition below that one finished its last job before the gap. Its jobs count
        -- with its weight: 1, or -1 for the lead minute's part before the window
        select u.span, u.weight, coalesce((
            select p.low
            from rows from (pg_catalog.unnest(v_lows), pg_catalog.unnest(v_finished))
                as p (low, upto)
            where p.upto is null or p.upto >= pg_catalog.lower(u.span)
            order by p.low
            limit 1
        ), v_below) as from_id
        from (
            select x.span, 1 as weight
            from pg_catalog.unnest(
                pg_catalog.tstzmultirange(pg_catalog.tstzrange(v_since, v_now, '(]'))
                - coalesce(
                    (
                        select pg_catalog.range_agg(c.span)
                        from (
                            select pg_catalog.tstzrange(r.hour, r.hour + interval '1 hour')
                            from rolled as r
                            union all
                            select pg_catalog.tstzrange(s.minute, s.upto)
                            from side as s
                        ) as c (span)
                    ),
                    '{}'::pg_catalog.tstzmultirange
                )
            ) as x (span)
            union all
            select pg_catalog.tstzrange(d.minute, v_since, '[]'), -1
            from side as d
            where d.minute < v_since
        ) as u
    ),
    live as (
        -- the run and total time as intervals (exact: summed as intervals, their numeric epoch
        -- taken once per sum, not per job) and the bucket of run time if it completed: one
        -- pass over these rows for the sums, the counts and the exact values
        select
            j.job_type, j.status, j.attempts, j.run, j.total, j.weight,
            -- (select v_bounds): the bounds flattened once. plpgsql keeps an array variable
            -- expanded, and width_bucket flattened it again for every job: 64 kB copied a job,
            -- two thirds of a call reading 40,000 jobs. The run's float8 is the roll-up's
            -- (its numeric epoch, rounded): under a day the interval is microseconds alone, and
            -- date_part divides them once in float8, the same correctly rounded value without
            -- the numeric's text (a day or more adds its days in float8: the numeric then)
            case when j.status = 'completed' and j.started_at is not null then
                pg_catalog.width_bucket(
                    case when j.run > interval '-1 day' and j.run < interval '1 day'
                        then pg_catalog.date_part('epoch', j.run)
                        else extract(epoch from j.run)::float8
                    end,
                    (select v_bounds)
                )
            end as bucket
        from gaps as g
        cross join lateral (
            -- every job type in one index range each of jobs_job_type_idx, but one bitmap: the
            -- heap pages of a gap are visited once (a lateral scan per job type visited each
            -- page once per type: 18,000 pages for 40,000 jobs of 14 types in 1.12.0, not 1,300)
            select
                j.job_type, j.status, j.attempts, j.started_at,
                j.completed_at - j.started_at as run, j.completed_at - j.created_at as total,
                g.weight
            from public.jobs as j
            where j.job_type = any(v_job_types) and j.completed_at is not null
                and j.id >= g.from_id
                and j.completed_at >= pg_catalog.lower(g.span)
                and j.completed_at <= pg_catalog.upper(g.span)
                and j.completed_at operator(pg_catalog.<@) g.span
            offset 0
        ) as j
    ),
    live_sums as (
        -- the jobs read from jobs per job type, coarse bucket and weight, in one pass: counts
        -- weighted. Coarse, not fine: a few hundred groups, not thousands (a hash table that
        -- stays in cache, and as few numeric sums after it); the fine buckets are counted
        -- below for the coarse ones the percentiles fall in
        select
            l.job_type, l.bucket / 32 as coarse, l.weight,
            count(*) filter (where l.status = 'completed') * l.weight as completed,
            count(*) filter (where l.status = 'failed') * l.weight as failed,
            count(*) filter (where l.status = 'cancelled') * l.weight as cancelled,
            count(*) filter (where l.attempts > 1) * l.weight as retried,
            count(l.run) filter (where l.status = 'completed') * l.weight as run_count,
            sum(l.run) filter (where l.status = 'completed') as run_sum,
            count(l.total) filter (where l.status = 'completed') * l.weight as total_count,
            sum(l.total) filter (where l.status = 'completed') as total_sum
        from live as l
        group by l.job_type, l.bucket / 32, l.weight
    ),
    parts as (
        select
            x.job_type, x.completed, x.failed, x.cancelled, x.retried,
            x.run_count, x.run_sum, x.total_count, x.total_sum
        -- the rolled-up hours' rows as one range (an hour's rows exist only while it is in
        -- job_metrics_hours: they are written and deleted together)
        from jobs_private.job_metrics_rollup as x
        where x.minutes = 60 and x.period > v_since and x.period <= v_now - interval '1 hour'
            and not exists (select from jobs_private.job_metrics_stale as m where m.hour = x.period)
        union all
        select
            x.job_type, x.completed, x.failed, x.cancelled, x.retried,
            x.run_count, x.run_sum, x.total_count, x.total_sum
        from side as s
        cross join lateral (
            -- offset 0: each minute's own rows (not a hash of every minute's)
            select
                x.job_type, x.completed, x.failed, x.cancelled, x.retried,
                x.run_count, x.run_sum, x.total_count, x.total_sum
            from jobs_private.job_metrics_rollup as x
            where x.minutes = 1 and x.period = s.minute
            offset 0
        ) as x
        union all
        -- an interval's epoch is linear in its fields: the epoch of the sum is the exact sum of
        -- the epochs (numeric, as the roll-up's sums are), weighted
        select
            l.job_type, sum(l.completed)::bigint, sum(l.failed)::bigint,
            sum(l.cancelled)::bigint, sum(l.retried)::bigint,
            sum(l.run_count)::bigint, sum(extract(epoch from l.run_sum) * l.weight),
            sum(l.total_count)::bigint, sum(extract(epoch from l.total_sum) * l.weight)
        from live_sums as l
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
    blocks as (
        -- the whole UTC days and whole six hours (00, 06, 12, 18 UTC) of rolled-up hours
        -- inside the window: a block's rows exist exactly while all its minutes are rolled up
        select z.minutes, pg_catalog.date_bin(pg_catalog.make_interval(mins => z.minutes), r.hour, v_origin)
            as period
        from rolled as r
        cross join (values (360::smallint), (1440::smallint)) as z (minutes)
        group by z.minutes, pg_catalog.date_bin(pg_catalog.make_interval(mins => z.minutes), r.hour, v_origin)
        having count(*) * 60 = z.minutes
    ),
    periods as (
        -- the rolled-up part of the window in as few rows of job_metrics_run_buckets as there
        -- are: its whole days, its whole six hours outside them, each other hour, the whole ten
        -- minutes at its edges and the minutes left
        select b.period, b.minutes
        from blocks as b
        where b.minutes = 1440 or not exists (
            select from blocks as d
            where d.minutes = 1440 and d.period = pg_catalog.date_bin(interval '1 day', b.period, v_origin)
        )
        union all
        select r.hour, 60::smallint
        from rolled as r
        where not exists (
            select from blocks as b
            where b.minutes = 360 and b.period = pg_catalog.date_bin(interval '6 hours', r.hour, v_origin)
        )
        union all
        select t.period, 10::smallint
        from tens as t
        union all
        -- a minute's coarse counts only: its buckets are counted from its run times (fine)
        select s.minute, 1::smallint
        from singles as s
    ),
    coarse as (
        -- the window's completed jobs per job type and coarse bucket of run time
        select c.job_type, c.bucket, sum(c.jobs) as jobs
        from (
            select b.job_type, b.bucket, b.jobs
            from periods as p
            cross join lateral (
                -- offset 0 here and below: each period's own index range (the planner, not
                -- knowing how few periods there are, would rather scan the whole table)
                select b.job_type, b.bucket, b.jobs
                from jobs_private.job_metrics_run_buckets as b
                where b.minutes = p.minutes and b.period = p.period and b.width = 32
                offset 0
            ) as b
            union all
            -- the completed jobs read from jobs (weighted): a bucket only if it completed
            select l.job_type, l.coarse, l.completed
            from live_sums as l
            where l.coarse is not null
        ) as c
        group by c.job_type, c.bucket
    ),
    placed as (
        -- each coarse bucket's rows among the job type's sorted run times: [first_pos, next_pos)
        select
            c.job_type, c.bucket,
            sum(c.jobs) over (partition by c.job_type order by c.bucket) - c.jobs as first_pos,
            sum(c.jobs) over (partition by c.job_type order by c.bucket) as next_pos,
            sum(c.jobs) over (partition by c.job_type) as n
        from coarse as c
    ),
    wanted as (
        -- percentile_cont(p): rows first = floor(p * (n - 1)) and second = ceil(...) (0-based)
        -- of the sorted values, v1 + (v2 - v1) * (p * (n - 1) - first) when they differ
        select
            t.job_type, w.p, w.p * (t.n - 1)::float8 as pos,
            pg_catalog.floor(w.p * (t.n - 1)::float8)::bigint as first_row,
            pg_catalog.ceil(w.p * (t.n - 1)::float8)::bigint as second_row
        from (select distinct a.job_type, a.n from placed as a) as t
        cross join (values (0.5::float8), (0.95::float8)) as w (p)
    ),
    targets as (
        -- the coarse buckets those rows are in, with the first and last of them in each
        select a.job_type, a.bucket, a.first_pos, min(r.pos) as lo, max(r.pos) as hi
        from placed as a
        inner join wanted as w on w.job_type = a.job_type
        cross join lateral (values (w.first_row), (w.second_row)) as r (pos)
        where r.pos >= a.first_pos and r.pos < a.next_pos
        group by a.job_type, a.bucket, a.first_pos
    ),
    live_target as (
        -- the jobs read from jobs in those coarse buckets (a few of each job type's): their
        -- fine buckets and exact run times, in one pass over the jobs read, not two
        select l.job_type, l.bucket, l.run, l.weight
        from live as l
        where (l.job_type, l.bucket / 32) in (select t.job_type, t.bucket from targets as t)
    ),
    fine as (
        -- within each of them, the buckets that hold rows lo..hi
        select y.job_type, y.bucket, y.first_pos, y.lo, y.hi
        from (
            select
                x.job_type, x.bucket, t.lo, t.hi,
                t.first_pos + sum(x.jobs) over (partition by x.job_type, x.coarse order by x.bucket)
                - x.jobs as first_pos,
                t.first_pos + sum(x.jobs) over (partition by x.job_type, x.coarse order by x.bucket)
                as next_pos
            from (
                select u.job_type, u.coarse, u.bucket, sum(u.jobs) as jobs
                from (
                    select t.job_type, t.bucket as coarse, b.bucket, b.jobs
                    from targets as t
                    cross join periods as p
                    cross join lateral (
                        select b.bucket, b.jobs
                        from jobs_private.job_metrics_run_buckets as b
                        where b.minutes = p.minutes and b.period = p.period and b.width = 1
                            and b.job_type = t.job_type
                            and b.bucket >= t.bucket * 32 and b.bucket < t.bucket * 32 + 32
                        offset 0
                    ) as b
                    where p.minutes > 1
                    union all
                    -- a single minute's: its run times in the coarse bucket, one index range
                    select t.job_type, t.bucket, r.bucket, r.jobs
                    from targets as t
                    cross join singles as s
                    cross join lateral (
                        select r.bucket, r.jobs
                        from jobs_private.job_metrics_run_seconds as r
                        where r.minute = s.minute and r.job_type = t.job_type
                            and r.bucket >= t.bucket * 32 and r.bucket < t.bucket * 32 + 32
                        offset 0
                    ) as r
                    union all
                    select l.job_type, l.bucket / 32, l.bucket, l.weight
                    from live_target as l
                ) as u
                group by u.job_type, u.coarse, u.bucket
            ) as x
            inner join targets as t on t.job_type = x.job_type and t.bucket = x.coarse
        ) as y
        where y.next_pos > y.lo and y.first_pos <= y.hi
    ),
    exact as (
        -- the exact run times in those buckets: of every closed minute inside the window
        -- whose hour is not stale (the whole hours' and the side minutes': a run time's minute
        -- is in job_metrics_minutes or is the partial minute, they are written and deleted
        -- together), and of the jobs read from jobs (joined once, not scanned once per bucket)
        select t.job_type, t.bucket, s.run_seconds, s.jobs
        from fine as t
        cross join lateral (
            select s.run_seconds, s.jobs
            from jobs_private.job_metrics_run_seconds as s
            where s.job_type = t.job_type and s.bucket = t.bucket
                and s.minute > v_since and s.minute <= v_now - interval '1 minute'
                and not exists (
                    select from jobs_private.job_metrics_stale as m
                    where m.hour = pg_catalog.date_bin(interval '1 hour', s.minute, v_origin)
                )
                and not exists (select from partial as p where p.minute = s.minute)
        ) as s
        union all
        -- the lead minute's (the side minute that starts before the window) and the partial
        -- minute's: one index range per bucket of it. Offset 0: joined as a whole, the generic
        -- plan (side and fine estimated at thousands of rows) merged every run time of the
        -- roll-up, 31 days of them, with the buckets, for every window: 60-90 ms a call in
        -- 1.14.0
        select t.job_type, t.bucket, s.run_seconds, s.jobs
        from side as d
        cross join fine as t
        cross join lateral (
            select s.run_seconds, s.jobs
            from jobs_private.job_metrics_run_seconds as s
            where s.minute = d.minute and s.job_type = t.job_type and s.bucket = t.bucket
            offset 0
        ) as s
        where d.minute < v_since or not d.whole
        union all
        select l.job_type, l.bucket, extract(epoch from l.run), l.weight
        from live_target as l
        where (l.job_type, l.bucket) in (select t.job_type, t.bucket from fine as t)
    ),
    ranked as (
        -- the exact values of those buckets at rows lo..hi
        select y.job_type, y.v, y.first_pos, y.next_pos
        from (
            select
                x.job_type, x.run_seconds::float8 as v, t.lo, t.hi,
                t.first_pos + sum(x.jobs) over (partition by x.job_type, x.bucket order by x.run_seconds)
                - x.jobs as first_pos,
                t.first_pos + sum(x.jobs) over (partition by x.job_type, x.bucket order by x.run_seconds)
                as next_pos
            from (
                -- a run time of the lead minute's part before the window nets to none
                select e.job_type, e.bucket, e.run_seconds, sum(e.jobs) as jobs
                from exact as e
                group by e.job_type, e.bucket, e.run_seconds
                having sum(e.jobs) <> 0
            ) as x
            inner join fine as t on t.job_type = x.job_type and t.bucket = x.bucket
        ) as y
        where y.next_pos > y.lo and y.first_pos <= y.hi
    ),
    pct as (
        select
            q.job_type, q.p,
            case when q.second_row > q.first_row
                then q.v1 + (q.v2 - q.v1) * (q.pos - q.first_row::float8)
                else q.v1
            end as value
        from (
            select
                w.job_type, w.p, w.pos, w.first_row, w.second_row,
                min(k.v) filter (where w.first_row >= k.first_pos and w.first_row < k.next_pos) as v1,
                min(k.v) filter (where w.second_row >= k.first_pos and w.second_row < k.next_pos) as v2
            from wanted as w
            inner join ranked as k on k.job_type = w.job_type
            group by w.job_type, w.p, w.pos, w.first_row, w.second_row
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
