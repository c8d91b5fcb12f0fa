-- Claim floors (issue 14, long transactions): claim_jobs and queue_job start their scan of
-- the claim index at a per-pool key at or below every claimable job, past the dead entries of
-- claimed jobs that an open snapshot keeps; claim_jobs moves it forward about once per 64 jobs
-- claimed, a job put back below it moves it back (trigger), rescue_expired_jobs recomputes it.
-- Pools start without a floor (a claim then reads from the bottom, as before) and get one on
-- their first claim. The functions read the ascending index built by the previous migration.
-- `create or replace` keeps the grants.

create table jobs_private.claim_floors (
    worker_pool text primary key,
    neg_priority smallint not null,
    fair_rank bigint not null,
    id uuid not null,
    updated_at timestamptz not null default now()
);
comment on table jobs_private.claim_floors is
'Per pool, a key (-priority, fair_rank, id) of jobs_claim_idx at or below every claimable fairly ranked job of the pool: claim_jobs and queue_job start their scan there (issue 14, long transactions).';
revoke all on table jobs_private.claim_floors from public;

create sequence jobs_private.claim_floor_tick as bigint cycle;
comment on sequence jobs_private.claim_floor_tick is
'Counts claim_jobs calls: a call moves its pool''s claim floor when tick % 64 < max_jobs.';
revoke all on sequence jobs_private.claim_floor_tick from public;

-- A job put back into a pool's fairly ranked band below the pool's claim floor (released by a
-- worker, retried by an admin, requeued without backoff, given a higher priority or a lower
-- rank) moves the floor back to it, so the next claim sees it at once. Fired after update only
-- when the job (re)enters that band (the trigger's WHEN clause, evaluated without calling this
-- function): claims and reports never fire it. Security definer: the updating role (e.g. the
-- service role with table access) has no privilege on jobs_private.claim_floors.
create function jobs_private.jobs_lower_claim_floor()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update jobs_private.claim_floors as f
    set neg_priority = -new.priority, fair_rank = new.fair_rank, id = new.id, updated_at = now()
    where f.worker_pool = new.worker_pool
        and (f.neg_priority, f.fair_rank, f.id) > (-new.priority, new.fair_rank, new.id);
    return null;
end;
$$;
comment on function jobs_private.jobs_lower_claim_floor() is
'Trigger: a job back in its pool''s fairly ranked band below the pool''s claim floor moves the floor back to it (jobs_private.claim_floors).';
revoke all on function jobs_private.jobs_lower_claim_floor()
from public, anon, authenticated, service_role;

-- A queued job (re)entering its pool's fairly ranked band (2^62 and above is the deferred band)
-- may sit below the pool's claim floor: move the floor back. Claims and reports never match.
create trigger jobs_claim_floor_trg
after update on public.jobs
for each row
when (
    new.status = 'queued' and new.fair_rank < 4611686018427387904
    and (
        old.status <> 'queued' or old.fair_rank <> new.fair_rank
        or old.priority <> new.priority or old.worker_pool <> new.worker_pool
    )
)
execute function jobs_private.jobs_lower_claim_floor();

