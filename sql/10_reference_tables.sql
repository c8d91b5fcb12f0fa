-- Tables the jobs table references, in minimal but real form, so the package stands alone.
-- Every foreign key has a deliberate ON DELETE and an index (the security audit checks both).
-- A section between `-- jobsdb:unless-app-table T` and `-- jobsdb:end` runs only where jobsdb
-- creates T: where the project had its own T (sql/05_app_tables.sql), the release leaves it
-- alone (`jobsdb release build` wraps each section in a check of jobs_private.app_tables).

-- jobsdb:unless-app-table public.profiles
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
-- jobsdb:end

-- jobsdb:unless-app-table public.user_roles
create table public.user_roles (
    user_id uuid not null references public.profiles (id) on delete cascade,
    role text not null constraint user_roles_role_check check (role in ('admin')),
    granted_at timestamptz not null default now(),
    primary key (user_id, role)
);
comment on table public.user_roles is
'Server-set roles: a row (user, ''admin'') makes that user an admin of the job pipeline. Only the service role and the owner write it.';
-- jobsdb:end

-- jobsdb:unless-app-table public.projects
create table public.projects (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    name text not null check (char_length(name) between 1 and 200),
    created_at timestamptz not null default now()
);
create index projects_user_id_idx on public.projects (user_id);
comment on table public.projects is 'A user''s project; jobs may belong to one.';
-- jobsdb:end

-- jobsdb:unless-app-table public.api_models
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
-- jobsdb:end

-- jobsdb:unless-app-table public.prompt_tests
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
-- jobsdb:end

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
    description text,
    max_lease_seconds integer not null default 3600
    constraint job_types_max_lease_seconds_check check (max_lease_seconds between 10 and 86400),
    max_run_seconds integer not null default 7200
    constraint job_types_max_run_seconds_check check (max_run_seconds between 10 and 604800),
    asset_path_prefix text default '{user_id}/'
    constraint job_types_asset_path_prefix_check
    check (char_length(asset_path_prefix) between 1 and 200),
    constraint job_types_lease_bounds_check
    check (lease_seconds <= max_lease_seconds and max_lease_seconds <= max_run_seconds)
);
comment on table public.job_types is
'Job types as data: each routes to a worker pool and fixes format, quality, model type, output bucket, default max_attempts and lease length. Adding a type is an insert in a migration.';
comment on column public.job_types.worker_pool is
'Workers claim by pool; the claim index leads with it. LISTEN on channel jobs_wake_<pool> to be woken.';
comment on column public.job_types.lease_seconds is
'Default lease of a claim: a worker that does not heartbeat within it loses the job to rescue.';
comment on column public.job_types.max_lease_seconds is
'Longest lease one claim or heartbeat may take; a longer lease_seconds is clamped to it.';
comment on column public.job_types.max_run_seconds is
'Longest an attempt may run (from its claim): heartbeats never extend a lease past started_at + max_run_seconds, and rescue_expired_jobs then requeues or fails the job.';
comment on column public.job_types.asset_path_prefix is
'Where a report''s asset paths (url and thumbnail_url) must lie in the output bucket: each must start with this prefix, {user_id} and {job_id} replaced by the job''s, and be a key Supabase Storage accepts (characters A-Za-z0-9 and _/!-.*''() &$@=;:+,?, no empty, "." or ".." segment). Default: the job owner''s folder, as the app lays out Storage. Null: paths are not checked (outputs kept outside Storage).';
