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
    written_xid xid8 default pg_current_xact_id()
    -- The row rules (status, quality, attempts, lease, timestamps, ranges, lengths) are one
    -- CHECK, jobs_row_check, of the partition this table becomes (sql/61_jobs_row_check.sql).
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
'Per-pool virtual time: a user''s next job ranks after their previous one and after the head of the queue, so one user''s backlog cannot starve another user. A queued job waiting for a later run_at (retry backoff, run_after) ranks 2^62 + run_at in epoch milliseconds instead (the deferred band, set by trigger): claims reach it once it is due, after the pool''s fairly ranked jobs.';
comment on column public.jobs.locked_by is 'Worker id holding the lease while processing.';
comment on column public.jobs.lease_expires_at is 'End of the lease while processing; heartbeats extend it, rescue_expired_jobs reclaims after it.';
comment on column public.jobs.lease_token is
'Digest (jobs_private.lease_digest) of the fencing token of the latest claim: the token itself is known only to the worker holding the claim; callbacks and heartbeats naming another token are stale and change nothing.';
comment on column public.jobs.idempotency_key is
'Client retry key: the same key from the same user returns the existing job(s) instead of creating more. Stored on the first job of a set.';
comment on column public.jobs.last_error_at is 'When the latest failed attempt ended.';
comment on column public.jobs.written_xid is
'The top-level transaction id of the row''s last write (maintained by default and trigger), so job_changes_since finds the rows written since a cursor through an index. Null only on rows not written since 1.4.0 was installed.';

-- Outputs. images_videos holds every asset (image or video); a video asset also gets a row in
-- videos, which jobs.video_id points at as the spec says.
-- jobsdb:unless-app-table public.images_videos
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
-- jobsdb:end

-- jobsdb:unless-app-table public.videos
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
-- jobsdb:end

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
--  * the per-user history queries read jobs_user_created_idx, keyed by id too: list_jobs and
--    library_items page by (created_at desc, id desc) and stop after the page, unsorted.
-- Every status change is a non-HOT update that writes each index whose predicate the row
-- satisfies, so the hot table keeps few indexes and FK indexes are partial on non-null values.
create index jobs_user_created_idx on public.jobs (user_id, created_at desc, id desc);
-- job_changes_since: a user's ended jobs written since a cursor's snapshot are the range of
-- this index from the snapshot's xmin on (their unfinished ones, queued ones capped per user, it
-- reads all of by jobs_user_active_idx), so the reconcile read costs what changed, not the
-- user's whole history (a row's own xmin is only in the heap, and is a subtransaction's id when
-- the row was written under a savepoint). Ended jobs only: a job enters it once, when it ends,
-- not on the queue's insert, claim and heartbeats (indexing every write cost the lifecycle 4%
-- of its database time at 1 client and 12% at 8). written_xid is not null is a predicate only
-- that read implies: led by user_id, the index would otherwise win the other per-user reads'
-- plans and lose their order (workspace_groups read 6,135 buffers instead of 175).
create index jobs_user_written_idx on public.jobs (user_id, written_xid)
where status not in ('queued', 'processing') and written_xid is not null;
-- jobs_claim_idx's second key is the band of fair_rank: 2^62 for every job ranked by fairness
-- (ranks are small), and 2^62 + run_at in epoch milliseconds for a job waiting for a later
-- run_at (the triggers put a retry's backoff and run_after there). The claim's condition on it
-- is a range of the index: it reads the claimable jobs (priority, fair rank, creation) and then
-- the due waiting ones by run_at, and stops at the first job not yet due, so 10,000 jobs in
-- backoff cost a claim nothing (a rank kept at the head made every claim walk them all).
-- Every key column ascends (priority as its negation), so the claim can start the scan at the
-- pool's claim floor (jobs_private.claim_floors) with one row comparison: a range of the index
-- that never walks the dead entries an open snapshot keeps at the head of the queue.
create index jobs_claim_idx on public.jobs (
    worker_pool, greatest(fair_rank, 4611686018427387904), (-priority), fair_rank, id
)
where status = 'queued';
create index jobs_lease_idx on public.jobs (lease_expires_at) where status = 'processing';
create index jobs_user_active_idx on public.jobs (user_id, created_at desc)
where status in ('queued', 'processing');
-- list_jobs(status => 'failed' | 'cancelled'): a few percent of a history, which
-- jobs_user_created_idx finds only by reading the user's other jobs (all of them when the user
-- has fewer than a page of such jobs). Partial: a job enters it once, when it ends so; the
-- queue's inserts and status changes until then never write it.
create index jobs_user_failed_cancelled_idx on public.jobs (user_id, created_at desc, id desc)
where status in ('failed', 'cancelled');
-- A group's jobs by group id (queue_job's idempotent replay). Not led by user_id: under RLS a
-- user's range conditions are estimated at under one row, and a second index led by user_id
-- then won over jobs_user_created_idx, losing its order (workspace_groups sorted all of a
-- user's jobs; bench/README.md).
create index jobs_group_idx on public.jobs ((metadata ->> 'job_id'));
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
