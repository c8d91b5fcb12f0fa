-- job_callbacks is fenced per job like job_callback: another claim's token and another
-- attempt's token answer stale for that job only; a jobs_worker report without a token is
-- 42501 for the whole call, naming the element, and nothing of the batch is written (not even
-- its good reports); the service role may omit tokens (the trust check reads the request's
-- role, which the nested security definer call does not change).
begin;
select plan(8);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 3) is not null;

select tests.authenticate_as_worker();
select set_config('t.claims', (
    select jsonb_agg(jsonb_build_object('id', c.job_id, 'token', c.lease_token) order by c.job_id)
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 3) as c
)::text, true) is not null;
-- job 2's first attempt dies: rescued (the owner ends its lease), claimed again by gpu-2
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() - interval '1 second'
where id = (current_setting('t.claims')::jsonb -> 2 ->> 'id')::uuid;
select tests.authenticate_as_worker();
select public.rescue_expired_jobs() ->> 'requeued' = '1';
select tests.clear_authentication();
update public.jobs set run_at = now()
where id = (current_setting('t.claims')::jsonb -> 2 ->> 'id')::uuid;
select tests.authenticate_as_worker();
select set_config('t.second', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-2') as c
), true) is not null;

select tests.clear_authentication();
select set_config('t.before', (
    select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j
) || (select count(*) from public.images_videos)::text, true) is not null;
select tests.authenticate_as_worker();

-- a good report first, then one without a token: 42501 before anything is written
select
    throws_ok(
        format($$select * from public.job_callbacks(reports := %L)$$, jsonb_build_array(
            jsonb_build_object(
                'job_id', c -> 0 -> 'id', 'status', 'completed',
                'lease_token', c -> 0 -> 'token',
                'assets', jsonb_build_array(current_setting('t.alice') || '/o/0.png')
            ),
            jsonb_build_object(
                'job_id', c -> 1 -> 'id', 'status', 'completed',
                'assets', jsonb_build_array(current_setting('t.alice') || '/o/1.png')
            )
        )),
        '42501',
        format('reports[1] (job %s): a worker must present its lease_token', c -> 1 ->> 'id'),
        'a jobs_worker report without lease_token: 42501 naming the element'
    )
from (select current_setting('t.claims')::jsonb as c) as s;
select
    throws_ok(
        format($$select * from public.job_callbacks(reports := %L)$$, jsonb_build_array(
            jsonb_build_object(
                'job_id', c -> 0 -> 'id', 'status', 'failed',
                'lease_token', null
            )
        )),
        '42501', null, 'an explicit null token is no token'
    )
from (select current_setting('t.claims')::jsonb as c) as s;
select tests.clear_authentication();
select is(
    (select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j)
    || (select count(*) from public.images_videos)::text,
    current_setting('t.before'),
    'nothing of the refused batches was written'
);

select tests.authenticate_as_worker();
select
    set_config('t.answers', (
        select jsonb_agg(r.result)
        from public.job_callbacks(reports := jsonb_build_array(
        -- job 0 under job 1's token, job 1 under a random one, job 2 under its first attempt's
                jsonb_build_object(
                    'job_id', c -> 0 -> 'id', 'status', 'completed',
                    'lease_token', c -> 1 -> 'token',
                    'assets', jsonb_build_array(current_setting('t.alice') || '/evil/0.png')
                ),
                jsonb_build_object(
                    'job_id', c -> 1 -> 'id', 'status', 'failed',
                    'lease_token', gen_random_uuid(), 'retryable', false
                ),
                jsonb_build_object(
                    'job_id', c -> 2 -> 'id', 'status', 'completed',
                    'lease_token', c -> 2 -> 'token',
                    'assets', jsonb_build_array(current_setting('t.alice') || '/dead/2.png')
                )
            )) as r
    )::text, true) is not null
from (select current_setting('t.claims')::jsonb as c) as s;
select tests.clear_authentication();
select is(
    current_setting('t.answers')::jsonb, '["stale", "stale", "stale"]'::jsonb,
    'another claim''s, a random and another attempt''s token: stale, each'
);
select is(
    (select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j)
    || (select count(*) from public.images_videos)::text,
    current_setting('t.before'),
    'the stale reports changed nothing'
);

-- the service role may omit tokens (job_callback's trust check, reached through this definer)
select tests.authenticate_as_service_role();
select
    set_config('t.service', (
        select jsonb_agg(r.result)
        from public.job_callbacks(reports := jsonb_build_array(
                jsonb_build_object(
                    'job_id', c -> 0 -> 'id', 'status', 'completed',
                    'assets', jsonb_build_array(current_setting('t.alice') || '/o/0.png')
                ),
                jsonb_build_object('job_id', c -> 2 -> 'id', 'status', 'failed', 'retryable', false)
            )) as r
    )::text, true) is not null
from (select current_setting('t.claims')::jsonb as c) as s;
select is(
    current_setting('t.service')::jsonb, '["completed", "failed"]'::jsonb,
    'the service role reports without tokens'
);
-- control: the live holders' tokens work for a worker
select tests.authenticate_as_worker();
select
    is(
        (
            select r.result
            from public.job_callbacks(reports := jsonb_build_array(jsonb_build_object(
                    'job_id',
                    c -> 1 -> 'id',
                    'status',
                    'completed',
                    'lease_token',
                    c -> 1 -> 'token'
                ))) as r
        ),
        'completed', 'control: job 1 under its own token completes'
    )
from (select current_setting('t.claims')::jsonb as c) as s;
select tests.clear_authentication();
select results_eq(
    $$select j.status, j.attempts
    from jsonb_array_elements(current_setting('t.claims')::jsonb) with ordinality as c (v, ord)
    join public.jobs as j on j.id = (c.v ->> 'id')::uuid
    order by c.ord$$,
    $$values ('completed', 1), ('completed', 1), ('failed', 2)$$,
    'the jobs end as the holders and the service role reported them'
);

select * from finish();
rollback;
