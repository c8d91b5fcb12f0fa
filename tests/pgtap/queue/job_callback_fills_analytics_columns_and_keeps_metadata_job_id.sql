-- The completion's metadata fills the analytics columns and is merged into jobs.metadata,
-- except metadata.job_id (the group id), which the worker cannot change.
begin;
select plan(10);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'image7b_fast_enhanced', prompt := 'a cat', metadata := '{"seed": 7}'
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
    assets := jsonb_build_array(current_setting('t.alice') || '/out/cat.png'),
    metadata := '{
        "job_id": "00000000-0000-0000-0000-000000000000",
        "enhancement_strategy": "qwen_base",
        "enhanced_prompt": "a fluffy ginger cat, studio light",
        "enhancement_time_ms": 850,
        "compel_weights": {"cat": 1.2},
        "qwen_expansion_percentage": 1500.5,
        "quality_rating": 87.25,
        "quality_improvement": -3.5,
        "steps": 30
    }'
) ->> 'result' = 'completed';
select tests.clear_authentication();

select results_eq(
    format(
        $$select j.enhancement_strategy::text, j.enhanced_prompt, j.enhancement_time_ms,
            j.compel_weights
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    $$values ('qwen_base', 'a fluffy ginger cat, studio light', 850, '{"cat": 1.2}'::jsonb)$$,
    'strategy, enhanced prompt, time and compel weights are stored'
);
select is(
    (
        select j.qwen_expansion_percentage from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    1500.5,
    'qwen_expansion_percentage above 1000 is stored'
);
select is(
    (select j.quality_rating from public.jobs as j where j.id = current_setting('t.job')::uuid),
    87.25,
    'quality_rating is stored'
);
select is(
    (
        select j.quality_improvement from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    -3.5,
    'quality_improvement is stored'
);
select is(
    (select j.original_prompt from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'a cat',
    'original_prompt stays the user''s prompt'
);
select is(
    (
        select j.metadata ->> 'job_id' from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    current_setting('t.job'),
    'metadata.job_id is preserved'
);
select is(
    (
        select j.metadata ->> 'steps' from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    '30',
    'the worker''s metadata is merged'
);
select is(
    (
        select j.metadata ->> 'seed' from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    '7',
    'the request''s metadata is kept'
);
select is(
    (
        select j.metadata ->> 'enhanced_prompt' from public.jobs as j
        where j.id = current_setting('t.job')::uuid
    ),
    'a fluffy ginger cat, studio light',
    'the analytics keys are also kept in metadata'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'completed',
    'the job is completed'
);

select * from finish();
rollback;
