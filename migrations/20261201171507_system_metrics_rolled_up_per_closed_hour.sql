-- system_metrics rolled up per closed hour (issue 14)
--
-- Why: system_metrics over 7 days read every finished job of the window (320-470 ms at
-- 1,000,000 jobs). Closed hours are now summed once by jobs_private.rollup_job_metrics (pg_cron
-- every five minutes, or the owner), and system_metrics reads jobs only for the window's open
-- edges and any hour not rolled up or marked stale; its answer is unchanged (same keys and
-- values, percentiles included). No row is shared by the jobs: the roll-up is written by the
-- maintenance function alone; the new triggers on jobs fire only when a finished job changes,
-- is deleted, or is inserted already finished (their WHEN clauses are false on the queue's
-- own writes).

-- system_metrics' roll-up of finished jobs per closed hour (issue 14). Written only by
-- jobs_private.rollup_job_metrics (pg_cron, or the owner); no job ever writes a shared row.
-- An hour is the half-open [hour, hour + 1 h) of completed_at, binned in UTC (date_bin), so
-- the buckets do not depend on the session's TimeZone.

-- The hours rolled up: an hour listed here has its figures in job_metrics_rollup and
-- job_metrics_run_seconds (an hour with no finished job has none) unless job_metrics_stale
-- names it.
create table jobs_private.job_metrics_hours (
    hour timestamptz primary key,
    rolled_up_at timestamptz not null default now()
);
comment on table jobs_private.job_metrics_hours is
'system_metrics roll-up: the closed hours (of completed_at, UTC) whose finished jobs are summed in job_metrics_rollup and job_metrics_run_seconds. Written by rollup_job_metrics only.';

