-- The queue: queue_job and cancel_job for users; claim_jobs, heartbeat_jobs, job_callback and
-- rescue_expired_jobs for workers; rescue scheduled with pg_cron when the extension exists.

-- ===== functions/api/queue_job.sql
-- Security definer: users have no INSERT on jobs; this function is the one way they create jobs,
-- always for auth.uid(), with every input validated and derived columns taken from job_types.
create function public.queue_job(
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
-- One generic plan per statement for the session: custom plans re-planned every call cost ~15%
-- of the lifecycle (bench/README.md).
set plan_cache_mode = force_generic_plan
as $$
declare
    v_uid uuid := auth.uid();
    v_type public.job_types;
    v_settings jobs_private.settings;
    v_prompt text := coalesce(queue_job.prompt, queue_job.metadata ->> 'prompt');
    v_group uuid;
    v_queued integer;
    v_rank bigint;
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
    select * into v_type from public.job_types as t where t.job_type = queue_job.job_type;
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
    if v_prompt is null or btrim(v_prompt) = '' or char_length(v_prompt) > 10000 then
        raise exception using errcode = '22023',
            message = 'prompt must be a non-empty text of at most 10000 characters';
    end if;
    select * into v_settings from jobs_private.settings;
    if queue_job.num_images is null
        or queue_job.num_images not between 1 and v_settings.max_images_per_request then
        raise exception using errcode = '22023',
            message = format('num_images must be between 1 and %s', v_settings.max_images_per_request);
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
    if queue_job.project_id is not null and not exists (
        select from public.projects as p where p.id = queue_job.project_id and p.user_id = v_uid
    ) then
        raise exception using errcode = '22023', message = 'project_id is not a project of this user';
    end if;
    if queue_job.api_model_id is not null and not exists (
        select from public.api_models as m where m.id = queue_job.api_model_id and m.is_active
    ) then
        raise exception using errcode = '22023', message = 'api_model_id is not an active api model';
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

    if not exists (select from public.profiles as p where p.id = v_uid) then
        if not exists (select from auth.users as u where u.id = v_uid) then
            raise exception using errcode = '42501', message = 'the signed-in user does not exist';
        end if;
        insert into public.profiles (id) values (v_uid) on conflict do nothing;
    end if;

    select count(*) into v_queued
    from (
        select
        from public.jobs as j
        where j.user_id = v_uid and j.status = 'queued'
        limit v_settings.max_queued_per_user + 1
    ) as q;
    if v_queued + queue_job.num_images > v_settings.max_queued_per_user then
        raise exception using errcode = 'PT429',
            message = format('too many queued jobs: %s queued, at most %s per user',
                v_queued, v_settings.max_queued_per_user),
            hint = 'Wait for queued jobs to start, or cancel some.';
    end if;

    -- The head of the pool's queue (the claim's first candidate, read on jobs_claim_idx).
    select j.fair_rank, j.run_at into v_head_rank, v_head_run_at
    from public.jobs as j
    where j.status = 'queued' and j.worker_pool = v_type.worker_pool
    order by j.priority desc, j.fair_rank, j.id
    limit 1;
    -- Fair rank: after the user's own latest job in this pool and level with the head of the
    -- pool's queue, so a newcomer's job runs next to, not behind, another user's backlog.
    select greatest(
        v_head_rank,
        (select max(j.fair_rank) from public.jobs as j
            where j.user_id = v_uid and j.status in ('queued', 'processing')
            and j.worker_pool = v_type.worker_pool) + 1,
        1
    ) into v_rank;

    -- Workers sleep (LISTEN, with a poll timeout) only after a claim found nothing, and a busy
    -- worker claims again before it sleeps: wake them only when the head of the pool's queue is
    -- not claimable now (an empty queue, or one waiting out a backoff). NOTIFY takes a
    -- database-wide lock at commit that serialises all notifying commits (about -35% jobs/s at
    -- 8 clients in bench/README.md).
    v_wake := v_head_run_at is null or v_head_run_at > v_now;
    v_group := gen_random_uuid();
    with inserted as (
        insert into public.jobs (
            id, user_id, job_type, status, max_attempts, metadata, project_id, format, quality,
            model_type, destination, workspace_session_id, template_name, api_model_id,
            original_prompt, worker_pool, priority, run_at, fair_rank, idempotency_key
        )
        select
            case when i = 1 then v_group else gen_random_uuid() end,
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
comment on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) is
'Queue a generation job (num_images jobs sharing metadata.job_id) for the signed-in user. Returns {group_id, deduplicated, jobs:[...]}. Errors: 22023 bad input, 42501 not signed in or priority/run_after without admin, PT429 per-user queued cap.';
revoke all on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function public.queue_job(
    text, text, jsonb, text, integer, uuid, text, uuid, text, uuid, text, integer, timestamptz
) to authenticated, service_role;

