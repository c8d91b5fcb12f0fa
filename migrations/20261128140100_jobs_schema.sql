-- The jobs schema: public.jobs and the tables it references, job types as data, the state
-- machine (transition table + trigger), indexes, RLS policies and grants, Realtime publication.

-- ===== sql/10_reference_tables.sql
-- Tables the jobs table references, in minimal but real form, so the package stands alone.
-- Every foreign key has a deliberate ON DELETE and an index (the security audit checks both).

create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    username text unique check (username ~ '^[A-Za-z0-9_.-]{3,40}$'),
    display_name text check (char_length(display_name) <= 200),
    avatar_url text check (char_length(avatar_url) <= 2000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.profiles is
'One row per Supabase user (auth.users). A deleted user takes their profile and, through it, their jobs and outputs.';

create table public.user_roles (
    user_id uuid not null references public.profiles (id) on delete cascade,
    role text not null constraint user_roles_role_check check (role in ('admin')),
    granted_at timestamptz not null default now(),
    primary key (user_id, role)
);
comment on table public.user_roles is
'Server-set roles: a row (user, ''admin'') makes that user an admin of the job pipeline. Only the service role and the owner write it.';

create table public.projects (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    name text not null check (char_length(name) between 1 and 200),
    created_at timestamptz not null default now()
);
create index projects_user_id_idx on public.projects (user_id);
comment on table public.projects is 'A user''s project; jobs may belong to one.';

create table public.api_models (
    id uuid primary key default gen_random_uuid(),
    model_key text not null unique check (char_length(model_key) between 1 and 200),
    provider text not null check (char_length(provider) between 1 and 100),
    display_name text,
    is_active boolean not null default true,
    created_at timestamptz not null default now()
);
comment on table public.api_models is
'Configured generation models (provider + model key) a job may name through api_model_id.';

create table public.prompt_tests (
    id uuid primary key default gen_random_uuid(),
    name text not null check (char_length(name) between 1 and 200),
    prompt text not null,
    created_by uuid references public.profiles (id) on delete set null,
    created_at timestamptz not null default now()
);
create index prompt_tests_created_by_idx on public.prompt_tests (created_by);
comment on table public.prompt_tests is
'Admin prompt experiments; jobs run for a test point at it (prompt_test_id, test_metadata).';

create table public.job_types (
    job_type text primary key constraint job_types_job_type_format_check
    check (job_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    worker_pool text not null constraint job_types_worker_pool_format_check
    check (worker_pool ~ '^[a-z][a-z0-9_]{0,39}$'),
    media_type text not null constraint job_types_media_type_check
    check (media_type in ('image', 'video')),
    format text not null constraint job_types_format_check
    check (format in ('png', 'jpg', 'webp', 'mp4', 'webm')),
    quality text not null constraint job_types_quality_check check (quality in ('fast', 'high')),
    model_type text not null,
    output_bucket text not null,
    enhanced boolean not null default false,
    default_max_attempts integer not null default 3
    constraint job_types_default_max_attempts_check check (default_max_attempts between 1 and 25),
    lease_seconds integer not null
    constraint job_types_lease_seconds_check check (lease_seconds between 10 and 86400),
    description text
);
comment on table public.job_types is
'Job types as data: each routes to a worker pool and fixes format, quality, model type, output bucket, default max_attempts and lease length. Adding a type is an insert in a migration.';
comment on column public.job_types.worker_pool is
'Workers claim by pool; the claim index leads with it. LISTEN on channel jobs_wake_<pool> to be woken.';
comment on column public.job_types.lease_seconds is
'Default lease of a claim: a worker that does not heartbeat within it loses the job to rescue.';

-- ===== sql/20_jobs.sql
-- public.jobs: the spec's 35 columns, updated_at, and the queue columns of the worker protocol.
-- Status domain and transitions: see jobs_private.job_status_transitions and the README.

create table public.jobs (
    -- the spec's columns
    id uuid primary key default gen_random_uuid(),
    video_id uuid,
    user_id uuid not null references public.profiles (id) on delete cascade,
    job_type text not null references public.job_types (job_type),
    status text not null default 'queued',
    error_message text,
    attempts integer not null default 0,
    max_attempts integer not null default 3,
    metadata jsonb not null default '{}',
    project_id uuid references public.projects (id) on delete set null,
    image_id uuid,
    format text,
    quality text,
    model_type text,
    prompt_test_id uuid references public.prompt_tests (id) on delete set null,
    test_metadata jsonb,
    moderation_status text not null default 'pending',
    reviewed_at timestamptz,
    reviewed_by uuid references public.profiles (id) on delete set null,
    review_notes text,
    enhancement_strategy varchar(50),
    original_prompt text,
    enhanced_prompt text,
    enhancement_time_ms integer,
    quality_rating numeric(6, 2),
    quality_improvement numeric(9, 2),
    compel_weights jsonb,
    qwen_expansion_percentage numeric(9, 2),
    destination text not null default 'library',
    workspace_session_id uuid,
    template_name text,
    api_model_id uuid references public.api_models (id) on delete set null,
    created_at timestamptz not null default now(),
    started_at timestamptz,
    completed_at timestamptz,
    updated_at timestamptz not null default now(),
    -- queue columns
    worker_pool text not null,
    priority smallint not null default 0,
    run_at timestamptz not null default now(),
    fair_rank bigint not null default 0,
    locked_by text,
    lease_expires_at timestamptz,
    lease_token uuid,
    idempotency_key text,
    last_error_at timestamptz,

    constraint jobs_status_check
    check (status in ('queued', 'processing', 'completed', 'failed', 'cancelled')),
    constraint jobs_quality_check check (quality in ('fast', 'high')),
    constraint jobs_destination_check check (destination in ('library', 'workspace')),
    constraint jobs_moderation_status_check
    check (moderation_status in ('pending', 'approved', 'rejected', 'flagged')),
    constraint jobs_single_output_check check (image_id is null or video_id is null),
    constraint jobs_max_attempts_check check (max_attempts between 1 and 25),
    constraint jobs_attempts_check check (attempts between 0 and max_attempts),
    constraint jobs_queued_has_attempts_left_check
    check (status <> 'queued' or attempts < max_attempts),
    constraint jobs_metadata_is_object_check check (jsonb_typeof(metadata) = 'object'),
    constraint jobs_completed_at_iff_finished_check
    check ((completed_at is not null) = (status in ('completed', 'failed', 'cancelled'))),
    constraint jobs_started_before_completed_check
    check (completed_at is null or started_at is null or started_at <= completed_at),
    constraint jobs_processing_has_lease_check check (
        (
            status = 'processing'
            and locked_by is not null and lease_expires_at is not null and lease_token is not null
        )
        or (status <> 'processing' and locked_by is null and lease_expires_at is null)
    ),
    constraint jobs_processing_started_check
    check (status <> 'processing' or started_at is not null),
    -- A reviewer implies a review time. Not the converse: deleting the reviewing admin sets
    -- reviewed_by null (on delete set null) and the job keeps its review time.
    constraint jobs_reviewed_check check (reviewed_by is null or reviewed_at is not null),
    constraint jobs_priority_check check (priority between -100 and 100),
    constraint jobs_enhancement_time_ms_check check (enhancement_time_ms >= 0),
    constraint jobs_quality_rating_check check (quality_rating between 0 and 100),
    constraint jobs_quality_improvement_check
    check (quality_improvement between -1000000 and 1000000),
    constraint jobs_qwen_expansion_percentage_check
    check (qwen_expansion_percentage between 0 and 1000000),
    constraint jobs_idempotency_key_check check (char_length(idempotency_key) between 1 and 200),
    constraint jobs_locked_by_check check (char_length(locked_by) between 1 and 200),
    constraint jobs_error_message_check check (char_length(error_message) <= 10000),
    constraint jobs_review_notes_check check (char_length(review_notes) <= 10000),
    constraint jobs_template_name_check check (char_length(template_name) <= 200)
)
-- Every status change rewrites the row; leave room on the page for HOT updates and let
-- autovacuum keep up with queue churn (QUEUE_NOTES: bloat under churn).
with (
    fillfactor = 80,
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 1
);

comment on table public.jobs is
'Generation jobs: what a user asked for, where it is in the queue, and which output it produced. Lifecycle: queued -> processing -> completed | failed (retry: processing -> queued; cancel: queued/processing -> cancelled; admin retry: failed -> queued).';
comment on column public.jobs.status is
'queued | processing | completed | failed | cancelled. Only the transitions in jobs_private.job_status_transitions are possible, for every role.';
comment on column public.jobs.attempts is 'Number of claims so far; a claim beyond max_attempts is impossible.';
comment on column public.jobs.metadata is
'Request parameters (prompt, negative_prompt, reference_strength, ...). metadata.job_id is the group id: jobs of a 1x3 image set share it; a single job''s group id is its own id.';
comment on column public.jobs.image_id is 'First image output (images_videos); set by job_callback, never together with video_id.';
comment on column public.jobs.video_id is 'First video output (videos); set by job_callback, never together with image_id.';
comment on column public.jobs.format is 'Output format, derived from job_types at queue time.';
comment on column public.jobs.quality is 'fast | high, derived from job_types at queue time.';
comment on column public.jobs.model_type is 'Model family, derived from job_types at queue time.';
comment on column public.jobs.moderation_status is 'pending | approved | rejected | flagged; written by admins through review_job.';
comment on column public.jobs.quality_rating is 'Quality score 0..100 reported by the worker.';
comment on column public.jobs.quality_improvement is 'Change of quality score from enhancement, in points; may be negative.';
comment on column public.jobs.qwen_expansion_percentage is
'Prompt growth by Qwen enhancement in percent; above 1000 happens (the app''s numeric(5,2) overflowed).';
comment on column public.jobs.destination is 'library | workspace: where the output is shown.';
comment on column public.jobs.started_at is 'Start of the latest attempt (set on every claim).';
comment on column public.jobs.completed_at is 'When the job became completed, failed or cancelled; null while queued or processing.';
comment on column public.jobs.updated_at is 'Last change of the row, maintained by trigger.';
comment on column public.jobs.worker_pool is 'Pool that may claim the job, from job_types at queue time.';
comment on column public.jobs.priority is 'Higher runs first (-100..100); only admins and the service role set it.';
comment on column public.jobs.run_at is 'Not claimable before this time (run-after, retry backoff).';
comment on column public.jobs.fair_rank is
'Per-pool virtual time: a user''s next job ranks after their previous one and after the head of the queue, so one user''s backlog cannot starve another user.';
comment on column public.jobs.locked_by is 'Worker id holding the lease while processing.';
comment on column public.jobs.lease_expires_at is 'End of the lease while processing; heartbeats extend it, rescue_expired_jobs reclaims after it.';
comment on column public.jobs.lease_token is
'Fencing token of the latest claim: callbacks and heartbeats naming another token are stale and change nothing.';
comment on column public.jobs.idempotency_key is
'Client retry key: the same key from the same user returns the existing job(s) instead of creating more. Stored on the first job of a set.';
comment on column public.jobs.last_error_at is 'When the latest failed attempt ended.';

-- Outputs. images_videos holds every asset (image or video); a video asset also gets a row in
-- videos, which jobs.video_id points at as the spec says.
create table public.images_videos (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    job_id uuid references public.jobs (id) on delete set null,
    asset_index integer not null constraint images_videos_asset_index_check
    check (asset_index between 0 and 99),
    asset_type text not null constraint images_videos_asset_type_check
    check (asset_type in ('image', 'video')),
    bucket text not null,
    file_path text not null constraint images_videos_file_path_check
    check (char_length(file_path) between 1 and 2000),
    file_name text not null,
    thumbnail_path text constraint images_videos_thumbnail_path_check
    check (char_length(thumbnail_path) <= 2000),
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now(),
    constraint images_videos_job_asset_key unique (job_id, asset_index)
);
create index images_videos_user_created_idx on public.images_videos (user_id, created_at desc);
comment on table public.images_videos is
'Job outputs, one row per asset, unique per (job, asset index). The owner is always the job''s owner. A deleted job leaves its assets (job_id becomes null).';

create table public.videos (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    asset_id uuid not null unique references public.images_videos (id) on delete cascade,
    file_path text not null,
    thumbnail_path text,
    duration_seconds numeric(8, 2) constraint videos_duration_seconds_check
    check (duration_seconds >= 0),
    created_at timestamptz not null default now()
);
create index videos_user_id_idx on public.videos (user_id);
comment on table public.videos is 'Video records (jobs.video_id); each is one video asset of images_videos.';

alter table public.jobs
add constraint jobs_image_id_fkey foreign key (image_id)
references public.images_videos (id) on delete set null,
add constraint jobs_video_id_fkey foreign key (video_id)
references public.videos (id) on delete set null;

-- Indexes. The spec recommends a plain index on status and on job_type; both are
-- low-cardinality and would be rewritten on every status change. Instead:
--  * the claim reads jobs_claim_idx, whose predicate and order equal claim_jobs' query;
--  * lease rescue and "processing" figures read jobs_lease_idx (only processing rows);
--  * per-user "queued/processing" lists and the queued cap read jobs_user_active_idx;
--  * the per-user history queries read jobs_user_created_idx.
-- Every status change is a non-HOT update that writes each index whose predicate the row
-- satisfies, so the hot table keeps few indexes and FK indexes are partial on non-null values.
create index jobs_user_created_idx on public.jobs (user_id, created_at desc);
create index jobs_claim_idx on public.jobs (worker_pool, priority desc, fair_rank, id)
where status = 'queued';
create index jobs_lease_idx on public.jobs (lease_expires_at) where status = 'processing';
create index jobs_user_active_idx on public.jobs (user_id, created_at desc)
where status in ('queued', 'processing');
create index jobs_group_idx on public.jobs (user_id, (metadata ->> 'job_id'));
create unique index jobs_user_idempotency_key_idx on public.jobs (user_id, idempotency_key)
where idempotency_key is not null;
create index jobs_job_type_idx on public.jobs (job_type, completed_at)
where completed_at is not null;
-- Retention reads old failed/cancelled jobs only; terminal rows enter it once.
create index jobs_purgeable_idx on public.jobs (completed_at)
where status in ('failed', 'cancelled');
create index jobs_image_id_idx on public.jobs (image_id) where image_id is not null;
create index jobs_video_id_idx on public.jobs (video_id) where video_id is not null;
create index jobs_project_id_idx on public.jobs (project_id) where project_id is not null;
create index jobs_prompt_test_id_idx on public.jobs (prompt_test_id)
where prompt_test_id is not null;
create index jobs_api_model_id_idx on public.jobs (api_model_id) where api_model_id is not null;
create index jobs_reviewed_by_idx on public.jobs (reviewed_by) where reviewed_by is not null;

-- ===== sql/30_private_tables.sql
-- Internals: the allowed status transitions (the one place the state machine lives) and the
-- package's settings.

create table jobs_private.job_status_transitions (
    from_status text not null,
    to_status text not null,
    happens_when text not null,
    primary key (from_status, to_status)
);
comment on table jobs_private.job_status_transitions is
'The job state machine: an update of jobs.status from one state to another is allowed iff the pair is here (for every role, service role included). Staying in the same state is always allowed.';

insert into jobs_private.job_status_transitions (from_status, to_status, happens_when) values
('queued', 'processing', 'a worker claims the job (claim_jobs)'),
('queued', 'cancelled', 'the owner or an admin cancels (cancel_job)'),
('processing', 'completed', 'the worker reports success (job_callback)'),
(
    'processing', 'failed',
    'the worker reports failure and no attempt is left, or the error is final'
),
('processing', 'queued', 'retry with backoff: failure with attempts left, or the lease expired'),
(
    'processing', 'cancelled',
    'the owner or an admin cancels a running job; the worker learns it by heartbeat'
),
('failed', 'queued', 'an admin retries a failed job (retry_job)');

create table jobs_private.settings (
    singleton boolean primary key default true
    constraint settings_singleton_check check (singleton),
    max_queued_per_user integer not null default 100
    constraint settings_max_queued_per_user_check check (max_queued_per_user between 1 and 100000),
    max_images_per_request integer not null default 4
    constraint settings_max_images_per_request_check
    check (max_images_per_request between 1 and 16),
    retry_base_seconds integer not null default 10
    constraint settings_retry_base_seconds_check check (retry_base_seconds between 0 and 3600),
    retry_max_seconds integer not null default 600
    constraint settings_retry_max_seconds_check check (retry_max_seconds between 0 and 86400),
    purge_failed_after interval not null default '30 days',
    purge_batch_size integer not null default 500
    constraint settings_purge_batch_size_check check (purge_batch_size between 1 and 10000)
);
comment on table jobs_private.settings is
'One row of tunables: per-user cap on queued jobs, images per request, retry backoff (exponential from retry_base_seconds, capped at retry_max_seconds, +-25% jitter), retention of failed/cancelled jobs.';
insert into jobs_private.settings default values;

revoke all on all tables in schema jobs_private from public;
-- The status trigger runs as the updating role: the service role updates jobs directly (table
-- access), so it must be able to read the state machine (not change it).
grant select on table jobs_private.job_status_transitions to service_role;

-- ===== sql/31_seed_job_types.sql
-- The spec's job types and the ones the real app added. Pools: sdxl for sdxl_*; wan for the
-- image_*, video_*, image7b_*, video7b_* and wan_video_* types; rv51 for rv51_*.
insert into public.job_types
(
    job_type, worker_pool, media_type, format, quality, model_type, output_bucket, enhanced,
    default_max_attempts, lease_seconds, description
)
values
(
    'sdxl_image_fast', 'sdxl', 'image', 'png', 'fast', 'sdxl', 'sdxl_image_fast', false, 3, 120,
    'SDXL image, fast'
),
(
    'sdxl_image_high', 'sdxl', 'image', 'png', 'high', 'sdxl', 'sdxl_image_high', false, 3, 180,
    'SDXL image, high quality'
),
(
    'image_fast', 'wan', 'image', 'png', 'fast', 'wan', 'image_fast', false, 3, 300,
    'WAN image, fast'
),
(
    'image_high', 'wan', 'image', 'png', 'high', 'wan', 'image_high', false, 3, 300,
    'WAN image, high quality'
),
(
    'video_fast', 'wan', 'video', 'mp4', 'fast', 'wan', 'video_fast', false, 3, 600,
    'WAN video, fast'
),
(
    'video_high', 'wan', 'video', 'mp4', 'high', 'wan', 'video_high', false, 3, 900,
    'WAN video, high quality'
),
(
    'image7b_fast_enhanced', 'wan', 'image', 'png', 'fast', 'wan_qwen7b', 'image7b_fast_enhanced',
    true, 3, 300, 'WAN image with Qwen 7B prompt enhancement, fast'
),
(
    'image7b_high_enhanced', 'wan', 'image', 'png', 'high', 'wan_qwen7b', 'image7b_high_enhanced',
    true, 3, 300, 'WAN image with Qwen 7B prompt enhancement, high quality'
),
(
    'video7b_fast_enhanced', 'wan', 'video', 'mp4', 'fast', 'wan_qwen7b', 'video7b_fast_enhanced',
    true, 3, 600, 'WAN video with Qwen 7B prompt enhancement, fast'
),
(
    'video7b_high_enhanced', 'wan', 'video', 'mp4', 'high', 'wan_qwen7b', 'video7b_high_enhanced',
    true, 3, 900, 'WAN video with Qwen 7B prompt enhancement, high quality'
),
(
    'wan_video_fast', 'wan', 'video', 'mp4', 'fast', 'wan', 'wan_video_fast', false, 3, 600,
    'WAN 2.x video, fast'
),
(
    'wan_video_high', 'wan', 'video', 'mp4', 'high', 'wan', 'wan_video_high', false, 3, 900,
    'WAN 2.x video, high quality'
),
(
    'rv51_fast', 'rv51', 'image', 'png', 'fast', 'rv51', 'rv51_fast', false, 3, 120,
    'Realistic Vision 5.1 image, fast'
),
(
    'rv51_high', 'rv51', 'image', 'png', 'high', 'rv51', 'rv51_high', false, 3, 180,
    'Realistic Vision 5.1 image, high quality'
);

-- ===== functions/private/is_admin.sql
-- Security definer: it reads public.user_roles whatever the caller's own rows there say, and is
-- called from RLS policies, where the caller cannot read other rows.
create function jobs_private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select exists (
            select
            from public.user_roles as r
            where r.user_id = (select auth.uid()) and r.role = 'admin'
        )
    );
end;
$$;
comment on function jobs_private.is_admin() is
'True when the requesting user (auth.uid()) has the admin role in public.user_roles.';
revoke all on function jobs_private.is_admin() from public, anon, authenticated, service_role;
grant usage on schema jobs_private to authenticated, service_role;
grant execute on function jobs_private.is_admin() to authenticated, service_role;

-- ===== functions/private/visible_user_id_bound.sql
-- RLS on the big tables is written as a range of owner ids, `user_id between lower and upper`,
-- not as `user_id = (select auth.uid()) or (select is_admin())`: an OR with a constant arm
-- cannot be an index condition, and PostgreSQL will not push a query's own
-- `user_id = auth.uid()` (an inlined, non-leakproof coalesce) below the policy, so the spec's
-- queries as written scanned the whole table. A user's range is their one id (an index range
-- scan of their rows); an admin's range is every id; no signed-in user gives null (no rows).
create function jobs_private.visible_user_id_bound(upper boolean)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
    if jobs_private.is_admin() then
        return case when visible_user_id_bound.upper
            then 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid
            else '00000000-0000-0000-0000-000000000000'::uuid end;
    end if;
    return auth.uid();
