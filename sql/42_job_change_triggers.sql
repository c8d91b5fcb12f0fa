-- Deleted jobs are remembered for job_changes_since (one insert per deleting statement).
create trigger jobs_record_tombstones_trg
after delete on public.jobs
referencing old table as gone
for each statement execute function jobs_private.record_job_tombstones();
