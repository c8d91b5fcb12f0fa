-- Rolls up the finished jobs of every closed hour of the last 31 days (system_metrics' widest
-- window) that is not rolled up yet or was marked stale, and forgets hours older than that.
-- Idempotent; concurrent runs take turns (a transaction-level advisory lock), and a run after
-- another finds nothing left to do. Run by pg_cron every five minutes (schedule_maintenance)
-- or by the owner; system_metrics is exact without it (it reads from jobs whatever is not
-- rolled up), only slower. from_scratch recomputes every hour: after finished jobs were
-- inserted, changed or deleted with triggers off (session_replication_role = replica).
--
-- When an hour is closed: hour + 1 h <= jobs_private.job_metrics_horizon() (no transaction
-- still open can write a completed_at before it), read before the statements that read jobs,
-- in read committed: a writer that could still put a completed_at in the hour has committed
-- (its rows are seen) or rolled back. While a transaction stays open, the horizon waits for it.
-- Later changes to a finished job (retry_job, deletes, restores) mark its hour stale
-- (jobs_private.job_metrics_stale, by trigger): its markers are deleted here and the hour is
-- computed again; a marker committed after they were read survives for the next run.
-- Per hour it writes the sums (job_metrics_rollup), the distinct run times with their bucket
-- (job_metrics_run_seconds) and the counts per bucket and coarse bucket
-- (job_metrics_run_buckets), and those counts of each six hours and each UTC day once all
-- their hours are rolled up.
create function jobs_private.rollup_job_metrics(from_scratch boolean default false)
returns integer
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_origin constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    v_first timestamptz := pg_catalog.date_bin(interval '1 hour', now() - interval '31 days', v_origin);
    -- hours before this are forgotten: older than any window, or all of them from scratch
    v_drop_before timestamptz := case when rollup_job_metrics.from_scratch
        then 'infinity'::timestamptz else v_first end;
    v_horizon timestamptz;
    v_stale timestamptz[];
    v_hours timestamptz[];
    v_bounds float8[];