end;
$$;
comment on function jobs_private.visible_user_id_bound(boolean) is
'Lower (upper = false) or upper bound of the owner ids the requesting user may read: their own id, or every id for an admin, null when not signed in. Used by the select policies of jobs, images_videos and videos.';
revoke all on function jobs_private.visible_user_id_bound(boolean)
from public, anon, authenticated, service_role;
grant execute on function jobs_private.visible_user_id_bound(boolean) to authenticated;

-- ===== functions/private/is_trusted_caller.sql
-- The role the request runs as, before any security definer function: PostgREST's SET ROLE
-- (anon, authenticated, service_role, jobs_worker), or the login role of a direct connection
-- (the owner running migrations or pg_cron). Trusted = has the service role's privileges.
create function jobs_private.is_trusted_caller()
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
        select pg_has_role(
            coalesce(nullif(current_setting('role'), 'none'), session_user), 'service_role', 'member'
        )
    );
end;
$$;
comment on function jobs_private.is_trusted_caller() is
'True for the service role and roles that have its privileges (the owner, pg_cron jobs it schedules), as the request''s role, not the security definer''s.';
revoke all on function jobs_private.is_trusted_caller()
from public, anon, authenticated, service_role;
grant execute on function jobs_private.is_trusted_caller() to authenticated, service_role;

