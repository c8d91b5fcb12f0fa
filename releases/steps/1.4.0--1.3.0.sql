-- jobsdb 1.4.0 -> 1.3.0: the way back, as a forward migration.
--
-- The upgrade added two tables, a function and a trigger on auth.users, and changed no object
-- of 1.3.0: they go. The deleted users recorded meanwhile go with them: run
-- `jobsdb history forget` on every destination before going back, or those users' rows stay in
-- the exported files. No client of the API reads any of them.

drop trigger if exists jobsdb_forget_deleted_users_trg on auth.users;
-- squawk-ignore ban-drop-function
drop function if exists jobs_private.record_forgotten_users();
-- squawk-ignore ban-drop-table
drop table if exists jobs_private.forgotten_user_destinations;
-- squawk-ignore ban-drop-table
drop table if exists jobs_private.forgotten_users;
