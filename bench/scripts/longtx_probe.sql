-- The long-transaction row's probe: one more client, a job's lifecycle about 20 times a second,
-- timing the claim alone (the pgbench clients give jobs/s, not per-statement latency).
-- jobsdb: PostgREST-shaped (the caller runs each inside BEGIN + set_config(role, claims));
-- raw: the raw baseline's autocommit statements. Each claim takes one job, which the probe then
-- completes, and each queue adds one, so the backlog stays where pgbench keeps it.

-- name: jobsdb
-- queue:
select to_jsonb(public.queue_job(job_type := a.job_type, prompt := a.prompt))
from json_to_record('{"job_type":"sdxl_image_fast","prompt":"a red fox in the snow"}'::json)
    as a (job_type text, prompt text)
-- claim:
select c.job_id, c.lease_token, c.user_id
from json_to_record('{"worker_pool":"sdxl","worker_id":"bench-probe","max_jobs":1}'::json)
    as a (worker_pool text, worker_id text, max_jobs integer),
    lateral public.claim_jobs(worker_pool := a.worker_pool, worker_id := a.worker_id,
        max_jobs := a.max_jobs) as c
-- complete:
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status,
    lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', %(job_id)s::text, 'status', 'completed',
    'lease_token', %(token)s::text,
    'assets', json_build_array(%(user_id)s::text || '/' || %(job_id)s::text || '/0.png')))
    as a (job_id uuid, status text, lease_token uuid, assets jsonb)

-- name: raw
-- queue:
insert into raw_jobs (payload) values ('{"prompt":"a red fox in the snow"}')
-- claim:
update raw_jobs set status = 'running', started_at = now(), worker = 'bench-probe'
where id = (
    select id from raw_jobs where status = 'queued' order by id limit 1 for update skip locked
)
returning id, null
-- complete:
update raw_jobs set status = 'done', finished_at = now() where id = %(job_id)s::bigint
