-- A deleted user is remembered for the exported history (sql/34_forgotten_users.sql). On
-- auth.users itself, not on the jobs the deletion cascades to: a user whose jobs already left
-- the database (retention) deletes no job, yet their rows may sit in
-- Parquet files. Supabase lets the project's owner role create triggers on auth.users (its
-- TRIGGER privilege; the restrictions of April 2025 kept it); the function is jobsdb's own,
-- in jobs_private. Named for the package: other triggers of the project live on this table.
create trigger jobsdb_forget_deleted_users_trg
after delete on auth.users
referencing old table as gone
for each statement execute function jobs_private.record_forgotten_users();
