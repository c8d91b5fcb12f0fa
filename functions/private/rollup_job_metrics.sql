-- Rolls up the finished jobs of every closed minute of the last 31 days (system_metrics' widest
-- window) that is not rolled up yet or whose hour was marked stale, and of the first part of the
-- minute not closed yet (up to the horizon: job_metrics_partial), and forgets minutes older
-- than that. Idempotent; concurrent runs take turns (a transaction-level advisory lock), and a
-- run after another finds nothing left to do but the partial minute. Run by pg_cron every
-- minute, or every 15 seconds with pg_cron 1.5 (schedule_maintenance), or by the owner;
-- system_metrics is exact without it (it reads from jobs whatever is not rolled up), only
-- slower. from_scratch recomputes every minute: after finished jobs were
-- inserted, changed or deleted with triggers off (session_replication_role = replica).
--
-- When a minute is closed: minute + 1 min <= jobs_private.job_metrics_horizon() (no transaction
-- still open can write a completed_at before it), read before the statements that read jobs,
-- in read committed: a writer that could still put a completed_at in the minute has committed
-- (its rows are seen) or rolled back. While a transaction stays open, the horizon waits for it.
-- The minute the horizon falls in is rolled up as far as the horizon, the same way, and written
-- again by every run until it closes: a call of system_metrics reads from jobs only what
-- finished after the horizon, not everything since the last closed minute.
-- Later changes to a finished job (retry_job, deletes, restores) mark its hour stale
-- (jobs_private.job_metrics_stale, by trigger): its markers are deleted here and the hour's
-- minutes are computed again; a marker committed after they were read survives for the next run.
-- Per minute it writes the sums (job_metrics_rollup, minutes = 1), the distinct run times with
-- their bucket (job_metrics_run_seconds) and the counts per coarse bucket
-- (job_metrics_run_buckets); per ten minutes, hour, six hours and UTC day whose minutes are all
-- rolled up, the counts per bucket and coarse bucket, and per such hour its sums (minutes = 60).
-- No JIT: the estimates of its deletes (a span function's thousand rows times a range each)
-- pass jit_above_cost, and compiling them took 0.2 s of a run that does nothing. No sequential
-- scans: every read here is an index range of what the run touches, but the rows it has just
-- written have no statistics yet, and without them the planner scanned those tables whole once
-- per block (3 s for a run over a month of minutes holding 4,000 jobs).
create function jobs_private.rollup_job_metrics(from_scratch boolean default false)
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
set jit = off
set enable_seqscan = off
as $$
declare
    v_origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    v_first timestamptz := pg_catalog.date_bin(interval '1 hour', now() - interval '31 days', v_origin);
    -- minutes before this are forgotten: older than any window, or all of them from scratch
    v_drop_before timestamptz := case when rollup_job_metrics.from_scratch
        then 'infinity'::timestamptz else v_first end;
    -- the horizon, and the minute it falls in
    v_edge timestamptz;
    v_horizon timestamptz;
    -- that minute, when the horizon is inside it (its first part is rolled up)
    v_part timestamptz;
    v_stale timestamptz[];
    v_minutes timestamptz[];
    v_hours timestamptz[];
    v_bounds float8[];
    v_job_types text[];
    v_block smallint;
begin
    if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
        raise exception using
            errcode = '25001',
            message = 'rollup_job_metrics must run in a read committed transaction';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('jobsdb.rollup_job_metrics'));

    v_edge := jobs_private.job_metrics_horizon();
    v_horizon := pg_catalog.date_bin(interval '1 minute', v_edge, v_origin);
    if v_edge > v_horizon and not exists (
        select from jobs_private.job_metrics_minutes as m where m.minute = v_horizon
    ) then
        v_part := v_horizon;
    end if;

    with seen as (
        delete from jobs_private.job_metrics_stale as s
        returning s.hour
    )
    select coalesce(array_agg(distinct seen.hour), '{}') into v_stale from seen;
    -- what goes: the stale hours' minutes with every block they are in, and what is too old
    -- (each as a span of periods, so that every delete is an index range per span)
    delete from jobs_private.job_metrics_minutes as m
    using jobs_private.job_metrics_spans(v_stale, v_drop_before, 60::smallint) as g
    where m.minute >= g.since and m.minute < g.upto;
    delete from jobs_private.job_metrics_hours as h
    using jobs_private.job_metrics_spans(v_stale, v_drop_before, 60::smallint) as g
    where h.hour >= g.since and h.hour < g.upto;
    delete from jobs_private.job_metrics_rollup as r
    using jobs_private.job_metrics_spans(v_stale, v_drop_before, 60::smallint) as g
    where r.minutes in (1, 60) and r.period >= g.since and r.period < g.upto;
    delete from jobs_private.job_metrics_run_seconds as r
    using jobs_private.job_metrics_spans(v_stale, v_drop_before, 60::smallint) as g
    where r.minute >= g.since and r.minute < g.upto;
    foreach v_block in array array[1, 10, 60, 360, 1440]::smallint[] loop
        delete from jobs_private.job_metrics_run_buckets as b
        using jobs_private.job_metrics_spans(v_stale, v_drop_before, v_block) as g
        where b.minutes = v_block and b.period >= g.since and b.period < g.upto;
    end loop;
    -- the last run's partial minute goes whole: written again below, as far as this run's
    -- horizon, or as a closed minute
    with gone as (
        delete from jobs_private.job_metrics_partial as p
        returning p.minute
    ),
    sums as (
        delete from jobs_private.job_metrics_rollup as r
        using gone as g
        where r.minutes = 1 and r.period = g.minute
    ),
    runs as (
        delete from jobs_private.job_metrics_run_seconds as r
        using gone as g
        where r.minute = g.minute
    )
    delete from jobs_private.job_metrics_run_buckets as b
    using gone as g
    where b.minutes = 1 and b.period = g.minute;

    -- the closed minutes not rolled up, looked for only in the hours that are not whole
    select coalesce(array_agg(n.minute order by n.minute), '{}')
    into v_minutes
    from pg_catalog.generate_series(v_first, v_horizon - interval '1 minute', interval '1 hour') as o (hour)
    cross join lateral pg_catalog.generate_series(
        o.hour, least(o.hour + interval '59 minutes', v_horizon - interval '1 minute'), interval '1 minute'
    ) as n (minute)
    where not exists (select from jobs_private.job_metrics_hours as h where h.hour = o.hour)
        and not exists (select from jobs_private.job_metrics_minutes as m where m.minute = n.minute);
    if pg_catalog.cardinality(v_minutes) = 0 and v_part is null then
        return 0;
    end if;
    select b.from_seconds into v_bounds from jobs_private.job_metrics_run_bounds as b;
    select coalesce(array_agg(t.job_type), '{}') into v_job_types from public.job_types as t;

    with spans as (
        -- the minutes, and the partial minute's part, as runs of consecutive ones
        select u.span
        from pg_catalog.unnest((
            select pg_catalog.range_agg(m.span)
            from (
                select pg_catalog.tstzrange(m.minute, m.minute + interval '1 minute')
                from pg_catalog.unnest(v_minutes) as m (minute)
                union all
                select pg_catalog.tstzrange(v_part, v_edge)
                where v_part is not null
            ) as m (span)
        )) as u (span)
    ),
    finished as (
        select
            pg_catalog.date_bin(interval '1 minute', j.completed_at, v_origin) as minute,
            j.job_type, j.status, j.attempts,
            extract(epoch from j.completed_at - j.started_at) as run_seconds,
            extract(epoch from j.completed_at - j.created_at) as total_seconds
        from spans as s
        cross join lateral (
            -- offset 0: per span, one range of jobs_job_type_idx per job type (without the
            -- type, the range of completed_at is no prefix of the index: it was read whole), in
            -- one bitmap, so that each heap page is visited once, not once per job type
            select j.job_type, j.status, j.attempts, j.completed_at, j.started_at, j.created_at
            from public.jobs as j
            where j.job_type = any(v_job_types) and j.completed_at is not null
                and j.completed_at >= pg_catalog.lower(s.span)
                and j.completed_at < pg_catalog.upper(s.span)
            offset 0
        ) as j
    ),
    runs as (
        insert into jobs_private.job_metrics_run_seconds (minute, job_type, run_seconds, jobs, bucket)
        select f.minute, f.job_type, f.run_seconds, count(*),
            -- (select v_bounds): flattened once, not for every run time (plpgsql keeps an array
            -- variable expanded, and width_bucket flattens what it is given: 64 kB a call)
            pg_catalog.width_bucket(f.run_seconds::float8, (select v_bounds))
        from finished as f
        where f.status = 'completed' and f.run_seconds is not null
        group by f.minute, f.job_type, f.run_seconds
        returning minute, job_type, bucket, jobs
    ),
    coarse as (
        insert into jobs_private.job_metrics_run_buckets (period, minutes, job_type, width, bucket, jobs)
        select r.minute, 1, r.job_type, 32, r.bucket / 32, sum(r.jobs)
        from runs as r
        group by r.minute, r.job_type, r.bucket / 32
    )
    insert into jobs_private.job_metrics_rollup (
        period, minutes, job_type, completed, failed, cancelled, retried,
        run_count, run_sum, total_count, total_sum
    )
    select
        f.minute, 1, f.job_type,
        count(*) filter (where f.status = 'completed'),
        count(*) filter (where f.status = 'failed'),
        count(*) filter (where f.status = 'cancelled'),
        count(*) filter (where f.attempts > 1),
        count(f.run_seconds) filter (where f.status = 'completed'),
        sum(f.run_seconds) filter (where f.status = 'completed'),
        count(f.total_seconds) filter (where f.status = 'completed'),
        sum(f.total_seconds) filter (where f.status = 'completed')
    from finished as f
    group by f.minute, f.job_type;

    insert into jobs_private.job_metrics_minutes (minute)
    select m.minute from pg_catalog.unnest(v_minutes) as m (minute);
    insert into jobs_private.job_metrics_partial (minute, upto)
    select v_part, v_edge
    where v_part is not null;

    -- the ten minutes this run made whole: their counts per bucket, from their run times (no
    -- such block has rows: it was not whole before, or the hour that made it whole again was
    -- stale and its rows went)
    insert into jobs_private.job_metrics_run_buckets (period, minutes, job_type, width, bucket, jobs)
    select k.block, 10, s.job_type, w.width, s.bucket / w.width, sum(s.jobs)
    from (
        select distinct pg_catalog.date_bin(interval '10 minutes', m.minute, v_origin) as block
        from pg_catalog.unnest(v_minutes) as m (minute)
    ) as k
    inner join jobs_private.job_metrics_run_seconds as s
        on s.minute >= k.block and s.minute < k.block + interval '10 minutes'
    cross join (values (1::smallint), (32::smallint)) as w (width)
    where (
        select count(*) from jobs_private.job_metrics_minutes as m
        where m.minute >= k.block and m.minute < k.block + interval '10 minutes'
    ) = 10
    group by k.block, s.job_type, w.width, s.bucket / w.width;

    -- the hours this run made whole: their sums and counts, from their minutes' and ten minutes'
    select coalesce(array_agg(k.hour order by k.hour), '{}')
    into v_hours
    from (
        select distinct pg_catalog.date_bin(interval '1 hour', m.minute, v_origin) as hour
        from pg_catalog.unnest(v_minutes) as m (minute)
    ) as k
    where (
        select count(*) from jobs_private.job_metrics_minutes as m
        where m.minute >= k.hour and m.minute < k.hour + interval '1 hour'
    ) = 60;
    insert into jobs_private.job_metrics_rollup (
        period, minutes, job_type, completed, failed, cancelled, retried,
        run_count, run_sum, total_count, total_sum
    )
    select
        h.hour, 60, r.job_type, sum(r.completed), sum(r.failed), sum(r.cancelled), sum(r.retried),
        sum(r.run_count), sum(r.run_sum), sum(r.total_count), sum(r.total_sum)
    from pg_catalog.unnest(v_hours) as h (hour)
    inner join jobs_private.job_metrics_rollup as r
        on r.minutes = 1 and r.period >= h.hour and r.period < h.hour + interval '1 hour'
    group by h.hour, r.job_type;
    insert into jobs_private.job_metrics_run_buckets (period, minutes, job_type, width, bucket, jobs)
    select h.hour, 60, b.job_type, b.width, b.bucket, sum(b.jobs)
    from pg_catalog.unnest(v_hours) as h (hour)
    inner join jobs_private.job_metrics_run_buckets as b
        on b.minutes = 10 and b.period >= h.hour and b.period < h.hour + interval '1 hour'
    group by h.hour, b.job_type, b.width, b.bucket;
    insert into jobs_private.job_metrics_hours (hour)
    select h.hour from pg_catalog.unnest(v_hours) as h (hour);

    -- the blocks (six hours, a UTC day) whose last hour this run made whole: their sums
    insert into jobs_private.job_metrics_run_buckets (period, minutes, job_type, width, bucket, jobs)
    select k.block, k.minutes, b.job_type, b.width, b.bucket, sum(b.jobs)
    from (
        select distinct
            z.minutes,
            pg_catalog.date_bin(pg_catalog.make_interval(mins => z.minutes), h.hour, v_origin) as block
        from pg_catalog.unnest(v_hours) as h (hour)
        cross join (values (360::smallint), (1440::smallint)) as z (minutes)
    ) as k
    inner join jobs_private.job_metrics_run_buckets as b
        on b.minutes = 60 and b.period >= k.block
        and b.period < k.block + pg_catalog.make_interval(mins => k.minutes)
    where (
        select count(*) from jobs_private.job_metrics_hours as h
        where h.hour >= k.block and h.hour < k.block + pg_catalog.make_interval(mins => k.minutes)
    ) * 60 = k.minutes
    group by k.block, k.minutes, b.job_type, b.width, b.bucket;
    return pg_catalog.cardinality(v_minutes);
end;
$$;
comment on function jobs_private.rollup_job_metrics(boolean) is
'Maintenance (pg_cron every minute or 15 seconds, or the owner): rolls up the finished jobs of the closed minutes of the last 31 days for system_metrics, and of the minute not closed yet as far as the horizon, recomputes the minutes of hours marked stale (every minute with from_scratch), drops older minutes; returns the number of minutes rolled up. Idempotent, safe to run concurrently. 25001 outside read committed.';
revoke all on function jobs_private.rollup_job_metrics(boolean)
from public, anon, authenticated, service_role;
