-- jobsdb 1.8.0 -> 1.7.0: the way back, as a forward migration. Partitions sealed out of the
-- hot leaf stay where they are: 1.7.0 reads jobs through the parent and works on the hot leaf,
-- and their CHECK keeps sealed jobs finished (a retry of one fails with 23514 instead of
-- 1.8.0's PT409). The functions dropped are the owner role's, which no client may call.
-- squawk-ignore ban-drop-function
drop function jobs_private.retire_partition(regclass, interval);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_step(interval, interval);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_check_keys();
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_move(regclass, uuid, bigint, integer);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_bound(uuid, integer);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_keys(regclass, integer);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_prepare(interval);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_clean(integer);
-- squawk-ignore ban-drop-function
drop function jobs_private.seal_low_bound();
-- squawk-ignore ban-drop-function
drop function jobs_private.lock_tables_briefly(regclass[], text, integer);
-- jobsdb:apply functions/jobs_api/retry_job.sql from 1.7.0
