-- jobsdb 1.11.0 -> 1.10.0: the way back, as a forward migration.
--
-- 1.11.0 changed queue_job alone: 1.10.0's is put back.

-- jobsdb:apply functions/jobs_api/queue_job.sql from 1.10.0
