-- pgbench: the spec's record alone (pgbench_record_floor.sql's three statements, the same
-- table), each in a transaction framed as PostgREST frames a request of the service role
-- (BEGIN; one set_config statement for search_path, role and JWT claims; the statement with its
-- values parsed from the request's JSON; COMMIT), with the same three network round trips as
-- pgbench_jobsdb.sql: the insert (its id is needed), then set processing and the output +
-- completion pipelined behind it. Still no function and no queue: the ceiling of any design
-- that keeps the spec's record with one transaction per step and is called through PostgREST.
\set uid random(1, 10000)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
\endpipeline
insert into public.jobs (user_id, job_type, metadata, original_prompt, format, quality, model_type)
select a.user_id, a.job_type, jsonb_build_object('prompt', a.prompt, 'job_id', gen_random_uuid(), 'image_index', 0), a.prompt, 'png', 'fast', 'sdxl'
from json_to_record(('{"user_id":"00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0') || '","job_type":"sdxl_image_fast","prompt":"a red fox in the snow"}')::json) as a (user_id uuid, job_type text, prompt text)
returning id as job_id, user_id \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'PATCH', true);
update public.jobs as j set status = 'processing', attempts = j.attempts + 1, started_at = now(), updated_at = now()
from json_to_record(json_build_object('id', :job_id::text)) as a (id uuid)
where j.id = a.id and j.status = 'queued';
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
with output as (
    insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    select a.user_id, a.job_id, 0, 'image', 'images', a.file_path, '0.png'
    from json_to_record(json_build_object('job_id', :job_id::text, 'user_id', :user_id::text, 'file_path', :user_id::text || '/' || :job_id::text || '/0.png')) as a (job_id uuid, user_id uuid, file_path text)
    returning id, job_id
)
update public.jobs as j
set status = 'completed', completed_at = now(), image_id = o.id, updated_at = now()
from output as o
where j.id = o.job_id and j.status = 'processing';
COMMIT;
\endpipeline
