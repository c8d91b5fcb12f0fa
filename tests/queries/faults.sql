-- Queries of tests/py/test_faults.py (the fault-injection run), loaded with
-- jobsdb.queries.load('faults.sql').

-- name: final_jobs
-- One row per job with what the end-of-run checks need: its state, attempts, reason, lease,
-- and its output rows (count, path, whether the first is the one linked as image_id).
select
    j.id::text as job_id,
    j.status,
    j.attempts,
    j.max_attempts,
    j.error_message,
    j.image_id::text as image_id,
    j.lease_token::text as lease_token,
    j.lease_expires_at,
    j.completed_at is not null as has_completed_at,
    j.idempotency_key,
    count(iv.id) as outputs,
    min(iv.file_path) as output_path,
    coalesce(bool_and(iv.id = j.image_id), false) as output_linked
from public.jobs as j
left join public.images_videos as iv on iv.job_id = j.id
group by j.id

-- name: overdue_lease_seconds
-- How long the most overdue lease of a processing job has been expired (0 if none).
select coalesce(extract(epoch from max(now() - j.lease_expires_at)), 0)::float8
from public.jobs as j
where j.status = 'processing' and j.lease_expires_at < now()

-- name: progress
-- Jobs by coarse state: open (queued or processing) and terminal (completed or failed).
select
    count(*) filter (where j.status in ('queued', 'processing')) as open,
    count(*) filter (where j.status in ('completed', 'failed')) as terminal
from public.jobs as j
