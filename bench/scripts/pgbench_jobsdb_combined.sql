-- pgbench: one job through jobsdb as `jobsdb worker` runs a busy pool: queue_job as an
-- authenticated user, then, as jobs_worker, job_callback_and_claim reporting the job this client
-- claimed in its previous run (completed, one image asset) and claiming the next: two
-- transactions per job (BEGIN; set_config of role and claims; the call; COMMIT), pipelined into
-- three round trips like the lifecycle's: queue_job + COMMIT + the worker's BEGIN/set_config,
-- then the call (its result is needed), then COMMIT. A client's first report names no job
-- (pgbench -D: answered unknown_job, the claim still runs).
\set uid random(1, 10000)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0') || '","role":"authenticated","aud":"authenticated","app_metadata":{"provider":"email"}}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.queue_job(job_type := a.job_type, prompt := a.prompt))
from json_to_record('{"job_type":"sdxl_image_fast","prompt":"a red fox in the snow"}'::json) as a (job_type text, prompt text);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
\endpipeline
with r as (
    select coalesce(jsonb_agg(to_jsonb(c)), '[]') as body
    from json_to_record(json_build_object('report', json_build_object('job_id', :j0::text, 'status', 'completed', 'lease_token', :t0::text, 'assets', json_build_array(:u0::text || '/' || :j0::text || '/0.png')), 'worker_pool', 'sdxl', 'worker_id', 'bench-worker', 'max_jobs', 1)) as a (report jsonb, worker_pool text, worker_id text, max_jobs integer),
        lateral public.job_callback_and_claim(report := a.report, worker_pool := a.worker_pool, worker_id := a.worker_id, max_jobs := a.max_jobs) as c
)
select r.body -> 0 ->> 'job_id' as j0, r.body -> 0 ->> 'lease_token' as t0, r.body -> 0 ->> 'user_id' as u0 from r \gset
\startpipeline
COMMIT;
\endpipeline