-- ===== functions/private/require_admin.sql
create function jobs_private.require_admin()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
begin
    if jobs_private.is_trusted_caller() then
        return v_uid;
    end if;
    if v_uid is null or not jobs_private.is_admin() then
        raise exception using
            errcode = '42501',
            message = 'only admins may do this',
            hint = 'An admin is a user with the admin role in public.user_roles.';
    end if;
    return v_uid;
end;
$$;
comment on function jobs_private.require_admin() is
'Raises 42501 unless the caller is an admin or a trusted caller (service role, owner, pg_cron); returns the caller''s user id.';
revoke all on function jobs_private.require_admin() from public, anon, authenticated, service_role;
grant execute on function jobs_private.require_admin() to authenticated, service_role;

-- ===== functions/private/retry_delay.sql
create function jobs_private.retry_delay(attempt integer)
returns interval
language sql
volatile
set search_path = ''
as $$
    select make_interval(
        secs => least(s.retry_max_seconds, s.retry_base_seconds * 2.0 ^ greatest(retry_delay.attempt - 1, 0))
        * (0.75 + random() * 0.5)
    )
    from jobs_private.settings as s;
$$;
comment on function jobs_private.retry_delay(integer) is
'Backoff before the next attempt: retry_base_seconds * 2^(attempt-1), capped at retry_max_seconds, with +-25% jitter so retries of a burst spread out.';
revoke all on function jobs_private.retry_delay(integer)
from public, anon, authenticated, service_role;

