-- A jobs_worker must present its lease_token: a token-less report is refused with 42501 and
-- changes nothing. The service role (the job-callback edge function relaying the app's older
-- payload) may still report without one.
begin;
select plan(4);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.authenticate_as_worker();
select public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') is not null;

-- As jobs_worker (which cannot run pgTAP itself): the error of each call, kept in a setting.
do $$
begin
    perform public.job_callback(
        job_id := current_setting('t.job')::uuid, status := 'failed', retryable := false
    );
    perform set_config('t.fail_err', 'no error', true);
exception when others then
    perform set_config('t.fail_err', sqlstate || ': ' || sqlerrm, true);
end
$$;
do $$
begin
    perform public.job_callback(
        job_id := current_setting('t.job')::uuid, status := 'completed', assets := '["x.png"]'
    );
    perform set_config('t.done_err', 'no error', true);
exception when others then
    perform set_config('t.done_err', sqlstate || ': ' || sqlerrm, true);
end
$$;
select tests.clear_authentication();
select is(
    current_setting('t.fail_err'), '42501: a worker must present its lease_token',
    'a worker''s failure report without a token is refused'
);
select is(
    current_setting('t.done_err'), '42501: a worker must present its lease_token',
    'so is a completion without a token'
);
select is(
    (select j.status from public.jobs as j where j.id = current_setting('t.job')::uuid),
    'processing',
    'the job is still processing'
);

select tests.authenticate_as_service_role();
select is(
    public.job_callback(
        job_id := current_setting('t.job')::uuid, status := 'completed',
        assets := jsonb_build_array(current_setting('t.alice') || '/x.png')
    ) ->> 'result',
    'completed',
    'the service role may relay a token-less report'
);

select * from finish();
rollback;
