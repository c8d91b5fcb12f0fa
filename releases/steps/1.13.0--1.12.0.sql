-- jobsdb 1.13.0 -> 1.12.0: the way back, as a forward migration.
--
-- 1.12.0's three functions again, and jobs_doctor no longer reads the roll-up's minutes (the
-- doctor then measures its whole hours). The horizon's stored state stays as it is: a time
-- 1.13.0 proved closed stays closed (1.12.0 only moves it forward).
revoke select on table jobs_private.job_metrics_minutes from jobs_doctor;

-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.12.0
-- jobsdb:apply functions/private/job_metrics_horizon.sql from 1.12.0
-- jobsdb:apply functions/private/rollup_job_metrics.sql from 1.12.0
