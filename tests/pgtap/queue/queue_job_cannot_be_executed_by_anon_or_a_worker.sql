-- anon has no EXECUTE on queue_job (401 through PostgREST); a worker cannot queue as a user.
begin;
select plan(3);

select tests.authenticate_as_anon();
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x')$$,
    '42501', null, 'anon cannot queue a job'
);
select tests.clear_authentication();

select throws_ok(
    $sql$do $body$ begin
        perform tests.authenticate_as_worker();
        perform public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x');
    end $body$ $sql$,
    '42501', null, 'a worker cannot queue a job'
);

select is((select count(*)::integer from public.jobs), 0, 'nothing was written');

select * from finish();
rollback;
