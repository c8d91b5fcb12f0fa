-- A malformed batch or element is 22023 naming the element (reports[i], 0-based) and a report
-- conflicting with a recorded outcome is PT409 naming it: in every case the whole call fails
-- and nothing is written, not even the good reports before the bad one.
begin;
select plan(22);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 2) is not null;
select tests.authenticate_as_service_role();
select set_config('t.claims', (
    select jsonb_agg(jsonb_build_object('id', c.job_id, 'token', c.lease_token) order by c.job_id)
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 2) as c
)::text, true) is not null;
-- job 1 is already completed (so a failure report for it conflicts)
select public.job_callback(
    job_id := (current_setting('t.claims')::jsonb -> 1 ->> 'id')::uuid, status := 'completed',
    lease_token := (current_setting('t.claims')::jsonb -> 1 ->> 'token')::uuid
) ->> 'result' = 'completed';
-- a good report of job 0, to put before each bad element
select
    set_config('t.good', jsonb_build_object(
        'job_id', c -> 0 -> 'id', 'status', 'completed', 'lease_token', c -> 0 -> 'token',
        'assets', jsonb_build_array(current_setting('t.alice') || '/o/0.png')
    )::text, true) is not null
from (select current_setting('t.claims')::jsonb as c) as s;
select tests.clear_authentication();
select set_config('t.before', (
    select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j
) || (select count(*) from public.images_videos)::text, true) is not null;

create function pg_temp.bad(bad jsonb) returns text
language sql as $$
    select format('select * from public.job_callbacks(reports := %L)',
        jsonb_build_array(current_setting('t.good')::jsonb, bad));
$$;
create function pg_temp.reports(reports jsonb) returns text
language sql as $$
    select format('select * from public.job_callbacks(reports := %L)', reports);
$$;
-- the owner stands in for the service role (tokens are given anyway); grants are not the subject
select throws_ok(
    pg_temp.reports('{"job_id": "x"}'), '22023',
    'reports must be a JSON array of 1 to 100 job_callback reports', 'an object, not an array'
);
select throws_ok(pg_temp.reports('[]'), '22023', null, 'an empty array');
select throws_ok(pg_temp.reports('null'), '22023', null, 'JSON null');
select throws_ok('select * from public.job_callbacks(reports := null)', '22023', null, 'SQL null');
select throws_ok(
    pg_temp.reports(
        (select jsonb_agg(current_setting('t.good')::jsonb) from generate_series(1, 101))
    ),
    '22023', 'reports must be a JSON array of 1 to 100 job_callback reports', '101 reports'
);
select throws_ok(
    pg_temp.bad('"a string"'), '22023', 'reports[1]: must be an object',
    'an element that is not an object'
);
select throws_ok(
    pg_temp.bad('{"status": "completed", "lease_token": null}'), '22023',
    'reports[1]: job_id must be a uuid', 'no job_id'
);
select throws_ok(
    pg_temp.bad('{"job_id": "42", "status": "completed"}'), '22023',
    'reports[1] (job 42): job_id must be a uuid', 'a job_id that is not a uuid'
);
select throws_ok(
    pg_temp.bad('{"job_id": 42, "status": "completed"}'), '22023',
    null, 'a job_id that is a number'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object('job_id', gen_random_uuid(), 'status', 'done')),
    '22023', null, 'status done'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object('job_id', gen_random_uuid())),
    '22023', null, 'no status'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object(
        'job_id', gen_random_uuid(), 'status', 'failed',
        'leaseToken', gen_random_uuid(), 'retriable', false
    )),
    '22023', null, 'unknown keys (a misspelt token or flag is not silently dropped)'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object(
        'job_id', gen_random_uuid(), 'status', 'failed',
        'lease_token', 'abc'
    )),
    '22023', null, 'a lease_token that is not a uuid'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object(
        'job_id', gen_random_uuid(), 'status', 'failed',
        'retryable', 'no'
    )),
    '22023', null, 'retryable that is not a boolean'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object(
        'job_id', gen_random_uuid(), 'status', 'completed',
        'metadata', '[1]'::jsonb, 'assets', '{}'::jsonb, 'error_message', 5
    )),
    '22023', null, 'metadata, assets and error_message of the wrong JSON types'
);
select throws_ok(
    pg_temp.bad(current_setting('t.good')::jsonb),
    '22023',
    format(
        'reports[0] and reports[1] report the same job %s: one report per job',
        current_setting('t.claims')::jsonb -> 0 ->> 'id'
    ),
    'the same job twice'
);
select throws_ok(
    pg_temp.bad(jsonb_build_object(
        'job_id', upper(current_setting('t.claims')::jsonb -> 0 ->> 'id'),
        'status', 'failed', 'lease_token', gen_random_uuid()
    )),
    '22023', null, 'the same job twice, spelt in capitals'
);
-- job_callback's own payload checks, reached element by element: the element is named
select throws_ok(
    pg_temp.bad(jsonb_build_object(
        'job_id', gen_random_uuid(), 'status', 'completed',
        'lease_token', gen_random_uuid(), 'assets', '[{"type": "audio", "url": "a.wav"}]'::jsonb
    )),
    '22023', null, 'an asset of type audio (job_callback''s rule)'
);
select
    throws_ok(
        pg_temp.bad(jsonb_build_object(
            'job_id', c -> 1 -> 'id', 'status', 'failed',
            'lease_token', c -> 1 -> 'token'
        )),
        'PT409',
        format(
            'reports[1] (job %s): job %s is already completed; a failed report conflicts',
            c -> 1 ->> 'id', c -> 1 ->> 'id'
        ),
        'a failure of a completed job: PT409 for the whole call, naming the element'
    )
from (select current_setting('t.claims')::jsonb as c) as s;

select is(
    (select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j)
    || (select count(*) from public.images_videos)::text,
    current_setting('t.before'),
    'nothing was written by any refused batch'
);
select is(
    (
        select r.result from public.job_callbacks(reports := jsonb_build_array(
                current_setting('t.good')::jsonb
            )) as r
    ),
    'completed', 'control: the good report alone completes its job'
);
select isnt(
    (select md5(string_agg(j::text, ',' order by j.id)) from public.jobs as j)
    || (select count(*) from public.images_videos)::text,
    current_setting('t.before'),
    'control: the fingerprint sees that write'
);

select * from finish();
rollback;
