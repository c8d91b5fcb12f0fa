-- Every bad input is a 22023 (HTTP 400) and nothing is written.
begin;
select plan(19);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
with p as (
    insert into public.projects (user_id, name)
    values (current_setting('t.bob')::uuid, 'bob''s') returning id
)

select set_config('t.bobs_project', p.id::text, true) is not null from p;
select tests.authenticate_as(current_setting('t.alice')::uuid);

select throws_ok(
    $$select public.queue_job(job_type := 'dalle_image', prompt := 'x')$$,
    '22023', null, 'unknown job_type'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', metadata := '[1]')$$,
    '22023', null, 'metadata that is an array'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', metadata := '"s"')$$,
    '22023', null, 'metadata that is a string'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := '')$$,
    '22023', null, 'empty prompt'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := '   ')$$,
    '22023', null, 'blank prompt'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast')$$,
    '22023', null, 'missing prompt'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := repeat('x', 10001))$$,
    '22023', null, 'prompt longer than 10000 characters'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 0)$$,
    '22023', null, 'num_images 0'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 5)$$,
    '22023', null, 'num_images above max_images_per_request'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', quality := 'high')$$,
    '22023', null, 'quality that does not match the job type'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', destination := 'x')$$,
    '22023', null, 'unknown destination'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', destination := null)$$,
    '22023', null, 'null destination'
);
select throws_ok(
    format(
        'select public.queue_job(job_type := %L, prompt := %L, project_id := %L)',
        'sdxl_image_fast', 'x', current_setting('t.bobs_project')
    ),
    '22023', null, 'another user''s project'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x',
        idempotency_key := repeat('k', 201))$$,
    '22023', null, 'idempotency key longer than 200 characters'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x',
        idempotency_key := '')$$,
    '22023', null, 'empty idempotency key'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x',
        api_model_id := gen_random_uuid())$$,
    '22023', null, 'unknown api_model_id'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x',
        template_name := repeat('t', 201))$$,
    '22023', null, 'template_name longer than 200 characters'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x',
        metadata := jsonb_build_object('blob', repeat('b', 70000)))$$,
    '22023', null, 'metadata larger than 64 KiB'
);

select tests.clear_authentication();
select is(
    (select count(*)::integer from public.jobs), 0,
    'nothing was written'
);

select * from finish();
rollback;
