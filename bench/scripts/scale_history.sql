-- The history of `make bench-scale` (bench/scale.py runs each entry in order, as superuser, in
-- the bench database after jobsdb_setup.sql; %(n)s jobs, %(users)s spread users, %(step)s =
-- n / 10000). Loaded the way a restore loads: triggers and FK checks off
-- (session_replication_role = replica), the plain indexes of jobs and images_videos dropped
-- first and built again after, from their own definitions. Rows are consistent with every
-- CHECK constraint.
--
-- Users: 1..10000 and the admin 10001 come from jobsdb_setup.sql (the claim's backlog is
-- theirs); 10002 is the user with exactly 10,000 jobs (one every %(step)s-th job, so spread
-- over the whole history); 10003..10005 are heavy users (a tenth of all jobs between them);
-- every other job goes to one of %(users)s users from 10006 on, by a hash of its number.
-- Jobs: created in id order over the last 180 days (ids as jobs_private.new_job_id makes them:
-- a sequence, then random bits); by a hash, 94%% completed, 4%% failed, 2%% cancelled; run times
-- from 3 to 63 s to the microsecond (as the clock writes them: nearly every one distinct); prompts
-- of 80 to 400 characters; one output row per completed job.

-- name: users
-- sql:
insert into auth.users (id, email, aud, role, raw_app_meta_data, created_at, updated_at)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'u' || g || '@scale.test',
    'authenticated', 'authenticated', '{"provider": "email"}', now(), now()
from generate_series(10002, 10005 + %(users)s) as g
on conflict do nothing;
insert into public.profiles (id)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid
from generate_series(10002, 10005 + %(users)s) as g
on conflict do nothing;

-- name: drop indexes
-- sql:
set session_replication_role = replica;
create temp table rebuild as
select i.indexname, i.indexdef from pg_catalog.pg_indexes as i
where i.schemaname = 'public' and i.tablename in ('jobs', 'images_videos')
    and not exists (select from pg_catalog.pg_constraint as c where c.conname = i.indexname);
do $$
declare r record;
begin
    for r in select b.indexname from rebuild as b loop
        execute format('drop index public.%%I', r.indexname);
    end loop;
end $$;
create temp table tt as
select (row_number() over (order by t.job_type) - 1)::int as n, t.*
from public.job_types as t;

-- name: jobs
-- sql:
insert into public.jobs (
    id, user_id, job_type, status, error_message, attempts, max_attempts, metadata, image_id,
    format, quality, model_type, moderation_status, enhancement_strategy, original_prompt,
    enhanced_prompt, destination, created_at, started_at, completed_at, updated_at, run_at,
    worker_pool, fair_rank, last_error_at
)
select
    g.id, g.user_id, t.job_type, s.status,
    case when s.status = 'failed' then 'CUDA out of memory (worker gpu-' || g.i %% 8 || ')' end,
    case s.status when 'failed' then 3 when 'cancelled' then 0 else 1 end, 3,
    jsonb_build_object(
        'prompt', p.prompt, 'negative_prompt', 'blurry, low quality, watermark',
        'job_id', g.id, 'image_index', 0, 'num_images', 1, 'seed', g.h %% 1000000,
        'steps', 30, 'cfg_scale', 7.5, 'width', 1024, 'height', 1024
    ),
    case when s.status = 'completed' and t.media_type = 'image'
        then md5('sa' || g.i)::uuid end,
    t.format, t.quality, t.model_type,
    case when g.h %% 10 = 0 then 'approved' else 'pending' end,
    case when g.h %% 10 < 3 then 'qwen' end,
    p.prompt,
    case when g.h %% 10 < 3 then p.prompt || ', highly detailed, sharp focus, soft light' end,
    case when g.h %% 4 = 0 then 'workspace' else 'library' end,
    g.created_at,
    case when s.status <> 'cancelled' then g.created_at + interval '2 s' end,
    g.created_at + make_interval(secs => 5 + (g.h %% 60000000) / 1000000.0),
    g.created_at + make_interval(secs => 5 + (g.h %% 60000000) / 1000000.0),
    g.created_at, t.worker_pool, g.i,
    case when s.status = 'failed' then g.created_at + make_interval(secs => 5 + (g.h %% 60000000) / 1000000.0) end
from (
    select
        i, abs(hashint8(i)) as h,
        (lpad(to_hex(i), 12, '0') || right(md5('sj' || i), 20))::uuid as id,
        ('00000000-0000-4000-8000-' || lpad((case
            when i %% %(step)s = 0 and i <= 10000 * %(step)s then 10002
            when i %% 10 = 1 then 10003 + (i / 10) %% 3
            else 10006 + (i * 2654435761) %% %(users)s
        end)::text, 12, '0'))::uuid as user_id,
        now() - interval '180 days' * (1 - i::float8 / %(n)s) - interval '10 minutes' as created_at
    from generate_series(1, %(n)s) as i
) as g
cross join lateral (
    select case when g.h %% 100 < 4 then 'failed' when g.h %% 100 < 6 then 'cancelled'
        else 'completed' end as status
) as s
cross join lateral (
    select left(repeat('a photorealistic portrait of a red fox in fresh snow, golden hour, '
        || 'cinematic lighting, 35mm film grain, shallow depth of field, ', 4),
        80 + g.h %% 320) || ' #' || g.i as prompt
) as p
inner join tt as t on t.n = g.i %% 14;

-- name: outputs
-- sql:
insert into public.images_videos (
    id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name, thumbnail_path,
    metadata, created_at
)
select
    md5('sa' || j.fair_rank)::uuid, j.user_id, j.id, 0, t.media_type, t.output_bucket,
    j.user_id || '/' || to_char(j.completed_at, 'YYYY/MM/DD') || '/' || j.id || '/0.'
        || t.format,
    '0.' || t.format,
    j.user_id || '/' || to_char(j.completed_at, 'YYYY/MM/DD') || '/' || j.id || '/0.thumb.webp',
    jsonb_build_object('width', 1024, 'height', 1024, 'bytes', 1048576 + j.fair_rank %% 524288),
    j.completed_at
from public.jobs as j
inner join tt as t on t.job_type = j.job_type
where j.status = 'completed';

-- name: build indexes
-- sql:
set maintenance_work_mem = '512MB';
do $$
declare r record;
begin
    for r in select b.indexdef from rebuild as b loop
        -- a partitioned table's index reads ON ONLY: built on its partitions too
        execute replace(r.indexdef, ' ON ONLY ', ' ON ');
    end loop;
end $$;
set session_replication_role = origin;
select setval('jobs_private.job_id_seq', %(n)s + 1);
