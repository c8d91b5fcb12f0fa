-- anon has no EXECUTE on cancel_job (42501, HTTP 401); neither has a worker.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;

select tests.authenticate_as_anon();
select throws_ok(
    format('select public.cancel_job(job_id := %L)', current_setting('t.job')),
    '42501', null, 'anon cannot cancel'
);
select tests.clear_authentication();
select throws_ok(
    format(
        $sql$do $body$ begin
            perform tests.authenticate_as_worker();
            perform public.cancel_job(job_id := %L);
        end $body$ $sql$,
        current_setting('t.job')
    ),
    '42501', null, 'a worker cannot cancel'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'queued',
    'the job is still queued'
);

select * from finish();
rollback;
