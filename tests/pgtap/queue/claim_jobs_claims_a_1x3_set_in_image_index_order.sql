-- The jobs of a 1x3 set share a fair_rank; they are claimed one by one in image_index order,
-- set after set in queue order, never in a random order (ids order by creation). Five sets
-- from two users: a random tie-break would pass this with a chance of 1 in 6^5 * more.
begin;
select plan(3);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.bob', tests.create_user('bob@example.com')::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a1', num_images := 3) is not null;
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a2', num_images := 3) is not null;
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a3', num_images := 3) is not null;
select tests.authenticate_as(current_setting('t.bob')::uuid);
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'b1', num_images := 3) is not null;
select public.queue_job(job_type := 'sdxl_image_fast', prompt := 'b2', num_images := 3) is not null;
select tests.clear_authentication();

-- one claim at a time (one statement each), as a single-slot worker does
select set_config('t.order', '', true) is not null;
select tests.authenticate_as_worker();
do $$
declare
    c record;
begin
    for i in 1..15 loop
        select * into c from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1');
        perform set_config('t.order', ltrim(current_setting('t.order') || ' '
            || c.prompt || ':' || (c.metadata ->> 'image_index'), ' '), true);
    end loop;
end
$$;
select tests.clear_authentication();

select is(
    (
        select string_agg(split_part(e, ':', 2), '' order by o)
        from unnest(string_to_array(current_setting('t.order'), ' ')) with ordinality as u (e, o)
    ),
    '012012012012012',
    'every set is claimed in image_index order'
);
select is(
    (
        select string_agg(distinct split_part(e, ':', 1), ',')
        from unnest(string_to_array(current_setting('t.order'), ' ')) as u (e)
    ),
    'a1,a2,a3,b1,b2',
    'all fifteen jobs are claimed'
);
select ok(
    (
        select bool_and(a.id < b.id)
        from public.jobs as a
        inner join public.jobs as b
            on a.metadata ->> 'job_id' = b.metadata ->> 'job_id'
                and (a.metadata ->> 'image_index')::integer + 1
                = (b.metadata ->> 'image_index')::integer
    ),
    'within a set, ids grow with image_index'
);

select * from finish();
rollback;
