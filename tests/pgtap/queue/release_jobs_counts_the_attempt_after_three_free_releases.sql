-- A job gets its attempt back at most 3 times: the 4th and later releases count the attempt
-- (requeued while attempts remain), and a job whose last attempt is released fails. So a
-- claim/release loop ends after 3 + max_attempts claims.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.clear_authentication();
update public.jobs set max_attempts = 2 where id = current_setting('t.job')::uuid;

create temporary table answers (n integer, state text, attempt integer) on commit drop;
grant all on answers to jobs_worker;
select tests.authenticate_as_worker();
do $$
declare
    v_claim record;
begin
    for i in 1..10 loop
        select c.job_id, c.lease_token, c.attempt into v_claim
        from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c;
        exit when v_claim.job_id is null;
        insert into answers
        select i, r.state, v_claim.attempt
        from public.release_jobs(worker_id := 'gpu-1', job_ids := array[v_claim.job_id],
            lease_tokens := array[v_claim.lease_token]) as r;
    end loop;
end;
$$;
select tests.clear_authentication();

select results_eq(
    'select n, state, attempt from answers order by n',
    $$values (1, 'released', 1), (2, 'released', 1), (3, 'released', 1),
        (4, 'requeued', 1), (5, 'failed', 2)$$,
    'three free releases, then each release counts its attempt until none is left'
);
select results_eq(
    format(
        'select j.status, j.attempts from public.jobs as j where j.id = %L',
        current_setting('t.job')
    ),
    $$values ('failed', 2)$$,
    'the job ends failed with its attempts spent'
);
select matches(
    (select j.error_message from public.jobs as j where j.id = current_setting('t.job')::uuid),
    '^released 5 times without finishing: ',
    'the error says why (not which worker: the job''s owner reads it)'
);
select * from finish();
rollback;
