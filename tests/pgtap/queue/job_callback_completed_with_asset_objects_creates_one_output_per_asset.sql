-- A completion with asset objects {type, url, thumbnail_url, metadata} creates one
-- images_videos row per asset, owned by the job's owner, in the type's bucket, and links the
-- first as image_id.
begin;
select plan(8);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_high', prompt := 'two cats'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;

select tests.authenticate_as_service_role();
select set_config('t.answer', public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    -- paths in the owner's folder (job_types.asset_path_prefix)
    assets := replace('[
        {"type": "image", "url": "u1/jobs/a.png", "thumbnail_url": "u1/thumbs/a.jpg",
         "metadata": {"seed": 1}},
        {"type": "image", "url": "u1/jobs/b.png", "thumbnail_url": null, "metadata": null}
    ]', 'u1/', current_setting('t.alice') || '/')::jsonb
)::text, true) is not null;
select tests.clear_authentication();

select is(current_setting('t.answer')::jsonb ->> 'result', 'completed', 'the answer is completed');
select is(
    jsonb_array_length(current_setting('t.answer')::jsonb -> 'asset_ids'), 2,
    'the answer lists two asset ids'
);
select results_eq(
    format(
        $$select iv.asset_index, iv.asset_type, iv.bucket, iv.file_path, iv.file_name,
            iv.thumbnail_path, iv.metadata, iv.user_id
        from public.images_videos as iv where iv.job_id = %L order by iv.asset_index$$,
        current_setting('t.job')
    ),
    format(
        $$values
            (0, 'image', 'sdxl_image_high', '%1$s/jobs/a.png', 'a.png', '%1$s/thumbs/a.jpg',
                '{"seed": 1}'::jsonb, %1$L::uuid),
            (1, 'image', 'sdxl_image_high', '%1$s/jobs/b.png', 'b.png', null, '{}'::jsonb,
                %1$L::uuid)
        $$,
        current_setting('t.alice')
    ),
    'one row per asset: owner = job owner, bucket from the type, file_name = basename'
);
select is(
    (select j.image_id from public.jobs as j where j.id = current_setting('t.job')::uuid),
    (
        select iv.id from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid and iv.asset_index = 0
    ),
    'image_id is the first asset'
);
select is(
    (select j.video_id from public.jobs as j where j.id = current_setting('t.job')::uuid),
    null,
    'video_id stays null'
);
select results_eq(
    format(
        $$select j.status, j.completed_at is not null, j.lease_expires_at, j.locked_by
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    $$values ('completed', true, null::timestamptz, null::text)$$,
    'the job is completed, with completed_at, without a lease'
);
select is(
    (select count(*)::integer from public.videos), 0, 'an image job makes no videos row'
);
select is(
    (
        select jsonb_agg(iv.id order by iv.asset_index) from public.images_videos as iv
        where iv.job_id = current_setting('t.job')::uuid
    ),
    current_setting('t.answer')::jsonb -> 'asset_ids',
    'the answer''s asset ids are the rows'' ids in order'
);

select * from finish();
rollback;
