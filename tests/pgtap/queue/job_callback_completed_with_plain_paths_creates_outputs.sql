-- The older worker payload: assets as plain path strings. Each becomes an output row of the
-- job type's media type; the first is the job's image_id. No lease token: the job-callback edge
-- function relays that payload as the service role (a jobs_worker must present its token).
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'rv51_fast', prompt := 'a face'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select public.claim_jobs(worker_pool := 'rv51', worker_id := 'gpu-1') is not null;
select tests.authenticate_as_service_role();
select set_config('t.answer', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    assets := jsonb_build_array(
        current_setting('t.alice') || '/outputs/2030/face-0.png',
        current_setting('t.alice') || '/outputs/2030/face-1.png',
        current_setting('t.alice') || '/face-2.png'
    )
)::text, true) is not null;
select tests.clear_authentication();

select is(current_setting('t.answer')::jsonb ->> 'result', 'completed', 'the answer is completed');
select results_eq(
    format(
        $$select iv.asset_index, iv.asset_type, iv.bucket, iv.file_path, iv.file_name, iv.user_id
        from public.images_videos as iv where iv.job_id = %L order by iv.asset_index$$,
        current_setting('t.job')
    ),
    format(
        $$values
            (0, 'image', 'rv51_fast', '%1$s/outputs/2030/face-0.png', 'face-0.png', %1$L::uuid),
            (1, 'image', 'rv51_fast', '%1$s/outputs/2030/face-1.png', 'face-1.png', %1$L::uuid),
            (2, 'image', 'rv51_fast', '%1$s/face-2.png', 'face-2.png', %1$L::uuid)
        $$,
        current_setting('t.alice')
    ),
    'one row per path, with its basename as file_name'
);
select is(
    (select j.image_id from public.jobs as j where j.id = current_setting('t.job')::uuid),
    (
        select iv.id from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid and iv.asset_index = 0
    ),
    'image_id is the first path''s row'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'completed',
    'the job is completed'
);

select * from finish();
rollback;