-- ===== functions/private/json_number.sql
create function jobs_private.json_number(doc jsonb, key text)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
begin
    if doc is null or jsonb_typeof(doc -> key) is null or jsonb_typeof(doc -> key) = 'null' then
        return null;
    end if;
    if jsonb_typeof(doc -> key) <> 'number' then
        raise exception using errcode = '22023', message = format('metadata.%s must be a number', key);
    end if;
    return (doc ->> key)::numeric;
end;
$$;
comment on function jobs_private.json_number(jsonb, text) is
'doc->key as numeric; null when absent; 22023 naming the key when it is not a JSON number.';
revoke all on function jobs_private.json_number(jsonb, text)
from public, anon, authenticated, service_role;

-- ===== functions/private/job_group_json.sql
-- Takes the rows rather than reading them: queue_job answers from its insert's returning rows
-- (no second read of what it just wrote), and from a lookup only for a repeated request.
-- plpgsql, not sql: a SQL function with a SET clause is never inlined and is parsed and planned
-- on every call (0.25 ms, a third of queue_job); plpgsql keeps its plan for the session.
create function jobs_private.job_group_json(
    group_id uuid, deduplicated boolean, jobs public.jobs[]
)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
    return (select jsonb_build_object(
        'group_id', job_group_json.group_id,
        'deduplicated', job_group_json.deduplicated,
        'jobs', coalesce(jsonb_agg(jsonb_build_object(
            'id', j.id, 'status', j.status, 'job_type', j.job_type,
            'worker_pool', j.worker_pool, 'format', j.format, 'quality', j.quality,
            'model_type', j.model_type, 'destination', j.destination,
            'image_index', (j.metadata ->> 'image_index')::integer,
            'priority', j.priority, 'run_at', j.run_at, 'created_at', j.created_at
        ) order by (j.metadata ->> 'image_index')::integer, j.id), '[]')
    )
    from unnest(job_group_json.jobs) as j);
