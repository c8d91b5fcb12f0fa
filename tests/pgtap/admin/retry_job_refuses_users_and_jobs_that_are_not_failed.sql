-- retry_job: a user gets 42501; an admin gets PT409 for a job that is not failed (queued,
-- completed) and PT404 for an unknown job; nothing changes.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select set_config('t.failed', '00000000-0000-0000-0000-000000000001', true) is not null;
insert into public.jobs (id, user_id, job_type, status, metadata)
values
(
    current_setting('t.failed')::uuid, current_setting('t.alice')::uuid, 'sdxl_image_fast',
    'queued', '{"prompt": "p"}'
),
(
    '00000000-0000-0000-0000-000000000002', current_setting('t.alice')::uuid, 'sdxl_image_fast',
    'queued', '{"prompt": "p"}'
),
(
    '00000000-0000-0000-0000-000000000003', current_setting('t.alice')::uuid, 'sdxl_image_fast',
    'completed', '{"prompt": "p"}'
);
update public.jobs
set
    status = 'processing', attempts = 1, locked_by = 'gpu-1', lease_token = gen_random_uuid(),
    lease_expires_at = now() + interval '1 minute'
where id = current_setting('t.failed')::uuid;
update public.jobs set status = 'failed' where id = current_setting('t.failed')::uuid;

select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    format($$select public.retry_job(job_id := %L)$$, current_setting('t.failed')),
    '42501', null, 'the owner cannot retry her failed job'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    $$select public.retry_job(job_id := '00000000-0000-0000-0000-000000000002')$$,
    'PT409', null, 'a queued job cannot be retried'
);
select throws_ok(
    $$select public.retry_job(job_id := '00000000-0000-0000-0000-000000000003')$$,
    'PT409', null, 'a completed job cannot be retried'
);
select throws_ok(
    $$select public.retry_job(job_id := gen_random_uuid())$$,
    'PT404', null, 'an unknown job is PT404'
);
select tests.clear_authentication();

select results_eq(
    $$select j.status from public.jobs as j
        where j.user_id = current_setting('t.alice')::uuid order by j.id$$,
    $$values ('failed'), ('queued'), ('completed')$$,
    'no job changed'
);

select * from finish();
rollback;
