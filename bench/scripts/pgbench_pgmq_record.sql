-- pgbench: one job through "pgmq + the spec's record", the design a Supabase team builds with
-- Supabase Queues: its edge functions, with the service key, call one RPC of its own per queue
-- step (bench/scripts/pgmq_record_schema.sql), which writes the job's record beside the queue:
--   enqueue_job:    insert the job row, pgmq.send of a message carrying what the worker needs;
--   start_next_job: pgmq.read of one message (30 s visibility timeout), the job row set
--                   processing;
--   complete_job:   the output row inserted, the job row completed and linked to it,
--                   pgmq.archive of the message.
-- Three transactions exactly as PostgREST frames an RPC (BEGIN; one set_config statement for
-- search_path, role and JWT claims; the function with named arguments from json_to_record;
-- COMMIT), pipelined into three network round trips like pgbench_jobsdb.sql.
\set uid random(1, 10000)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.enqueue_job(user_id := a.user_id, job_type := a.job_type, prompt := a.prompt))
from json_to_record(('{"user_id":"00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0') || '","job_type":"sdxl_image_fast","prompt":"a red fox in the snow"}')::json) as a (user_id uuid, job_type text, prompt text);
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
\endpipeline
with r as (
    select to_jsonb(public.start_next_job()) as body
)
select r.body ->> 'msg_id' as msg_id, r.body -> 'message' ->> 'job_id' as job_id, r.body -> 'message' ->> 'user_id' as user_id from r \gset
\startpipeline
COMMIT;
BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE;
select set_config('search_path', 'public, extensions', true), set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role":"service_role"}', true), set_config('request.method', 'POST', true);
select to_jsonb(public.complete_job(msg_id := a.msg_id, job_id := a.job_id, user_id := a.user_id, file_path := a.file_path))
from json_to_record(json_build_object('msg_id', :msg_id::bigint, 'job_id', :job_id::text, 'user_id', :user_id::text, 'file_path', :user_id::text || '/' || :job_id::text || '/0.png')) as a (msg_id bigint, job_id uuid, user_id uuid, file_path text);
COMMIT;
\endpipeline
