-- jobsdb 1.4.0 -> 1.3.0: the way back, as a forward migration.
--
-- The upgrade added jobs.written_xid and its index, and the triggers and job_changes_since
-- body that use them: 1.3.0's insert trigger first (its WHEN names the column), then the
-- column (its index goes with it), then 1.3.0's trigger functions and body, which read the
-- rows' xmin again (cursors stay valid both ways). It added two tables, a function and a
-- trigger on auth.users: they go. The deleted users recorded meanwhile go with them: run
-- `jobsdb history forget` on every destination before going back, or those users' rows stay
-- in the exported files. No client of the API reads any of them.

create or replace trigger jobs_before_insert_trg
before insert on public.jobs
for each row
when (
    new.status is distinct from 'queued'
    or new.worker_pool is null or new.format is null or new.quality is null
    or new.model_type is null
    or new.run_at > now()
    or new.metadata ->> 'job_id' is null
)
execute function jobs_private.jobs_before_insert();
-- squawk-ignore ban-drop-column
alter table public.jobs drop column if exists written_xid;
-- jobsdb:apply functions/private/jobs_before_update.sql from 1.3.0
-- jobsdb:apply functions/private/jobs_before_insert.sql from 1.3.0
-- jobsdb:apply functions/jobs_api/job_changes_since.sql from 1.3.0

drop trigger if exists jobsdb_forget_deleted_users_trg on auth.users;
-- squawk-ignore ban-drop-function
drop function if exists jobs_private.record_forgotten_users();
-- squawk-ignore ban-drop-table
drop table if exists jobs_private.forgotten_user_destinations;
-- squawk-ignore ban-drop-table
drop table if exists jobs_private.forgotten_users;
