-- get_job returns the job (without its lease token) and its outputs in asset order, each with
-- the storage bucket of its job type, model type, format and metadata enriched from the job.
begin;
select plan(9);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', (public.queue_job(
    job_type := 'sdxl_image_high', prompt := 'a red fox', metadata := '{"seed": 7}'
) -> 'jobs' -> 0 ->> 'id'), true) is not null;
select tests.authenticate_as_worker();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select public.job_callback(
    job_id := current_setting('t.job')::uuid, status := 'completed',
    lease_token := current_setting('t.token')::uuid,
    metadata := '{"enhanced_prompt": "a red fox, golden hour"}',
    -- paths in the owner's folder (job_types.asset_path_prefix)
    assets := replace(
        '[{"url": "u/fox-0.png", "thumbnail_url": "u/fox-0-thumb.png",
            "metadata": {"width": 1024}}, "u/fox-1.png"]',
        'u/', current_setting('t.alice') || '/'
    )::jsonb
) ->> 'result' = 'completed';

select tests.authenticate_as(current_setting('t.alice')::uuid);
select
    set_config('t.got', public.get_job(job_id := current_setting('t.job')::uuid)::text, true)
    is not null;
select tests.clear_authentication();

select is(current_setting('t.got')::jsonb ->> 'id', current_setting('t.job'), 'the job');
select is(current_setting('t.got')::jsonb ->> 'status', 'completed', 'its status');
select ok(not current_setting('t.got')::jsonb ? 'lease_token', 'without the lease token');
select results_eq(
    $$select a ->> 'file_path', a ->> 'bucket', a ->> 'model_type', a ->> 'format', a ->> 'type'
        from jsonb_array_elements(current_setting('t.got')::jsonb -> 'assets') as a$$,
    format(
        $$values
            ('%1$s/fox-0.png', 'sdxl_image_high', 'sdxl', 'png', 'image'),
            ('%1$s/fox-1.png', 'sdxl_image_high', 'sdxl', 'png', 'image')$$,
        current_setting('t.alice')
    ),
    'both assets, in order, with bucket, model type, format and type'
);
select is(
    current_setting('t.got')::jsonb -> 'assets' -> 0 ->> 'thumbnail_path',
    current_setting('t.alice') || '/fox-0-thumb.png',
    'the thumbnail'
);
select is(
    current_setting('t.got')::jsonb -> 'assets' -> 0 -> 'metadata' ->> 'width', '1024',
    'the asset''s own metadata'
);
select is(
    current_setting('t.got')::jsonb -> 'assets' -> 0 -> 'metadata' ->> 'enhanced_prompt',
    'a red fox, golden hour',
    'metadata enriched with the job''s enhanced prompt'
);
select is(
    current_setting('t.got')::jsonb -> 'assets' -> 1 -> 'metadata' ->> 'seed', '7',
    'and the job''s request metadata'
);
select is(
    current_setting('t.got')::jsonb -> 'assets' -> 1 -> 'metadata' ->> 'quality', 'high',
    'and its quality'
);

select * from finish();
rollback;
