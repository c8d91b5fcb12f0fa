-- jobsdb:no-transaction
-- The banded claim index, built beside jobs_claim_idx (issue 14, retry storms).
--
-- Why: a requeued job kept its low fair_rank at the head of jobs_claim_idx while it waited out
-- its backoff (run_at is not in the key), so every claim walked every job in backoff. The new
-- key's second column is greatest(fair_rank, 2^62): the triggers (next migration) rank a job
-- waiting for a later run_at at 2^62 + run_at in epoch ms, and the claim's range on that column
-- stops at the first job not yet due. Built concurrently under a new name; swapped two files on.

-- A build that failed half-way (an invalid index) is dropped first, so the file can be rerun.
drop index concurrently if exists public.jobs_claim_idx_new;
create index concurrently jobs_claim_idx_new on public.jobs (
    worker_pool, greatest(fair_rank, 4611686018427387904), priority desc, fair_rank, id
)
where status = 'queued';
