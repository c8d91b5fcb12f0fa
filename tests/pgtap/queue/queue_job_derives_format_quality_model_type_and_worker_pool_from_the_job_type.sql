-- queue_job takes format, quality, model type and worker pool from job_types, records the
-- prompt as original_prompt, and answers JSON the edge function can return as is.
begin;
select plan(10);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.answer', public.queue_job(
    job_type := 'video7b_high_enhanced', prompt := 'a fox running through snow'
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (
        select
            jsonb_build_object(
                'format', j.format, 'quality', j.quality, 'model_type', j.model_type,
                'worker_pool', j.worker_pool
            )
        from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    '{"format": "mp4", "quality": "high", "model_type": "wan_qwen7b", "worker_pool": "wan"}',
    'format, quality, model_type and worker_pool come from job_types'
);
select is(
    (
        select j.original_prompt
        from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    'a fox running through snow',
    'the prompt is recorded as original_prompt'
);
select is(
    (
        select j.metadata ->> 'prompt' from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    'a fox running through snow',
    'the prompt is in metadata for the worker'
);
select is(
    (select j.status from public.jobs as j where j.user_id = current_setting('t.alice')::uuid),
    'queued',
    'the job is born queued'
);
select is(
    (
        select j.max_attempts
        from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid
    ),
    3,
    'max_attempts comes from the job type default'
);
select is(
    current_setting('t.answer')::jsonb -> 'jobs' -> 0 ->> 'id',
    (select j.id::text from public.jobs as j where j.user_id = current_setting('t.alice')::uuid),
    'the answer carries the job id'
);
select is(
    current_setting('t.answer')::jsonb -> 'jobs' -> 0 ->> 'worker_pool', 'wan',
    'the answer carries the worker pool'
);
select is(
    current_setting('t.answer')::jsonb -> 'jobs' -> 0 ->> 'status', 'queued',
    'the answer carries the status'
);
select is(
    (current_setting('t.answer')::jsonb ->> 'deduplicated')::boolean, false,
    'a first request is not deduplicated'
);

-- quality may be passed when it matches the type
select tests.authenticate_as(current_setting('t.alice')::uuid);
select lives_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', quality := 'fast')$$,
    'a quality equal to the type''s is accepted'
);

select * from finish();
rollback;
