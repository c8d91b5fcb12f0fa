-- Every job of a set stores the request's metadata and prompt (metadata.prompt): ~63 KB of
-- metadata made ~190 KB for a 1x3 set. queue_job refuses with 22023, naming the bound, when
-- (metadata + prompt) x num_images is past jobs_private.settings.max_set_metadata_bytes
-- (default 128 KiB), and writes nothing; a single job may still carry the full 64 KiB.
begin;
select plan(5);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config(
    't.meta', jsonb_build_object('notes', repeat('x', 60000))::text, true
) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a fox', num_images := 3,
        metadata := current_setting('t.meta')::jsonb)$$,
    '22023',
    'metadata and prompt of 60018 bytes copied into 3 jobs come to 180054 bytes: at most 131072 '
    || 'per request (jobs_private.settings.max_set_metadata_bytes)',
    'a 1x3 set of 60 KB metadata is refused, naming the bound'
);
select tests.clear_authentication();
select is((select count(*)::integer from public.jobs), 0, 'nothing was written');

select tests.authenticate_as(current_setting('t.alice')::uuid);
select is(
    jsonb_array_length(public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'a fox',
        metadata := current_setting('t.meta')::jsonb
    ) -> 'jobs'),
    1,
    'one job may carry it'
);
select is(
    jsonb_array_length(public.queue_job(
        job_type := 'sdxl_image_fast', prompt := 'a fox', num_images := 4,
        metadata := jsonb_build_object('notes', repeat('x', 30000))
    ) -> 'jobs'),
    4,
    'four jobs of 30 KB each are within it'
);
select tests.clear_authentication();

-- the owner changes the bound as data
update jobs_private.settings set max_set_metadata_bytes = 1024 where singleton;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok(
    $$select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a fox', num_images := 2,
        metadata := jsonb_build_object('notes', repeat('x', 600)))$$,
    '22023', null,
    'a lower bound set by the owner applies at once'
);
select tests.clear_authentication();

select * from finish();
rollback;
