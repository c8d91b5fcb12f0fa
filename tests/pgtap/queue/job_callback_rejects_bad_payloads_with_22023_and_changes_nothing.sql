-- Malformed worker payloads are 22023 (HTTP 400) and leave the job as it was.
begin;
select plan(11);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_service_role();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;

select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'), '{"url": "a.png"}'
    ),
    '22023', null, 'assets that are not an array'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'),
        '[{"type": "image", "thumbnail_url": "t.png"}]'
    ),
    '22023', null, 'an asset object without url'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'),
        '[{"type": "audio", "url": "a.wav"}]'
    ),
    '22023', null, 'an asset of type audio'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'), '["ok.png", 42]'
    ),
    '22023', null, 'an asset that is a number'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'), '[""]'
    ),
    '22023', null, 'an empty path'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L,
            metadata := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'), '[1, 2]'
    ),
    '22023', null, 'metadata that is not an object'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L)',
        current_setting('t.job'), 'done', current_setting('t.token')
    ),
    '22023', null, 'status done'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L)',
        current_setting('t.job'), 'processing', current_setting('t.token')
    ),
    '22023', null, 'status processing'
);
select throws_ok(
    format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L,
            assets := %L, metadata := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'), '["o/a.png"]',
        '{"enhancement_time_ms": "abc"}'
    ),
    '22023', null, 'metadata.enhancement_time_ms that is not a number'
);
select throws_ok(
    $$select public.job_callback(job_id := null, status := 'completed')$$,
    '22023', null, 'no job_id'
);
select tests.clear_authentication();

select results_eq(
    format(
        $$select j.status, j.attempts, j.lease_token, j.image_id, j.enhancement_time_ms,
            (select count(*)::integer from public.images_videos as iv where iv.job_id = j.id)
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    format(
        $$values (
            'processing', 1, jobs_private.lease_digest(%L::uuid), null::uuid, null::integer, 0
        )$$,
        current_setting('t.token')
    ),
    'the job is unchanged: processing, same lease, no outputs'
);

select * from finish();
rollback;
