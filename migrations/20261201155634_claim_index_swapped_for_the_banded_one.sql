-- jobsdb:no-transaction
-- The banded claim index takes jobs_claim_idx's name (issue 14, retry storms).
--
-- Why: claim_jobs and queue_job (previous migration) now read the banded index; the old key
-- serves no query. Dropped concurrently, so writes to jobs are never blocked.
drop index concurrently if exists public.jobs_claim_idx;
-- No client names an index (the planner picks it); the name is the one the current state has.
-- squawk-ignore renaming-object
alter index public.jobs_claim_idx_new rename to jobs_claim_idx;