-- ===== functions/api/cancel_job.sql
-- Security definer: users have no UPDATE on jobs. Someone else's job answers exactly like a
-- missing one (PT404), so the error does not reveal that the job exists.
create function public.cancel_job(job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
as $$
declare
    v_job public.jobs;
begin
    select * into v_job from public.jobs as j where j.id = cancel_job.job_id for update;
    if not found or not (
        v_job.user_id = auth.uid() or jobs_private.is_admin() or jobs_private.is_trusted_caller()
    ) then
        raise exception using errcode = 'PT404', message = 'job not found',
            detail = format('no job %s visible to this user', cancel_job.job_id);
    end if;
    if v_job.status not in ('queued', 'processing') then
        raise exception using errcode = 'PT409',
            message = format('job status cannot change from %s to cancelled', v_job.status),
            hint = 'Only queued or processing jobs can be cancelled.';
    end if;
    update public.jobs as j set status = 'cancelled' where j.id = v_job.id;
    return jsonb_build_object('id', v_job.id, 'status', 'cancelled', 'previous_status', v_job.status);
end;
$$;
comment on function public.cancel_job(uuid) is
'Cancel a queued or processing job of the signed-in user (admins: any job). A running job''s worker learns it from heartbeat_jobs. Errors: PT404 no such job for this user, PT409 already finished.';
revoke all on function public.cancel_job(uuid) from public, anon, authenticated, service_role;
grant execute on function public.cancel_job(uuid) to authenticated, service_role;

-- ===== functions/worker/claim_jobs.sql
-- Security definer: jobs_worker has no table privileges; this is how a worker takes jobs.
create function public.claim_jobs(
    worker_pool text,
    worker_id text,
    max_jobs integer default 1,
    lease_seconds integer default null,
    now timestamptz default null
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
-- One generic plan per statement for the session: custom plans re-planned every call cost ~15%
-- of the lifecycle (bench/README.md).
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
    v_now timestamptz := coalesce(claim_jobs.now, pg_catalog.now());
begin
    if not isfinite(v_now) then
        raise exception using errcode = '22023', message = 'now must be a finite timestamp';
    end if;
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
    -- The canonical claim: its WHERE and ORDER BY equal jobs_claim_idx's predicate and key,
    -- so it reads the head of the pool's queue whatever the size of the history.
    return query
    with next_jobs as (
        select j.id
        from public.jobs as j
        where j.status = 'queued' and j.worker_pool = claim_jobs.worker_pool and j.run_at <= v_now
        order by j.priority desc, j.fair_rank, j.id
        limit claim_jobs.max_jobs
        for update skip locked
    )
    update public.jobs as j
    set status = 'processing',
        attempts = j.attempts + 1,
        started_at = v_now,
        locked_by = claim_jobs.worker_id,
        lease_token = gen_random_uuid(),
        lease_expires_at = v_now + make_interval(
            secs => coalesce(claim_jobs.lease_seconds, t.lease_seconds)
        )
    from next_jobs as n, public.job_types as t
    where j.id = n.id and t.job_type = j.job_type
    returning
        j.id, j.job_type, j.user_id, j.metadata ->> 'prompt', j.metadata, j.format, j.quality,
        j.model_type, t.output_bucket, j.attempts, j.max_attempts, j.lease_token,
        j.lease_expires_at;
end;
$$;
comment on function public.claim_jobs(text, text, integer, integer, timestamptz) is
'Worker: claim up to max_jobs queued jobs of a pool (priority, then fair rank across users), for update skip locked. Each claim counts an attempt, takes a lease (lease_seconds or the job type''s) and returns a fresh lease_token to pass to heartbeat_jobs and job_callback. now: test clock.';
revoke all on function public.claim_jobs(text, text, integer, integer, timestamptz)
from public, anon, authenticated, service_role;
grant execute on function public.claim_jobs(text, text, integer, integer, timestamptz)
to jobs_worker, service_role;

-- ===== functions/worker/heartbeat_jobs.sql
create function public.heartbeat_jobs(
    worker_id text,
    job_ids uuid[],
    lease_tokens uuid[],
    lease_seconds integer default null,
    now timestamptz default null
)
returns table (job_id uuid, state text, lease_expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
as $$
#variable_conflict use_column
declare
    v_now timestamptz := coalesce(heartbeat_jobs.now, pg_catalog.now());
begin
    if not isfinite(v_now) then
        raise exception using errcode = '22023', message = 'now must be a finite timestamp';
    end if;
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
        select h.job_id, h.lease_token
        from unnest(heartbeat_jobs.job_ids, heartbeat_jobs.lease_tokens) as h (job_id, lease_token)
    ),
    extended as (
        update public.jobs as j
        set lease_expires_at = v_now + make_interval(
            secs => coalesce(heartbeat_jobs.lease_seconds, t.lease_seconds)
        )
        from held as h, public.job_types as t
        where j.id = h.job_id and j.lease_token = h.lease_token and j.status = 'processing'
            and j.locked_by = heartbeat_jobs.worker_id and t.job_type = j.job_type
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
comment on function public.heartbeat_jobs(text, uuid[], uuid[], integer, timestamptz) is
'Worker: extend the leases it still holds (job_ids with the lease_tokens of their claims). Answers per job: extended (with the new expiry), cancelled (stop working on it), or lost (rescued, re-claimed or finished: stop, a callback would be stale).';
revoke all on function public.heartbeat_jobs(text, uuid[], uuid[], integer, timestamptz)
from public, anon, authenticated, service_role;
grant execute on function public.heartbeat_jobs(text, uuid[], uuid[], integer, timestamptz)
to jobs_worker, service_role;

-- ===== functions/worker/job_callback.sql
-- Security definer: jobs_worker has no table privileges. Fenced by lease_token (the token of
-- the claim this report is about): a report from an attempt that was rescued or superseded
-- changes nothing. Without a token (the older worker payload) the report is not fenced and is
-- applied to whichever attempt is running.
create function public.job_callback(
    job_id uuid,
    status text,
    lease_token uuid default null,
    error_message text default null,
    metadata jsonb default null,
    assets jsonb default null,
    retryable boolean default true,
    now timestamptz default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
-- One generic plan per statement for the session: custom plans re-planned every call cost ~15%
-- of the lifecycle (bench/README.md).
set plan_cache_mode = force_generic_plan
as $$
declare
    v_now timestamptz := coalesce(job_callback.now, pg_catalog.now());
    v_job public.jobs;
    v_type public.job_types;
    v_meta jsonb := coalesce(job_callback.metadata, '{}');
    v_first public.images_videos;
    v_video_id uuid;
    v_asset_ids jsonb;
    v_delay interval;
begin
    if not isfinite(v_now) then
        raise exception using errcode = '22023', message = 'now must be a finite timestamp';
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

    select * into v_job from public.jobs as j where j.id = job_callback.job_id for update;
    if not found then
        return jsonb_build_object('job_id', job_callback.job_id, 'result', 'unknown_job');
    elsif v_job.status = 'cancelled' then
        return jsonb_build_object('job_id', v_job.id, 'result', 'ignored_cancelled');
    elsif v_job.status = 'queued' or (
        job_callback.lease_token is not null
        and job_callback.lease_token is distinct from v_job.lease_token
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
            set status = 'queued', run_at = v_now + v_delay, last_error_at = v_now,
                error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
            where j.id = v_job.id;
            return jsonb_build_object('job_id', v_job.id, 'result', 'requeued',
                'retry_at', v_now + v_delay, 'attempts', v_job.attempts);
        end if;
        update public.jobs as j
        set status = 'failed', completed_at = greatest(v_now, v_job.started_at), last_error_at = v_now,
            error_message = left(coalesce(job_callback.error_message, 'failed without a message'), 10000)
        where j.id = v_job.id;
        return jsonb_build_object('job_id', v_job.id, 'result', 'failed', 'attempts', v_job.attempts);
    end if;

    select * into v_type from public.job_types as t where t.job_type = v_job.job_type;
    with inserted as (
        insert into public.images_videos (
            user_id, job_id, asset_index, asset_type, bucket, file_path, file_name,
            thumbnail_path, metadata
        )
        select
            v_job.user_id, v_job.id, (a.ord - 1)::integer,
            coalesce(a.value ->> 'type', v_type.media_type), v_type.output_bucket,
            p.path, regexp_replace(p.path, '^.*/', ''), a.value ->> 'thumbnail_url',
            coalesce(nullif(a.value -> 'metadata', 'null'::jsonb), '{}')
        from jsonb_array_elements(coalesce(job_callback.assets, '[]')) with ordinality as a (value, ord)
        cross join lateral (
            select case when jsonb_typeof(a.value) = 'string' then a.value #>> '{}'
                else a.value ->> 'url' end as path
        ) as p
        on conflict on constraint images_videos_job_asset_key do nothing
        returning id, asset_index
    )
    select jsonb_agg(i.id order by i.asset_index) into v_asset_ids from inserted as i;

    select * into v_first from public.images_videos as iv
    where iv.job_id = v_job.id and iv.asset_index = 0;
    if found and v_first.asset_type = 'video' then
        insert into public.videos (user_id, asset_id, file_path, thumbnail_path)
        values (v_job.user_id, v_first.id, v_first.file_path, v_first.thumbnail_path)
        returning id into v_video_id;
    end if;

    update public.jobs as j
    set status = 'completed',
        completed_at = greatest(v_now, v_job.started_at),
        image_id = case when v_first.asset_type = 'image' then v_first.id end,
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
comment on function public.job_callback(uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz) is
'Worker / job-callback edge function: report the outcome of a claim. completed: one images_videos row per asset (path or {type,url,thumbnail_url,metadata}), the first linked as image_id or video_id, metadata merged, analytics columns filled. failed: requeued with backoff while attempts remain and retryable, else failed. Answers result = completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job. Errors: 22023 bad payload, PT409 a report conflicting with the recorded outcome.';
revoke all on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz
) to jobs_worker, service_role;

-- ===== functions/worker/rescue_expired_jobs.sql
-- Security definer: runs from pg_cron and from workers (jobs_worker), neither of which has
-- table privileges. Safe to run concurrently with claims and with itself (skip locked).
create function public.rescue_expired_jobs(
    now timestamptz default null,
    max_jobs integer default 1000
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
-- Hot path: plans are cached per session; never let a plan made while the table was small
-- (or before autoanalyze) fall back to a sequential scan of the jobs table.
set enable_seqscan = off
as $$
declare
    v_now timestamptz := coalesce(rescue_expired_jobs.now, pg_catalog.now());
    v_requeued integer;
    v_failed integer;
begin
    if not isfinite(v_now) then
        raise exception using errcode = '22023', message = 'now must be a finite timestamp';
    end if;
    if rescue_expired_jobs.max_jobs is null or rescue_expired_jobs.max_jobs not between 1 and 100000 then
        raise exception using errcode = '22023', message = 'max_jobs must be between 1 and 100000';
    end if;
    with expired as (
        select j.id
        from public.jobs as j
        where j.status = 'processing' and j.lease_expires_at < v_now
        order by j.lease_expires_at
        limit rescue_expired_jobs.max_jobs
        for update skip locked
    ),
    rescued as (
        update public.jobs as j
        set status = case when j.attempts < j.max_attempts then 'queued' else 'failed' end,
            run_at = case when j.attempts < j.max_attempts
                then v_now + jobs_private.retry_delay(j.attempts) else j.run_at end,
            completed_at = case when j.attempts < j.max_attempts then null
                else greatest(v_now, j.started_at) end,
            last_error_at = v_now,
            -- the abandoned attempt's token dies with its lease: a late report from it is stale
            lease_token = null,
            error_message = format('lease expired: worker %s stopped heartbeating (attempt %s of %s)',
                j.locked_by, j.attempts, j.max_attempts)
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
comment on function public.rescue_expired_jobs(timestamptz, integer) is
'Requeue (with backoff) or fail, when no attempt is left, the processing jobs whose lease expired before now. Scheduled every minute by pg_cron when the extension exists. Returns {requeued, failed}.';
revoke all on function public.rescue_expired_jobs(timestamptz, integer)
from public, anon, authenticated, service_role;
grant execute on function public.rescue_expired_jobs(timestamptz, integer)
to jobs_worker, service_role;
