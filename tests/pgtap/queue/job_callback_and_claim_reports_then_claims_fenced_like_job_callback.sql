-- job_callback_and_claim is job_callback then claim_jobs in one transaction: a stale report
-- (another attempt's token) changes nothing and the claim still runs; the holder's report
-- completes the job and claims the next; a jobs_worker report without a token, a malformed
-- report or bad claim arguments refuse both (nothing reported, nothing claimed); with nothing
-- left to claim it answers one row with the report and no job; the service role may omit the
-- token; a signed-in user and anon get 42501, the way PostgREST calls it.
begin;
select plan(15);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 3) is not null;

select tests.authenticate_as_worker();
select set_config('t.a', (
    select jsonb_build_object('id', c.job_id, 'token', c.lease_token)
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
)::text, true) is not null;

-- another attempt's token: the report is stale, changes nothing; the claim takes job b
select set_config('t.b', (
    select jsonb_build_object('id', r.job_id, 'token', r.lease_token, 'answer', r.answer)
    from public.job_callback_and_claim(
            report := jsonb_build_object(
                'job_id', current_setting('t.a')::jsonb -> 'id', 'status', 'completed',
                'lease_token', gen_random_uuid(),
                'assets', jsonb_build_array(current_setting('t.alice') || '/evil/0.png')
            ),
            worker_pool := 'sdxl', worker_id := 'gpu-1'
        ) as r
)::text, true) is not null;
select is(
    current_setting('t.b')::jsonb #>> '{answer,result}', 'stale',
    'a report under another token is stale'
);
select tests.clear_authentication();
select results_eq(
    format(
        $$select j.status, (select count(*)::integer from public.images_videos as iv
        where iv.job_id = j.id) from public.jobs as j where j.id = %L$$,
        current_setting('t.a')::jsonb ->> 'id'
    ),
    $$values ('processing', 0)$$,
    'the stale report changed nothing'
);
select results_eq(
    format(
        $$select j.status, j.locked_by from public.jobs as j where j.id = %L$$,
        current_setting('t.b')::jsonb ->> 'id'
    ),
    $$values ('processing', 'gpu-1')$$,
    'the claim ran anyway: the worker holds another job'
);
select isnt(
    current_setting('t.b')::jsonb ->> 'id', current_setting('t.a')::jsonb ->> 'id',
    'and it is not the job still held'
);

-- the holder's report: completed, and the last queued job claimed in the same call
select tests.authenticate_as_worker();
select set_config('t.c', (
    select jsonb_build_object('id', r.job_id, 'token', r.lease_token, 'answer', r.answer)
    from public.job_callback_and_claim(
            report := jsonb_build_object(
                'job_id', current_setting('t.a')::jsonb -> 'id', 'status', 'completed',
                'lease_token', current_setting('t.a')::jsonb -> 'token',
                'assets', jsonb_build_array(current_setting('t.alice') || '/a/0.png')
            ),
            worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 5
        ) as r
)::text, true) is not null;
select is(
    current_setting('t.c')::jsonb #>> '{answer,result}', 'completed',
    'the holder''s report completes the job'
);
select tests.clear_authentication();
select results_eq(
    $$select count(*) filter (where j.status = 'completed')::integer,
        count(*) filter (where j.status = 'processing')::integer,
        count(*) filter (where j.status = 'queued')::integer,
        (select count(*)::integer from public.images_videos)
    from public.jobs as j$$,
    $$values (1, 2, 0, 1)$$,
    'one job completed with its output, the other two held, none queued'
);
select set_config('t.before', (
    select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j
) || (select count(*) from public.images_videos)::text, true) is not null;

-- refused, both halves: no token (a jobs_worker), a malformed report, bad claim arguments
select tests.authenticate_as_worker();
select throws_ok(
    format(
        $$select * from public.job_callback_and_claim(report := %L, worker_pool := 'sdxl',
        worker_id := 'gpu-1')$$,
        jsonb_build_object('job_id', current_setting('t.b')::jsonb -> 'id', 'status', 'failed')
    ),
    '42501', 'a worker must present its lease_token',
    'a jobs_worker report without lease_token: 42501'
);
select throws_ok(
    format(
        $$select * from public.job_callback_and_claim(report := %L, worker_pool := 'sdxl',
        worker_id := 'gpu-1')$$,
        jsonb_build_object(
            'job_id', current_setting('t.b')::jsonb -> 'id', 'status', 'completed',
            'lease_token', current_setting('t.b')::jsonb -> 'token', 'user_id', 'x'
        )
    ),
    '22023',
    'report has unknown key(s): only job_id, status, lease_token, error_message, metadata, '
    || 'assets, retryable',
    'a report with an unknown key: 22023 naming the keys'
);
select throws_ok(
    format(
        $$select * from public.job_callback_and_claim(report := %L, worker_pool := 'sdxl',
        worker_id := 'gpu-1', max_jobs := 0)$$,
        jsonb_build_object(
            'job_id', current_setting('t.b')::jsonb -> 'id', 'status', 'completed',
            'lease_token', current_setting('t.b')::jsonb -> 'token'
        )
    ),
    '22023', 'max_jobs must be between 1 and 100',
    'bad claim arguments: 22023, and the good report with them is not applied'
);
select tests.clear_authentication();
select is(
    (select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j)
    || (select count(*) from public.images_videos)::text,
    current_setting('t.before'),
    'nothing of the refused calls was written'
);

-- nothing left to claim: one row, the report's answer, no job
select tests.authenticate_as_worker();
select results_eq(
    format(
        $$select r.answer ->> 'result', r.job_id, r.lease_token
        from public.job_callback_and_claim(report := %L, worker_pool := 'sdxl',
            worker_id := 'gpu-1')as r$$,
        jsonb_build_object(
            'job_id', current_setting('t.b')::jsonb -> 'id', 'status', 'completed',
            'lease_token', current_setting('t.b')::jsonb -> 'token'
        )
    ),
    $$values ('completed', null::uuid, null::uuid)$$,
    'nothing to claim: one row with the answer and null job columns'
);

-- users and anon cannot call it, even with the holder's token
select set_config('t.report', jsonb_build_object(
    'job_id', current_setting('t.c')::jsonb -> 'id', 'status', 'completed',
    'lease_token', current_setting('t.c')::jsonb -> 'token'
)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select * from public.job_callback_and_claim(report := current_setting('t.report')::jsonb,
        worker_pool := 'sdxl', worker_id := 'gpu-1')$$,
    '42501', null, 'the job''s owner cannot report and claim, even with the token'
);
select tests.authenticate_as_anon();
select throws_ok(
    $$select * from public.job_callback_and_claim(report := current_setting('t.report')::jsonb,
        worker_pool := 'sdxl', worker_id := 'gpu-1')$$,
    '42501', null, 'anon cannot report and claim'
);

-- the service role may omit the token (job_callback's trust check reads the request's role)
select tests.authenticate_as_service_role();
select results_eq(
    format(
        $$select r.answer ->> 'result', r.job_id from public.job_callback_and_claim(
        report := %L, worker_pool := 'sdxl', worker_id := 'relay') as r$$,
        jsonb_build_object(
            'job_id', current_setting('t.c')::jsonb -> 'id', 'status', 'failed',
            'retryable', false
        )
    ),
    $$values ('failed', null::uuid)$$,
    'the service role reports without a token'
);
select tests.clear_authentication();
select results_eq(
    $$select j.status::text, count(*)::integer from public.jobs as j group by 1 order by 1$$,
    $$values ('completed', 2), ('failed', 1)$$,
    'the jobs end as the holder and the service role reported them'
);

select * from finish();
rollback;
