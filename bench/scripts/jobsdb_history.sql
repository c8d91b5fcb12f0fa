-- %(n)s finished jobs over users 1..10000, created over the last 30 days in id order: 94%%
-- completed with one image asset each, 4%% failed, 2%% cancelled. Bulk load as superuser with
-- session_replication_role = replica (no triggers, no FK checks), as a restore would.
set session_replication_role = replica;
insert into public.jobs (
    id, user_id, job_type, status, error_message, attempts, max_attempts, metadata, image_id,
    format, quality, model_type, original_prompt, created_at, started_at, completed_at,
    updated_at, worker_pool, fair_rank
)
select
    md5('job' || g)::uuid,
    ('00000000-0000-4000-8000-' || lpad((1 + g %% 10000)::text, 12, '0'))::uuid,
    t.job_type,
    case g %% 50 when 0 then 'failed' when 1 then 'cancelled' else 'completed' end,
    case g %% 50 when 0 then 'worker crashed' end,
    1, 3,
    jsonb_build_object('prompt', 'history prompt ' || g, 'job_id', md5('job' || g)::uuid,
        'image_index', 0, 'num_images', 1),
    case when g %% 50 > 1 then md5('img' || g)::uuid end,
    t.format, t.quality, t.model_type, 'history prompt ' || g,
    c.created_at, c.created_at + interval '5 seconds', c.created_at + interval '20 seconds',
    c.created_at + interval '20 seconds', t.worker_pool, g
from generate_series(1, %(n)s) as g
cross join lateral (
    select now() - interval '30 days' * (1 - g::float8 / %(n)s) - interval '1 minute' as created_at
) as c
inner join public.job_types as t
    on t.job_type = (array['sdxl_image_fast', 'sdxl_image_high', 'image_fast', 'video_fast'])[1 + g %% 4];
insert into public.images_videos (
    id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name, created_at
)
select
    md5('img' || g)::uuid,
    ('00000000-0000-4000-8000-' || lpad((1 + g %% 10000)::text, 12, '0'))::uuid,
    md5('job' || g)::uuid, 0, 'image', 'sdxl_image_fast',
    'u/' || g || '/0.png', '0.png',
    now() - interval '30 days' * (1 - g::float8 / %(n)s)
from generate_series(1, %(n)s) as g
where g %% 50 > 1;
set session_replication_role = origin;
-- system_metrics' roll-up of the closed hours (pg_cron runs it every five minutes in a project).
select jobs_private.rollup_job_metrics();
