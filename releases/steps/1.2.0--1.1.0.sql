-- jobsdb:no-transaction
-- jobsdb 1.2.0 -> 1.1.0: the way back, as a forward migration.
--
-- Undo here, first, what the upgrade's DDL did (drop what it added, restore what it
-- changed), keeping the data the older release can still use.
-- Files new since 1.1.0: none.
-- Files changed since 1.1.0 (undo by hand): sql/20_jobs.sql, sql/30_private_tables.sql, sql/40_triggers.sql.
--
-- No transaction, like the upgrade: the index it built concurrently is dropped concurrently.
-- Every statement can run again after a failure.

-- sql/20_jobs.sql: 1.1.0 has no index for failed and cancelled jobs (its list_jobs, applied
-- below, reads jobs_user_created_idx).
drop index concurrently if exists public.jobs_user_failed_cancelled_idx;
-- sql/40_triggers.sql: 1.1.0's insert trigger fires for every row (its function is the same).
create or replace trigger jobs_before_insert_trg
before insert on public.jobs
for each row execute function jobs_private.jobs_before_insert();
-- sql/30_private_tables.sql: a comment of the source only; nothing in the database changed.

-- jobsdb:apply functions/api/list_jobs.sql from 1.1.0
-- jobsdb:apply functions/jobs_api/queue_job.sql from 1.1.0
-- jobsdb:apply functions/private/job_group_json.sql from 1.1.0
-- jobsdb:apply functions/private/jobs_row_is_valid.sql from 1.1.0
-- 1.1.0's file revokes the service role's grant, which direct writes need (the CHECK runs as
-- the writing role): given back at once, so such writes fail only between these two statements.
grant execute on function jobs_private.jobs_row_is_valid(public.jobs) to service_role;
-- jobsdb:apply functions/worker/job_callbacks.sql from 1.1.0
