-- jobsdb 1.10.0 -> 1.9.0: the way back, as a forward migration: 1.9.0's reads (through every
-- partition), system_metrics, seal and retirement, without jobs_private.history_split and its
-- functions. The CHECKs jobs_sealed_times on sealed partitions stay: they hold for every row,
-- and 1.9.0 neither reads nor needs them.
-- jobsdb:apply functions/api/library_items.sql from 1.9.0
-- jobsdb:apply functions/api/list_jobs.sql from 1.9.0
-- jobsdb:apply functions/api/workspace_groups.sql from 1.9.0
-- jobsdb:apply functions/private/retire_detach.sql from 1.9.0
-- jobsdb:apply functions/private/seal_move.sql from 1.9.0
-- jobsdb:apply functions/private/seal_prepare.sql from 1.9.0
-- jobsdb:apply functions/private/seal_step.sql from 1.9.0
-- jobsdb:apply functions/jobs_api/system_metrics.sql from 1.9.0
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_bound_times(integer);
-- squawk-ignore ban-drop-function
drop function jobs_api.history_split();
-- squawk-ignore ban-drop-function
drop function jobs_private.history_split_refresh();
-- squawk-ignore ban-drop-table
drop table jobs_private.history_split;
