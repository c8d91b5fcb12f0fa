-- pgbench: one job through jobsdb with the statements PostgREST sends: queue_job as an
-- authenticated user, claim_jobs and job_callback (one image asset) as jobs_worker; three
-- transactions (BEGIN; set_config of role and claims; the call; COMMIT). Statements are
-- pipelined so that a job costs three network round trips, like the raw baseline's three
-- autocommit statements: queue_job + COMMIT + the claim's BEGIN/set_config, then the claim
-- (its result is needed), then COMMIT + the callback transaction.
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
    from json_to_record('{"worker_pool":"sdxl","worker_id":"bench-worker","max_jobs":1}'::json) as a (worker_pool text, worker_id text, max_jobs integer),
        lateral public.claim_jobs(worker_pool := a.worker_pool, worker_id := a.worker_id, max_jobs := a.max_jobs) as c
)
select r.body -> 0 ->> 'job_id' as j0, r.body -> 0 ->> 'lease_token' as t0, r.body -> 0 ->> 'user_id' as u0 from r \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j0::text, 'status', 'completed', 'lease_token', :t0::text, 'assets', json_build_array(:u0::text || '/' || :j0::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
\endpipeline
