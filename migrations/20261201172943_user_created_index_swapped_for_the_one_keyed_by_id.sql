-- jobsdb:no-transaction
-- The per-user history index keyed by id too takes jobs_user_created_idx's name (issue 14).
--
-- Why: the new index (previous migration) serves every query the old one served (its key
-- starts with the old key). Dropped concurrently, so writes to jobs are never blocked.
drop index concurrently if exists public.jobs_user_created_idx;
-- No client names an index (the planner picks it); the name is the one the current state has.
-- squawk-ignore renaming-object
alter index public.jobs_user_created_idx_new rename to jobs_user_created_idx;
