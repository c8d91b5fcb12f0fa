-- bench_pgmq_record, after pgmq's own SQL (as the owner): the queue (a logged table, Supabase
-- Queues' default), the service role's rights on it (what Supabase grants when a project
-- exposes Queues to its server-side code), and the standing backlog: each queued job has its
-- row in public.jobs and its message, which carries what the worker needs.
select pgmq.create('jobs');
grant usage on schema pgmq to service_role;
grant select, insert, update, delete on all tables in schema pgmq to service_role;
grant usage, select, update on all sequences in schema pgmq to service_role;
grant execute on all functions in schema pgmq to service_role;
with j as (
    insert into public.jobs (user_id, job_type, metadata, original_prompt, format, quality, model_type)
    select ('00000000-0000-4000-8000-' || lpad((1 + g %% 10000)::text, 12, '0'))::uuid,
        'sdxl_image_fast',
        jsonb_build_object('prompt', 'backlog job ' || g, 'job_id', gen_random_uuid(), 'image_index', 0),
        'backlog job ' || g, 'png', 'fast', 'sdxl'
    from generate_series(1, %(n)s) as g
    returning id, user_id, job_type, metadata
)
select count(*) from pgmq.send_batch('jobs', array(
    select jsonb_build_object('job_id', j.id, 'user_id', j.user_id, 'job_type', j.job_type,
        'metadata', j.metadata)
    from j));
