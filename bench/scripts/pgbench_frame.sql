-- pgbench: the PostgREST framing of pgbench_jobsdb.sql with no queue work: the same three
-- transactions, set_config statements, json_to_record argument parsing, round trips and
-- answers, but each call only echoes its arguments (no write, so no WAL at commit). Its jobs/s
-- is the ceiling of any design driven the way PostgREST drives jobsdb on this server.
\set uid random(1, 10000)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"sub":"00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0') || '","role":"authenticated","aud":"authenticated","app_metadata":{"provider":"email"}}', true), set_config('request.method', 'POST', true);
select to_jsonb(a)
from json_to_record('{"job_type":"sdxl_image_fast","prompt":"a red fox in the snow"}'::json) as a (job_type text, prompt text);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
\endpipeline
with r as (
    select coalesce(jsonb_agg(to_jsonb(c)), '[]') as body
    from json_to_record('{"worker_pool":"sdxl","worker_id":"bench-worker","max_jobs":1}'::json) as a (worker_pool text, worker_id text, max_jobs integer),
        lateral (select gen_random_uuid() as job_id, gen_random_uuid() as lease_token, a.worker_id) as c
)
select r.body -> 0 ->> 'job_id' as j0, r.body -> 0 ->> 'lease_token' as t0, r.body -> 0 ->> 'user_id' as u0 from r \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'jobs_worker', true), set_config('request.jwt.claims', '{"role":"jobs_worker"}', true), set_config('request.method', 'POST', true);
select to_jsonb(a)
from json_to_record(json_build_object('job_id', :j0::text, 'status', 'completed', 'lease_token', :t0::text, 'assets', json_build_array(:u0::text || '/' || :j0::text || '/0.png'))) as a (job_id uuid, status text, lease_token uuid, assets jsonb);
COMMIT;
\endpipeline
