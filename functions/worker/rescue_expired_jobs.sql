-- Security definer: runs from pg_cron and from workers (jobs_worker), neither of which has
-- table privileges; anon and authenticated cannot execute it (splinter 0028/0029 do not
-- apply). Time is the server's (now()): a caller cannot make a live lease look expired. Safe
-- to run concurrently with claims and with itself (skip locked). Rescues a processing job whose
-- lease expired, or whose attempt ran past job_types.max_run_seconds (even while heartbeating).
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
create function public.rescue_expired_jobs(max_jobs integer default 1000)
returns jsonb
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
-- No JIT: enable_seqscan = off prices any sequential scan (even of the one-row settings
-- table) at 1e10, which JIT-compiled it: ~190 ms per retryable failure in job_callback.
set jit = off
as $$
declare
    v_requeued integer;
    v_failed integer;
begin
    if rescue_expired_jobs.max_jobs is null or rescue_expired_jobs.max_jobs not between 1 and 100000 then
        raise exception using errcode = '22023', message = 'max_jobs must be between 1 and 100000';
    end if;
    -- Processing rows only (jobs_lease_idx): as many as there are running jobs.
    with expired as (
        select j.id, t.max_run_seconds,
            j.started_at + make_interval(secs => t.max_run_seconds) < now() as overran
        from jobs_private.jobs_hot as j
        inner join public.job_types as t on t.job_type = j.job_type
        where j.status = 'processing' and (
            j.lease_expires_at < now()
            or j.started_at + make_interval(secs => t.max_run_seconds) < now()
        )
        order by j.lease_expires_at
        limit rescue_expired_jobs.max_jobs
        for update of j skip locked
    ),
    rescued as (
        update jobs_private.jobs_hot as j
        set status = case when j.attempts < j.max_attempts then 'queued' else 'failed' end,
            run_at = case when j.attempts < j.max_attempts
                then now() + jobs_private.retry_delay(j.attempts) else j.run_at end,
            completed_at = case when j.attempts < j.max_attempts then null
                else greatest(now(), j.started_at) end,
            last_error_at = now(),
            -- the abandoned attempt's token dies with its lease: a late report from it is stale
            lease_token = null,
            -- what happened, not which worker: the job's owner reads it (a broadcast carries it)
            error_message = case when e.overran
                then format('run time exceeded: attempt %s of %s ran past %s s (job type %s)',
                    j.attempts, j.max_attempts, e.max_run_seconds, j.job_type)
                else format('lease expired: its worker stopped heartbeating (attempt %s of %s)',
                    j.attempts, j.max_attempts)
            end
        from expired as e
        where j.id = e.id
        returning j.status
    )
    select count(*) filter (where r.status = 'queued'), count(*) filter (where r.status = 'failed')
    into v_requeued, v_failed
    from rescued as r;
    -- Each pool's claim floor set to the first claimable fairly ranked job exactly (it may move
    -- back: a job inserted below it by plain SQL, or whose claim rolled back). One walk of the
    -- pool's dead index entries per run, instead of one per claim. Skip locked: a floor another
    -- transaction is moving (a claim, a job put back below it) is left to it and to the next
    -- run, so a rescue never waits for a floor while it holds jobs.
    with heads as (
        select f.worker_pool, h.neg_priority, h.fair_rank, h.id
        from jobs_private.claim_floors as f
        cross join lateral (
            select -j.priority as neg_priority, j.fair_rank, j.id
            from jobs_private.jobs_hot as j
            where j.status = 'queued' and j.worker_pool = f.worker_pool
                and greatest(j.fair_rank, 4611686018427387904) <= 4611686018427387904
            order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
            limit 1
        ) as h
        order by f.worker_pool
        for update of f skip locked
    )
    update jobs_private.claim_floors as f
    set neg_priority = h.neg_priority, fair_rank = h.fair_rank, id = h.id, updated_at = now()
    from heads as h
    where f.worker_pool = h.worker_pool
        and (f.neg_priority, f.fair_rank, f.id) <> (h.neg_priority, h.fair_rank, h.id);
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end;
$$;
comment on function public.rescue_expired_jobs(integer) is
'Requeue (with backoff) or fail, when no attempt is left, the processing jobs whose lease expired or whose attempt ran past job_types.max_run_seconds, and set each pool''s claim floor (jobs_private.claim_floors) to its first claimable job. Scheduled every minute by pg_cron when the extension exists. Returns {requeued, failed}.';
revoke all on function public.rescue_expired_jobs(integer)
from public, anon, authenticated, service_role;
grant execute on function public.rescue_expired_jobs(integer)
to jobs_worker, service_role;
