-- jobsdb 1.15.0 -> 1.14.0: the way back, as a forward migration.
--
-- 1.14.0's system_metrics, and its seal and retirement functions, which seal whether or not a
-- publication carries jobs and say what a copy and a sealed partition are each for
-- themselves; then without jobs_private.seal_check_publications, seal_copies and
-- sealed_partitions, which only they called.
-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.14.0
-- jobsdb:apply functions/private/retire_detach.sql from 1.14.0
-- jobsdb:apply functions/private/retire_partition.sql from 1.14.0
-- jobsdb:apply functions/private/seal_bound_times.sql from 1.14.0
-- jobsdb:apply functions/private/seal_clean.sql from 1.14.0
-- jobsdb:apply functions/private/seal_move.sql from 1.14.0
-- jobsdb:apply functions/private/seal_prepare.sql from 1.14.0
-- jobsdb:apply functions/private/seal_step.sql from 1.14.0
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_check_publications();
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_copies();
-- squawk-ignore ban-drop-function
drop function jobs_private.sealed_partitions();
