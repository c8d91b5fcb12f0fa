-- After procrastinate's own schema.sql: one worker row per client and a backlog.
select procrastinate_register_worker_v1() from generate_series(1, 16);
insert into procrastinate_jobs (queue_name, task_name, args)
select 'default', 'bench.task', jsonb_build_object('prompt', 'backlog job ' || g)
from generate_series(1, %(n)s) as g;
