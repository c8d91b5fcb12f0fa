-- jobsdb:no-transaction
-- The ascending claim index takes jobs_claim_idx's name (issue 14, long transactions).
--
-- Why: claim_jobs, queue_job and rescue_expired_jobs (previous migration) now read the
-- ascending index; the old key serves no query. Dropped concurrently, so writes to jobs are
-- never blocked.
drop index concurrently if exists public.jobs_claim_idx;
-- No client names an index (the planner picks it); the name is the one the current state has.
-- squawk-ignore renaming-object
alter index public.jobs_claim_idx_new rename to jobs_claim_idx;
