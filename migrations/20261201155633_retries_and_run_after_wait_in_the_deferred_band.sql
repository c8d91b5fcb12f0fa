-- Retries and run_after wait in the deferred band of jobs_claim_idx (issue 14, retry storms).
--
-- Why: with 10,000 jobs of a pool in backoff, one claim took 4.3x as long (every claim walked
-- them at the head of the claim index). The insert and update triggers now rank a queued job
-- waiting for a later run_at at 2^62 + run_at in epoch milliseconds; claim_jobs reads the
-- claimable ranks first, then the due waiting jobs by run_at, and stops at the first not yet
-- due; queue_job takes the head rank and the user's latest rank from the fairly ranked jobs
-- only. Jobs already waiting keep their rank until their next requeue (claimed as before).
-- `create or replace` keeps the grants.
-- The hot-path functions that set enable_seqscan = off also set jit = off: that setting
-- prices any sequential scan (even of the one-row settings table read by retry_delay) at 1e10,
-- which crossed jit_above_cost, so every retryable failure JIT-compiled a statement (~190 ms).

-- A job is born queued. Only roles with INSERT on jobs (the service role and the owner) can
-- insert directly, and they may also insert a job already completed (the app copies library
-- items into a workspace that way). Derived columns default from job_types.
create or replace function jobs_private.jobs_before_insert()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_type public.job_types;
begin
    if new.status not in ('queued', 'completed') then
        raise exception using
            errcode = 'PT409',
            message = format('a job cannot be created as %s', new.status),
            hint = 'Jobs are created queued (or completed, by the service role, when copying outputs).';
    end if;
    if new.worker_pool is null or new.format is null or new.quality is null or new.model_type is null then
        select * into v_type from public.job_types as t where t.job_type = new.job_type;
        if found then
            new.worker_pool := coalesce(new.worker_pool, v_type.worker_pool);
            new.format := coalesce(new.format, v_type.format);
            new.quality := coalesce(new.quality, v_type.quality);
            new.model_type := coalesce(new.model_type, v_type.model_type);
        end if;
    end if;
    if new.status = 'completed' then
        new.completed_at := coalesce(new.completed_at, now());
    end if;
    -- A job born waiting for a later run_at (run_after) is in the deferred band of
    -- jobs_claim_idx (sql/20_jobs.sql), ranked by that time.
    if new.status = 'queued' and new.run_at > now() then
        new.fair_rank := 4611686018427387904 + floor(extract(epoch from new.run_at) * 1000)::bigint;
    end if;
    if new.metadata ->> 'job_id' is null then
        new.metadata := new.metadata || jsonb_build_object('job_id', new.id);
    end if;
    return new;
end;
$$;
comment on function jobs_private.jobs_before_insert() is
'Trigger: enforces the birth states (queued, or completed for the service role), fills derived columns from job_types, the deferred band of fair_rank (born waiting for a later run_at) and the group id metadata.job_id.';
revoke all on function jobs_private.jobs_before_insert()
from public, anon, authenticated, service_role;

