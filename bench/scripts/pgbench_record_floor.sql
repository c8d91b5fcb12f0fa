-- pgbench: the spec's record alone, written three times per job as the lifecycle must write it,
-- with nothing else: on bench_pgmq_record's jobs table (the spec's columns, its five recommended
-- indexes, foreign keys and RLS; bench/scripts/pgmq_record_schema.sql), by the table owner, in
-- three autocommit statements: insert the job; set it processing, by its id (no queue to search:
-- the claim is handed the job); insert its output row and complete it, linked to the output.
-- No function, no framing, no queue: a ceiling for any design that keeps the spec's record with
-- one transaction per step (a user queues, a worker claims, a worker reports), jobsdb included.
\set uid random(1, 10000)
insert into public.jobs (user_id, job_type, metadata, original_prompt, format, quality, model_type)
values (('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, 'sdxl_image_fast', jsonb_build_object('prompt', 'a red fox in the snow', 'job_id', gen_random_uuid(), 'image_index', 0), 'a red fox in the snow', 'png', 'fast', 'sdxl')
returning id as job_id, user_id \gset
update public.jobs set status = 'processing', attempts = attempts + 1, started_at = now(), updated_at = now()
where id = :job_id::uuid and status = 'queued';
with output as (
    insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    values (:user_id::uuid, :job_id::uuid, 0, 'image', 'images', :user_id::text || '/' || :job_id::text || '/0.png', '0.png')
    returning id, job_id
)
update public.jobs as j
set status = 'completed', completed_at = now(), image_id = o.id, updated_at = now()
from output as o
where j.id = o.job_id and j.status = 'processing';
