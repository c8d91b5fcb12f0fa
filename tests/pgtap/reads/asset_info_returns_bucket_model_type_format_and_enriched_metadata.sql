-- asset_info returns one asset with the bucket, model type, format and quality of its job type
-- and metadata enriched from the job (what the app's AssetService derived); another user and an
-- unknown asset get null.
begin;
select plan(7);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', (public.queue_job(
    job_type := 'video_high', prompt := 'a wave', template_name := 'ocean'
) -> 'jobs' -> 0 ->> 'id'), true) is not null;
select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'wan', worker_id := 'gpu-1') as c
), true) is not null;
select set_config('t.asset', (public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    metadata := '{"enhancement_strategy": "qwen"}',
    assets := jsonb_build_array(jsonb_build_object(
        'type', 'video', 'url', current_setting('t.alice') || '/wave.mp4',
        'metadata', jsonb_build_object('fps', 24)
    ))
) -> 'asset_ids' ->> 0), true) is not null;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select
    set_config(
        't.info', public.asset_info(asset_id := current_setting('t.asset')::uuid)::text, true
    )
    is not null;
select is(
    (
        select
            jsonb_build_object(
                'job_id',
                i ->> 'job_id',
                'bucket',
                i ->> 'bucket',
                'model_type',
                i ->> 'model_type',
                'format', i ->> 'format', 'quality', i ->> 'quality', 'type', i ->> 'type',
                'file_name', i ->> 'file_name'
            )
        from (select current_setting('t.info')::jsonb as i) as s
    ),
    jsonb_build_object(
        'job_id', current_setting('t.job'), 'bucket', 'video_high', 'model_type', 'wan',
        'format', 'mp4', 'quality', 'high', 'type', 'video', 'file_name', 'wave.mp4'
    ),
    'the asset with its job, bucket, model type, format, quality, type and file name'
);
select is(current_setting('t.info')::jsonb -> 'metadata' ->> 'fps', '24', 'its own metadata');
select is(
    current_setting('t.info')::jsonb -> 'metadata' ->> 'enhancement_strategy', 'qwen',
    'enriched with the job''s enhancement strategy'
);
select is(
    current_setting('t.info')::jsonb -> 'metadata' ->> 'template_name', 'ocean',
    'and its template name'
);
select is(
    current_setting('t.info')::jsonb -> 'metadata' ->> 'job_id', current_setting('t.job'),
    'and its group id'
);
select is(public.asset_info(asset_id := gen_random_uuid()), null, 'an unknown asset is null');
select tests.authenticate_as(current_setting('t.bob')::uuid);
select is(
    public.asset_info(asset_id := current_setting('t.asset')::uuid), null,
    'another user gets null'
);
select tests.clear_authentication();

select * from finish();
rollback;
