-- pgbench: pgbench_record_floor.sql ten jobs at a time: each of its three statements writes ten
-- rows (the insert of ten jobs, ten set processing, ten outputs and ten completions). The
-- ceiling of a batched path that keeps the spec's record.
\set uid random(1, 10000)
with inserted as (
    insert into public.jobs (user_id, job_type, metadata, original_prompt, format, quality, model_type)
    select ('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, 'sdxl_image_fast', jsonb_build_object('prompt', 'a red fox in the snow', 'job_id', gen_random_uuid(), 'image_index', g.i - 1), 'a red fox in the snow', 'png', 'fast', 'sdxl'
    from generate_series(1, 10) as g (i)
    returning id
)
select array_agg(i.id)::text as ids from inserted as i \gset
update public.jobs set status = 'processing', attempts = attempts + 1, started_at = now(), updated_at = now()
where id = any(:ids::uuid[]) and status = 'queued';
with output as (
    insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket, file_path, file_name)
    select ('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, u.id, 0, 'image', 'images', u.id::text || '/0.png', '0.png'
    from unnest(:ids::uuid[]) as u (id)
    returning id, job_id
)
update public.jobs as j
set status = 'completed', completed_at = now(), image_id = o.id, updated_at = now()
from output as o
where j.id = o.job_id and j.status = 'processing';
