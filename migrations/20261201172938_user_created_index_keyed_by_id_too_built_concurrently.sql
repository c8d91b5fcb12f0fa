-- jobsdb:no-transaction
-- The per-user history index keyed by id too, built beside jobs_user_created_idx (issue 14).
--
-- Why: list_jobs and library_items page by (created_at desc, id desc). The index gave only
-- created_at's order, so each call read and sorted every job of the user (101 rows, 170
-- buffers for list_jobs at 1,000,000 jobs) to serve 50. Keyed (user_id, created_at desc,
-- id desc), the scan stops after the page (50 rows, 55 buffers). It replaces the old index
-- (next migration): the hot path keeps the same number of indexes, each entry 16 bytes wider.
-- Built concurrently under a new name; the next file swaps it in.

-- A build that failed half-way (an invalid index) is dropped first, so the file can be rerun.
drop index concurrently if exists public.jobs_user_created_idx_new;
create index concurrently jobs_user_created_idx_new
on public.jobs (user_id, created_at desc, id desc);
