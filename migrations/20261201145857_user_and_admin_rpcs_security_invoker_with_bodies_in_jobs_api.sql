-- User and admin RPCs become security invoker entry points (issue 11).
--
-- Why: Supabase's Security Advisor (splinter lints 0028 anon_ and 0029
-- authenticated_security_definer_function_executable) warns about every security definer
-- function in an exposed schema that anon or authenticated can execute: queue_job, cancel_job,
-- retry_job, review_job, purge_finished_jobs and system_metrics. Their privileged bodies move,
-- unchanged, into jobs_api (not exposed by PostgREST); the public functions keep their names,
-- named arguments, answers and grants, and only call the body (the pgmq_public -> pgmq pattern).

create schema if not exists jobs_api;
revoke all on schema jobs_api from public;
grant usage on schema jobs_api to authenticated, service_role;
comment on schema jobs_api is
'jobsdb: the privileged bodies of the public user/admin RPCs, called only through their security invoker entry points in public. Not exposed by PostgREST.';

-- The privileged body of public.queue_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no INSERT on jobs; this function is the one way they create jobs,
-- always for auth.uid(), with every input validated and derived columns taken from job_types.
create function jobs_api.queue_job(
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

-- The privileged body of public.cancel_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no UPDATE on jobs. Someone else's job answers exactly like a
-- missing one (PT404), so the error does not reveal that the job exists.
create function jobs_api.cancel_job(job_id uuid)
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
comment on function jobs_api.cancel_job(uuid) is
'The privileged body of public.cancel_job: call public.cancel_job.';
revoke all on function jobs_api.cancel_job(uuid) from public, anon, authenticated, service_role;
grant execute on function jobs_api.cancel_job(uuid) to authenticated, service_role;

-- The privileged body of public.review_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: users have no UPDATE on jobs; admins review through this function only.
create function jobs_api.review_job(
    job_id uuid,
    moderation_status text,
    review_notes text default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_admin uuid := jobs_private.require_admin();
    v_job public.jobs;
begin
    if v_admin is null then
        raise exception using errcode = '42501', message = 'a review needs the reviewing admin''s user id',
            hint = 'Call review_job with the admin''s JWT.';
    end if;
    if review_job.moderation_status is null
        or review_job.moderation_status not in ('pending', 'approved', 'rejected', 'flagged') then
        raise exception using errcode = '22023',
            message = 'moderation_status must be pending, approved, rejected or flagged';
    end if;
    if char_length(review_job.review_notes) > 10000 then
        raise exception using errcode = '22023', message = 'review_notes is longer than 10000 characters';
    end if;
    update public.jobs as j
    set moderation_status = review_job.moderation_status,
        review_notes = review_job.review_notes,
        reviewed_by = v_admin,
        reviewed_at = now()
    where j.id = review_job.job_id
    returning * into v_job;
    if not found then
        raise exception using errcode = 'PT404', message = 'job not found';
    end if;
    return jsonb_build_object(
        'id', v_job.id, 'moderation_status', v_job.moderation_status,
        'reviewed_by', v_job.reviewed_by, 'reviewed_at', v_job.reviewed_at,
        'review_notes', v_job.review_notes
    );
end;
$$;
comment on function jobs_api.review_job(uuid, text, text) is
'The privileged body of public.review_job: call public.review_job.';
revoke all on function jobs_api.review_job(uuid, text, text)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.review_job(uuid, text, text) to authenticated;

-- The privileged body of public.retry_job (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: admins retry through this function only (users have no UPDATE on jobs).
create function jobs_api.retry_job(job_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_job public.jobs;
begin
    perform jobs_private.require_admin();
    select * into v_job from public.jobs as j where j.id = retry_job.job_id for update;
    if not found then
        raise exception using errcode = 'PT404', message = 'job not found';
    end if;
    if v_job.status <> 'failed' then
        raise exception using errcode = 'PT409',
            message = format('job status cannot change from %s to queued', v_job.status),
            hint = 'Only failed jobs can be retried.';
    end if;
    -- A fresh set of attempts; the fencing token of any old attempt stays stale because every
    -- claim draws a new lease_token.
    update public.jobs as j
    set status = 'queued', attempts = 0, run_at = now()
    where j.id = v_job.id;
    perform pg_notify('jobs_wake_' || v_job.worker_pool, '');
    return jsonb_build_object('id', v_job.id, 'status', 'queued', 'previous_error', v_job.error_message);
end;
$$;
comment on function jobs_api.retry_job(uuid) is
'The privileged body of public.retry_job: call public.retry_job.';
revoke all on function jobs_api.retry_job(uuid) from public, anon, authenticated, service_role;
grant execute on function jobs_api.retry_job(uuid) to authenticated, service_role;

-- The privileged body of public.purge_finished_jobs (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Security definer: run by pg_cron and by admins; nobody has DELETE on jobs but the service role.
-- Completed jobs are kept (the spec retains them for history and analytics). One bounded
-- batch per call, oldest first, skipping rows another transaction holds: it never waits on
-- and never blocks the queue. Call it again while it returns batch_size.
create function jobs_api.purge_finished_jobs(
    older_than interval default null,
    batch_size integer default null
)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_settings jobs_private.settings;
    v_deleted integer;
begin
    perform jobs_private.require_admin();
    select * into v_settings from jobs_private.settings;
    if purge_finished_jobs.older_than < interval '0' then
        raise exception using errcode = '22023', message = 'older_than must not be negative';
    end if;
    if purge_finished_jobs.batch_size not between 1 and 10000 then
        raise exception using errcode = '22023', message = 'batch_size must be between 1 and 10000';
    end if;
    with doomed as (
        select j.id
        from public.jobs as j
        where j.status in ('failed', 'cancelled')
            and j.completed_at < now() - coalesce(purge_finished_jobs.older_than, v_settings.purge_failed_after)
        order by j.completed_at
        limit coalesce(purge_finished_jobs.batch_size, v_settings.purge_batch_size)
        for update skip locked
    )
    delete from public.jobs as j
    using doomed as d
    where j.id = d.id;
    get diagnostics v_deleted = row_count;
    return v_deleted;
end;
$$;
comment on function jobs_api.purge_finished_jobs(interval, integer) is
'The privileged body of public.purge_finished_jobs: call public.purge_finished_jobs.';
revoke all on function jobs_api.purge_finished_jobs(interval, integer)
from public, anon, authenticated, service_role;
grant execute on function jobs_api.purge_finished_jobs(interval, integer)
to authenticated, service_role;

-- The privileged body of public.system_metrics (a security invoker entry point, so that
-- Supabase's lints 0028/0029 find no security definer function in the exposed schemas).
-- jobs_api is not exposed by PostgREST; its functions are callable by API roles only
-- through their public entry point.
-- Fast at production size: live figures read only queued/processing rows (partial indexes);
-- history figures read the window's finished jobs per job type through jobs_job_type_idx
-- (job_type, completed_at), one range scan per type, never the whole table.
-- Security definer, after require_admin: an admin sees every row anyway, and the select
-- policy's owner-id range (every id, for an admin) only misleads the planner here (a 24-hour
-- window took 1 s instead of 10 ms through RLS at 1,000,000 jobs).
create function jobs_api.system_metrics(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
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

    select coalesce(jsonb_agg(to_jsonb(s) order by s.job_type), '[]')
    into v_types
    from public.job_types as t
    cross join lateral (
        select
            t.job_type,
            count(*) filter (where f.status = 'completed') as completed,
            count(*) filter (where f.status = 'failed') as failed,
            count(*) filter (where f.status = 'cancelled') as cancelled,
            round(
                (count(*) filter (where f.status = 'failed'))::numeric
                / nullif(count(*) filter (where f.status in ('completed', 'failed')), 0), 4
            ) as failure_rate,
            round(
                (count(*) filter (where f.attempts > 1))::numeric / nullif(count(*), 0), 4
            ) as retry_rate,
            round(avg(f.run_seconds) filter (where f.status = 'completed')::numeric, 3)
            as avg_run_seconds,
            round((percentile_cont(0.5) within group (order by f.run_seconds)
                filter (where f.status = 'completed'))::numeric, 3) as p50_run_seconds,
            round((percentile_cont(0.95) within group (order by f.run_seconds)
                filter (where f.status = 'completed'))::numeric, 3) as p95_run_seconds,
            round(avg(f.total_seconds) filter (where f.status = 'completed')::numeric, 3)
            as avg_total_seconds
        from (
            select
                j.status, j.attempts,
                extract(epoch from j.completed_at - j.started_at) as run_seconds,
                extract(epoch from j.completed_at - j.created_at) as total_seconds
            from public.jobs as j
            where j.job_type = t.job_type and j.completed_at is not null
                and j.completed_at > v_since and j.completed_at <= v_now
        ) as f
    ) as s
    where s.completed + s.failed + s.cancelled > 0;

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

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.queue_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.queue_job.
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
set search_path = ''
as $$
begin
    return jobs_api.queue_job(
        queue_job.job_type,
        queue_job.prompt,
        queue_job.metadata,
        queue_job.quality,
        queue_job.num_images,
        queue_job.project_id,
        queue_job.destination,
        queue_job.workspace_session_id,
        queue_job.template_name,
        queue_job.api_model_id,
        queue_job.idempotency_key,
        queue_job.priority,
        queue_job.run_after
    );
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

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.cancel_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.cancel_job.
create or replace function public.cancel_job(job_id uuid)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
    return jobs_api.cancel_job(cancel_job.job_id);
end;
$$;
comment on function public.cancel_job(uuid) is
'Cancel a queued or processing job of the signed-in user (admins: any job). A running job''s worker learns it from heartbeat_jobs. Errors: PT404 no such job for this user, PT409 already finished.';
revoke all on function public.cancel_job(uuid)
from public, anon, authenticated, service_role;
grant execute on function public.cancel_job(uuid)
to authenticated, service_role;

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.review_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.review_job.
create or replace function public.review_job(
    job_id uuid,
    moderation_status text,
    review_notes text default null
)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
    return jobs_api.review_job(
        review_job.job_id,
        review_job.moderation_status,
        review_job.review_notes
    );
end;
$$;
comment on function public.review_job(uuid, text, text) is
'Admin: record a moderation decision (moderation_status, review_notes); reviewed_by is the calling admin, reviewed_at now. Errors: 42501 not an admin, 22023 bad status, PT404 no such job.';
revoke all on function public.review_job(uuid, text, text)
from public, anon, authenticated, service_role;
grant execute on function public.review_job(uuid, text, text)
to authenticated;

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.retry_job, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.retry_job.
create or replace function public.retry_job(job_id uuid)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
    return jobs_api.retry_job(retry_job.job_id);
end;
$$;
comment on function public.retry_job(uuid) is
'Admin (or service role): put a failed job back in the queue with a fresh set of attempts. Errors: 42501 not an admin, PT404 no such job, PT409 not failed.';
revoke all on function public.retry_job(uuid)
from public, anon, authenticated, service_role;
grant execute on function public.retry_job(uuid)
to authenticated, service_role;

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.purge_finished_jobs, which lives outside the exposed schemas. Same
-- name, named arguments and answer as before; grants below and on jobs_api.purge_finished_jobs.
create or replace function public.purge_finished_jobs(
    older_than interval default null,
    batch_size integer default null
)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
begin
    return jobs_api.purge_finished_jobs(
        purge_finished_jobs.older_than,
        purge_finished_jobs.batch_size
    );
end;
$$;
comment on function public.purge_finished_jobs(interval, integer) is
'Admin / pg_cron: delete one batch of failed and cancelled jobs finished longer ago than older_than (default: settings.purge_failed_after). Completed jobs are never purged. Returns the number deleted.';
revoke all on function public.purge_finished_jobs(interval, integer)
from public, anon, authenticated, service_role;
grant execute on function public.purge_finished_jobs(interval, integer)
to authenticated, service_role;

-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.system_metrics, which lives outside the exposed schemas. Same name,
-- named arguments and answer as before; grants below and on jobs_api.system_metrics.
create or replace function public.system_metrics(time_window interval default '1 hour')
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
    return jobs_api.system_metrics(system_metrics.time_window);
end;
$$;
comment on function public.system_metrics(interval) is
'Admins and the service role: queue depth per pool and status (ready and oldest age), leases (processing, expired, active workers), and per job type over time_window: completed/failed/cancelled, failure and retry rates, average/p50/p95 run time and average time from queue to done. Errors: 42501 not an admin, 22023 bad window.';
revoke all on function public.system_metrics(interval)
from public, anon, authenticated, service_role;
grant execute on function public.system_metrics(interval)
to authenticated, service_role;
