-- pgbench: ten jobs through jobsdb in three calls, as PostgREST sends them: one queue_job with
-- num_images 10 (user), one claim_jobs with max_jobs 10 and one job_callbacks carrying the ten
-- reports (completed, one image asset each) as jobs_worker: 3 transactions per 10 jobs,
-- pipelined into three network round trips like the batched raw baseline's three statements.
-- The reports are built from the claim's answer (here by the server, as the one-job script
-- builds its callback body; a worker builds them itself).
\set uid random(1, 10000)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0') || '","role":"authenticated","aud":"authenticated","app_metadata":{"provider":"email"}}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.queue_job(job_type := a.job_type, prompt := a.prompt, num_images := a.num_images))
from json_to_record('{"job_type":"sdxl_image_fast","prompt":"a red fox in the snow","num_images":10}'::json) as a (job_type text, prompt text, num_images integer);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
\endpipeline
with r as (
    select coalesce(jsonb_agg(to_jsonb(c)), '[]') as body
    from json_to_record('{"worker_pool":"sdxl","worker_id":"bench-worker","max_jobs":10}'::json) as a (worker_pool text, worker_id text, max_jobs integer),
        lateral public.claim_jobs(worker_pool := a.worker_pool, worker_id := a.worker_id, max_jobs := a.max_jobs) as c
)
select r.body::text as claimed from r \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
with r as (
    select coalesce(jsonb_agg(to_jsonb(c)), '[]') as body
    from json_to_record(json_build_object('reports', (
            select json_agg(json_build_object('job_id', e ->> 'job_id', 'status', 'completed', 'lease_token', e ->> 'lease_token', 'assets', json_build_array((e ->> 'user_id') || '/' || (e ->> 'job_id') || '/0.png')))
            from jsonb_array_elements(:claimed::jsonb) as e
        ))) as a (reports jsonb),
        lateral public.job_callbacks(reports := a.reports) as c
)
select r.body from r;
COMMIT;
\endpipeline