begin
    if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
        raise exception using
            errcode = '25001',
            message = 'rollup_job_metrics must run in a read committed transaction';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('jobsdb.rollup_job_metrics'));

    v_horizon := pg_catalog.date_bin(interval '1 hour', jobs_private.job_metrics_horizon(), v_origin);

    with seen as (
        delete from jobs_private.job_metrics_stale as s
        returning s.hour
    )
    select coalesce(array_agg(distinct seen.hour), '{}') into v_stale from seen;
    delete from jobs_private.job_metrics_hours as h where h.hour = any(v_stale) or h.hour < v_drop_before;
    delete from jobs_private.job_metrics_rollup as r where r.hour = any(v_stale) or r.hour < v_drop_before;
    delete from jobs_private.job_metrics_run_seconds as r
    where r.hour = any(v_stale) or r.hour < v_drop_before;
    -- a block's rows (a day, six hours) go with any of its hours (they exist only while all its
    -- hours are rolled up)
    delete from jobs_private.job_metrics_run_buckets as b
    where b.period < v_drop_before
        or (b.hours = 1 and b.period = any(v_stale))
        or (b.hours = 6 and b.period = any(
            select pg_catalog.date_bin(interval '6 hours', s.hour, v_origin)
            from pg_catalog.unnest(v_stale) as s (hour)
        ))
        or (b.hours = 24 and b.period = any(
            select pg_catalog.date_bin(interval '1 day', s.hour, v_origin)
            from pg_catalog.unnest(v_stale) as s (hour)
        ));

    select coalesce(array_agg(g.hour order by g.hour), '{}')
    into v_hours
    from pg_catalog.generate_series(v_first, v_horizon - interval '1 hour', interval '1 hour') as g (hour)
    where not exists (select from jobs_private.job_metrics_hours as h where h.hour = g.hour);
    if pg_catalog.cardinality(v_hours) = 0 then
        return 0;
    end if;
    select b.from_seconds into v_bounds from jobs_private.job_metrics_run_bounds as b;

    with finished as (
        select
            pg_catalog.date_bin(interval '1 hour', j.completed_at, v_origin) as hour,
            j.job_type, j.status, j.attempts,
            extract(epoch from j.completed_at - j.started_at) as run_seconds,
            extract(epoch from j.completed_at - j.created_at) as total_seconds
        from public.jobs as j
        where j.completed_at is not null
            and j.completed_at >= v_hours[1]
            and j.completed_at < v_hours[pg_catalog.cardinality(v_hours)] + interval '1 hour'
    ),
    kept as (
        select f.* from finished as f where f.hour = any(v_hours)
    ),
    runs as (
        select k.hour, k.job_type, k.run_seconds, count(*) as jobs
        from kept as k
        where k.status = 'completed' and k.run_seconds is not null
        group by k.hour, k.job_type, k.run_seconds
    ),
    run_rows as (
        insert into jobs_private.job_metrics_run_seconds (hour, job_type, run_seconds, jobs, bucket)
        select r.hour, r.job_type, r.run_seconds, r.jobs, pg_catalog.width_bucket(r.run_seconds::float8, v_bounds)
        from runs as r
        returning hour, job_type, bucket, jobs
    ),
    sums as (
        insert into jobs_private.job_metrics_rollup (
            hour, job_type, completed, failed, cancelled, retried,
            run_count, run_sum, total_count, total_sum
        )
        select
            k.hour, k.job_type,
            count(*) filter (where k.status = 'completed'),
            count(*) filter (where k.status = 'failed'),
            count(*) filter (where k.status = 'cancelled'),
            count(*) filter (where k.attempts > 1),
            count(k.run_seconds) filter (where k.status = 'completed'),
            sum(k.run_seconds) filter (where k.status = 'completed'),
            count(k.total_seconds) filter (where k.status = 'completed'),
            sum(k.total_seconds) filter (where k.status = 'completed')
        from kept as k
        group by k.hour, k.job_type
    )
    insert into jobs_private.job_metrics_run_buckets (period, hours, job_type, width, bucket, jobs)
    select r.hour, 1, r.job_type, w.width, r.bucket / w.width, sum(r.jobs)
    from run_rows as r
    cross join (values (1::smallint), (32::smallint)) as w (width)
    group by r.hour, r.job_type, w.width, r.bucket / w.width;

    insert into jobs_private.job_metrics_hours (hour)
    select h.hour from pg_catalog.unnest(v_hours) as h (hour);

    -- the blocks (six hours, a UTC day) whose last hour this run rolled up: their sums (no block
    -- among them has rows: it was not whole before, or the hour that made it whole again was
    -- stale and its rows went)
    insert into jobs_private.job_metrics_run_buckets (period, hours, job_type, width, bucket, jobs)
    select k.block, k.hours, b.job_type, b.width, b.bucket, sum(b.jobs)
    from (
        select distinct
            z.hours,
            pg_catalog.date_bin(pg_catalog.make_interval(hours => z.hours), h.hour, v_origin) as block
        from pg_catalog.unnest(v_hours) as h (hour)
        cross join (values (6::smallint), (24::smallint)) as z (hours)
    ) as k
    inner join jobs_private.job_metrics_run_buckets as b
        on b.hours = 1 and b.period >= k.block
        and b.period < k.block + pg_catalog.make_interval(hours => k.hours)
    where (
        select count(*) from jobs_private.job_metrics_hours as h
        where h.hour >= k.block and h.hour < k.block + pg_catalog.make_interval(hours => k.hours)
    ) = k.hours
    group by k.block, k.hours, b.job_type, b.width, b.bucket;
    return pg_catalog.cardinality(v_hours);
end;
$$;
comment on function jobs_private.rollup_job_metrics(boolean) is
'Maintenance (pg_cron every five minutes, or the owner): rolls up the finished jobs of the closed hours of the last 31 days for system_metrics, recomputes hours marked stale (every hour with from_scratch), drops older hours; returns the number of hours rolled up. Idempotent, safe to run concurrently. 25001 outside read committed.';
revoke all on function jobs_private.rollup_job_metrics(boolean)
from public, anon, authenticated, service_role;