-- Per hour and job type: the sums system_metrics needs (counts per status, retried jobs,
-- the completed jobs' run and queue-to-done seconds: exact numeric sums and their counts).
create table jobs_private.job_metrics_rollup (
    hour timestamptz not null,
    job_type text not null,
    completed bigint not null,
    failed bigint not null,
    cancelled bigint not null,
    retried bigint not null,
    run_count bigint not null,
    run_sum numeric,
    total_count bigint not null,
    total_sum numeric,
    primary key (hour, job_type)
);
comment on table jobs_private.job_metrics_rollup is
'system_metrics roll-up: per closed hour and job type, finished jobs per status, jobs with more than one attempt, and count and exact sum of the completed jobs'' run and queue-to-done seconds.';

-- Per hour and job type: the completed jobs' run seconds as (value, how many): the exact
-- distribution, so p50/p95 (percentile_cont) are computed exactly from the roll-up. As many
-- rows as distinct run times in the hour (at most one per completed job).
create table jobs_private.job_metrics_run_seconds (
    hour timestamptz not null,
    job_type text not null,
    run_seconds numeric not null,
    jobs bigint not null,
    primary key (hour, job_type, run_seconds)
);
comment on table jobs_private.job_metrics_run_seconds is
'system_metrics roll-up: per closed hour and job type, each distinct run time (completed_at - started_at, seconds) of the completed jobs and how many had it, for exact percentiles.';

-- Hours whose rolled-up figures a later change made stale: a finished job changed (retry_job
-- requeues a failed one), deleted (retention, account deletion) or inserted already finished
-- (a restore). Insert-only, one row per change (no shared row; no upsert: a marker committed
-- after rollup_job_metrics read the markers must survive it). system_metrics reads a marked
-- hour from jobs; rollup_job_metrics recomputes it and deletes the markers it saw.
create table jobs_private.job_metrics_stale (
    id bigint generated always as identity primary key,
    hour timestamptz not null,
    marked_at timestamptz not null default now()
);
create index job_metrics_stale_hour_idx on jobs_private.job_metrics_stale (hour);
comment on table jobs_private.job_metrics_stale is
'system_metrics roll-up: hours made stale by a change to a finished job (update, delete, insert); read live until rollup_job_metrics recomputes them.';

revoke all on table jobs_private.job_metrics_hours, jobs_private.job_metrics_rollup,
jobs_private.job_metrics_run_seconds, jobs_private.job_metrics_stale
from public, anon, authenticated, service_role;

-- How far hours may be closed, proven from pg_locks (readable by every role, unlike other
-- roles' rows of pg_stat_activity): the virtual transaction ids open at taken_at; once none
-- of them is open any more, no transaction that started before taken_at can still write.
-- One row, written only by rollup_job_metrics (under its advisory lock).
create table jobs_private.job_metrics_horizon (
    singleton boolean primary key default true
    constraint job_metrics_horizon_singleton_check check (singleton),
    closed_through timestamptz,
    taken_at timestamptz,
    open_xacts text[]
);
insert into jobs_private.job_metrics_horizon default values;
comment on table jobs_private.job_metrics_horizon is
'system_metrics roll-up: closed_through, before which no completed_at can still be written, and the transactions (virtual ids) open at taken_at that must end before taken_at becomes the next closed_through.';
revoke all on table jobs_private.job_metrics_horizon from public, anon, authenticated, service_role;

-- Row trigger (after insert or update on jobs, only when its WHEN clause holds: a finished
-- job changed or a job inserted already finished; never on the queue's own transitions). Marks
-- the hours of its old and new completed_at stale for system_metrics' roll-up.
create function jobs_private.mark_job_metrics_stale()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into jobs_private.job_metrics_stale (hour)
    select distinct pg_catalog.date_bin(interval '1 hour', c.completed_at, timestamptz '2000-01-01 00:00:00+00')
    from (
        select new.completed_at
        union all
        select old.completed_at where tg_op = 'UPDATE'
    ) as c (completed_at)
    where c.completed_at is not null;
    return null;
end;
$$;
comment on function jobs_private.mark_job_metrics_stale() is
'Trigger (after insert or update on jobs, per row, when a finished job changes or a finished job is inserted): marks the hours of its completed_at stale in jobs_private.job_metrics_stale.';
revoke all on function jobs_private.mark_job_metrics_stale()
from public, anon, authenticated, service_role;

-- Statement trigger (after delete on jobs, transition table): one marker per distinct hour
-- of the deleted finished jobs' completed_at (a retention batch marks a handful of hours).
create function jobs_private.mark_deleted_job_metrics_stale()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
-- @plpgsql_check_options: oldtable = gone
begin
    insert into jobs_private.job_metrics_stale (hour)
    select distinct pg_catalog.date_bin(interval '1 hour', g.completed_at, timestamptz '2000-01-01 00:00:00+00')
    from gone as g
    where g.completed_at is not null;
    return null;
end;
$$;
comment on function jobs_private.mark_deleted_job_metrics_stale() is
'Trigger (after delete on jobs, per statement): marks the hours of the deleted finished jobs'' completed_at stale in jobs_private.job_metrics_stale.';
revoke all on function jobs_private.mark_deleted_job_metrics_stale()
from public, anon, authenticated, service_role;

-- Where system_metrics' roll-up may close hours: a time before which no transaction still
-- open can write a completed_at. A job's completed_at is its writer's now() (or its
-- started_at, set by a claim committed earlier), so only a transaction that started before
-- time t can write a completed_at before t. Every transaction holds the lock on its virtual
-- transaction id from its start, and pg_locks lists them for every role (those of processes
-- without a user, autovacuum, are left out: they never write a job): when no other
-- transaction is open, now() is the horizon; otherwise the open ones are remembered with
-- now(), and once none of them is open any more (a later run), that time becomes the horizon.
-- Read-committed callers read jobs in later statements, so a writer that ended meanwhile is
-- seen. now() is taken a minute early: a transaction's start time is set a few instructions
-- before its lock is taken. Prepared (two-phase) transactions are not looked at. Called by
-- rollup_job_metrics under its advisory lock.
create function jobs_private.job_metrics_horizon()
returns timestamptz
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_now timestamptz := now() - interval '1 minute';
    v_open text[];
    v_state jobs_private.job_metrics_horizon;
begin
    select coalesce(array_agg(l.virtualxid), '{}')
    into v_open
    from pg_catalog.pg_locks as l
    where l.locktype = 'virtualxid' and l.pid is distinct from pg_catalog.pg_backend_pid()
        and not exists (
            select from pg_catalog.pg_stat_activity as a
            where a.pid = l.pid and a.usesysid is null
        );
    select * into strict v_state from jobs_private.job_metrics_horizon as h where h.singleton;
    if pg_catalog.cardinality(v_open) = 0 then
        v_state.closed_through := v_now;
        v_state.taken_at := null;
        v_state.open_xacts := null;
    elsif v_state.taken_at is null or not (v_state.open_xacts && v_open) then
        v_state.closed_through := coalesce(v_state.taken_at, v_state.closed_through);
        v_state.taken_at := v_now;
        v_state.open_xacts := v_open;
    end if;
    update jobs_private.job_metrics_horizon as h
    set closed_through = greatest(h.closed_through, v_state.closed_through),
        taken_at = v_state.taken_at, open_xacts = v_state.open_xacts
    where h.singleton
    returning h.closed_through into v_state.closed_through;
    return v_state.closed_through;
end;
$$;
comment on function jobs_private.job_metrics_horizon() is
'system_metrics roll-up (called by rollup_job_metrics): a time before which no open transaction can still write a completed_at, proven from the virtual transaction ids in pg_locks; null until known.';
revoke all on function jobs_private.job_metrics_horizon()
from public, anon, authenticated, service_role;

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
create function jobs_private.rollup_job_metrics(from_scratch boolean default false)
returns integer
language plpgsql
volatile
set search_path = ''
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

    select coalesce(array_agg(g.hour order by g.hour), '{}')
    into v_hours
    from pg_catalog.generate_series(v_first, v_horizon - interval '1 hour', interval '1 hour') as g (hour)
    where not exists (select from jobs_private.job_metrics_hours as h where h.hour = g.hour);
    if pg_catalog.cardinality(v_hours) = 0 then
        return 0;
    end if;

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
    insert into jobs_private.job_metrics_run_seconds (hour, job_type, run_seconds, jobs)
    select k.hour, k.job_type, k.run_seconds, count(*)
    from kept as k
    where k.status = 'completed' and k.run_seconds is not null
    group by k.hour, k.job_type, k.run_seconds;

    insert into jobs_private.job_metrics_hours (hour)
    select h.hour from pg_catalog.unnest(v_hours) as h (hour);
    return pg_catalog.cardinality(v_hours);
end;
$$;
comment on function jobs_private.rollup_job_metrics(boolean) is
'Maintenance (pg_cron every five minutes, or the owner): rolls up the finished jobs of the closed hours of the last 31 days for system_metrics, recomputes hours marked stale (every hour with from_scratch), drops older hours; returns the number of hours rolled up. Idempotent, safe to run concurrently. 25001 outside read committed.';
revoke all on function jobs_private.rollup_job_metrics(boolean)
from public, anon, authenticated, service_role;

-- system_metrics' roll-up stays exact when a finished job changes after its hour was rolled
-- up (sql/33_job_metrics_rollup.sql). The WHEN clauses are evaluated without calling a
-- function, and they are false for the queue's own writes (queue_job inserts queued jobs; a
-- claim, heartbeat or callback updates a job whose completed_at is still null), so the hot
-- path never runs these triggers.
create trigger jobs_metrics_stale_on_update_trg
after update on public.jobs
for each row
when (
    old.completed_at is not null
    and (old.status, old.attempts, old.started_at, old.completed_at)
    is distinct from (new.status, new.attempts, new.started_at, new.completed_at)
)
execute function jobs_private.mark_job_metrics_stale();
create trigger jobs_metrics_stale_on_insert_trg
after insert on public.jobs
for each row
when (new.completed_at is not null)
execute function jobs_private.mark_job_metrics_stale();
create trigger jobs_metrics_stale_on_delete_trg
after delete on public.jobs
referencing old table as gone
for each statement execute function jobs_private.mark_deleted_job_metrics_stale();

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
create or replace function jobs_api.system_metrics(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
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

-- pg_cron schedules of the package, for a project where pg_cron arrives after the migrations
-- (on hosted Supabase the owner enables it from the dashboard or with
-- `create extension pg_cron with schema pg_catalog`). Idempotent: cron.schedule() updates a
-- job of the same name. The jobs run as the caller (the owner role), a trusted caller of
-- rescue_expired_jobs() and purge_finished_jobs(), and the owner of
-- jobs_private.rollup_job_metrics() (system_metrics' roll-up of closed hours). Without pg_cron: 55000, nothing changes.
-- Dynamic SQL, the schema name an argument: schema cron does not exist until the extension
-- does (and plpgsql_check checks constant query strings).
create or replace function jobs_private.schedule_maintenance()
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
    v_jobs jsonb;
begin
    if not exists (select from pg_catalog.pg_extension as e where e.extname = 'pg_cron') then
        raise exception using
            errcode = '55000',
            message = 'pg_cron is not installed in this database',
            hint = 'Enable it first: create extension pg_cron with schema pg_catalog;';
    end if;
    execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'jobsdb-rescue-expired-jobs', '* * * * *', 'select public.rescue_expired_jobs()';
    execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'jobsdb-purge-finished-jobs', '*/5 * * * *', 'select public.purge_finished_jobs()';
    execute format('select %I.schedule($1, $2, $3)', 'cron')
    using 'jobsdb-rollup-job-metrics', '2-59/5 * * * *', 'select jobs_private.rollup_job_metrics()';
    execute format(
        'select jsonb_agg(jsonb_build_object(''jobname'', j.jobname, ''schedule'', j.schedule,'
        ' ''command'', j.command) order by j.jobname) from %I.job as j'
        ' where j.jobname like ''jobsdb-%%'' and j.username = current_user',
        'cron'
    ) into v_jobs;
    return v_jobs;
end;
$$;
comment on function jobs_private.schedule_maintenance() is
'Schedules (or updates) the pg_cron jobs jobsdb-rescue-expired-jobs (every minute), jobsdb-purge-finished-jobs (every five minutes) and jobsdb-rollup-job-metrics (every five minutes, two minutes after the purge) as the caller; returns them as [{jobname, schedule, command}]; 55000 without pg_cron. For the owner role.';
revoke all on function jobs_private.schedule_maintenance()
from public, anon, authenticated, service_role;
