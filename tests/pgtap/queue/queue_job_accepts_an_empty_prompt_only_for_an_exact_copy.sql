-- An exact copy (metadata.exact_copy_mode = true with metadata.reference_image_url) may have an
-- empty prompt, as the app sends it; every other job still needs one (22023).
begin;
select plan(6);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);

select is(
    public.queue_job(
        job_type := 'sdxl_image_fast', prompt := '',
        metadata := '{"exact_copy_mode": true, "reference_image_url": "https://x/ref.png"}'
    ) -> 'jobs' -> 0 ->> 'status',
    'queued',
    'an exact copy with an empty prompt is queued'
);
select is(
    public.queue_job(
        job_type := 'sdxl_image_fast',
        metadata := '{"exact_copy_mode": true, "reference_image_url": "https://x/ref.png"}'
    ) -> 'jobs' -> 0 ->> 'status',
    'queued',
    'so is one without any prompt'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := '')$$,
    '22023', 'prompt must be a non-empty text of at most 10000 characters',
    'a normal job with an empty prompt is still refused'
);
select throws_ok(
    $$select public.queue_job(
        job_type := 'sdxl_image_fast', prompt := ' ', metadata := '{"exact_copy_mode": true}'
    )$$,
    '22023', 'prompt must be a non-empty text of at most 10000 characters',
    'exact_copy_mode without a reference_image_url needs a prompt'
);
select throws_ok(
    $$select public.queue_job(
        job_type := 'sdxl_image_fast', prompt := '',
        metadata := '{"exact_copy_mode": "yes", "reference_image_url": "https://x/ref.png"}'
    )$$,
    '22023', 'prompt must be a non-empty text of at most 10000 characters',
    'exact_copy_mode must be the JSON true'
);
select tests.clear_authentication();
select is(
    (
        select count(*)::integer from public.jobs
        where user_id = current_setting('t.alice')::uuid and metadata ->> 'prompt' = ''
    ),
    2,
    'the two exact copies are stored with an empty prompt'
);

select * from finish();
rollback;
