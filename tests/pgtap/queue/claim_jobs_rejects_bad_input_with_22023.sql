-- claim_jobs validates its input (22023, HTTP 400), also when called as the worker role.
begin;
select plan(8);

select throws_ok(
    $sql$do $body$ begin
        perform tests.authenticate_as_worker();
        perform public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 0);
    end $body$ $sql$,
    '22023', null, 'max_jobs 0 (as the worker role)'
);
select tests.authenticate_as_service_role();
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'g', max_jobs := 101)$$,
    '22023', null, 'max_jobs above 100'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'g', max_jobs := null)$$,
    '22023', null, 'max_jobs null'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := null, worker_id := 'gpu-1')$$,
    '22023', null, 'no worker_pool'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := '')$$,
    '22023', null, 'empty worker_id'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := repeat('w', 201))$$,
    '22023', null, 'worker_id longer than 200 characters'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'g',
        lease_seconds := 5)$$,
    '22023', null, 'lease_seconds below 10'
);
select throws_ok(
    $$select * from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'g',
        lease_seconds := 86401)$$,
    '22023', null, 'lease_seconds above a day'
);

select * from finish();
rollback;
