-- A --variant for measurement only (bench/README.md): jobsdb as it is, without the row check
-- jobs_row_check (jobs_private.jobs_row_is_valid per written row). Never for a real database.
alter table public.jobs drop constraint jobs_row_check;
