-- purge_finished_jobs deletes failed and cancelled jobs that finished before the cutoff, and
-- never completed jobs (however old), recent ones, or queued/processing ones.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- As the owner: jobs 1..8; each is queued, then moved to its final state and aged.
insert into public.jobs (id, user_id, job_type, status, metadata)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    case when i in (5, 6) then 'completed' else 'queued' end as status,
    '{"prompt": "p"}' as metadata
from generate_series(1, 8) as i;
update public.jobs
set
    status = 'processing', attempts = 1, locked_by = 'gpu-1', lease_token = gen_random_uuid(),
    lease_expires_at = now() + interval '1 minute'
where id in (
        '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002',
        '00000000-0000-0000-0000-000000000008'
    );
update public.jobs set status = 'failed'
where id in ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002');
update public.jobs set status = 'cancelled'
where id in ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-000000000004');
-- 1 failed and 3 cancelled 40 days ago; 2 failed and 4 cancelled an hour ago; 5 completed 40
-- days ago, 6 completed now; 7 queued, 8 processing.
update public.jobs
set started_at = null, completed_at = now() - interval '40 days'
where id in (
        '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000003',
        '00000000-0000-0000-0000-000000000005'
    );
update public.jobs
set started_at = null, completed_at = now() - interval '1 hour'
where id in ('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-000000000004');

select tests.authenticate_as(tests.create_user('admin@example.com', true));
select is(
    public.purge_finished_jobs(older_than := interval '7 days'), 2,
    'two jobs are purged'
);
select is(
    public.purge_finished_jobs(older_than := interval '7 days'), 0,
    'a second call finds nothing more'
);
select tests.clear_authentication();

select results_eq(
    $$select right(j.id::text, 1) || ' ' || j.status from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid order by j.id$$,
    $$values ('2 failed'), ('4 cancelled'), ('5 completed'), ('6 completed'), ('7 queued'),
        ('8 processing')$$,
    'only the old failed and cancelled jobs are gone'
);

select * from finish();
rollback;
