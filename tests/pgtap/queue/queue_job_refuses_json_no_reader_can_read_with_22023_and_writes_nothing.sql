-- The JSON rule (jobs_private.json_violation): queue_job refuses with 22023, writing nothing,
-- metadata nested deeper than 32 levels or holding a number whose absolute value is 1e308 or
-- more (stored, {"n": 1e5000} is a 5,001-digit integer: Python's json refuses it and
-- JSON.parse reads Infinity). Exactly 32 levels and numbers just inside the bound are taken.
begin;
select plan(10);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);

select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := '{"n": 1e5000}')$$,
    '22023',
    'metadata holds a number whose absolute value is 1e308 or more: JSON readers '
    || '(JSON.parse, Python''s json) cannot read it as a finite number',
    'a 5,001-digit integer is refused'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := '{"a": {"b": [1, 2, -1e308]}}')$$,
    '22023', null,
    '-1e308, nested, is refused'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := ('{"a": ' || repeat('[', 2000) || repeat(']', 2000) || '}')::jsonb)$$,
    '22023',
    'metadata is nested deeper than 32 levels of arrays and objects',
    'arrays nested 2,000 deep are refused'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := ('{"a": ' || repeat('[', 32) || repeat(']', 32) || '}')::jsonb)$$,
    '22023', null,
    '33 levels are refused'
);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := (
            '{"a": ' || repeat('{"b": ', 31) || '1e400' || repeat('}', 31) || '}'
        )::jsonb)$$,
    '22023', null,
    'a number too large at level 32 is found'
);
select tests.clear_authentication();
select is((select count(*)::integer from public.jobs), 0, 'nothing was written');
select is((select count(*)::integer from jobs_private.job_rates), 0, 'not even a token taken');

select tests.authenticate_as(current_setting('t.alice')::uuid);
select ok(
    public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := ('{"a": ' || repeat('[', 31) || '9.99e307' || repeat(']', 31) || '}')::jsonb
    ) is not null,
    'exactly 32 levels, and 9.99e307, are taken'
);
select ok(
    public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'p',
        metadata := '{"tiny": 1e-400, "big": "1e5000", "neg": -9.999e307}'
    ) is not null,
    'tiny numbers, and strings that look like big numbers, are taken'
);
select tests.clear_authentication();
select is(
    (select (j.metadata ->> 'tiny')::numeric from public.jobs as j where j.metadata ? 'tiny'),
    1e-400,
    'stored as sent'
);

select * from finish();
rollback;
