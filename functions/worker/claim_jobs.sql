-- Security definer: jobs_worker has no table privileges and this is the one way a worker takes
-- jobs; only jobs_worker and service_role may execute it (anon and authenticated cannot, so
-- splinter 0028/0029 do not apply). It stays a definer in public because it is the hot path: an
-- invoker wrapper would add a function call per claim. Time is the server's (now()): no caller
-- can claim a job before its run_at. The lease is bounded by the job type
-- (job_types.max_lease_seconds, and never past started_at + max_run_seconds). A worker scoped to
-- some pools (jobs_private.worker_logins, or the worker_pools JWT claim) gets 42501 elsewhere.
-- Its jobs are the queue's, all in jobs_private.jobs_hot: it reads and writes that partition, not
-- public.jobs (sql/60_jobs_partitioned.sql says why).
create function public.claim_jobs(
    worker_pool text,
    worker_id text,
    max_jobs integer default 1,
    lease_seconds integer default null
)
returns table (
    job_id uuid,
    job_type text,
    user_id uuid,
    prompt text,
    metadata jsonb,
    format text,
    quality text,
    model_type text,
    output_bucket text,
    attempt integer,
    max_attempts integer,
    lease_token uuid,
    lease_expires_at timestamptz
)
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
-- One generic plan per statement for the session: custom plans re-planned every call cost ~15%
-- of the lifecycle (bench/README.md).
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
    v_pools jsonb;
    -- true for the second pass: read the pool's queue from the bottom, not from its floor
    v_bottom boolean := false;
    v_claimed integer;
    v_floor record;
    v_head record;
