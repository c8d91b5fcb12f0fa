create function public.list_jobs(
    status text default null,
    before timestamptz default null,
    max_rows integer default 50,
    before_id uuid default null
)
returns setof public.jobs
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return query
    select j.*
    from public.jobs as j
    where j.user_id = (select auth.uid())
        and (list_jobs.status is null or j.status = list_jobs.status)
        and (
            list_jobs.before is null
            or j.created_at <= list_jobs.before
            and (j.created_at < list_jobs.before or j.id < list_jobs.before_id)
        )
    order by j.created_at desc, j.id desc
    limit least(greatest(coalesce(list_jobs.max_rows, 50), 1), 200);
end;
$$;
comment on function public.list_jobs(text, timestamptz, integer, uuid) is
'The signed-in user''s jobs, newest first, optionally of one status; page with before = the created_at and before_id = the id of the last row seen (keyset; jobs of one set share created_at). At most 200 rows.';
revoke all on function public.list_jobs(text, timestamptz, integer, uuid)
from public, anon, authenticated, service_role;
grant execute on function public.list_jobs(text, timestamptz, integer, uuid) to authenticated;