-- Security definer: jobs_worker has no table privileges and this is the one way a worker takes
-- jobs; only jobs_worker and service_role may execute it (anon and authenticated cannot, so
-- splinter 0028/0029 do not apply). It stays a definer in public because it is the hot path: an
-- invoker wrapper would add a function call per claim. Time is the server's (now()): no caller
-- can claim a job before its run_at. The lease is bounded by the job type
-- (job_types.max_lease_seconds, and never past started_at + max_run_seconds). A worker scoped to
-- some pools (jobs_private.worker_logins, or the worker_pools JWT claim) gets 42501 elsewhere.
-- Security definer: jobs_worker has no table privileges and this is the one way a worker takes
-- jobs; only jobs_worker and service_role may execute it (anon and authenticated cannot, so
-- splinter 0028/0029 do not apply). It stays a definer in public because it is the hot path: an
-- invoker wrapper would add a function call per claim. Time is the server's (now()): no caller
-- can claim a job before its run_at. The lease is bounded by the job type
-- (job_types.max_lease_seconds, and never past started_at + max_run_seconds). A worker scoped to
-- some pools (jobs_private.worker_logins, or the worker_pools JWT claim) gets 42501 elsewhere.
-- Security definer: jobs_worker has no table privileges and this is the one way a worker takes
-- jobs; only jobs_worker and service_role may execute it (anon and authenticated cannot, so
-- splinter 0028/0029 do not apply). It stays a definer in public because it is the hot path: an
-- invoker wrapper would add a function call per claim. Time is the server's (now()): no caller
-- can claim a job before its run_at. The lease is bounded by the job type
-- (job_types.max_lease_seconds, and never past started_at + max_run_seconds). A worker scoped to
-- some pools (jobs_private.worker_logins, or the worker_pools JWT claim) gets 42501 elsewhere.
-- Security definer: jobs_worker has no table privileges and this is the one way a worker takes
-- jobs; only jobs_worker and service_role may execute it (anon and authenticated cannot, so
-- splinter 0028/0029 do not apply). It stays a definer in public because it is the hot path: an
-- invoker wrapper would add a function call per claim. Time is the server's (now()): no caller
-- can claim a job before its run_at. The lease is bounded by the job type
-- (job_types.max_lease_seconds, and never past started_at + max_run_seconds). A worker scoped to
-- some pools (jobs_private.worker_logins, or the worker_pools JWT claim) gets 42501 elsewhere.
create or replace function public.claim_jobs(
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
set search_path = ''
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
            from public.jobs as j
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
        update public.jobs as j
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
        exit when v_claimed > 0 or v_bottom or not exists (
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
    from public.jobs as j
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
        from public.jobs as j
        where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool
            and greatest(j.fair_rank, 4611686018427387904) > 4611686018427387904
            and greatest(j.fair_rank, 4611686018427387904)
            <= 4611686018427387904 + floor(extract(epoch from now()) * 1000)::bigint
        order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
        limit 64
        for update skip locked
    )
    update public.jobs as j
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

-- The privileged body of public.queue_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no INSERT on jobs; this function is the one way they create jobs,
-- always for auth.uid(), with every input validated and derived columns taken from job_types.
create or replace function jobs_api.queue_job(
    job_type text,
    prompt text default null,
    metadata jsonb default '{}',
    quality text default null,
    num_images integer default 1,
    project_id uuid default null,
    destination text default 'library',
    workspace_session_id uuid default null,
    template_name text default null,
    api_model_id uuid default null,
    idempotency_key text default null,
    priority integer default null,
    run_after timestamptz default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
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
declare
    v_uid uuid := auth.uid();
    -- the job type's row and the two settings queue_job needs (max_images_per_request,
    -- max_queued_per_user), read by one statement
    v_type record;
    v_prompt text := coalesce(queue_job.prompt, queue_job.metadata ->> 'prompt');
    v_group uuid;
    v_queued integer;
    v_rank bigint;
    v_user_rank bigint;
    v_has_profile boolean;
    v_now timestamptz := now();
    v_wake boolean;
    v_head_rank bigint;
    v_head_run_at timestamptz;
    v_answer jsonb;
begin
    if v_uid is null then
        raise exception using errcode = '42501', message = 'queue_job needs a signed-in user',
            hint = 'Call it with the user''s JWT (request.jwt.claims.sub).';
    end if;
    -- One statement for the type and the settings: every statement of a plpgsql function is an
    -- executor start-up on the hot path.
    -- The pool's claim floor too (jobs_private.claim_floors): the head of the queue is read
    -- from it, and a new job ranks at or above it.
    select t.*, s.max_images_per_request, s.max_queued_per_user,
        coalesce(f.neg_priority, -32768) as floor_np,
        coalesce(f.fair_rank, -9223372036854775808) as floor_rank,
        coalesce(f.id, '00000000-0000-0000-0000-000000000000') as floor_id,
        f.worker_pool is not null as has_floor
    into v_type
    from public.job_types as t
    -- on its key, not "on true": under enable_seqscan = off a sequential scan costs past
    -- jit_above_cost and the statement would be JIT-compiled (100 ms) on every call
    left join jobs_private.settings as s on s.singleton
    left join jobs_private.claim_floors as f on f.worker_pool = t.worker_pool
    where t.job_type = queue_job.job_type;
    if not found then
        raise exception using errcode = '22023',
            message = format('unknown job_type %L', left(queue_job.job_type, 100)),
            hint = 'Valid types are the rows of public.job_types.';
    end if;
    if queue_job.metadata is null or jsonb_typeof(queue_job.metadata) <> 'object' then
        raise exception using errcode = '22023', message = 'metadata must be a JSON object';
    end if;
    if octet_length(queue_job.metadata::text) > 65536 then
        raise exception using errcode = '22023', message = 'metadata is larger than 64 KiB';
    end if;
    if char_length(v_prompt) > 10000 then
        raise exception using errcode = '22023',
            message = 'prompt must be a non-empty text of at most 10000 characters';
    end if;
    if v_prompt is null or btrim(v_prompt) = '' then
        -- An exact copy (the app's copy of a reference image) needs no prompt; any other job does.
        if not coalesce(
            queue_job.metadata -> 'exact_copy_mode' = 'true'::jsonb
            and btrim(queue_job.metadata ->> 'reference_image_url') <> '',
            false
        ) then
            raise exception using errcode = '22023',
                message = 'prompt must be a non-empty text of at most 10000 characters',
                hint = 'Only an exact copy (metadata.exact_copy_mode = true with metadata.reference_image_url) may have an empty prompt.';
        end if;
        v_prompt := coalesce(v_prompt, '');
    end if;
    if queue_job.num_images is null
        or queue_job.num_images not between 1 and v_type.max_images_per_request then
        raise exception using errcode = '22023',
            message = format('num_images must be between 1 and %s', v_type.max_images_per_request);
    end if;
    if queue_job.quality is not null and queue_job.quality is distinct from v_type.quality then
        raise exception using errcode = '22023',
            message = format('job_type %s has quality %s, not %L', v_type.job_type, v_type.quality,
                left(queue_job.quality, 20));
    end if;
    if queue_job.destination is null or queue_job.destination not in ('library', 'workspace') then
        raise exception using errcode = '22023', message = 'destination must be library or workspace';
    end if;
    if char_length(queue_job.template_name) > 200 then
        raise exception using errcode = '22023', message = 'template_name is longer than 200 characters';
    end if;
    if queue_job.idempotency_key is not null
        and char_length(queue_job.idempotency_key) not between 1 and 200 then
        raise exception using errcode = '22023', message = 'idempotency_key must have 1 to 200 characters';
    end if;
    if (queue_job.priority is not null or queue_job.run_after is not null) then
        perform jobs_private.require_admin();
        if queue_job.priority not between -100 and 100 then
            raise exception using errcode = '22023', message = 'priority must be between -100 and 100';
        end if;
    end if;
    -- Nested so that the lookups (each a query) run only when the parameter is given.
    if queue_job.project_id is not null then
        if not exists (
            select from public.projects as p where p.id = queue_job.project_id and p.user_id = v_uid
        ) then
            raise exception using errcode = '22023', message = 'project_id is not a project of this user';
        end if;
    end if;
    if queue_job.api_model_id is not null then
        if not exists (
            select from public.api_models as m where m.id = queue_job.api_model_id and m.is_active
        ) then
            raise exception using errcode = '22023', message = 'api_model_id is not an active api model';
        end if;
    end if;

    -- One queue_job at a time per user: makes the cap and the idempotency check exact under
    -- concurrent retries without serialising different users.
    perform pg_advisory_xact_lock(hashtext('jobsdb.queue_job'), hashtext(v_uid::text));

    if queue_job.idempotency_key is not null then
        select (j.metadata ->> 'job_id')::uuid into v_group
        from public.jobs as j
        where j.user_id = v_uid and j.idempotency_key = queue_job.idempotency_key;
        if found then
            select jobs_private.job_group_json(v_group, true, array_agg(j)) into v_answer
            from public.jobs as j
            where j.user_id = v_uid and (j.metadata ->> 'job_id') = v_group::text;
            return v_answer;
        end if;
    end if;

    -- In one statement: the user's profile, their queued jobs (for the cap, counted up to one
    -- past it), the head of the pool's queue (the claim's first candidate, read on
    -- jobs_claim_idx from the pool's claim floor) and the user's latest fair rank in the pool.
    select
        exists (select from public.profiles as p where p.id = v_uid),
        (
            select count(*) from (
                select
                from public.jobs as j
                where j.user_id = v_uid and j.status = 'queued'
                limit v_type.max_queued_per_user + 1
            ) as q
        ),
        h.fair_rank, h.run_at,
        (
            select max(j.fair_rank) from public.jobs as j
            where j.user_id = v_uid and j.status in ('queued', 'processing')
            and j.worker_pool = v_type.worker_pool and j.fair_rank < 4611686018427387904
        )
    into v_has_profile, v_queued, v_head_rank, v_head_run_at, v_user_rank
    from (select) as one
    left join lateral (
        select j.fair_rank, j.run_at
        from public.jobs as j
        where j.status = 'queued' and j.worker_pool = v_type.worker_pool
            and (greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id)
            >= (4611686018427387904, v_type.floor_np, v_type.floor_rank, v_type.floor_id)
            and greatest(j.fair_rank, 4611686018427387904) <= 4611686018427387904
        order by greatest(j.fair_rank, 4611686018427387904), -j.priority, j.fair_rank, j.id
        limit 1
    ) as h on true;

    if not v_has_profile then
        if not exists (select from auth.users as u where u.id = v_uid) then
            raise exception using errcode = '42501', message = 'the signed-in user does not exist';
        end if;
        insert into public.profiles (id) values (v_uid) on conflict do nothing;
    end if;
    if v_queued + queue_job.num_images > v_type.max_queued_per_user then
        raise exception using errcode = 'PT429',
            message = format('too many queued jobs: %s queued, at most %s per user',
                v_queued, v_type.max_queued_per_user),
            hint = 'Wait for queued jobs to start, or cancel some.';
    end if;

    -- Fair rank: after the user's own latest job in this pool and level with the head of the
    -- pool's queue, so a newcomer's job runs next to, not behind, another user's backlog.
    -- Never below the pool's claim floor's rank: with the priority of the floor's job, the new
    -- jobs rank above the floor (their ids are newer).
    v_rank := greatest(v_head_rank, v_user_rank + 1, v_type.floor_rank, 1);

    -- Workers sleep (LISTEN, with a poll timeout) only after a claim found nothing, and a busy
    -- worker claims again before it sleeps: wake them only when the head of the pool's queue is
    -- not claimable now (an empty queue, or one waiting out a backoff). NOTIFY takes a
    -- database-wide lock at commit that serialises all notifying commits (about -35% jobs/s at
    -- 8 clients in bench/README.md).
    v_wake := v_head_run_at is null or v_head_run_at > v_now;
    -- Job ids (jobs_private.new_job_id, inlined): a sequence number then random bits, so ids
    -- order by creation. The claim breaks (priority, fair_rank) ties by id: a set is claimed
    -- in image_index order and equal ranks first-come first-served, never by a random value.
    v_group := (
        pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.nextval('jobs_private.job_id_seq')), 12, '0')
        || pg_catalog.right(pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20)
    )::uuid;
    with inserted as (
        insert into public.jobs (
            id, user_id, job_type, status, max_attempts, metadata, project_id, format, quality,
            model_type, destination, workspace_session_id, template_name, api_model_id,
            original_prompt, worker_pool, priority, run_at, fair_rank, idempotency_key
        )
        select
            case when i = 1 then v_group else (
                pg_catalog.lpad(
                    pg_catalog.to_hex(pg_catalog.nextval('jobs_private.job_id_seq')), 12, '0'
                ) || pg_catalog.right(
                    pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 20
                )
            )::uuid end,
            v_uid, v_type.job_type, 'queued', v_type.default_max_attempts,
            queue_job.metadata || jsonb_build_object(
                'prompt', v_prompt, 'job_id', v_group, 'image_index', i - 1,
                'num_images', queue_job.num_images
            ),
            queue_job.project_id, v_type.format, v_type.quality, v_type.model_type,
            queue_job.destination, queue_job.workspace_session_id, queue_job.template_name,
            queue_job.api_model_id, v_prompt, v_type.worker_pool, coalesce(queue_job.priority, 0),
            coalesce(queue_job.run_after, v_now), v_rank,
            case when i = 1 then queue_job.idempotency_key end
        from generate_series(1, queue_job.num_images) as i
        returning *
    )
    select jobs_private.job_group_json(v_group, false, array_agg(n::public.jobs)) into v_answer
    from inserted as n;

    -- The pool's first job gives it a claim floor at the bottom (claims move it forward).
    if not v_type.has_floor then
        insert into jobs_private.claim_floors (worker_pool, neg_priority, fair_rank, id)
        values (v_type.worker_pool, -32768, -9223372036854775808, '00000000-0000-0000-0000-000000000000')
        on conflict (worker_pool) do nothing;
    -- A higher priority than the floor's job ranks the set below the pool's claim floor: move
    -- the floor back to its first job, so the next claim sees it (rare: admins and the service
    -- role set priorities).
    elsif v_type.has_floor
        and (-coalesce(queue_job.priority, 0), v_rank, v_group)
        < (v_type.floor_np, v_type.floor_rank, v_type.floor_id) then
        update jobs_private.claim_floors as f
        set neg_priority = -coalesce(queue_job.priority, 0), fair_rank = v_rank, id = v_group,
            updated_at = now()
        where f.worker_pool = v_type.worker_pool
            and (f.neg_priority, f.fair_rank, f.id) > (-coalesce(queue_job.priority, 0), v_rank, v_group);
    end if;

    -- At most one wake-up per call, none while the pool has claimable work (see v_wake): no
    -- per-row trigger, so commits of many jobs do not queue behind the notify lock once per row.
    if v_wake then
        perform pg_notify('jobs_wake_' || v_type.worker_pool, '');
    end if;
    return v_answer;
end;
$$;
comment on function jobs_api.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) is
'The privileged body of public.queue_job: call public.queue_job.';
revoke all on function jobs_api.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function jobs_api.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) to authenticated, service_role;

-- Security definer: runs from pg_cron and from workers (jobs_worker), neither of which has
-- table privileges; anon and authenticated cannot execute it (splinter 0028/0029 do not
-- apply). Time is the server's (now()): a caller cannot make a live lease look expired. Safe
-- to run concurrently with claims and with itself (skip locked). Rescues a processing job whose
-- lease expired, or whose attempt ran past job_types.max_run_seconds (even while heartbeating).
create or replace function public.rescue_expired_jobs(max_jobs integer default 1000)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
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
            error_message = case when e.overran
                then format('run time exceeded: attempt %s of %s ran past %s s (job type %s)',
                    j.attempts, j.max_attempts, e.max_run_seconds, j.job_type)
                else format('lease expired: worker %s stopped heartbeating (attempt %s of %s)',
                    j.locked_by, j.attempts, j.max_attempts)
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
    -- pool's dead index entries per run, instead of one per claim.
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
