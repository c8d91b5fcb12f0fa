-- What one job's report may store (jobs_private.settings): at most max_assets_per_job assets
-- (default 10; a worker attached 100 of 900 KB metadata each) whose metadata come to at most
-- max_asset_metadata_bytes all together (default 32 KiB), every asset's metadata and the
-- report's own following the JSON rule. Past a bound: 22023 naming it (and the asset), and
-- nothing is written: the job stays processing with no output, its lease held.
begin;
select plan(9);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select set_config('t.job', public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'x'
) -> 'jobs' -> 0 ->> 'id', true) is not null;
select tests.authenticate_as_service_role();
select set_config('t.token', (
    select c.lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;

-- call job_callback with these assets (or metadata) for the claimed job
create function pg_temp.report(assets jsonb, metadata jsonb default null)
returns text
language sql
as $$
    select format(
        'select public.job_callback(job_id := %L, status := %L, lease_token := %L, assets := %L,
            metadata := %L)',
        current_setting('t.job'), 'completed', current_setting('t.token'), assets, metadata
    );
$$;

select throws_ok(
    pg_temp.report((
        select jsonb_agg(current_setting('t.alice') || '/' || g || '.png')
        from generate_series(1, 11) as g
    )),
    '22023',
    'assets has 11 elements: at most 10 per job (jobs_private.settings.max_assets_per_job)',
    'eleven assets are refused'
);
select throws_ok(
    pg_temp.report((
        select
            jsonb_agg(jsonb_build_object(
                'url', current_setting('t.alice') || '/' || g || '.png',
                'metadata', jsonb_build_object('exif', repeat('x', 9000))
            ))
        from generate_series(1, 4) as g
    )),
    '22023',
    'assets[3]: the metadata of assets[0..3] come to 36048 bytes: at most 32768 per job '
    || '(jobs_private.settings.max_asset_metadata_bytes)',
    'asset metadata past 32 KiB all together are refused, naming the asset that crosses it'
);
select throws_ok(
    pg_temp.report(jsonb_build_array(
        current_setting('t.alice') || '/0.png',
        jsonb_build_object(
            'url', current_setting('t.alice') || '/1.png', 'metadata', '{"seed": 1e5000}'::jsonb
        )
    )),
    '22023',
    'assets[1]: metadata holds a number whose absolute value is 1e308 or more: JSON readers '
    || '(JSON.parse, Python''s json) cannot read it as a finite number',
    'an asset''s metadata follows the JSON rule'
);
select throws_ok(
    pg_temp.report(
        jsonb_build_array(current_setting('t.alice') || '/0.png'),
        ('{"a": ' || repeat('[', 40) || repeat(']', 40) || '}')::jsonb
    ),
    '22023',
    'metadata is nested deeper than 32 levels of arrays and objects',
    'so does the report''s metadata'
);
select throws_ok(
    pg_temp.report(jsonb_build_array(jsonb_build_object(
        'url', current_setting('t.alice') || '/0.png', 'thumbnail_url', jsonb_build_object('a', 1)
    ))),
    '22023', null,
    'a thumbnail_url that is not a string is refused'
);
select tests.clear_authentication();
select results_eq(
    format(
        $$select j.status, j.attempts, j.lease_token, j.image_id,
            (select count(*)::integer from public.images_videos as iv where iv.job_id = j.id)
        from public.jobs as j where j.id = %L$$,
        current_setting('t.job')
    ),
    format(
        $$values ('processing', 1, jobs_private.lease_digest(%L::uuid), null::uuid, 0)$$,
        current_setting('t.token')
    ),
    'nothing was written: the job is processing, same lease, no outputs'
);

-- the owner changes the bounds as data
update jobs_private.settings set max_assets_per_job = 2, max_asset_metadata_bytes = 100
where singleton;
select tests.authenticate_as_service_role();
select throws_ok(
    pg_temp.report((
        select jsonb_agg(current_setting('t.alice') || '/' || g || '.png')
        from generate_series(1, 3) as g
    )),
    '22023', null,
    'a lower bound set by the owner applies at once'
);
select is(
    public.job_callback(
        job_id := current_setting('t.job')::uuid, status := 'completed',
        lease_token := current_setting('t.token')::uuid,
        assets := jsonb_build_array(
            jsonb_build_object(
                'url', current_setting('t.alice') || '/0.png', 'metadata', '{"seed": 42}'::jsonb
            ),
            current_setting('t.alice') || '/1.png'
        )
    ) ->> 'result',
    'completed',
    'two assets within the bounds are stored'
);
select tests.clear_authentication();
select is(
    (
        select count(*)::integer from public.images_videos
        where job_id = current_setting('t.job')::uuid
    ),
    2,
    'both outputs exist'
);

select * from finish();
rollback;
