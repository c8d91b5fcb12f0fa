-- job_callback takes the job's first asset from the rows it inserts. When asset 0 already
-- exists (written directly by the service role while the job ran), its insert skips that row
-- and the callback links the existing one; the answer lists only the rows it created. A
-- completion without assets links nothing.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'rv51_fast', prompt := 'a face', num_images := 2
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select set_config('t.bare', public.queue_job(
    job_type := 'rv51_fast', prompt := 'a face'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select count(*) = 3
from public.claim_jobs(worker_pool := 'rv51', worker_id := 'gpu-1', max_jobs := 3);

select tests.authenticate_as_service_role();
insert into public.images_videos (
    id, user_id, job_id, asset_index, asset_type, bucket, file_path, file_name
)
values (
    '00000000-0000-0000-0000-0000000ea500', current_setting('t.alice')::uuid,
    current_setting('t.job')::uuid, 0, 'image', 'rv51_fast', 'early/face-0.png', 'face-0.png'
);

-- token-less reports: relayed by the job-callback edge function as the service role
select set_config('t.answer', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    assets := jsonb_build_array(
        current_setting('t.alice') || '/outputs/face-0.png',
        current_setting('t.alice') || '/outputs/face-1.png'
    )
)::text, true) is not null;
select set_config('t.bare_answer', public.job_callback(
    job_id := current_setting('t.bare')::uuid, status := 'completed', assets := '[]'
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (select j.image_id from public.jobs as j where j.id = current_setting('t.job')::uuid),
    '00000000-0000-0000-0000-0000000ea500'::uuid,
    'the existing asset 0 becomes the job''s image_id'
);
select is(
    jsonb_array_length(current_setting('t.answer')::jsonb -> 'asset_ids'),
    1,
    'the answer lists only the row the callback created'
);
select is(
    (
        select iv.file_path from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid and iv.asset_index = 1
    ),
    current_setting('t.alice') || '/outputs/face-1.png',
    'asset 1 is the reported path'
);
select is(
    (
        select
            array[
                j.status, coalesce(j.image_id::text, 'none'), coalesce(j.video_id::text, 'none')
            ]
        from public.jobs as j where j.id = current_setting('t.bare')::uuid
    ),
    array['completed', 'none', 'none'],
    'a completion without assets links no output'
);
select is(
    current_setting('t.bare_answer')::jsonb -> 'asset_ids',
    '[]'::jsonb,
    'and answers an empty asset list'
);

select * from finish();
rollback;
