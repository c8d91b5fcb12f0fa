-- The spec's job types and the ones the real app added. Pools: sdxl for sdxl_*; wan for the
-- image_*, video_*, image7b_*, video7b_* and wan_video_* types; rv51 for rv51_*.
insert into public.job_types
(
    job_type, worker_pool, media_type, format, quality, model_type, output_bucket, enhanced,
    default_max_attempts, lease_seconds, description
)
values
(
    'sdxl_image_fast', 'sdxl', 'image', 'png', 'fast', 'sdxl', 'sdxl_image_fast', false, 3, 120,
    'SDXL image, fast'
),
(
    'sdxl_image_high', 'sdxl', 'image', 'png', 'high', 'sdxl', 'sdxl_image_high', false, 3, 180,
    'SDXL image, high quality'
),
(
    'image_fast', 'wan', 'image', 'png', 'fast', 'wan', 'image_fast', false, 3, 300,
    'WAN image, fast'
),
(
    'image_high', 'wan', 'image', 'png', 'high', 'wan', 'image_high', false, 3, 300,
    'WAN image, high quality'
),
(
    'video_fast', 'wan', 'video', 'mp4', 'fast', 'wan', 'video_fast', false, 3, 600,
    'WAN video, fast'
),
(
    'video_high', 'wan', 'video', 'mp4', 'high', 'wan', 'video_high', false, 3, 900,
    'WAN video, high quality'
),
(
    'image7b_fast_enhanced', 'wan', 'image', 'png', 'fast', 'wan_qwen7b', 'image7b_fast_enhanced',
    true, 3, 300, 'WAN image with Qwen 7B prompt enhancement, fast'
),
(
    'image7b_high_enhanced', 'wan', 'image', 'png', 'high', 'wan_qwen7b', 'image7b_high_enhanced',
    true, 3, 300, 'WAN image with Qwen 7B prompt enhancement, high quality'
),
(
    'video7b_fast_enhanced', 'wan', 'video', 'mp4', 'fast', 'wan_qwen7b', 'video7b_fast_enhanced',
    true, 3, 600, 'WAN video with Qwen 7B prompt enhancement, fast'
),
(
    'video7b_high_enhanced', 'wan', 'video', 'mp4', 'high', 'wan_qwen7b', 'video7b_high_enhanced',
    true, 3, 900, 'WAN video with Qwen 7B prompt enhancement, high quality'
),
(
    'wan_video_fast', 'wan', 'video', 'mp4', 'fast', 'wan', 'wan_video_fast', false, 3, 600,
    'WAN 2.x video, fast'
),
(
    'wan_video_high', 'wan', 'video', 'mp4', 'high', 'wan', 'wan_video_high', false, 3, 900,
    'WAN 2.x video, high quality'
),
(
    'rv51_fast', 'rv51', 'image', 'png', 'fast', 'rv51', 'rv51_fast', false, 3, 120,
    'Realistic Vision 5.1 image, fast'
),
(
    'rv51_high', 'rv51', 'image', 'png', 'high', 'rv51', 'rv51_high', false, 3, 180,
    'Realistic Vision 5.1 image, high quality'
);

-- Bounds of a lease and of an attempt: images may run 30 minutes, videos two hours.
update public.job_types
set
    max_lease_seconds = case when media_type = 'video' then 1800 else 600 end,
    max_run_seconds = case when media_type = 'video' then 7200 else 1800 end
where job_type is not null;
