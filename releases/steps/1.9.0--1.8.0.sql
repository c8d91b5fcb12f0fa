-- jobsdb 1.9.0 -> 1.8.0: the way back, as a forward migration: 1.8.0's brief locks and seal
-- move, without retire_detach and jobs_ddl_locks (1.8.0's `jobsdb history retire` detaches
-- concurrently; a table a 1.9.0 command detached and left as jobs_private.jobs_retired_* is
-- the owner's to drop).
-- squawk-ignore ban-drop-function
drop function jobs_private.retire_detach(regclass, integer);

-- jobsdb:apply functions/private/seal_move.sql from 1.8.0
-- squawk-ignore ban-drop-function
drop function jobs_private.jobs_ddl_locks(regclass);
-- jobsdb:apply functions/private/lock_tables_briefly.sql from 1.8.0
