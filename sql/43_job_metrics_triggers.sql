-- system_metrics' roll-up stays exact when a finished job changes after its hour was rolled
-- up (sql/33_job_metrics_rollup.sql). The WHEN clauses are evaluated without calling a
-- function, and they are false for the queue's own writes (queue_job inserts queued jobs; a
-- claim, heartbeat or callback updates a job whose completed_at is still null), so the hot
-- path never runs these triggers.
create trigger jobs_metrics_stale_on_update_trg
after update on public.jobs
for each row
when (
    old.completed_at is not null
    and (old.status, old.attempts, old.started_at, old.completed_at)
    is distinct from (new.status, new.attempts, new.started_at, new.completed_at)
)
execute function jobs_private.mark_job_metrics_stale();
create trigger jobs_metrics_stale_on_insert_trg
after insert on public.jobs
for each row
when (new.completed_at is not null)
execute function jobs_private.mark_job_metrics_stale();
create trigger jobs_metrics_stale_on_delete_trg
after delete on public.jobs
referencing old table as gone
for each statement execute function jobs_private.mark_deleted_job_metrics_stale();
