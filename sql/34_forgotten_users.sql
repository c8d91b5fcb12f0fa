-- Users whose auth.users row was deleted, remembered so that their jobs leave the exported
-- history too: `jobsdb history forget DEST` rewrites every Parquet file of DEST that holds
-- their rows (docs/operators.md, "Forgetting deleted users"). Filled by a trigger on
-- auth.users (jobs_private.record_forgotten_users), so a user whose jobs all left the database
-- already (retired partitions, retention) is remembered as well. Kept for good: a file
-- exported from an older snapshot, or restored from a copy, may hold the rows again, and every
-- forget run checks every file against every row here. Only the id is kept, which names no one
-- once auth.users has no row for it.
create table jobs_private.forgotten_users (
    user_id uuid primary key,
    forgotten_at timestamptz not null default now()
);
comment on table jobs_private.forgotten_users is
'Deleted users (auth.users rows deleted), whose jobs `jobsdb history forget` removes from exported Parquet files. Written by the trigger jobsdb_forget_deleted_users_trg on auth.users.';

-- What each destination has applied: (destination, user) once a forget run found or left
-- every file there without that user's rows. A file that arrives later (an export racing the
-- deletion) is checked by the next run all the same: this says what was done, not what to skip.
create table jobs_private.forgotten_user_destinations (
    destination text not null,
    user_id uuid not null,
    applied_at timestamptz not null default now(),
    primary key (destination, user_id)
);
comment on table jobs_private.forgotten_user_destinations is
'(destination, user): a `jobsdb history forget` run left every Parquet file of the destination (a directory or s3:// URL, as given) without the deleted user''s rows.';

-- Nothing for the API roles; row level security as well, with a policy that lets no row
-- through, should a grant ever slip in (the owner, who writes them, is not subject to it).
alter table jobs_private.forgotten_users enable row level security;
alter table jobs_private.forgotten_user_destinations enable row level security;
create policy forgotten_users_none on jobs_private.forgotten_users
using (false) with check (false);
create policy forgotten_user_destinations_none on jobs_private.forgotten_user_destinations
using (false) with check (false);
revoke all on table jobs_private.forgotten_users, jobs_private.forgotten_user_destinations
from public, anon, authenticated, service_role;
