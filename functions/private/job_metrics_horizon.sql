-- Where system_metrics' roll-up may close minutes: a time before which no transaction still
-- open can write a completed_at. A job's completed_at is its writer's now() (or its
-- started_at, set by a claim committed earlier), so only a transaction that started before
-- time t can write a completed_at before t. Every transaction holds the lock on its virtual
-- transaction id from its start, and pg_locks lists them for every role and database. Left
-- out are those that cannot write this database's jobs: processes without a user
-- (autovacuum) and those connected to another database or to none (a transaction writes
-- only the database it is connected to). A lock whose process pg_stat_activity does not
-- show (it has just started or ended) is kept, to stay on the safe side. When no other
-- transaction is open, or those open end within a second (a worker's last a few
-- milliseconds: the run waits for them), the time (below) is the horizon; otherwise the open
-- ones are remembered with the time, and once none of them is open any more (a later run),
-- that time becomes the horizon. Read-committed callers read jobs in later statements, so a
-- writer that ended meanwhile is seen. The time is the clock's, read before pg_locks, taken 2
-- seconds early: a transaction's start time (its now()) is set a few instructions
-- (microseconds) before its lock is taken, and 2 s also covers a backend descheduled in
-- between. 1.12.0 took 15 s off now(), and pg_cron starts the run at second 0 of a minute, so
-- the minute that had just ended closed a minute later: a call read 60-120 s of jobs from
-- jobs, not 2-62. So a run in the first 2 seconds of a minute first waits them out (at most
-- 2 s), and the minute that just ended closes in that run. Prepared (two-phase) transactions
-- are not looked at. Called by rollup_job_metrics under its advisory lock.
create function jobs_private.job_metrics_horizon()
returns timestamptz
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    c_margin constant interval := interval '2 seconds';
    v_minute timestamptz := pg_catalog.date_bin(
        interval '1 minute', pg_catalog.clock_timestamp(), timestamptz '2000-01-01 00:00:00+00'
    );
    v_now timestamptz;
    v_database oid := (
        select d.oid from pg_catalog.pg_database as d
        where d.datname = pg_catalog.current_database()
    );
    v_open text[];
    v_state jobs_private.job_metrics_horizon;
    v_wait integer := 0;
begin
    if pg_catalog.clock_timestamp() < v_minute + c_margin then
        perform pg_catalog.pg_sleep_until(v_minute + c_margin);
    end if;
    v_now := pg_catalog.clock_timestamp() - c_margin;
    select coalesce(array_agg(l.virtualxid), '{}')
    into v_open
    from pg_catalog.pg_locks as l
    where l.locktype = 'virtualxid' and l.pid is distinct from pg_catalog.pg_backend_pid()
        and not exists (
            select from pg_catalog.pg_stat_activity as a
            where a.pid = l.pid
                and (a.usesysid is null or a.datid is distinct from v_database)
        );
    while pg_catalog.cardinality(v_open) > 0 and v_wait < 20 loop
        perform pg_catalog.pg_sleep(0.05);
        v_wait := v_wait + 1;
        -- the same transactions, still open (a later one started after now(): it does not count)
        select coalesce(array_agg(l.virtualxid), '{}')
        into v_open
        from pg_catalog.pg_locks as l
        where l.locktype = 'virtualxid' and l.virtualxid = any(v_open);
    end loop;
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
