-- Fairness: user A queues 20 jobs, then user B queues 1; B's job is among the first 2 claimed.
begin;
select plan(2);

select set_config('t.a', tests.create_user('a@example.com')::text, true) is not null;
select set_config('t.b', tests.create_user('b@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.a')::uuid);
select count(public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a ' || i)) = 20
from generate_series(1, 20) as i;
select tests.authenticate_as(current_setting('t.b')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'b') is not null;

select tests.authenticate_as_worker();
select set_config('t.first_two', (
    select jsonb_agg(c.user_id)::text
    from (
        select 1 as n
        union all
        select 2
    ) as s
    cross join lateral public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-' || s.n) as c
), true) is not null;
select set_config('t.batch', (
    select jsonb_agg(c.user_id)::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-9', max_jobs := 2) as c
), true) is not null;
select tests.clear_authentication();

select ok(
    current_setting('t.first_two')::jsonb ? current_setting('t.b'),
    'B''s job is among the first 2 single claims'
);
select ok(
    not current_setting('t.batch')::jsonb ? current_setting('t.b'),
    'and was not left for later claims'
);

select * from finish();
rollback;