create or replace function jobs_private.jobs_before_update()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.id is distinct from old.id
        or new.user_id is distinct from old.user_id
        or new.created_at is distinct from old.created_at
        or new.job_type is distinct from old.job_type then
        raise exception using
            errcode = 'PT400',
            message = 'jobs.id, user_id, created_at and job_type cannot be changed',
            detail = format('job %s', old.id);
    end if;
    if new.status is distinct from old.status then
        if not exists (
            select
            from jobs_private.job_status_transitions as t
            where t.from_status = old.status and t.to_status = new.status
        ) then
            raise exception using
                errcode = 'PT409',
                message = format('job status cannot change from %s to %s', old.status, new.status),
                detail = format('job %s', old.id),
                hint = 'The allowed transitions are in jobs_private.job_status_transitions (README: lifecycle).';
        end if;
        if new.status = 'processing' and new.started_at is not distinct from old.started_at then
            new.started_at := now();
        end if;
        if new.status in ('queued', 'processing') then
            new.completed_at := null;
        elsif new.completed_at is null then
            new.completed_at := greatest(now(), new.started_at);
        end if;
        if new.status <> 'processing' then
            new.locked_by := null;
            new.lease_expires_at := null;
        end if;
    end if;
    -- The deferred band of jobs_claim_idx (sql/20_jobs.sql): a job requeued or moved to wait
    -- for a later run_at (a retry's backoff) ranks by that time, past every claimable rank, so
    -- claims stop before it instead of walking it; a job already in the band follows its run_at.
    if new.status = 'queued'
        and (new.status is distinct from old.status or new.run_at is distinct from old.run_at)
        and (new.run_at > now() or new.fair_rank >= 4611686018427387904) then
        new.fair_rank := 4611686018427387904 + floor(extract(epoch from new.run_at) * 1000)::bigint;
    end if;
    new.updated_at := now();
    return new;
end;
$$;
comment on function jobs_private.jobs_before_update() is
'Trigger: protects immutable columns (PT400), allows only the transitions of jobs_private.job_status_transitions (PT409, naming both states), maintains started_at, completed_at, the lease columns, the deferred band of fair_rank (a queued job waiting for a later run_at) and updated_at.';
revoke all on function jobs_private.jobs_before_update()
from public, anon, authenticated, service_role;

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
    select t.*, s.max_images_per_request, s.max_queued_per_user into v_type
    from public.job_types as t
    -- on its key, not "on true": under enable_seqscan = off a sequential scan costs past
    -- jit_above_cost and the statement would be JIT-compiled (100 ms) on every call
    left join jobs_private.settings as s on s.singleton
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
    -- jobs_claim_idx) and the user's latest fair rank in the pool.
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
            and greatest(j.fair_rank, 4611686018427387904) <= 4611686018427387904
        order by greatest(j.fair_rank, 4611686018427387904), j.priority desc, j.fair_rank, j.id
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
    v_rank := greatest(v_head_rank, v_user_rank + 1, 1);

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
    -- it stops the scan at the first job not yet due, so a claim never walks a retry storm.
    return query
    with next_jobs as (
        select j.id
        from public.jobs as j
        where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool
            and greatest(j.fair_rank, 4611686018427387904)
            <= 4611686018427387904 + floor(extract(epoch from now()) * 1000)::bigint
            and j.run_at <= now()
            -- a direct SQL login's scope, in this statement (a one-time filter): no statement
            -- more on the claim path; a refused claim claims nothing and raises below
            and not exists (
                select from jobs_private.worker_logins as l
                where l.login = session_user and not claim_jobs.worker_pool = any(l.worker_pools)
            )
        order by greatest(j.fair_rank, 4611686018427387904), j.priority desc, j.fair_rank, j.id
        limit claim_jobs.max_jobs
        for update skip locked
    ),
    -- a fresh fencing token per job: returned to this worker, stored only as its digest
    -- (jobs_private.lease_digest, inlined here and in heartbeat_jobs and job_callback: a call of a
    -- function with a SET clause costs more than the hash itself)
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
    -- Nothing claimed: an empty queue, or a login claiming outside its pools (42501).
    if not found then
        if exists (
            select from jobs_private.worker_logins as l
            where l.login = session_user and not claim_jobs.worker_pool = any(l.worker_pools)
        ) then
            raise exception using errcode = '42501',
                message = format('this worker may not claim from pool %s', left(claim_jobs.worker_pool, 40)),
                hint = 'Its pools are its row in jobs_private.worker_logins.';
        end if;
    end if;
end;
$$;
comment on function public.claim_jobs(text, text, integer, integer) is
'Worker: claim up to max_jobs queued jobs of a pool (priority, then fair rank across users), for update skip locked. Each claim counts an attempt, takes a lease (lease_seconds or the job type''s) and returns a fresh lease_token to pass to heartbeat_jobs and job_callback (only its digest is stored: jobs.lease_token). lease_seconds (default the type''s) is clamped to job_types.max_lease_seconds.';
revoke all on function public.claim_jobs(text, text, integer, integer)
from public, anon, authenticated, service_role;
grant execute on function public.claim_jobs(text, text, integer, integer)
to jobs_worker, service_role;

