-- jobsdb 1.6.0 -> 1.5.0: the way back, as a forward migration.
--
-- The upgrade changed two function bodies and no table: 1.5.0's bodies come back, and the
-- roll-up's horizon waits again for transactions open in any database of the cluster.

-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.5.0
-- jobsdb:apply functions/private/job_metrics_horizon.sql from 1.5.0
