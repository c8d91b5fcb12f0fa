-- jobsdb 1.15.0 -> 1.14.0: the way back, as a forward migration.
--
-- 1.14.0's seal_prepare and seal_move, which seal whether or not a publication carries jobs,
-- and without jobs_private.seal_check_publications, which only they called.
-- jobsdb:apply functions/private/seal_move.sql from 1.14.0
-- jobsdb:apply functions/private/seal_prepare.sql from 1.14.0
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_check_publications();
