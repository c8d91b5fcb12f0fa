-- jobsdb:no-transaction
-- The claim index with every key ascending, built beside jobs_claim_idx (issue 14, long
-- transactions).
--
-- Why: with one repeatable-read transaction open (pg_dump, a long analytics query), claimed
-- jobs leave dead entries at the head of the claim index that vacuum cannot remove, and every
-- claim walked all of them (lifecycle 840 -> 107-157 jobs/s within a minute). The claim now
-- starts its scan at the pool's claim floor (next migration) with one row comparison, which is
-- a range of the index only when every key column has the same direction: priority becomes
-- its negation. Built concurrently under a new name; swapped two files on.

-- A build that failed half-way (an invalid index) is dropped first, so the file can be rerun.
drop index concurrently if exists public.jobs_claim_idx_new;
create index concurrently jobs_claim_idx_new on public.jobs (
    worker_pool, greatest(fair_rank, 4611686018427387904), (-priority), fair_rank, id
)
where status = 'queued';
