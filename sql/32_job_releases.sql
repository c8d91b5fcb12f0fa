-- How often each job was handed back by a stopping worker (release_jobs) without spending its
-- attempt. release_jobs gives an attempt back at most a few times per job; beyond that a
-- release counts the attempt, so a claim/release loop cannot pin a job in the queue.
create table jobs_private.job_releases (
    job_id uuid primary key references public.jobs (id) on delete cascade,
    releases integer not null
    constraint job_releases_releases_check check (releases >= 1),
    last_released_at timestamptz not null
);
comment on table jobs_private.job_releases is
'Per job: how many times a worker handed it back through release_jobs (graceful shutdown). Written only by release_jobs; deleted with the job.';
revoke all on table jobs_private.job_releases from public, anon, authenticated, service_role;
