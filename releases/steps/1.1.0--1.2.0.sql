-- jobsdb:no-transaction
-- jobsdb 1.1.0 -> 1.2.0: less work per job on the hot path (set-based batched reports, a
-- leaner enqueue, cheaper row rules) and list_jobs' reads that hold at 10,000,000 jobs. The
-- same signatures, answers, errors and rules for every role: 1.1.0's callers keep working.
--
-- No transaction: an index on the live jobs table is built concurrently, outside one (the
-- Supabase CLI runs such a statement on its own since v2.109.0). Every statement can run
-- again after a failure: `if not exists`, `create or replace`.

-- Reads at scale: the read RPCs of a user with 10,000 jobs within 5 ms at 10,000,000 jobs of
-- history (bench/README.md, "The history at scale").
-- list_jobs(status => 'failed' | 'cancelled') reads its own partial index instead of all of
-- the user's jobs. Built concurrently: writes go on; a job enters it only when it fails or is
-- cancelled. If the build fails it leaves an invalid index: drop it concurrently and rerun.
create index concurrently if not exists jobs_user_failed_cancelled_idx
on public.jobs (user_id, created_at desc, id desc)
where status in ('failed', 'cancelled');
-- list_jobs runs one query per kind of status, its kind a literal, so the plan cached for
-- it reads that kind's index (the queued and processing jobs', the new one, or the user's
-- newest jobs); the same answers.
-- jobsdb:apply functions/api/list_jobs.sql

-- Batched reports: job_callbacks applies a batch as set statements (one INSERT of the output
-- rows, one UPDATE of the jobs) instead of one job_callback call per report; same signature,
-- answers and errors. Functions only: nothing on the jobs table changes.
-- job_callbacks: one set statement per batch; job_callback per element only when it would
-- refuse an element (to name it), as before.
-- jobsdb:apply functions/worker/job_callbacks.sql

-- Claim and row rules: less work per row written to jobs, the same rules for every role.
-- jobs_before_insert_trg fires only when the new row leaves its function something to do (a
-- status to refuse, a derived column, completed_at, the deferred band, the group id); queue_job's
-- rows carry all of them and no longer call it. `create or replace trigger` swaps it in one
-- statement (a brief share row exclusive lock on jobs): no moment without the trigger.
create or replace trigger jobs_before_insert_trg
before insert on public.jobs
for each row
when (
    new.status is distinct from 'queued'
    or new.worker_pool is null or new.format is null or new.quality is null
    or new.model_type is null
    or new.run_at > now()
    or new.metadata ->> 'job_id' is null
)
execute function jobs_private.jobs_before_insert();
-- The row check's 24 rules are one CASE expression instead of an IF each (one expression
-- evaluated per row written, not 24); the same rows accepted and the same first rule named.
-- Its file no longer revokes the service role's grant (which 1.1.0's gave back only in
-- sql/41_jobs_row_check.sql): a release that applies it again leaves direct writes working.
-- jobsdb:apply functions/private/jobs_row_is_valid.sql

-- Enqueue: queue_job runs 6 statements instead of 8 per call, the same rules and answers.
-- Functions only; jobs_private.job_rates keeps its fillfactor 70 (its updates stay HOT).
-- queue_job: the per-user lock joins the first statement; the rate check updates the user's
-- bucket row (the upsert runs only without a row or to refuse); the answer is built in the insert.
-- jobsdb:apply functions/jobs_api/queue_job.sql
-- job_group_json: only its header comment changed (queue_job calls it for a replay only).
-- jobsdb:apply functions/private/job_group_json.sql
