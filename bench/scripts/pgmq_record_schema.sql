-- The peer a Supabase team builds instead of jobsdb: Supabase Queues (pgmq) carries the work,
-- and the spec's jobs record with its output rows sits beside it, written by the team's edge
-- functions as the service role. Applied as the owner to bench_pgmq_record, after the
-- Supabase shim (auth.users, the API roles) and before pgmq's own SQL.
-- The record is the spec's (spec/jobs-table.md): its columns, its five recommended indexes,
-- the foreign keys it names and its RLS policies; nothing of jobsdb's (no row check, no
-- trigger, no queue column, no extra index). The referenced tables are minimal.

create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    created_at timestamptz not null default now()
);

create table public.projects (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    name text not null
);

create table public.api_models (
    id uuid primary key default gen_random_uuid(),
    model_key text not null unique
);

create table public.prompt_tests (
    id uuid primary key default gen_random_uuid(),
    name text not null
);

-- The spec's 35 columns, and updated_at (its metrics query reads it).
create table public.jobs (
    id uuid primary key default gen_random_uuid(),
    video_id uuid,
    user_id uuid not null references public.profiles (id) on delete cascade,
    job_type text not null,
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
    reviewed_by uuid,
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
    updated_at timestamptz not null default now()
);

-- The outputs, as jobsdb stores them (one row per asset).
create table public.images_videos (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    job_id uuid references public.jobs (id) on delete set null,
    asset_index integer not null,
    asset_type text not null,
    bucket text not null,
    file_path text not null,
    file_name text not null,
    thumbnail_path text,
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now(),
    constraint images_videos_job_asset_key unique (job_id, asset_index)
);
create index images_videos_user_created_idx on public.images_videos (user_id, created_at desc);

create table public.videos (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    asset_id uuid not null unique references public.images_videos (id) on delete cascade,
    file_path text not null
);

alter table public.jobs
add constraint jobs_image_id_fkey foreign key (image_id)
references public.images_videos (id) on delete set null,
add constraint jobs_video_id_fkey foreign key (video_id)
references public.videos (id) on delete set null;

-- The spec's "Indexing Recommendations", as written.
create index idx_jobs_user_created on public.jobs (user_id, created_at desc);
create index idx_jobs_image_id on public.jobs (image_id);
create index idx_jobs_video_id on public.jobs (video_id);
create index idx_jobs_status on public.jobs (status);
create index idx_jobs_job_type on public.jobs (job_type);

-- The spec's RLS policies (the service role bypasses RLS, as on Supabase).
alter table public.jobs enable row level security;
create policy "Users can view own jobs" on public.jobs
for select to authenticated
using (user_id = auth.uid());
create policy "Users can insert own jobs" on public.jobs
for insert to authenticated
with check (user_id = auth.uid());
create policy "System can update jobs" on public.jobs
for update to authenticated
using (true);
alter table public.images_videos enable row level security;
create policy "Users can view own outputs" on public.images_videos
for select to authenticated
using (user_id = (select auth.uid()));
alter table public.profiles enable row level security;
alter table public.projects enable row level security;
alter table public.api_models enable row level security;
alter table public.prompt_tests enable row level security;
alter table public.videos enable row level security;

grant select, insert, update, delete on all tables in schema public to service_role;

-- The team's three RPCs, one per queue step, called by its edge functions with the service key
-- (PostgREST: one transaction per call). plpgsql, so their plans are cached for the session (a
-- SQL function with a SET clause is planned on every call); security invoker, search_path
-- pinned (Supabase's lint 0011), executable by the service role only.
create function public.enqueue_job(user_id uuid, job_type text, prompt text)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_job public.jobs;
    v_msg bigint;
begin
    insert into public.jobs (
        user_id, job_type, metadata, original_prompt, format, quality, model_type
    )
    values (
        enqueue_job.user_id, enqueue_job.job_type,
        jsonb_build_object('prompt', enqueue_job.prompt, 'job_id', gen_random_uuid(),
            'image_index', 0),
        enqueue_job.prompt, 'png', 'fast', 'sdxl'
    )
    returning * into v_job;
    select s.msg_id into v_msg
    from pgmq.send('jobs', jsonb_build_object('job_id', v_job.id, 'user_id', v_job.user_id,
        'job_type', v_job.job_type, 'metadata', v_job.metadata)) as s (msg_id);
    return jsonb_build_object('job_id', v_job.id, 'msg_id', v_msg);
end;
$$;

create function public.start_next_job()
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_msg record;
begin
    select r.msg_id, r.message into v_msg from pgmq.read('jobs', 30, 1) as r;
    if not found then
        return null;
    end if;
    update public.jobs as j
    set status = 'processing', attempts = j.attempts + 1, started_at = now(), updated_at = now()
    where j.id = (v_msg.message ->> 'job_id')::uuid;
    return jsonb_build_object('msg_id', v_msg.msg_id, 'message', v_msg.message);
end;
$$;

create function public.complete_job(msg_id bigint, job_id uuid, user_id uuid, file_path text)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_asset uuid;
begin
    insert into public.images_videos (
        user_id, job_id, asset_index, asset_type, bucket, file_path, file_name
    )
    values (
        complete_job.user_id, complete_job.job_id, 0, 'image', 'images', complete_job.file_path,
        regexp_replace(complete_job.file_path, '^.*/', '')
    )
    returning id into v_asset;
    update public.jobs as j
    set status = 'completed', completed_at = now(), image_id = v_asset, updated_at = now()
    where j.id = complete_job.job_id and j.status = 'processing';
    perform pgmq.archive('jobs', complete_job.msg_id);
    return jsonb_build_object('job_id', complete_job.job_id, 'asset_id', v_asset);
end;
$$;

revoke all on function public.enqueue_job(uuid, text, text) from public, anon, authenticated;
revoke all on function public.start_next_job() from public, anon, authenticated;
revoke all on function public.complete_job(bigint, uuid, uuid, text)
from public, anon, authenticated;
grant execute on function public.enqueue_job(uuid, text, text) to service_role;
grant execute on function public.start_next_job() to service_role;
grant execute on function public.complete_job(bigint, uuid, uuid, text) to service_role;