end;
$$;
comment on function jobs_private.job_group_json(uuid, boolean, public.jobs[]) is
'The answer of queue_job: the jobs of one group (metadata.job_id), as JSON.';
revoke all on function jobs_private.job_group_json(uuid, boolean, public.jobs[])
from public, anon, authenticated, service_role;

-- ===== functions/private/jobs_before_insert.sql
-- A job is born queued. Only roles with INSERT on jobs (the service role and the owner) can
-- insert directly, and they may also insert a job already completed (the app copies library
-- items into a workspace that way). Derived columns default from job_types.
create function jobs_private.jobs_before_insert()
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
    if new.metadata ->> 'job_id' is null then
        new.metadata := new.metadata || jsonb_build_object('job_id', new.id);
    end if;
    return new;
end;
$$;
comment on function jobs_private.jobs_before_insert() is
'Trigger: enforces the birth states (queued, or completed for the service role), fills derived columns from job_types and the group id metadata.job_id.';
revoke all on function jobs_private.jobs_before_insert()
from public, anon, authenticated, service_role;

-- ===== functions/private/jobs_before_update.sql
create function jobs_private.jobs_before_update()
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
    new.updated_at := now();
    return new;
end;
$$;
comment on function jobs_private.jobs_before_update() is
'Trigger: protects immutable columns (PT400), allows only the transitions of jobs_private.job_status_transitions (PT409, naming both states), maintains started_at, completed_at, the lease columns and updated_at.';
revoke all on function jobs_private.jobs_before_update()
from public, anon, authenticated, service_role;

