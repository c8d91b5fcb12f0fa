-- Higher priority runs first, whatever the queueing order.
begin;
select plan(1);

select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'low', priority := -5) is not null;
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'normal') is not null;
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'top', priority := 10) is not null;

select tests.authenticate_as_worker();
select set_config('t.order', (
    select jsonb_agg(c.prompt)::text
    from (
        select 1 as n
        union all
        select 2
        union all
        select 3
    ) as s
    cross join lateral public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-' || s.n) as c
), true) is not null;
select tests.clear_authentication();

select is(
    current_setting('t.order')::jsonb, '["top", "normal", "low"]'::jsonb,
    'claims come in priority order'
);

select * from finish();
rollback;
