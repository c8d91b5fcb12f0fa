-- job_ids and lease_tokens must pair up: mismatched lengths are 22023 (HTTP 400).
begin;
select plan(4);

select throws_ok(
    $sql$do $body$ begin
        perform tests.authenticate_as_worker();
        perform public.heartbeat_jobs(
            worker_id := 'gpu-1', job_ids := array[gen_random_uuid(), gen_random_uuid()],
            lease_tokens := array[gen_random_uuid()]
        );
    end $body$ $sql$,
    '22023', null, 'two job ids with one token (as the worker role)'
);
select tests.authenticate_as_service_role();
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'gpu-1', job_ids := array[]::uuid[],
        lease_tokens := array[gen_random_uuid()])$$,
    '22023', null, 'no job ids with one token'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'gpu-1', job_ids := null,
        lease_tokens := null)$$,
    '22023', null, 'null arrays'
);
select throws_ok(
    $$select * from public.heartbeat_jobs(worker_id := 'gpu-1', job_ids := array[gen_random_uuid()],
        lease_tokens := array[gen_random_uuid()], lease_seconds := 1)$$,
    '22023', null, 'lease_seconds below 10'
);

select * from finish();
rollback;
