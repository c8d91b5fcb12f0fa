-- pgbench: ten jobs through jobsdb: one queue_job with num_images 10 (user), one claim_jobs
-- with max_jobs 10, then ten job_callback calls (it takes one job per call); 12 transactions
-- of PostgREST's statements, pipelined into three network round trips like the batched raw
-- baseline's three statements.
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
select r.body -> 0 ->> 'job_id' as j0, r.body -> 0 ->> 'lease_token' as t0, r.body -> 1 ->> 'job_id' as j1, r.body -> 1 ->> 'lease_token' as t1, r.body -> 2 ->> 'job_id' as j2, r.body -> 2 ->> 'lease_token' as t2, r.body -> 3 ->> 'job_id' as j3, r.body -> 3 ->> 'lease_token' as t3, r.body -> 4 ->> 'job_id' as j4, r.body -> 4 ->> 'lease_token' as t4, r.body -> 5 ->> 'job_id' as j5, r.body -> 5 ->> 'lease_token' as t5, r.body -> 6 ->> 'job_id' as j6, r.body -> 6 ->> 'lease_token' as t6, r.body -> 7 ->> 'job_id' as j7, r.body -> 7 ->> 'lease_token' as t7, r.body -> 8 ->> 'job_id' as j8, r.body -> 8 ->> 'lease_token' as t8, r.body -> 9 ->> 'job_id' as j9, r.body -> 9 ->> 'lease_token' as t9 from r \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j0::text, 'status', 'completed', 'lease_token', :t0::text, 'assets', json_build_array('u/' || :j0::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j1::text, 'status', 'completed', 'lease_token', :t1::text, 'assets', json_build_array('u/' || :j1::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j2::text, 'status', 'completed', 'lease_token', :t2::text, 'assets', json_build_array('u/' || :j2::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j3::text, 'status', 'completed', 'lease_token', :t3::text, 'assets', json_build_array('u/' || :j3::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j4::text, 'status', 'completed', 'lease_token', :t4::text, 'assets', json_build_array('u/' || :j4::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j5::text, 'status', 'completed', 'lease_token', :t5::text, 'assets', json_build_array('u/' || :j5::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j6::text, 'status', 'completed', 'lease_token', :t6::text, 'assets', json_build_array('u/' || :j6::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j7::text, 'status', 'completed', 'lease_token', :t7::text, 'assets', json_build_array('u/' || :j7::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j8::text, 'status', 'completed', 'lease_token', :t8::text, 'assets', json_build_array('u/' || :j8::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.job_callback(job_id := a.job_id, status := a.status, lease_token := a.lease_token, assets := a.assets))
from json_to_record(json_build_object('job_id', :j9::text, 'status', 'completed', 'lease_token', :t9::text, 'assets', json_build_array('u/' || :j9::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
\endpipeline
