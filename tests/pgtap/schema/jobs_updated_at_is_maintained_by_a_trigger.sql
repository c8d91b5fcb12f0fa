-- updated_at moves on every update of a job, whatever the writer sets, and strictly increases:
-- now(), or one microsecond past its previous value when now() is not later (in one
-- transaction, or after a writer that started later but wrote first).
begin;
select plan(5);

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
    now() + interval '1 microsecond',
    'a writer cannot set jobs.updated_at to another time; a second update in the same'
    || ' transaction moves it one microsecond past the first'
);
update public.jobs set error_message = 'y' where id = '00000000-0000-0000-0000-000000030001';
select is(
    (select updated_at from public.jobs where id = '00000000-0000-0000-0000-000000030001'),
    now() + interval '2 microseconds', 'and a third one more'
);
-- a row last written by a transaction whose now() is later than this one's (planted with the
-- trigger off; the whole file is rolled back)
alter table public.jobs disable trigger jobs_before_update_trg;
update public.jobs set updated_at = now() + interval '1 second'
where id = '00000000-0000-0000-0000-000000030001';
alter table public.jobs enable trigger jobs_before_update_trg;
update public.jobs set error_message = 'z' where id = '00000000-0000-0000-0000-000000030001';
select is(
    (select updated_at from public.jobs where id = '00000000-0000-0000-0000-000000030001'),
    now() + interval '1 second 1 microsecond',
    'an update after a later writer moves updated_at past that writer''s, never back to now()'
);

select * from finish();
rollback;
