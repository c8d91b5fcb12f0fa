-- Asset paths (url and thumbnail_url) must lie where the job type's asset_path_prefix says,
-- default the owner's folder '<user_id>/' as the app lays out Storage, and be keys Supabase
-- Storage accepts (no empty, "." or ".." segment): a worker cannot attach another user's file
-- to a job, directly or by a path that climbs out of the owner's folder. 22023 naming the
-- asset and the prefix; nothing written. The rule is data: '{user_id}/{job_id}/' narrows it
-- to the job's folder, null switches it off.
begin;
select plan(14);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.clear_authentication();
-- as a worker (pgTAP lives in schema extensions; rolled back with the test)
grant usage on schema extensions to jobs_worker;
select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;

-- job_callback of the claimed job with one asset: a path, or {url, thumbnail_url}
create function pg_temp.report(url text, thumbnail text default null)
returns text
language sql
as $$
    select format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'),
        case when thumbnail is null then jsonb_build_array(url)
            else jsonb_build_array(jsonb_build_object('url', url, 'thumbnail_url', thumbnail))
        end
    );
$$;

select throws_ok(
    pg_temp.report(current_setting('t.bob') || '/secret.png'),
    '22023',
    format(
        'assets[0]: url %L is not under %L (job_types.asset_path_prefix of sdxl_image_fast)',
        current_setting('t.bob') || '/secret.png', current_setting('t.alice') || '/'
    ),
    'a path in another user''s folder is refused, naming the asset and the prefix'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '/ok.png', current_setting('t.bob') || '/t.png'),
    '22023', null,
    'so is a thumbnail in another user''s folder'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '/../' || current_setting('t.bob') || '/x.png'),
    '22023', null,
    'a ".." segment climbing out of the owner''s folder'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '/a/./b.png'), '22023', null,
    'a "." segment'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '//x.png'), '22023', null, 'an empty segment'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '/%2e%2e/x.png'), '22023', null,
    'a percent-encoded segment (not a character Storage allows in a key)'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '/a\..\b.png'), '22023', null,
    'a backslash'
);
select throws_ok(
    pg_temp.report('/' || current_setting('t.alice') || '/x.png'), '22023', null,
    'a leading slash'
);
select throws_ok(
    pg_temp.report(current_setting('t.alice')), '22023', null,
    'the folder''s name without its slash'
);
select tests.clear_authentication();
select is(
    (
        select array[j.status, (select count(*) from public.images_videos)::text]
        from public.jobs as j where j.id = current_setting('t.job')::uuid
    ),
    array['processing', '0'],
    'nothing was written'
);

-- the rule is data: the job's own folder
update public.job_types set asset_path_prefix = '{user_id}/{job_id}/'
where job_type = 'sdxl_image_fast';
select tests.authenticate_as_worker();
select throws_ok(
    pg_temp.report(current_setting('t.alice') || '/other-job.png'), '22023',
    format(
        'assets[0]: url %L is not under %L (job_types.asset_path_prefix of sdxl_image_fast)',
        current_setting('t.alice') || '/other-job.png',
        current_setting('t.alice') || '/' || current_setting('t.job') || '/'
    ),
    '{user_id}/{job_id}/ keeps outputs in the job''s folder'
);
select lives_ok(
    pg_temp.report(
        current_setting('t.alice') || '/' || current_setting('t.job') || '/out (1).png',
        current_setting('t.alice') || '/' || current_setting('t.job') || '/thumb_1.jpg'
    ),
    'a path in it, with characters Storage allows, is stored'
);
select tests.clear_authentication();
select is(
    (
        select iv.file_path from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid
    ),
    current_setting('t.alice') || '/' || current_setting('t.job') || '/out (1).png',
    'as sent'
);

-- no rule: a type whose outputs live outside Storage
update public.job_types set asset_path_prefix = null where job_type = 'rv51_fast';
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'rv51_fast', prompt := 'x') is not null;
select tests.authenticate_as_service_role();
select is(
    (
        select
            public.job_callback(
                job_id := c.job_id, status := 'completed', lease_token := c.lease_token,
                assets := '["https://cdn.example.com/any/where.png"]'
            ) ->> 'result'
        from public.claim_jobs(worker_pool := 'rv51', worker_id := 'gpu-2') as c
    ),
    'completed',
    'asset_path_prefix null: paths are not checked'
);
select tests.clear_authentication();

select * from finish();
rollback;
