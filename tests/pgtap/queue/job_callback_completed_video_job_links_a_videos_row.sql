-- A video job's first asset gets a videos row that jobs.video_id points at; image_id stays null.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'wan_video_fast', prompt := 'waves'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'wan', worker_id := 'gpu-1') as c
), true) is not null;
select tests.authenticate_as_service_role();
select public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    assets := jsonb_build_array(jsonb_build_object(
        'type', 'video', 'url', current_setting('t.alice') || '/v/waves.mp4',
        'thumbnail_url', current_setting('t.alice') || '/v/waves.jpg'
    ))
) ->> 'result' = 'completed';
select tests.clear_authentication();

select is(
    (select j.image_id from public.jobs as j where j.id = current_setting('t.job')::uuid),
    null,
    'image_id is null'
);
select isnt(
    (select j.video_id from public.jobs as j where j.id = current_setting('t.job')::uuid),
    null,
    'video_id is set'
);
select results_eq(
    format(
        $$select v.user_id, v.file_path, v.thumbnail_path, iv.asset_type, iv.bucket, iv.job_id
        from public.jobs as j
        join public.videos as v on v.id = j.video_id
        join public.images_videos as iv on iv.id = v.asset_id
        where j.id = %L$$,
        current_setting('t.job')
    ),
    format(
        $$values (
            %1$L::uuid, '%1$s/v/waves.mp4', '%1$s/v/waves.jpg', 'video', 'wan_video_fast',
            %2$L::uuid
        )$$,
        current_setting('t.alice'), current_setting('t.job')
    ),
    'the videos row belongs to the owner and points at the job''s first asset'
);
select is(
    (
        select count(*)::integer from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid
    ),
    1,
    'one output row'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'completed',
    'the job is completed'
);

select * from finish();
rollback;
