-- The jobs row rules as one CHECK, and fewer statements on the hot path (issue 6, bench).
--
-- Why: every statement writing public.jobs re-read and re-planned its 24 CHECK constraints
-- (about 85 us of 120 us for a one-row insert); they become one CHECK calling
-- jobs_private.jobs_row_is_valid, which raises the same SQLSTATE, message and constraint name
-- per rule. queue_job and job_callback run fewer statements (each is an executor start-up).
-- Lifecycle before/after: bench/README.md.

alter table public.jobs
drop constraint jobs_attempts_check,
drop constraint jobs_completed_at_iff_finished_check,
drop constraint jobs_destination_check,
drop constraint jobs_enhancement_time_ms_check,
drop constraint jobs_error_message_check,
drop constraint jobs_idempotency_key_check,
drop constraint jobs_locked_by_check,
drop constraint jobs_max_attempts_check,
drop constraint jobs_metadata_is_object_check,
drop constraint jobs_moderation_status_check,
drop constraint jobs_priority_check,
drop constraint jobs_processing_has_lease_check,
drop constraint jobs_processing_started_check,
drop constraint jobs_quality_check,
drop constraint jobs_quality_improvement_check,
drop constraint jobs_quality_rating_check,
drop constraint jobs_queued_has_attempts_left_check,
drop constraint jobs_qwen_expansion_percentage_check,
drop constraint jobs_review_notes_check,
drop constraint jobs_reviewed_check,
drop constraint jobs_single_output_check,
drop constraint jobs_started_before_completed_check,
drop constraint jobs_status_check,
drop constraint jobs_template_name_check;

-- ===== functions/private/jobs_row_is_valid.sql
-- The row rules of public.jobs, checked by its one CHECK constraint jobs_row_check.
-- Why one function instead of 24 CHECK constraints: PostgreSQL re-reads (stringToNode) and
-- re-plans every CHECK expression of a table at the start of every statement that writes it,
-- and a plpgsql function runs each statement of the hot path as its own executor. The 24
-- constraints cost about 85 us per statement (120 us against 30 us for one insert, measured
-- in bench/README.md: "CHECK rules"), three statements per job. This function is compiled once
-- per session. A violation raises what the named constraint raised: SQLSTATE 23514, the same
-- message, and the rule's name as the error's constraint field. Rules are tested in name order,
-- as PostgreSQL tests its constraints, so the first broken rule is the one it named.
create or replace function jobs_private.jobs_row_is_valid(j public.jobs)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_rule text;
begin
    if j.attempts not between 0 and j.max_attempts then
        v_rule := 'jobs_attempts_check';
    elsif (j.completed_at is not null) <> (j.status in ('completed', 'failed', 'cancelled')) then
        v_rule := 'jobs_completed_at_iff_finished_check';
    elsif j.destination not in ('library', 'workspace') then
        v_rule := 'jobs_destination_check';
    elsif j.enhancement_time_ms < 0 then
        v_rule := 'jobs_enhancement_time_ms_check';
    elsif char_length(j.error_message) > 10000 then
        v_rule := 'jobs_error_message_check';
    elsif char_length(j.idempotency_key) not between 1 and 200 then
        v_rule := 'jobs_idempotency_key_check';
    elsif char_length(j.locked_by) not between 1 and 200 then
        v_rule := 'jobs_locked_by_check';
    elsif j.max_attempts not between 1 and 25 then
        v_rule := 'jobs_max_attempts_check';
    elsif jsonb_typeof(j.metadata) <> 'object' then
        v_rule := 'jobs_metadata_is_object_check';
    elsif j.moderation_status not in ('pending', 'approved', 'rejected', 'flagged') then
        v_rule := 'jobs_moderation_status_check';
    elsif j.priority not between -100 and 100 then
        v_rule := 'jobs_priority_check';
    elsif not (
        case
            when j.status = 'processing'
                then j.locked_by is not null and j.lease_expires_at is not null
                and j.lease_token is not null
            else j.locked_by is null and j.lease_expires_at is null
        end
    ) then
        v_rule := 'jobs_processing_has_lease_check';
    elsif j.status = 'processing' and j.started_at is null then
        v_rule := 'jobs_processing_started_check';
    elsif j.quality not in ('fast', 'high') then
        v_rule := 'jobs_quality_check';
    elsif j.quality_improvement not between -1000000 and 1000000 then
        v_rule := 'jobs_quality_improvement_check';
    elsif j.quality_rating not between 0 and 100 then
        v_rule := 'jobs_quality_rating_check';
    elsif j.status = 'queued' and j.attempts >= j.max_attempts then
        v_rule := 'jobs_queued_has_attempts_left_check';
    elsif j.qwen_expansion_percentage not between 0 and 1000000 then
        v_rule := 'jobs_qwen_expansion_percentage_check';
    elsif char_length(j.review_notes) > 10000 then
        v_rule := 'jobs_review_notes_check';
    -- A reviewer implies a review time. Not the converse: deleting the reviewing admin sets
    -- reviewed_by null (on delete set null) and the job keeps its review time.
    elsif j.reviewed_by is not null and j.reviewed_at is null then
        v_rule := 'jobs_reviewed_check';
    elsif j.image_id is not null and j.video_id is not null then
        v_rule := 'jobs_single_output_check';
    elsif j.started_at > j.completed_at then
        v_rule := 'jobs_started_before_completed_check';
    elsif j.status not in ('queued', 'processing', 'completed', 'failed', 'cancelled') then
        v_rule := 'jobs_status_check';
    elsif char_length(j.template_name) > 200 then
        v_rule := 'jobs_template_name_check';
    else
        return true;
    end if;
    raise exception using
        errcode = '23514',
        message = format('new row for relation "jobs" violates check constraint "%s"', v_rule),
        constraint = v_rule, table = 'jobs', schema = 'public',
        detail = format('job %s', j.id);
