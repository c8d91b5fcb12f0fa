-- A worker's heartbeat extends the leases it holds and answers 'extended' with the new expiry.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'x', num_images := 2) is not null;

select tests.authenticate_as_worker();
select set_config('t.claim', (
    select jsonb_agg(to_jsonb(c))::text
    from public.claim_jobs(
            worker_pool := 'sdxl',
            worker_id := 'gpu-1',
            max_jobs := 2
        ) as c
), true) is not null;
-- As the owner, both leases are shortened to 10 s left: the heartbeat must lengthen them.
select tests.clear_authentication();
update public.jobs set lease_expires_at = now() + interval '10 seconds'
where user_id = current_setting('t.alice')::uuid;
select tests.authenticate_as_worker();
select set_config('t.beat', (
    select jsonb_agg(to_jsonb(h))::text
    from public.heartbeat_jobs(
            worker_id := 'gpu-1',
            job_ids := array(
                select (e ->> 'job_id')::uuid
                from jsonb_array_elements(current_setting('t.claim')::jsonb) as e
            ),
            lease_tokens := array(
                select (e ->> 'lease_token')::uuid
                from jsonb_array_elements(current_setting('t.claim')::jsonb) as e
            )
        ) as h
), true) is not null;
select set_config('t.beat2', (
    select jsonb_agg(to_jsonb(h))::text
    from public.heartbeat_jobs(
            worker_id := 'gpu-1',
            job_ids := array[(current_setting('t.claim')::jsonb -> 0 ->> 'job_id')::uuid],
            lease_tokens := array[(current_setting('t.claim')::jsonb -> 0 ->> 'lease_token')::uuid],
            lease_seconds := 600
        ) as h
), true) is not null;
select tests.clear_authentication();

select is(jsonb_array_length(current_setting('t.beat')::jsonb), 2, 'one answer per job');
select is(
    (
        select array_agg(distinct e ->> 'state')
        from jsonb_array_elements(current_setting('t.beat')::jsonb) as e
    ),
    array['extended'],
    'both leases are extended'
);
select is(
    (
        select array_agg(distinct(e ->> 'lease_expires_at')::timestamptz)
        from jsonb_array_elements(current_setting('t.beat')::jsonb) as e
    ),
    array[now() + interval '120 seconds'],
    'to now + the type''s lease'
);
select is(
    (
        select j.lease_expires_at from public.jobs as j
        where j.id = (current_setting('t.claim')::jsonb -> 1 ->> 'job_id')::uuid
    ),
    now() + interval '120 seconds',
    'the row''s lease is extended'
);
select is(
    (
        select j.lease_expires_at from public.jobs as j
        where j.id = (current_setting('t.claim')::jsonb -> 0 ->> 'job_id')::uuid
    ),
    now() + interval '600 seconds',
    'lease_seconds overrides the type''s lease (up to its max_lease_seconds)'
);

select * from finish();
rollback;
