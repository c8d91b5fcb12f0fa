-- Empty the queue tables of the bench database (superuser, bench database only).
truncate public.jobs, public.images_videos, public.videos, jobs_private.job_releases;