-- ===== functions/private/touch_updated_at.sql
create function jobs_private.touch_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
comment on function jobs_private.touch_updated_at() is 'Trigger: sets updated_at on every update.';
revoke all on function jobs_private.touch_updated_at()
from public, anon, authenticated, service_role;

-- ===== sql/40_triggers.sql
create trigger jobs_before_insert_trg
before insert on public.jobs
for each row execute function jobs_private.jobs_before_insert();

create trigger jobs_before_update_trg
before update on public.jobs
for each row execute function jobs_private.jobs_before_update();

create trigger profiles_touch_updated_at_trg
before update on public.profiles
for each row execute function jobs_private.touch_updated_at();

-- ===== policies/profiles.sql
-- profiles and user_roles. A user creates and edits their own profile (display columns only);
-- roles are server-set: users may read their own, only the service role writes them.
alter table public.profiles enable row level security;
alter table public.user_roles enable row level security;

revoke all on table public.profiles from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.profiles to authenticated;
grant insert (id, username, display_name, avatar_url) on table public.profiles to authenticated;
grant update (username, display_name, avatar_url) on table public.profiles to authenticated;
grant select, insert, update, delete on table public.profiles to service_role;

create policy "Users can view their own profile and admins all profiles"
on public.profiles for select to authenticated
using ((select auth.uid()) = id or (select jobs_private.is_admin()));