begin
    if claim_jobs.worker_pool is null or claim_jobs.worker_id is null
        or char_length(claim_jobs.worker_id) not between 1 and 200 then
        raise exception using errcode = '22023',
            message = 'worker_pool and worker_id (1 to 200 characters) are required';
    end if;
    if claim_jobs.max_jobs is null or claim_jobs.max_jobs not between 1 and 100 then
        raise exception using errcode = '22023', message = 'max_jobs must be between 1 and 100';
    end if;
    if claim_jobs.lease_seconds not between 10 and 86400 then
        raise exception using errcode = '22023', message = 'lease_seconds must be between 10 and 86400';
    end if;
    -- Scoped worker credentials (README: Security model). Through PostgREST (session_user
    -- authenticator, role from a JWT signed with the project's secret) the JWT claim
    -- worker_pools (a JSON array; absent = every pool); any session can set
    -- request.jwt.claims, so it is read only in authenticator's sessions. A direct SQL login:
    -- its row in jobs_private.worker_logins (none, or worker_pools null = every pool), checked
    -- in the claim statement. session_user cannot be changed without superuser.
    if session_user = 'authenticator' then
        v_pools := nullif(current_setting('request.jwt.claims', true), '')::jsonb -> 'worker_pools';
        if v_pools is not null
            and not coalesce(jsonb_typeof(v_pools) = 'array' and v_pools ? claim_jobs.worker_pool, false) then
            raise exception using errcode = '42501',
                message = format('this worker may not claim from pool %s', left(claim_jobs.worker_pool, 40)),
                hint = 'Its pools are the worker_pools claim of its JWT.';
        end if;
    end if;
    -- The canonical claim: its WHERE and ORDER BY equal jobs_claim_idx's predicate and key,
    -- so it reads the head of the pool's queue whatever the size of the history. The key's
    -- second column is the band (sql/20_jobs.sql): every claimable-ranked job, then the jobs
    -- waiting for their run_at (a retry's backoff, run_after) in run_at order; the condition on
    -- it stops the scan at the first job not yet due, so a claim never walks a retry storm. The
    -- row comparison starts the scan at the pool's claim floor (jobs_private.claim_floors), past
    -- the dead entries of claimed jobs that an open snapshot keeps in the index (no floor: the
    -- bottom of every key). A second pass from the bottom runs only when the first claimed
    -- nothing and the pool has a floor (a job put below it by plain SQL is never stranded).
    loop
        return query
        with floor as (
            select coalesce(f.neg_priority, -32768) as neg_priority,
                coalesce(f.fair_rank, -9223372036854775808) as fair_rank,
                coalesce(f.id, '00000000-0000-0000-0000-000000000000') as id
            from (select) as one
            left join jobs_private.claim_floors as f
                on f.worker_pool = claim_jobs.worker_pool and not v_bottom
        ),
        next_jobs as (
            select j.id
            from jobs_private.jobs_hot as j
            where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool
                and (greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id)
                >= (
                    4611686018427387904, (select f.neg_priority from floor as f),
                    (select f.fair_rank from floor as f), (select f.id from floor as f)
                )
                and greatest(j.fair_rank, 4611686018427387904)
                <= 4611686018427387904 + floor(extract(epoch from now()) * 1000)::bigint
                and j.run_at <= now()
                -- a direct SQL login's scope, in this statement (a one-time filter): no statement
                -- more on the claim path; a refused claim claims nothing and raises below
                and not exists (
                    select from jobs_private.worker_logins as l
                    where l.login = session_user and not claim_jobs.worker_pool = any(l.worker_pools)
                )
            order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
            limit claim_jobs.max_jobs
            for update skip locked
        ),
        -- a fresh fencing token per job: returned to this worker, stored only as its digest
        -- (jobs_private.lease_digest, inlined here and in heartbeat_jobs and job_callback: a call
        -- of a function with a SET clause costs more than the hash itself)
        tokens as (
            select n.id, gen_random_uuid() as token from next_jobs as n
        )
        update jobs_private.jobs_hot as j
        set status = 'processing',
            attempts = j.attempts + 1,
            started_at = now(),
            locked_by = claim_jobs.worker_id,
            lease_token = pg_catalog.left(
                pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(n.token)), 'hex'), 32
            )::uuid,
            -- clamped to the type's bound; max_lease_seconds <= max_run_seconds (job_types check)
            lease_expires_at = now() + make_interval(
                secs => least(coalesce(claim_jobs.lease_seconds, t.lease_seconds), t.max_lease_seconds)
            )
        from tokens as n, public.job_types as t
        where j.id = n.id and t.job_type = j.job_type
        returning
            j.id, j.job_type, j.user_id, j.metadata ->> 'prompt', j.metadata, j.format, j.quality,
            j.model_type, t.output_bucket, j.attempts, j.max_attempts, n.token,
            j.lease_expires_at;
        get diagnostics v_claimed = row_count;
        -- Two exits, not one `or`: an expression with a subquery runs as a statement (an
        -- executor start-up) even when the `or` never reaches it; this one is a simple
        -- expression, so a claim that took a job runs no statement here.
        exit when v_claimed > 0 or v_bottom;
        exit when not exists (
            select from jobs_private.claim_floors as f where f.worker_pool = claim_jobs.worker_pool
        );
        v_bottom := true;
    end loop;
    -- Nothing claimed: an empty queue, or a login claiming outside its pools (42501).
    if v_claimed = 0 then
        if exists (
            select from jobs_private.worker_logins as l
            where l.login = session_user and not claim_jobs.worker_pool = any(l.worker_pools)
        ) then
            raise exception using errcode = '42501',
                message = format('this worker may not claim from pool %s', left(claim_jobs.worker_pool, 40)),
                hint = 'Its pools are its row in jobs_private.worker_logins.';
        end if;
        return;
    end if;
    -- About once per 64 jobs claimed: bring the pool's due retries to the head of its queue, or
    -- else move its floor forward to the first fairly ranked job still queued (this
    -- transaction's claims are no longer queued for it; another claimer's are until it commits,
    -- so a claim that rolls back is never left below the floor). Skip locked: a claim never
    -- waits for another claim's floor move.
    if not v_bottom
        and pg_catalog.nextval('jobs_private.claim_floor_tick') % 64 >= claim_jobs.max_jobs then
        return;
    end if;
    select f.worker_pool is not null and not v_bottom as present,
        coalesce(f.neg_priority, -32768) as neg_priority,
        coalesce(f.fair_rank, -9223372036854775808) as fair_rank,
        coalesce(f.id, '00000000-0000-0000-0000-000000000000') as id
    into v_floor
    from (select) as one
    left join jobs_private.claim_floors as f
        on f.worker_pool = claim_jobs.worker_pool and not v_bottom;
    select -j.priority as neg_priority, j.fair_rank, j.id into v_head
    from jobs_private.jobs_hot as j
    where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool
        and (greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id)
        >= (4611686018427387904, v_floor.neg_priority, v_floor.fair_rank, v_floor.id)
        and greatest(j.fair_rank, 4611686018427387904) <= 4611686018427387904
    order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
    limit 1;
    if not found then
        return;
    end if;
    -- Due jobs of the deferred band (a retry whose backoff is over, a run_after reached) rank
    -- with the head of the fairly ranked band, so a pool that always has fresh work never
    -- starves its retries; their ids are older than the head's, so they are claimed next (the
    -- trigger jobs_claim_floor_trg moves the floor back to them).
    with due as (
        select j.id
        from jobs_private.jobs_hot as j
        where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool
            and greatest(j.fair_rank, 4611686018427387904) > 4611686018427387904
            and greatest(j.fair_rank, 4611686018427387904)
            <= 4611686018427387904 + floor(extract(epoch from now()) * 1000)::bigint
        order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
        limit 64
        for update skip locked
    )
    update jobs_private.jobs_hot as j
    set fair_rank = v_head.fair_rank
    from due as d
    where j.id = d.id and j.run_at <= now();
    if found then
        return;
    end if;
    -- forward only, unless the head was read from the bottom (no floor yet, or the second pass
    -- found a job below it: then the floor moves back to the true head)
    update jobs_private.claim_floors as f
    set neg_priority = v_head.neg_priority, fair_rank = v_head.fair_rank, id = v_head.id,
        updated_at = now()
    where f.worker_pool = claim_jobs.worker_pool
        and f.ctid = (
            select l.ctid from jobs_private.claim_floors as l
            where l.worker_pool = claim_jobs.worker_pool
            for update skip locked
        )
        and (
            not v_floor.present
            or (f.neg_priority, f.fair_rank, f.id) < (v_head.neg_priority, v_head.fair_rank, v_head.id)
        );
    if not found and not v_floor.present then
        insert into jobs_private.claim_floors (worker_pool, neg_priority, fair_rank, id)
        values (claim_jobs.worker_pool, v_head.neg_priority, v_head.fair_rank, v_head.id)
        on conflict (worker_pool) do nothing;
    end if;
end;
$$;
comment on function public.claim_jobs(text, text, integer, integer) is
'Worker: claim up to max_jobs queued jobs of a pool (priority, then fair rank across users), for update skip locked. Each claim counts an attempt, takes a lease (lease_seconds or the job type''s) and returns a fresh lease_token to pass to heartbeat_jobs and job_callback (only its digest is stored: jobs.lease_token). lease_seconds (default the type''s) is clamped to job_types.max_lease_seconds.';
revoke all on function public.claim_jobs(text, text, integer, integer)
from public, anon, authenticated, service_role;
grant execute on function public.claim_jobs(text, text, integer, integer)
to jobs_worker, service_role;
