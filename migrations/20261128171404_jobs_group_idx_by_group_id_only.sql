-- jobsdb:no-transaction
-- jobs_group_idx keyed by the group id alone (issue 6, reads).
--
-- Why: led by user_id, it competed with jobs_user_created_idx for a user's queries under RLS
-- (their range conditions are estimated at under one row) and won, so workspace_groups read
-- and sorted all of a user's jobs instead of the newest ones in index order. Built
-- concurrently under a new name, then swapped, so writes to jobs are never blocked.

-- A build that failed half-way (an invalid index) is dropped first, so the file can be rerun.
drop index concurrently if exists public.jobs_group_idx_new;
create index concurrently jobs_group_idx_new on public.jobs ((metadata ->> 'job_id'));
drop index concurrently if exists public.jobs_group_idx;
alter index public.jobs_group_idx_new rename to jobs_group_idx;