create policy "Users can create their own profile"
on public.profiles for insert to authenticated
with check ((select auth.uid()) = id);

create policy "Users can update their own profile"
on public.profiles for update to authenticated
using ((select auth.uid()) = id)
with check ((select auth.uid()) = id);

revoke all on table public.user_roles from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.user_roles to authenticated;
grant select, insert, update, delete on table public.user_roles to service_role;

create policy "Users can view their own roles"
on public.user_roles for select to authenticated
using ((select auth.uid()) = user_id);

-- ===== policies/catalog.sql
-- projects (owned by users), job_types and api_models (catalogues every user may read),
-- prompt_tests (admins only).
alter table public.projects enable row level security;
alter table public.job_types enable row level security;
alter table public.api_models enable row level security;
alter table public.prompt_tests enable row level security;

revoke all on table public.projects from public, anon, authenticated, service_role, jobs_worker;
grant select, delete on table public.projects to authenticated;
grant insert (user_id, name), update (name) on table public.projects to authenticated;
grant select, insert, update, delete on table public.projects to service_role;

create policy "Users can view their own projects"
on public.projects for select to authenticated
using ((select auth.uid()) = user_id);

create policy "Users can create their own projects"
on public.projects for insert to authenticated
with check ((select auth.uid()) = user_id);