-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply); kept a definer in
-- public because it is the hot path. Always fenced for workers: a jobs_worker caller must present
-- the lease_token of its claim (42501 without), and a report from an attempt that was rescued
-- or superseded changes nothing (stale). Only a trusted caller (service_role: the job-callback
-- edge function relaying the app's older worker payload) may report without a token; that
-- report is applied to whichever attempt is running. Time is the server's (now()).
create or replace function public.job_callback(
    job_id uuid,
    status text,
    lease_token uuid default null,
    error_message text default null,
    metadata jsonb default null,
    assets jsonb default null,
    retryable boolean default true
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
    -- the job's row and its type's media_type and output_bucket, read by one statement
    v_job record;
    v_meta jsonb := coalesce(job_callback.metadata, '{}');
    -- the first asset (asset_index 0): it becomes the job's image_id or video_id
    v_first_id uuid;
    v_first_type text;
    v_first_path text;
    v_first_thumbnail text;
    v_video_id uuid;
    v_asset_ids jsonb;
    v_delay interval;
begin
    if job_callback.lease_token is null then
        -- evaluated only without a token: the fenced hot path does not pay for it
        if not jobs_private.is_trusted_caller() then
            raise exception using errcode = '42501', message = 'a worker must present its lease_token',
                hint = 'Pass the lease_token that claim_jobs returned for this attempt.';
        end if;
    end if;
    if job_callback.job_id is null or job_callback.status is null
        or job_callback.status not in ('completed', 'failed') then
        raise exception using errcode = '22023',
            message = 'job_id and a status of completed or failed are required';
    end if;
    if jsonb_typeof(v_meta) <> 'object' or octet_length(v_meta::text) > 65536 then
        raise exception using errcode = '22023', message = 'metadata must be a JSON object of at most 64 KiB';
    end if;
    if job_callback.assets is not null and (
        jsonb_typeof(job_callback.assets) <> 'array'
        or jsonb_array_length(job_callback.assets) > 100
        or exists (
            select
            from jsonb_array_elements(job_callback.assets) as a (value)
            where not coalesce(
                (jsonb_typeof(a.value) = 'string' and char_length(a.value #>> '{}') between 1 and 2000)
                or (jsonb_typeof(a.value) = 'object' and jsonb_typeof(a.value -> 'url') = 'string'
                    and char_length(a.value ->> 'url') between 1 and 2000
                    and coalesce(a.value ->> 'type', 'image') in ('image', 'video')
                    and coalesce(jsonb_typeof(a.value -> 'metadata'), 'object') in ('object', 'null')),
                false
            )
        )
    ) then
        raise exception using errcode = '22023',
            message = 'assets must be an array (at most 100) of paths or of {type: image|video, url, thumbnail_url, metadata}';
    end if;

    -- The job and its type in one statement (every statement here is an executor start-up).
    select j.*, t.media_type, t.output_bucket into v_job
    from public.jobs as j
    join public.job_types as t on t.job_type = j.job_type
    where j.id = job_callback.job_id
    for update of j;
    if not found then
        return jsonb_build_object('job_id', job_callback.job_id, 'result', 'unknown_job');
    elsif v_job.status = 'cancelled' then
        return jsonb_build_object('job_id', v_job.id, 'result', 'ignored_cancelled');
    elsif v_job.status = 'queued' or (
        job_callback.lease_token is not null
        -- jobs.lease_token holds the digest of the claim's token (jobs_private.lease_digest, inlined)
        and pg_catalog.left(pg_catalog.encode(
            pg_catalog.sha256(pg_catalog.uuid_send(job_callback.lease_token)), 'hex'
        ), 32)::uuid is distinct from v_job.lease_token
    ) then
        return jsonb_build_object('job_id', v_job.id, 'result', 'stale', 'status', v_job.status);
    elsif v_job.status <> 'processing' then
        if v_job.status = job_callback.status then
            return jsonb_build_object('job_id', v_job.id, 'result', 'duplicate', 'status', v_job.status);
        end if;
        raise exception using errcode = 'PT409',
            message = format('job %s is already %s; a %s report conflicts', v_job.id, v_job.status,
                job_callback.status);
    end if;

    if job_callback.status = 'failed' then
        if job_callback.retryable and v_job.attempts < v_job.max_attempts then
            v_delay := jobs_private.retry_delay(v_job.attempts);
            update public.jobs as j
            set status = 'queued', run_at = now() + v_delay, last_error_at = now(),
                error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
            where j.id = v_job.id;
            return jsonb_build_object('job_id', v_job.id, 'result', 'requeued',
                'retry_at', now() + v_delay, 'attempts', v_job.attempts);
        end if;
        update public.jobs as j
        set status = 'failed', completed_at = greatest(now(), v_job.started_at), last_error_at = now(),
            error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
        where j.id = v_job.id;
        return jsonb_build_object('job_id', v_job.id, 'result', 'failed', 'attempts', v_job.attempts);
    end if;

    with inserted as (
        insert into public.images_videos (
            user_id, job_id, asset_index, asset_type, bucket, file_path, file_name,
            thumbnail_path, metadata
        )
        select
            v_job.user_id, v_job.id, (a.ord - 1)::integer,
            coalesce(a.value ->> 'type', v_job.media_type), v_job.output_bucket,
            p.path, regexp_replace(p.path, '^.*/', ''), a.value ->> 'thumbnail_url',
            coalesce(nullif(a.value -> 'metadata', 'null'::jsonb), '{}')
        from jsonb_array_elements(coalesce(job_callback.assets, '[]')) with ordinality as a (value, ord)
        cross join lateral (
            select case when jsonb_typeof(a.value) = 'string' then a.value #>> '{}'
                else a.value ->> 'url' end as path
        ) as p
        on conflict on constraint images_videos_job_asset_key do nothing
        returning id, asset_index, asset_type, file_path, thumbnail_path
    )
    select (select jsonb_agg(i.id order by i.asset_index) from inserted as i),
        f.id, f.asset_type, f.file_path, f.thumbnail_path
    into v_asset_ids, v_first_id, v_first_type, v_first_path, v_first_thumbnail
    from (select) as one
    left join inserted as f on f.asset_index = 0;
    -- Not inserted now: there were no assets, or the job already had a first asset (written
    -- directly by the service role). Read it, if any.
    if v_first_id is null then
        select iv.id, iv.asset_type, iv.file_path, iv.thumbnail_path
        into v_first_id, v_first_type, v_first_path, v_first_thumbnail
        from public.images_videos as iv
        where iv.job_id = v_job.id and iv.asset_index = 0;
    end if;
    if v_first_type = 'video' then
        insert into public.videos (user_id, asset_id, file_path, thumbnail_path)
        values (v_job.user_id, v_first_id, v_first_path, v_first_thumbnail)
        returning id into v_video_id;
    end if;

    update public.jobs as j
    set status = 'completed',
        completed_at = greatest(now(), v_job.started_at),
        image_id = case when v_first_type = 'image' then v_first_id end,
        video_id = v_video_id,
        -- the group keys are the request's: job_group_json casts image_index, groups use job_id
        metadata = j.metadata || (v_meta - array['job_id', 'image_index', 'num_images']),
        enhancement_strategy = coalesce(left(v_meta ->> 'enhancement_strategy', 50), j.enhancement_strategy),
        original_prompt = coalesce(j.original_prompt, v_meta ->> 'original_prompt'),
        enhanced_prompt = coalesce(v_meta ->> 'enhanced_prompt', j.enhanced_prompt),
        enhancement_time_ms = coalesce(
            jobs_private.json_number(v_meta, 'enhancement_time_ms')::integer, j.enhancement_time_ms
        ),
        compel_weights = coalesce(nullif(v_meta -> 'compel_weights', 'null'::jsonb), j.compel_weights),
        qwen_expansion_percentage = coalesce(
            jobs_private.json_number(v_meta, 'qwen_expansion_percentage'), j.qwen_expansion_percentage
        ),
        quality_rating = coalesce(jobs_private.json_number(v_meta, 'quality_rating'), j.quality_rating),
        quality_improvement = coalesce(
            jobs_private.json_number(v_meta, 'quality_improvement'), j.quality_improvement
        )
    where j.id = v_job.id;
    return jsonb_build_object('job_id', v_job.id, 'result', 'completed',
        'asset_ids', coalesce(v_asset_ids, '[]'));
end;
$$;
comment on function public.job_callback(uuid, text, uuid, text, jsonb, jsonb, boolean) is
'Worker / job-callback edge function: report the outcome of a claim. completed: one images_videos row per asset (path or {type,url,thumbnail_url,metadata}), the first linked as image_id or video_id, metadata merged, analytics columns filled. failed: requeued with backoff while attempts remain and retryable, else failed. Answers result = completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job. Errors: 42501 a jobs_worker report without lease_token (only service_role may omit it), 22023 bad payload, PT409 a report conflicting with the recorded outcome.';
revoke all on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean
) to jobs_worker, service_role;

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
    return jsonb_build_object('requeued', v_requeued, 'failed', v_failed);
end;
$$;
comment on function public.rescue_expired_jobs(integer) is
'Requeue (with backoff) or fail, when no attempt is left, the processing jobs whose lease expired or whose attempt ran past job_types.max_run_seconds. Scheduled every minute by pg_cron when the extension exists. Returns {requeued, failed}.';
revoke all on function public.rescue_expired_jobs(integer)
from public, anon, authenticated, service_role;
grant execute on function public.rescue_expired_jobs(integer)
to jobs_worker, service_role;

-- Security definer: jobs_worker has no table privileges; only jobs_worker and service_role may
-- execute it (not anon or authenticated: splinter 0028/0029 do not apply). Fenced: a lease is
-- extended only for the worker id and lease_token of the current claim. Time is the server's:
-- a lease is at most job_types.max_lease_seconds long and never extends past started_at +
-- max_run_seconds, so a worker that keeps heartbeating cannot hold a job forever.
create or replace function public.heartbeat_jobs(
    worker_id text,
    job_ids uuid[],
    lease_tokens uuid[],
    lease_seconds integer default null
)
returns table (job_id uuid, state text, lease_expires_at timestamptz)
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
#variable_conflict use_column
begin
    if heartbeat_jobs.worker_id is null or heartbeat_jobs.job_ids is null
        or heartbeat_jobs.lease_tokens is null
        or cardinality(heartbeat_jobs.job_ids) <> cardinality(heartbeat_jobs.lease_tokens)
        or cardinality(heartbeat_jobs.job_ids) > 1000 then
        raise exception using errcode = '22023',
            message = 'worker_id, and job_ids with lease_tokens of the same length (at most 1000), are required';
    end if;
    if heartbeat_jobs.lease_seconds not between 10 and 86400 then
        raise exception using errcode = '22023', message = 'lease_seconds must be between 10 and 86400';
    end if;
    return query
    with held as (
        -- jobs.lease_token holds the digest of the claim's token (jobs_private.lease_digest, inlined)
        select
            h.job_id,
            pg_catalog.left(
                pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(h.lease_token)), 'hex'), 32
            )::uuid as lease_token
        from unnest(heartbeat_jobs.job_ids, heartbeat_jobs.lease_tokens) as h (job_id, lease_token)
    ),
    extended as (
        update public.jobs as j
        set lease_expires_at = least(
            now() + make_interval(
                secs => least(coalesce(heartbeat_jobs.lease_seconds, t.lease_seconds), t.max_lease_seconds)
            ),
            j.started_at + make_interval(secs => t.max_run_seconds)
        )
        from held as h, public.job_types as t
        where j.id = h.job_id and j.lease_token = h.lease_token and j.status = 'processing'
            and j.locked_by = heartbeat_jobs.worker_id and t.job_type = j.job_type
            -- past its run time a job is not extended: it is the rescue's
            and j.started_at + make_interval(secs => t.max_run_seconds) > now()
        returning j.id, j.lease_expires_at
    )
    select
        h.job_id,
        case
            when e.id is not null then 'extended'
            when j.status = 'cancelled' and j.lease_token = h.lease_token then 'cancelled'
            else 'lost'
        end,
        e.lease_expires_at
    from held as h
    left join extended as e on e.id = h.job_id
    left join public.jobs as j on j.id = h.job_id;
end;
$$;
comment on function public.heartbeat_jobs(text, uuid[], uuid[], integer) is
'Worker: extend the leases it still holds (job_ids with the lease_tokens of their claims). Answers per job: extended (with the new expiry), cancelled (stop working on it), or lost (rescued, re-claimed, finished, or past the type''s max_run_seconds: stop). A lease is at most max_lease_seconds and ends by started_at + max_run_seconds.';
revoke all on function public.heartbeat_jobs(text, uuid[], uuid[], integer)
from public, anon, authenticated, service_role;
grant execute on function public.heartbeat_jobs(text, uuid[], uuid[], integer)
to jobs_worker, service_role;

comment on column public.jobs.fair_rank is
'Per-pool virtual time: a user''s next job ranks after their previous one and after the head of the queue, so one user''s backlog cannot starve another user. A queued job waiting for a later run_at (retry backoff, run_after) ranks 2^62 + run_at in epoch milliseconds instead (the deferred band, set by trigger): claims reach it once it is due, after the pool''s fairly ranked jobs.';
