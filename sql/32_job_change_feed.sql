-- The reconcile read's memory of deleted jobs (retention): one row per deleted job, kept for
-- a week; the newest purged deletion is remembered so an older cursor is told to reload.
create table jobs_private.job_tombstones (
    job_id uuid primary key,
    user_id uuid not null,
    deleted_xid xid8 not null default pg_current_xact_id(),
    deleted_at timestamptz not null default now()
);
create index job_tombstones_user_idx on jobs_private.job_tombstones (user_id, deleted_at);
create index job_tombstones_deleted_at_idx on jobs_private.job_tombstones (deleted_at);
comment on table jobs_private.job_tombstones is
'Jobs deleted (by retention) in the last 7 days, for job_changes_since: a client whose cursor predates a deletion learns the job is gone.';

create table jobs_private.job_tombstone_horizon (
    singleton boolean primary key default true
    constraint job_tombstone_horizon_singleton_check check (singleton),
    purged_through xid8 not null default '0'
);
insert into jobs_private.job_tombstone_horizon default values;
comment on table jobs_private.job_tombstone_horizon is
'The newest transaction id among purged tombstones: a cursor whose snapshot does not see it as finished must reload (job_changes_since answers reset).';

revoke all on jobs_private.job_tombstones, jobs_private.job_tombstone_horizon
from public, anon, authenticated, service_role;
