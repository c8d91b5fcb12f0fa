-- Deleting a project, a prompt test or an api model sets the job's reference null and keeps
-- the job; a job type in use cannot be deleted (no action).
begin;
select plan(5);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('refs@example.com')::text, true) is not null;
insert into public.projects (id, user_id, name)
values ('00000000-0000-0000-0000-000000020001', current_setting('t.owner')::uuid, 'p');
insert into public.prompt_tests (id, name, prompt)
values ('00000000-0000-0000-0000-000000020002', 't', 'p');
insert into public.api_models (id, model_key, provider)
values ('00000000-0000-0000-0000-000000020003', 'm', 'prov');
insert into public.jobs (id, user_id, job_type, project_id, prompt_test_id, api_model_id)
values (
    '00000000-0000-0000-0000-000000020010', current_setting('t.owner')::uuid, 'rv51_fast',
    '00000000-0000-0000-0000-000000020001', '00000000-0000-0000-0000-000000020002',
    '00000000-0000-0000-0000-000000020003'
);

delete from public.projects where id = '00000000-0000-0000-0000-000000020001';
select is(
    (select project_id from public.jobs where id = '00000000-0000-0000-0000-000000020010'),
    null, 'deleting a project keeps its jobs, with project_id null'
);
delete from public.prompt_tests where id = '00000000-0000-0000-0000-000000020002';
select is(
    (select prompt_test_id from public.jobs where id = '00000000-0000-0000-0000-000000020010'),
    null, 'deleting a prompt test keeps its jobs, with prompt_test_id null'
);
delete from public.api_models where id = '00000000-0000-0000-0000-000000020003';
select is(
    (select api_model_id from public.jobs where id = '00000000-0000-0000-0000-000000020010'),
    null, 'deleting an api model keeps its jobs, with api_model_id null'
);
select is(
    (select status from public.jobs where id = '00000000-0000-0000-0000-000000020010'),
    'queued', 'the job is still there and still queued'
);
select throws_ok(
    $$delete from public.job_types where job_type = 'rv51_fast'$$,
    '23503', null, 'a job type in use cannot be deleted'
);

select * from finish();
rollback;
