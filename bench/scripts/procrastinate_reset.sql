-- Procrastinate back to its backlog only (its registered workers stay).
truncate procrastinate_jobs cascade;
insert into procrastinate_jobs (queue_name, task_name, args)
select 'default', 'bench.task', jsonb_build_object('prompt', 'backlog job ' || g)
from generate_series(1, %(n)s) as g;
