-- jobsdb 1.3.0 -> 1.4.0: deleted users leave the exported history too. A deleted auth.users
-- row is remembered (jobs_private.forgotten_users, filled by a statement trigger on
-- auth.users), so `jobsdb history forget DEST` can rewrite every exported Parquet file without
-- that user's rows, and `jobsdb history export` publishes no row of a user deleted while it
-- read. Two new tables, one function, one trigger; nothing of public.jobs changes; the same
-- answers, errors and rules for every role: 1.3.0's callers keep working.

-- ---- Deleted users leave the exported history too (`jobsdb history forget`) ----------------
-- Who was deleted (a trigger on auth.users fills it), and which destination has applied it.
-- Two new, empty tables: nothing of the jobs table is touched.
create table if not exists jobs_private.forgotten_users (
    user_id uuid primary key,
    forgotten_at timestamptz not null default now()
);
create table if not exists jobs_private.forgotten_user_destinations (
    destination text not null,
    user_id uuid not null,
    applied_at timestamptz not null default now(),
    primary key (destination, user_id)
);
alter table jobs_private.forgotten_users enable row level security;
alter table jobs_private.forgotten_user_destinations enable row level security;
drop policy if exists forgotten_users_none on jobs_private.forgotten_users;
create policy forgotten_users_none on jobs_private.forgotten_users
using (false) with check (false);
drop policy if exists forgotten_user_destinations_none
on jobs_private.forgotten_user_destinations;
create policy forgotten_user_destinations_none on jobs_private.forgotten_user_destinations
using (false) with check (false);
revoke all on table jobs_private.forgotten_users, jobs_private.forgotten_user_destinations
from public, anon, authenticated, service_role;
-- jobsdb:apply sql/34_forgotten_users.sql comments
-- New: the trigger function recording the deleted users' ids.
-- jobsdb:apply functions/private/record_forgotten_users.sql
-- New: its trigger on auth.users (a short lock of auth.users; no row read).
-- jobsdb:apply sql/44_forgotten_users_trigger.sql
