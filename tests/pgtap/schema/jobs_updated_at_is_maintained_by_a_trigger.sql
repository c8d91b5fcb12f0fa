-- updated_at moves on every update of a job, whatever the writer sets.
begin;
select plan(3);

select has_trigger('public', 'jobs', 'jobs_before_update_trg', 'jobs has its update trigger');

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('touch@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type, created_at, updated_at)
values (
    '00000000-0000-0000-0000-000000030001', current_setting('t.owner')::uuid, 'image_fast',
    now() - interval '1 day', now() - interval '1 day'
);

update public.jobs set error_message = 'x' where id = '00000000-0000-0000-0000-000000030001';
select is(
    (select updated_at from public.jobs where id = '00000000-0000-0000-0000-000000030001'),
    now(), 'an update sets jobs.updated_at to now()'
);
update public.jobs set updated_at = '2000-01-01'
where id = '00000000-0000-0000-0000-000000030001';
select is(
    (select updated_at from public.jobs where id = '00000000-0000-0000-0000-000000030001'),
    now(), 'a writer cannot set jobs.updated_at to another time'
);

select * from finish();
rollback;
