-- jobsdb:no-transaction
-- jobsdb 1.3.0 -> 1.4.0: deleted users leave the exported history too, and the reconcile read
-- (job_changes_since) costs what changed since the cursor instead of the user's whole history.
-- A deleted auth.users row is remembered (jobs_private.forgotten_users, filled by a statement
-- trigger on auth.users), so `jobsdb history forget DEST` can rewrite every exported Parquet
-- file without that user's rows, and `jobsdb history export` publishes no row of a user
-- deleted while it read. jobs gains a column (written_xid) and an index. The same answers,
-- errors and rules for every role: 1.3.0's callers keep working; a job_changes_since cursor
-- taken before this step answers reset once (reload, keep the new cursor).
--
-- No transaction: an index on the live jobs table is built concurrently, outside one (the
-- Supabase CLI runs such a statement on its own since v2.109.0). Every statement can run
-- again after a failure: `if not exists`, `create or replace`, `greatest`.

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

-- ---- The reconcile read costs what changed, not the user's history -------------------------
-- job_changes_since(cursor) read every job of the user (the writer's id was only in the heap
-- row): 8-17 ms for a user with 10,000 jobs at 10,000,000 jobs, seconds for one with 333,334.
-- Each row now carries its writer's top-level transaction id, indexed by user.
-- A nullable column with no default yet: no rewrite, a moment's lock (lock_timeout bounds it).
-- The default then applies to every row inserted from here on; old rows stay null.
alter table public.jobs add column if not exists written_xid xid8;
alter table public.jobs alter column written_xid set default pg_current_xact_id();
-- jobsdb:apply sql/20_jobs.sql comments
-- Every update sets it; an insert naming another value is corrected.
-- jobsdb:apply functions/private/jobs_before_update.sql
-- jobsdb:apply functions/private/jobs_before_insert.sql
create or replace trigger jobs_before_insert_trg
before insert on public.jobs
for each row
when (
    new.status is distinct from 'queued'
    or new.worker_pool is null or new.format is null or new.quality is null
    or new.model_type is null
    or new.run_at > now()
    or new.metadata ->> 'job_id' is null
    or new.written_xid is distinct from pg_current_xact_id()
)
execute function jobs_private.jobs_before_insert();
-- Built concurrently: writes go on. If the build fails it leaves an invalid index: drop it
-- concurrently and rerun.
-- Partial: ended jobs only (a job enters it once, when it ends), and only job_changes_since's
-- condition implies its predicate, so the other per-user reads keep their plans. Rows last
-- written before this step are not in it.
create index concurrently if not exists jobs_user_written_idx
on public.jobs (user_id, written_xid)
where status not in ('queued', 'processing') and written_xid is not null;
-- Rows last written before this point have no written_xid, and every transaction that wrote
-- jobs before the triggers above were in place has a smaller id than this statement's. Moving
-- the tombstone horizon here makes every cursor whose snapshot does not see this transaction
-- as finished answer reset instead of missing those rows. Before the new body, which trusts
-- written_xid.
update jobs_private.job_tombstone_horizon as h
set purged_through = greatest(h.purged_through, pg_current_xact_id());
-- jobsdb:apply functions/jobs_api/job_changes_since.sql