create policy "Users can rename their own projects"
on public.projects for update to authenticated
using ((select auth.uid()) = user_id)
with check ((select auth.uid()) = user_id);

create policy "Users can delete their own projects"
on public.projects for delete to authenticated
using ((select auth.uid()) = user_id);

revoke all on table public.job_types from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.job_types to authenticated;
grant select, insert, update, delete on table public.job_types to service_role;

create policy "Signed-in users can view job types"
on public.job_types for select to authenticated
using (true);

revoke all on table public.api_models from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.api_models to authenticated;
grant select, insert, update, delete on table public.api_models to service_role;

create policy "Signed-in users can view api models"
on public.api_models for select to authenticated
using (true);

revoke all on table public.prompt_tests from public, anon, authenticated, service_role, jobs_worker;
grant select, insert, update, delete on table public.prompt_tests to authenticated;
grant select, insert, update, delete on table public.prompt_tests to service_role;

create policy "Admins can view prompt tests"
on public.prompt_tests for select to authenticated
using ((select jobs_private.is_admin()));

create policy "Admins can create prompt tests"
on public.prompt_tests for insert to authenticated
with check ((select jobs_private.is_admin()));

create policy "Admins can update prompt tests"
on public.prompt_tests for update to authenticated
using ((select jobs_private.is_admin()))
with check ((select jobs_private.is_admin()));

create policy "Admins can delete prompt tests"
on public.prompt_tests for delete to authenticated
using ((select jobs_private.is_admin()));

-- ===== policies/jobs.sql
-- jobs: users read their own jobs (admins read all) and change nothing directly. They create
-- jobs through queue_job and cancel through cancel_job; workers and the service role move jobs
-- through the worker functions. The spec's "System can update jobs ... to authenticated using
-- (true)" would let any signed-in user rewrite anyone's job: it is replaced by the service role
-- (table access, BYPASSRLS) and the jobs_worker role (worker functions only).
alter table public.jobs enable row level security;

revoke all on table public.jobs from public, anon, authenticated, service_role, jobs_worker;
grant select on table public.jobs to authenticated;
grant select, insert, update, delete on table public.jobs to service_role;

-- One cheap policy, evaluated once per subscriber for every Realtime change: both sub-selects
-- become init plans computed once per statement, and the range is an index condition on
-- user_id, which leads two indexes (functions/private/visible_user_id_bound.sql says why a
-- range and not `own or admin`).
create policy "Users can view their own jobs and admins all jobs"
on public.jobs for select to authenticated
using (
    user_id between (select jobs_private.visible_user_id_bound(false))
    and (select jobs_private.visible_user_id_bound(true))
);

-- ===== policies/outputs.sql
-- images_videos and videos: written only by job_callback and the service role; users read and
-- delete their own (deleting an asset unlinks it from its job), admins read all.
alter table public.images_videos enable row level security;
alter table public.videos enable row level security;

revoke all on table public.images_videos
from public, anon, authenticated, service_role, jobs_worker;
grant select, delete on table public.images_videos to authenticated;
grant select, insert, update, delete on table public.images_videos to service_role;

create policy "Users can view their own outputs and admins all outputs"
on public.images_videos for select to authenticated
using (
    user_id between (select jobs_private.visible_user_id_bound(false))
    and (select jobs_private.visible_user_id_bound(true))
);

create policy "Users can delete their own outputs"
on public.images_videos for delete to authenticated
using ((select auth.uid()) = user_id);

revoke all on table public.videos from public, anon, authenticated, service_role, jobs_worker;
grant select, delete on table public.videos to authenticated;
grant select, insert, update, delete on table public.videos to service_role;

create policy "Users can view their own videos and admins all videos"
on public.videos for select to authenticated
using (
    user_id between (select jobs_private.visible_user_id_bound(false))
    and (select jobs_private.visible_user_id_bound(true))
);

create policy "Users can delete their own videos"
on public.videos for delete to authenticated
using ((select auth.uid()) = user_id);

-- ===== sql/90_realtime.sql
-- useJobStatus subscribes to postgres_changes on jobs: the table must be in the
-- supabase_realtime publication; RLS (the select policy) decides which rows each subscriber
-- receives. Old values are not needed, so the default replica identity (primary key) stays.
alter publication supabase_realtime add table public.jobs;
