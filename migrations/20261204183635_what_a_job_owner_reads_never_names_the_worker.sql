-- What a job's owner reads never names the worker.
--
-- Why: release_jobs (a job released too often) and rescue_expired_jobs (a lease that expired)
-- wrote the worker's label into jobs.error_message ("released by worker wX ..."), which the
-- status broadcast and job_changes_since carry to the job's owner; the README promises that
-- broadcasts never carry the worker. The messages now say what happened only.

create or replace function public.release_jobs(
    worker_id text,
    job_ids uuid[],
    lease_tokens uuid[]
)
returns table (job_id uuid, state text)
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
    c_free_releases constant integer := 3;
begin
    if release_jobs.worker_id is null or release_jobs.job_ids is null
        or release_jobs.lease_tokens is null
        or cardinality(release_jobs.job_ids) <> cardinality(release_jobs.lease_tokens)
        or cardinality(release_jobs.job_ids) > 1000 then
        raise exception using errcode = '22023',
            message = 'worker_id, and job_ids with lease_tokens of the same length (at most 1000), are required';
    end if;
    return query
    with held as (
        -- jobs.lease_token holds the digest of the claim's token (jobs_private.lease_digest, inlined)
        select distinct on (h.job_id)
            h.job_id,
            pg_catalog.left(
                pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(h.lease_token)), 'hex'), 32
            )::uuid as lease_token
        from unnest(release_jobs.job_ids, release_jobs.lease_tokens) as h (job_id, lease_token)
        order by h.job_id
    ),
    mine as (
        select j.id
        from public.jobs as j
        inner join held as h on h.job_id = j.id and h.lease_token = j.lease_token
        where j.status = 'processing' and j.locked_by = release_jobs.worker_id
        order by j.id
        for update of j
    ),
    counted as (
        insert into jobs_private.job_releases as r (job_id, releases, last_released_at)
        select m.id, 1, pg_catalog.now() from mine as m
        on conflict (job_id) do update
            set releases = r.releases + 1, last_released_at = excluded.last_released_at
        returning r.job_id, r.releases
    ),
    released as (
        update public.jobs as j
        set status = case
                when c.releases <= c_free_releases or j.attempts < j.max_attempts then 'queued'
                else 'failed'
            end,
            attempts = case when c.releases <= c_free_releases then j.attempts - 1 else j.attempts end,
            run_at = pg_catalog.now(),
            lease_token = null,
            last_error_at = case when c.releases <= c_free_releases then j.last_error_at
                else pg_catalog.now() end,
            -- what happened, not which worker: the job's owner reads it (a broadcast carries it)
            error_message = case when c.releases <= c_free_releases then j.error_message
                else format('released %s times without finishing: this release counted attempt %s of %s',
                    c.releases, j.attempts, j.max_attempts) end
        from counted as c
        where j.id = c.job_id
        returning j.id, case
            when c.releases <= c_free_releases then 'released'
            when j.status = 'queued' then 'requeued'
            else 'failed'
        end as state
    )
    select h.job_id, coalesce(r.state, 'lost')
    from unnest(release_jobs.job_ids) as h (job_id)
    left join released as r on r.id = h.job_id;
end;
$$;
comment on function public.release_jobs(text, uuid[], uuid[]) is
'Worker: hand back held jobs (job_ids with the lease_tokens of their claims) when stopping. Answers per job: released (queued again at once, the attempt given back), requeued or failed (the job was released more than 3 times: this release counted its attempt), or lost (not held under that token: nothing changed). Errors: 22023 bad arrays.';
revoke all on function public.release_jobs(text, uuid[], uuid[])
from public, anon, authenticated, service_role;
grant execute on function public.release_jobs(text, uuid[], uuid[])
to jobs_worker, service_role;

create or replace function public.rescue_expired_jobs(max_jobs integer default 1000)
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
        from public.jobs as j
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
        update public.jobs as j
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
            from public.jobs as j
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
