-- system_metrics reports per job type, over the window before now(): completed, failed and
-- cancelled counts, failure rate, retry rate and run times; jobs finished outside the window
-- are not counted.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- As the owner: sdxl_image_fast: 3 completed (runs of 10, 20 and 30 s; one in 2 attempts) and
-- 1 failed inside the window, 1 completed 90 minutes before now; video_fast: 1 failed. Time
-- moves the honest way: the owner writes the rows' timestamps relative to now().
insert into public.jobs (id, user_id, job_type, metadata)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    case when i = 6 then 'video_fast' else 'sdxl_image_fast' end as job_type,
    '{"prompt": "p"}' as metadata
from generate_series(1, 6) as i;
update public.jobs
set
    status = 'processing', attempts = case when id = '00000000-0000-0000-0000-000000000002'
            then 2
        else 1
    end,
    locked_by = 'gpu-1', lease_token = gen_random_uuid(), lease_expires_at = now()
where user_id = current_setting('t.alice')::uuid;
update public.jobs
set
    status = case when right(id::text, 1) in ('4', '6') then 'failed' else 'completed' end,
    started_at = case when id = '00000000-0000-0000-0000-000000000005'
            then (now() - interval '7200 s')
        else (now() - interval '1800 s')
    end,
    completed_at = case right(id::text, 1)
        when '1' then (now() - interval '1790 s')
        when '2' then (now() - interval '1780 s')
        when '5' then (now() - interval '5400 s')
        else (now() - interval '1770 s')
    end
where user_id = current_setting('t.alice')::uuid;

select tests.authenticate_as(tests.create_user('admin@example.com', true));
select set_config('t.m', public.system_metrics(
    time_window := interval '1 hour'
)::text, true) is not null;
select tests.clear_authentication();

select is(
    (
        select t - 'avg_total_seconds'
        from jsonb_array_elements(current_setting('t.m')::jsonb -> 'job_types') as t
        where t ->> 'job_type' = 'sdxl_image_fast'
    ),
    jsonb_build_object(
        'job_type', 'sdxl_image_fast', 'completed', 3, 'failed', 1, 'cancelled', 0,
        'failure_rate', 0.25, 'retry_rate', 0.25, 'avg_run_seconds', 20.0,
        'p50_run_seconds', 20.0, 'p95_run_seconds', 29.0
    ),
    'sdxl_image_fast: counts, failure and retry rates and run times of the window only'
);
select is(
    (
        select (t ->> 'completed') || '/' || (t ->> 'failed') || '/' || (t ->> 'failure_rate')
        from jsonb_array_elements(current_setting('t.m')::jsonb -> 'job_types') as t
        where t ->> 'job_type' = 'video_fast'
    ),
    '0/1/1.0000',
    'video_fast: one failure, failure rate 1'
);
select is(
    jsonb_array_length(current_setting('t.m')::jsonb -> 'job_types'), 2,
    'job types without finished jobs in the window are left out'
);

select * from finish();
rollback;
