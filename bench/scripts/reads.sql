-- Reads at size. Each entry: the statement a signed-in user runs (role authenticated, claims
-- set, RLS applies) and the statement the table owner runs (role postgres: owner, BYPASSRLS)
-- with an explicit user_id filter. For the read functions the owner runs the same call: their
-- bodies filter by auth.uid() themselves (get_job reads by primary key), so only RLS differs.
-- Parameters: %(uid)s the user, %(job_id)s one of the user's jobs.
-- The spec's queries are measured as written (user_id = auth.uid()) and in the form Supabase
-- advises for RLS, user_id = (select auth.uid()) (an init plan: one evaluation, an index key).

-- name: spec: recent jobs (limit 50)
-- user:
select id, job_type, status, created_at from public.jobs
where user_id = auth.uid() order by created_at desc limit 50
-- owner:
select id, job_type, status, created_at from public.jobs
where user_id = %(uid)s order by created_at desc limit 50

-- name: spec: recent jobs (limit 50) [(select auth.uid())]
-- user:
select id, job_type, status, created_at from public.jobs
where user_id = (select auth.uid()) order by created_at desc limit 50
-- owner:
select id, job_type, status, created_at from public.jobs
where user_id = %(uid)s order by created_at desc limit 50

-- name: spec: jobs by status (processing)
-- user:
select id, job_type, model_type, created_at from public.jobs
where user_id = auth.uid() and status = 'processing' order by created_at desc
-- owner:
select id, job_type, model_type, created_at from public.jobs
where user_id = %(uid)s and status = 'processing' order by created_at desc

-- name: spec: jobs by status (processing) [(select auth.uid())]
-- user:
select id, job_type, model_type, created_at from public.jobs
where user_id = (select auth.uid()) and status = 'processing' order by created_at desc
-- owner:
select id, job_type, model_type, created_at from public.jobs
where user_id = %(uid)s and status = 'processing' order by created_at desc

-- name: spec: job with output details
-- user:
select j.id, j.job_type, j.status, iv.file_path, iv.file_name
from public.jobs as j left join public.images_videos as iv on j.image_id = iv.id
where j.user_id = auth.uid() and j.id = %(job_id)s
-- owner:
select j.id, j.job_type, j.status, iv.file_path, iv.file_name
from public.jobs as j left join public.images_videos as iv on j.image_id = iv.id
where j.user_id = %(uid)s and j.id = %(job_id)s

-- name: spec: job with output details [(select auth.uid())]
-- user:
select j.id, j.job_type, j.status, iv.file_path, iv.file_name
from public.jobs as j left join public.images_videos as iv on j.image_id = iv.id
where j.user_id = (select auth.uid()) and j.id = %(job_id)s
-- owner:
select j.id, j.job_type, j.status, iv.file_path, iv.file_name
from public.jobs as j left join public.images_videos as iv on j.image_id = iv.id
where j.user_id = %(uid)s and j.id = %(job_id)s

-- name: spec: job performance metrics (7 days)
-- user:
select job_type, count(*) as total_jobs,
    avg(extract(epoch from (updated_at - created_at))) as avg_duration_seconds,
    count(case when status = 'completed' then 1 end) as completed_count
from public.jobs where user_id = auth.uid() and created_at > now() - interval '7 days'
group by job_type
-- owner:
select job_type, count(*) as total_jobs,
    avg(extract(epoch from (updated_at - created_at))) as avg_duration_seconds,
    count(case when status = 'completed' then 1 end) as completed_count
from public.jobs where user_id = %(uid)s and created_at > now() - interval '7 days'
group by job_type

-- name: spec: job performance metrics (7 days) [(select auth.uid())]
-- user:
select job_type, count(*) as total_jobs,
    avg(extract(epoch from (updated_at - created_at))) as avg_duration_seconds,
    count(case when status = 'completed' then 1 end) as completed_count
from public.jobs where user_id = (select auth.uid()) and created_at > now() - interval '7 days'
group by job_type
-- owner:
select job_type, count(*) as total_jobs,
    avg(extract(epoch from (updated_at - created_at))) as avg_duration_seconds,
    count(case when status = 'completed' then 1 end) as completed_count
from public.jobs where user_id = %(uid)s and created_at > now() - interval '7 days'
group by job_type

-- The read RPCs as PostgREST calls them (its asJsonF: a set-returning function's rows through
-- coalesce(json_agg(...), '[]')::character varying; a function returning one jsonb through
-- (json_agg(...) -> 0)::text): the client gets text, as PostgREST does. "[jsonb]": list_jobs
-- the way this file first measured it (jsonb_agg(to_jsonb(r)), parsed by the client).

-- name: rpc: list_jobs()
-- user:
select coalesce(json_agg(_postgrest_t), '[]')::character varying
from public.list_jobs() as _postgrest_t
-- owner:
same

-- name: rpc: list_jobs() [jsonb]
-- user:
select coalesce(jsonb_agg(to_jsonb(r)), '[]') from public.list_jobs() as r
-- owner:
same

-- name: rpc: get_job(job_id)
-- user:
select coalesce((json_agg(_postgrest_t.pgrst_scalar) -> 0)::text, 'null')
from (select public.get_job(job_id := %(job_id)s) as pgrst_scalar) as _postgrest_t
-- owner:
same

-- name: rpc: workspace_groups()
-- user:
select coalesce((json_agg(_postgrest_t.pgrst_scalar) -> 0)::text, 'null')
from (select public.workspace_groups() as pgrst_scalar) as _postgrest_t
-- owner:
same

-- name: rpc: library_items()
-- user:
select coalesce((json_agg(_postgrest_t.pgrst_scalar) -> 0)::text, 'null')
from (select public.library_items() as pgrst_scalar) as _postgrest_t
-- owner:
same
