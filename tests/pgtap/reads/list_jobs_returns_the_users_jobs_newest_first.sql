-- list_jobs returns the signed-in user's jobs (and only theirs), newest first.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
-- As the owner, so created_at can be set: alice's jobs a minute apart, bob's in between.
insert into public.jobs (id, user_id, job_type, metadata, created_at)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    case when i = 4 then current_setting('t.bob')::uuid else current_setting('t.alice')::uuid end
        as user_id,
    'sdxl_image_fast' as job_type,
    jsonb_build_object('prompt', 'prompt ' || i) as metadata,
    '2030-01-01 00:00:00+00'::timestamptz + make_interval(mins => i) as created_at
from generate_series(1, 4) as i;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select results_eq(
    $$select l.id::text, l.metadata ->> 'prompt' from public.list_jobs() as l$$,
    $$values
        ('00000000-0000-0000-0000-000000000003', 'prompt 3'),
        ('00000000-0000-0000-0000-000000000002', 'prompt 2'),
        ('00000000-0000-0000-0000-000000000001', 'prompt 1')$$,
    'alice gets her three jobs, newest first, and not bob''s'
);
select is(
    (select count(*)::integer from public.list_jobs(max_rows := 2)),
    2,
    'max_rows limits the page'
);
select is(
    (
        select l.job_type || '/' || l.status || '/' || l.worker_pool
        from public.list_jobs() as l
        where l.id = '00000000-0000-0000-0000-000000000003'
    ),
    'sdxl_image_fast/queued/sdxl',
    'rows are whole jobs (job_type, status, worker_pool)'
);
select tests.clear_authentication();

select * from finish();
rollback;
