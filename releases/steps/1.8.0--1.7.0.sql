-- jobsdb 1.8.0 -> 1.7.0: the way back, as a forward migration. Partitions sealed out of the
-- hot leaf stay where they are: 1.7.0 reads jobs through the parent and works on the hot leaf,
-- and their CHECK keeps sealed jobs finished (a retry of one fails with 23514 instead of
-- 1.8.0's PT409).
drop function jobs_private.retire_partition(regclass, interval);
drop function jobs_private.seal_step(interval, interval);
drop function jobs_private.seal_check_keys();
drop function jobs_private.seal_move(regclass, uuid, bigint, integer);
drop function jobs_private.seal_bound(uuid, integer);
drop function jobs_private.seal_keys(regclass, integer);
drop function jobs_private.seal_prepare(interval);
drop function jobs_private.seal_clean(integer);
drop function jobs_private.seal_low_bound();
drop function jobs_private.lock_tables_briefly(regclass[], text, integer);
-- jobsdb:apply functions/jobs_api/retry_job.sql from 1.7.0