end;
$$;
comment on function jobs_private.jobs_row_is_valid(public.jobs) is
'The row rules of public.jobs (CHECK jobs_row_check): true, or 23514 naming the broken rule (jobs_status_check, jobs_attempts_check, ...) as a CHECK constraint of that name would.';
revoke all on function jobs_private.jobs_row_is_valid(public.jobs)
from public, anon, authenticated, service_role;

-- ===== sql/41_jobs_row_check.sql
-- public.jobs has one CHECK constraint: every row rule, in jobs_private.jobs_row_is_valid (the
-- function says why, and keeps each rule's name in its errors).
alter table public.jobs
add constraint jobs_row_check check (jobs_private.jobs_row_is_valid(jobs));
comment on constraint jobs_row_check on public.jobs is
'Every row rule of jobs (jobs_private.jobs_row_is_valid): 23514 naming the broken rule.';
-- CHECK expressions run as the writing role: the service role writes jobs directly.
grant execute on function jobs_private.jobs_row_is_valid(public.jobs) to service_role;

-- ===== functions/api/queue_job.sql
-- Security definer: users have no INSERT on jobs; this function is the one way they create jobs,
-- always for auth.uid(), with every input validated and derived columns taken from job_types.
create or replace function public.queue_job(
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
    if v_prompt is null or btrim(v_prompt) = '' or char_length(v_prompt) > 10000 then
        raise exception using errcode = '22023',
            message = 'prompt must be a non-empty text of at most 10000 characters';
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
            and j.worker_pool = v_type.worker_pool
        )
    into v_has_profile, v_queued, v_head_rank, v_head_run_at, v_user_rank
    from (select) as one
    left join lateral (
        select j.fair_rank, j.run_at
        from public.jobs as j
        where j.status = 'queued' and j.worker_pool = v_type.worker_pool
        order by j.priority desc, j.fair_rank, j.id
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

-- ===== functions/worker/job_callback.sql
-- Security definer: jobs_worker has no table privileges. Fenced by lease_token (the token of
-- the claim this report is about): a report from an attempt that was rescued or superseded
-- changes nothing. Without a token (the older worker payload) the report is not fenced and is
-- applied to whichever attempt is running.
create or replace function public.job_callback(
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
        completed_at = greatest(v_now, v_job.started_at),
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
comment on function public.job_callback(uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz) is
'Worker / job-callback edge function: report the outcome of a claim. completed: one images_videos row per asset (path or {type,url,thumbnail_url,metadata}), the first linked as image_id or video_id, metadata merged, analytics columns filled. failed: requeued with backoff while attempts remain and retryable, else failed. Answers result = completed | requeued | failed | duplicate | stale | ignored_cancelled | unknown_job. Errors: 22023 bad payload, PT409 a report conflicting with the recorded outcome.';
revoke all on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz
) from public, anon, authenticated, service_role;
grant execute on function public.job_callback(
    uuid, text, uuid, text, jsonb, jsonb, boolean, timestamptz
) to jobs_worker, service_role;
