-- Named queries of `jobsdb demo` (loaded by jobsdb.queries). They run as the owner role.

-- name: create_user
-- A signed-up Supabase user (auth.users + profile), optionally an admin.
-- Explicit id and created_at, as Auth writes them (auth.users.id has no default on Supabase).
with u as (
    -- as the Auth service writes it: an explicit id and timestamps (no defaults on Supabase)
    insert into auth.users (id, aud, role, email, raw_app_meta_data, created_at, updated_at)
    values (
        gen_random_uuid(), 'authenticated', 'authenticated', %(email)s, '{"provider": "email"}',
        now(), now()
    )
    returning id
),
p as (
    insert into public.profiles (id)
    select u.id from u
    returning id
),
r as (
    insert into public.user_roles (user_id, role)
    select p.id, 'admin' from p where %(admin)s
)
select p.id from p;

-- name: counts
select
    count(*) filter (where j.status = 'queued') as queued,
    count(*) filter (where j.status = 'processing') as processing,
    count(*) filter (where j.status = 'completed') as completed,
    count(*) filter (where j.status = 'failed') as failed,
    count(*) filter (where j.status = 'cancelled') as cancelled
from public.jobs as j
where j.user_id = any(%(users)s);

-- name: job_states
select
    u.email,
    j.job_type,
    j.worker_pool,
    j.status,
    j.attempts,
    coalesce(iv.file_name, j.error_message, '') as output_or_error
from public.jobs as j
inner join auth.users as u on u.id = j.user_id
left join public.images_videos as iv on iv.job_id = j.id and iv.asset_index = 0
where j.user_id = any(%(users)s)
order by u.email, j.created_at, j.metadata ->> 'image_index';

-- name: fast_retries
-- The demo's own database: retry a failed attempt after 2 s instead of 10 s.
update jobs_private.settings set retry_base_seconds = 2, retry_max_seconds = 2;
