-- pgbench: pgbench_pgmq_record.sql's three steps with each RPC's work inlined as one statement
-- (no function call, fewer statements): the ceiling of "pgmq + the spec's record", not a way
-- PostgREST can run it. Framed and pipelined like pgbench_jobsdb.sql; as the service role:
--   queue:    insert the job row, then pgmq.send of a message carrying what the worker needs;
--   claim:    pgmq.read of one message (30 s visibility timeout), the job row set processing;
--   complete: the output row inserted, the job row completed and linked to it, pgmq.archive.
\set uid random(1, 10000)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
with j as (
    insert into public.jobs (user_id, job_type, metadata, original_prompt, format, quality, model_type)
    values (('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, 'sdxl_image_fast', jsonb_build_object('prompt', 'a red fox in the snow', 'job_id', gen_random_uuid(), 'image_index', 0), 'a red fox in the snow', 'png', 'fast', 'sdxl')
    returning id, user_id, job_type, metadata
)
select s.msg_id from j, lateral pgmq.send('jobs', jsonb_build_object('job_id', j.id, 'user_id', j.user_id, 'job_type', j.job_type, 'metadata', j.metadata)) as s (msg_id);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
\endpipeline
with m as (
    -- limit 1 (one message is read): without it the planner expects a set-returning function's
    -- 1,000 rows and joins them to jobs by hash over a scan of the whole table
    select r.msg_id, r.message from pgmq.read('jobs', 30, 1) as r limit 1
)
update public.jobs as j
set status = 'processing', attempts = j.attempts + 1, started_at = now(), updated_at = now()
from m
where j.id = (m.message ->> 'job_id')::uuid
returning m.msg_id, j.id as job_id, j.user_id \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
with output as (
    insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    values (:user_id::uuid, :job_id::uuid, 0, 'image', 'images', 'u/' || :job_id::text || '/0.png', '0.png')
    returning id, job_id
),
done as (
    update public.jobs as j
    set status = 'completed', completed_at = now(), image_id = o.id, updated_at = now()
    from output as o
    where j.id = o.job_id and j.status = 'processing'
    returning j.id
)
select pgmq.archive('jobs', :msg_id::bigint) from done;
COMMIT;
\endpipeline
