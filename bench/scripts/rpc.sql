-- The write calls of the latency rows, shaped as PostgREST sends them (named arguments taken
-- from the JSON body). The caller runs them inside BEGIN + set_config(role, claims).

-- name: claim
-- sql:
select coalesce(jsonb_agg(to_jsonb(c)), '[]')
from json_to_record('{"worker_pool":"sdxl","worker_id":"bench-worker","max_jobs":1}'::json)
    as a (worker_pool text, worker_id text, max_jobs integer),
    lateral public.claim_jobs(worker_pool := a.worker_pool, worker_id := a.worker_id,
        max_jobs := a.max_jobs) as c

-- name: queue_job
-- sql:
select to_jsonb(public.queue_job(job_type := a.job_type, prompt := a.prompt))
from json_to_record('{"job_type":"sdxl_image_fast","prompt":"a red fox in the snow"}'::json)
    as a (job_type text, prompt text)

-- name: system_metrics
-- sql:
select public.system_metrics(time_window := %(window)s::interval)
