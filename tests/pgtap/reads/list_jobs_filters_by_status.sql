-- list_jobs(status := ...) returns only the user's jobs of that status, newest first.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type, status, metadata, created_at)
select
    ('00000000-0000-0000-0000-00000000000' || i)::uuid as id,
    current_setting('t.alice')::uuid as user_id,
    'sdxl_image_fast' as job_type,
    case when i % 2 = 0 then 'completed' else 'queued' end as status,
    jsonb_build_object('prompt', 'prompt ' || i) as metadata,
    '2030-01-01 00:00:00+00'::timestamptz + make_interval(mins => i) as created_at
from generate_series(1, 5) as i;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select results_eq(
    $$select l.id::text from public.list_jobs(status := 'completed') as l$$,
    $$values ('00000000-0000-0000-0000-000000000004'), ('00000000-0000-0000-0000-000000000002')$$,
    'status completed: the two completed jobs, newest first'
);
select results_eq(
    $$select l.id::text from public.list_jobs(status := 'queued') as l$$,
    $$values
        ('00000000-0000-0000-0000-000000000005'),
        ('00000000-0000-0000-0000-000000000003'),
        ('00000000-0000-0000-0000-000000000001')$$,
    'status queued: the three queued jobs, newest first'
);
select is_empty(
    $$select from public.list_jobs(status := 'failed')$$,
    'status failed: nothing'
);
select tests.clear_authentication();

select * from finish();
rollback;
