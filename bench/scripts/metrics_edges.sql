-- bench/metrics_edges.py: finished jobs for system_metrics to read, written as the superuser
-- with session_replication_role = replica (as a restore would), so that no trigger marks their
-- hours stale: for the roll-up they are what a worker's completions are.

-- name: admin
-- sql:
insert into auth.users (id, aud, role, email, created_at, updated_at)
values ('00000000-0000-4000-8000-0000000000a1', 'authenticated', 'authenticated',
    'metrics@example.com', now(), now());
insert into public.profiles (id) values ('00000000-0000-4000-8000-0000000000a1');
insert into public.user_roles (user_id, role)
values ('00000000-0000-4000-8000-0000000000a1', 'admin');

-- name: jobs
-- sql:
-- %(n)s jobs finished one every %(every)s s back from %(upto)s: 14 job types in turn, 4%%
-- failed, 4%% cancelled, a third retried, run times from 2 to 15 s in steps of 13 ms.
set session_replication_role = replica;
insert into public.jobs (
    id, user_id, job_type, status, error_message, attempts, max_attempts, metadata,
    format, quality, model_type, created_at, started_at, completed_at, updated_at,
    worker_pool, fair_rank
)
select jobs_private.new_job_id(), '00000000-0000-4000-8000-0000000000a1', t.job_type, x.status,
    case when x.status = 'failed' then 'boom' end, 1 + g %% 3, 3, '{}', t.format, t.quality,
    t.model_type, c.at - make_interval(secs => 20 + g %% 11 + c.run),
    c.at - make_interval(secs => c.run), c.at, c.at, t.worker_pool, g
from generate_series(1, %(n)s) as g
cross join lateral (
    select case g %% 25 when 0 then 'failed' when 1 then 'cancelled' else 'completed' end as status
) as x
cross join lateral (
    select (%(upto)s)::timestamptz - make_interval(secs => g * %(every)s::float8) as at,
        2 + (g %% 997) * 0.013 as run
) as c
inner join (
    select j.*, row_number() over (order by j.job_type) - 1 as k from public.job_types as j
) as t on t.k = g %% 14;
set session_replication_role = origin;
