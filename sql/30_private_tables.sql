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
    constraint settings_purge_batch_size_check check (purge_batch_size between 1 and 10000),
    -- Per-user limits (README: Limits). New jobs per user: a token bucket of job_burst jobs
    -- refilled at jobs_per_minute (null: no rate limit); PT429 past it.
    jobs_per_minute integer default 60
    constraint settings_jobs_per_minute_check check (jobs_per_minute between 1 and 100000),
    job_burst integer not null default 30
    constraint settings_job_burst_check check (job_burst between 1 and 100000),
    -- What one queue_job may copy into its jobs: metadata (with the prompt) times num_images.
    max_set_metadata_bytes integer not null default 131072
    constraint settings_max_set_metadata_bytes_check
    check (max_set_metadata_bytes between 1024 and 16777216),
    -- What one job's report may store: its assets, and their metadata all together.
    max_assets_per_job integer not null default 10
    constraint settings_max_assets_per_job_check check (max_assets_per_job between 1 and 100),
    max_asset_metadata_bytes integer not null default 32768
    constraint settings_max_asset_metadata_bytes_check
    check (max_asset_metadata_bytes between 2 and 16777216),
    -- A request of max_images_per_request images must fit in a full bucket.
    constraint settings_job_burst_covers_a_request_check
    check (job_burst >= max_images_per_request)
);
comment on table jobs_private.settings is
'One row of tunables: per-user cap on queued jobs, images per request, retry backoff (exponential from retry_base_seconds, capped at retry_max_seconds, +-25% jitter), retention of failed/cancelled jobs, and the per-user limits: new jobs per minute with a burst, metadata a request may copy into its jobs, assets and asset metadata a job may store.';
comment on column jobs_private.settings.jobs_per_minute is
'New jobs per user per minute, sustained (a token bucket refilled at this rate; queue_job takes num_images tokens or refuses with PT429). Null: no rate limit.';
comment on column jobs_private.settings.job_burst is
'Tokens of a full bucket: the jobs a user may queue at once after being idle. At least max_images_per_request.';
comment on column jobs_private.settings.max_set_metadata_bytes is
'Bytes of metadata (with the prompt) one queue_job may copy into its jobs: (metadata + prompt) x num_images; 22023 past it.';
comment on column jobs_private.settings.max_assets_per_job is
'Assets one job may get (job_callback); 22023 past it.';
comment on column jobs_private.settings.max_asset_metadata_bytes is
'Bytes of asset metadata one job may store, all its assets together (job_callback); 22023 past it.';
insert into jobs_private.settings default values;

-- The per-user rate of new jobs (jobs_private.settings.jobs_per_minute, job_burst) as one
-- timestamp per user: the moment the user's bucket is full again. Tokens now = job_burst -
-- (refilled_at - now()) * jobs_per_minute / 60 (all of them once refilled_at is past), so a row
-- whose refilled_at is past means the same as no row and may be deleted at any time. queue_job
-- takes num_images tokens by moving refilled_at forward, by an update that takes them only if
-- they are there (a generic cell rate algorithm; an upsert when the user has no row, or to
-- refuse); the row lock and queue_job's per-user lock make it exact under concurrent calls of
-- one user. Refunds nothing: cancelling a job gives no token back.
create table jobs_private.job_rates (
    user_id uuid primary key references public.profiles (id) on delete cascade,
    refilled_at timestamptz not null
)
-- updated by every queue_job of its user: room on the page for HOT updates
with (fillfactor = 70);
comment on table jobs_private.job_rates is
'Per user, when the token bucket of new jobs (settings.jobs_per_minute, job_burst) is full again; written only by queue_job. A row whose refilled_at is past may be deleted.';

-- Scoped worker credentials: a direct SQL worker login (session_user) with a row here may claim
-- only from its pools. The owner manages it; no API role can read or write it.
create table jobs_private.worker_logins (
    login name primary key,
    worker_pools text[] constraint worker_logins_worker_pools_check
    check (
        worker_pools is null
        or cardinality(worker_pools) between 1 and 100
        and array_position(worker_pools, null) is null
    ),
    created_at timestamptz not null default now(),
    comment text
);
comment on table jobs_private.worker_logins is
'Scoped worker logins: login (a role granted jobs_worker) may claim only from worker_pools (null = every pool). A login without a row may serve every pool. Workers through PostgREST are scoped by their JWT claim worker_pools instead.';

-- Job ids that order by creation (jobs_private.new_job_id): the sequence part.
create sequence jobs_private.job_id_seq as bigint maxvalue 281474976710655;
comment on sequence jobs_private.job_id_seq is
'The first 48 bits of every job id queue_job makes (jobs_private.new_job_id).';

-- The claim floor of each pool: a key of jobs_claim_idx at or below every claimable job of the
-- pool's fairly ranked band, where claim_jobs and queue_job start their scan. Claimed jobs leave
-- dead entries at the head of the claim index that vacuum cannot remove while an old snapshot lives
-- (pg_dump, a long analytics query); without a floor every claim walked them all. claim_jobs moves
-- it forward about every 64 jobs claimed (to the first job still queued, locked or not); a job put
-- back below it (release, admin retry, a higher priority) moves it back (trigger
-- jobs_claim_floor_trg, queue_job); rescue_expired_jobs recomputes it exactly (a job inserted below
-- it by plain SQL is claimed by then, or as soon as the pool has nothing claimable above it). One
-- row per pool, written about once per 64 claims, never per job: no row every worker waits on.
create table jobs_private.claim_floors (
    worker_pool text primary key,
    neg_priority smallint not null,
    fair_rank bigint not null,
    id uuid not null,
    updated_at timestamptz not null default now()
);
comment on table jobs_private.claim_floors is
'Per pool, a key (-priority, fair_rank, id) of jobs_claim_idx at or below every claimable fairly ranked job of the pool: claim_jobs and queue_job start their scan there, past the dead entries an old snapshot keeps.';
-- Counts claims, to move a pool's floor about once per 64 jobs claimed (claim_jobs).
create sequence jobs_private.claim_floor_tick as bigint cycle;
comment on sequence jobs_private.claim_floor_tick is
'Counts claim_jobs calls: a call moves its pool''s claim floor when tick % 64 < max_jobs.';

revoke all on all tables in schema jobs_private from public;
-- jobsdb doctor checks the scopes (logins whose role is gone, pools no job type uses).
grant select on table jobs_private.worker_logins to jobs_doctor;
revoke all on sequence jobs_private.claim_floor_tick from public;
revoke all on sequence jobs_private.job_id_seq from public;
-- the default of jobs.id (new_job_id) runs as the inserting role: the service role inserts jobs
grant usage on sequence jobs_private.job_id_seq to service_role;
-- The status trigger runs as the updating role: the service role updates jobs directly (table
-- access), so it must be able to read the state machine (not change it).
grant select on table jobs_private.job_status_transitions to service_role;
