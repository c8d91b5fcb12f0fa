-- system_metrics' roll-up of finished jobs per closed hour. Written only by
-- jobs_private.rollup_job_metrics (pg_cron, or the owner); no job ever writes a shared row.
-- An hour is the half-open [hour, hour + 1 h) of completed_at, binned in UTC (date_bin), so
-- the buckets do not depend on the session's TimeZone.

-- The hours rolled up: an hour listed here has its figures in job_metrics_rollup and
-- job_metrics_run_seconds (an hour with no finished job has none) unless job_metrics_stale
-- names it.
create table jobs_private.job_metrics_hours (
    hour timestamptz primary key,
    rolled_up_at timestamptz not null default now()
);
comment on table jobs_private.job_metrics_hours is
'system_metrics roll-up: the closed hours (of completed_at, UTC) whose finished jobs are summed in job_metrics_rollup and job_metrics_run_seconds. Written by rollup_job_metrics only.';

-- Per hour and job type: the sums system_metrics needs (counts per status, retried jobs,
-- the completed jobs' run and queue-to-done seconds: exact numeric sums and their counts).
create table jobs_private.job_metrics_rollup (
    hour timestamptz not null,
    job_type text not null,
    completed bigint not null,
    failed bigint not null,
    cancelled bigint not null,
    retried bigint not null,
    run_count bigint not null,
    run_sum numeric,
    total_count bigint not null,
    total_sum numeric,
    primary key (hour, job_type)
);
comment on table jobs_private.job_metrics_rollup is
'system_metrics roll-up: per closed hour and job type, finished jobs per status, jobs with more than one attempt, and count and exact sum of the completed jobs'' run and queue-to-done seconds.';

-- Per hour and job type: the completed jobs' run seconds as (value, how many): the exact
-- distribution, so p50/p95 (percentile_cont) are computed exactly from the roll-up. As many
-- rows as distinct run times in the hour (at most one per completed job).
create table jobs_private.job_metrics_run_seconds (
    hour timestamptz not null,
    job_type text not null,
    run_seconds numeric not null,
    jobs bigint not null,
    primary key (hour, job_type, run_seconds)
);
comment on table jobs_private.job_metrics_run_seconds is
'system_metrics roll-up: per closed hour and job type, each distinct run time (completed_at - started_at, seconds) of the completed jobs and how many had it, for exact percentiles.';

-- Hours whose rolled-up figures a later change made stale: a finished job changed (retry_job
-- requeues a failed one), deleted (retention, account deletion) or inserted already finished
-- (a restore). Insert-only, one row per change (no shared row; no upsert: a marker committed
-- after rollup_job_metrics read the markers must survive it). system_metrics reads a marked
-- hour from jobs; rollup_job_metrics recomputes it and deletes the markers it saw.
create table jobs_private.job_metrics_stale (
    id bigint generated always as identity primary key,
    hour timestamptz not null,
    marked_at timestamptz not null default now()
);
create index job_metrics_stale_hour_idx on jobs_private.job_metrics_stale (hour);
comment on table jobs_private.job_metrics_stale is
'system_metrics roll-up: hours made stale by a change to a finished job (update, delete, insert); read live until rollup_job_metrics recomputes them.';

revoke all on table jobs_private.job_metrics_hours, jobs_private.job_metrics_rollup,
jobs_private.job_metrics_run_seconds, jobs_private.job_metrics_stale
from public, anon, authenticated, service_role;

-- How far hours may be closed, proven from pg_locks (readable by every role, unlike other
-- roles' rows of pg_stat_activity): the virtual transaction ids open at taken_at; once none
-- of them is open any more, no transaction that started before taken_at can still write.
-- One row, written only by rollup_job_metrics (under its advisory lock).
create table jobs_private.job_metrics_horizon (
    singleton boolean primary key default true
    constraint job_metrics_horizon_singleton_check check (singleton),
    closed_through timestamptz,
    taken_at timestamptz,
    open_xacts text[]
);
insert into jobs_private.job_metrics_horizon default values;
comment on table jobs_private.job_metrics_horizon is
'system_metrics roll-up: closed_through, before which no completed_at can still be written, and the transactions (virtual ids) open at taken_at that must end before taken_at becomes the next closed_through.';
revoke all on table jobs_private.job_metrics_horizon from public, anon, authenticated, service_role;
-- jobsdb doctor measures the roll-up's lag: hours and stale markers hold no job's content.
grant select on table jobs_private.job_metrics_hours, jobs_private.job_metrics_stale to jobs_doctor;
