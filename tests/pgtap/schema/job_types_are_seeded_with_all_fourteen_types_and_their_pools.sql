-- job_types holds the spec's types and the ones the real app added, 14 in all, each routed
-- to its worker pool: sdxl for sdxl_*, wan for image_*/video_*/image7b_*/video7b_*/wan_video_*,
-- rv51 for rv51_*. A project adds types of its own (an insert in a migration of its own): they
-- are the project's, so only the 14 seeded ones are checked here.
begin;
select plan(8);

create temporary view seeded_job_types as
select *
from public.job_types
where job_type = any(array[
        'image7b_fast_enhanced', 'image7b_high_enhanced', 'image_fast', 'image_high', 'rv51_fast',
        'rv51_high', 'sdxl_image_fast', 'sdxl_image_high', 'video7b_fast_enhanced',
        'video7b_high_enhanced', 'video_fast', 'video_high', 'wan_video_fast', 'wan_video_high'
    ]);

select results_eq(
    $$select job_type, worker_pool from seeded_job_types order by job_type$$,
    $$values
        ('image7b_fast_enhanced', 'wan'), ('image7b_high_enhanced', 'wan'),
        ('image_fast', 'wan'), ('image_high', 'wan'),
        ('rv51_fast', 'rv51'), ('rv51_high', 'rv51'),
        ('sdxl_image_fast', 'sdxl'), ('sdxl_image_high', 'sdxl'),
        ('video7b_fast_enhanced', 'wan'), ('video7b_high_enhanced', 'wan'),
        ('video_fast', 'wan'), ('video_high', 'wan'),
        ('wan_video_fast', 'wan'), ('wan_video_high', 'wan')$$,
    'the 14 job types, each with its worker pool'
);
select is(
    (
        select count(*)::int
        from seeded_job_types where quality <> split_part(
                regexp_replace(
                    job_type, '^(sdxl_image|image7b|video7b|wan_video|image|video|rv51)_', ''
                ),
                '_', 1
            )
    ),
    0, 'each type''s quality matches its name (fast/high)'
);
select is_empty(
    $$select job_type from seeded_job_types
    where (job_type ~ 'video' and (media_type, format) <> ('video', 'mp4'))
        or (job_type !~ 'video' and (media_type, format) <> ('image', 'png'))$$,
    'video types produce mp4 videos, the others png images'
);
select is_empty(
    $$select job_type from seeded_job_types where enhanced <> (job_type ~ '7b_')$$,
    'exactly the 7b types are enhanced'
);
select is_empty(
    $$select job_type from seeded_job_types
    where default_max_attempts is null or lease_seconds is null or output_bucket is null
        or model_type is null$$,
    'every type has a default max_attempts, a lease length, an output bucket and a model type'
);
select is(
    (
        select format('%s/%s/%s', default_max_attempts, lease_seconds, output_bucket)
        from public.job_types where job_type = 'video_high'
    ),
    '3/900/video_high', 'video_high: 3 attempts, 900 s lease, bucket video_high'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
        model_type, output_bucket, lease_seconds)
    values ('x_fast', 'x', 'audio', 'png', 'fast', 'x', 'x', 60)$$,
    '23514',
    'new row for relation "job_types" violates check constraint "job_types_media_type_check"',
    'job_types rejects a media type other than image or video'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
        model_type, output_bucket, lease_seconds)
    values ('x_fast', 'x', 'image', 'png', 'fast', 'x', 'x', 5)$$,
    '23514',
    'new row for relation "job_types" violates check constraint "job_types_lease_seconds_check"',
    'job_types rejects a lease shorter than 10 s'
);

select * from finish();
rollback;
