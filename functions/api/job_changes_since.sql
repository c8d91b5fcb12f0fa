-- Security invoker entry point (Supabase lints 0028/0029): it runs as the caller and calls the
-- privileged body jobs_api.job_changes_since, which lives outside the exposed schemas; see that
-- file for how the cursor works. Grants below and on jobs_api.job_changes_since.
create function public.job_changes_since(cursor text default null)
returns jsonb
language plpgsql
stable
set search_path = pg_catalog, pg_temp
as $$
begin
    return jobs_api.job_changes_since(job_changes_since.cursor);
end;
$$;
comment on function public.job_changes_since(text) is
'Reconcile read for Realtime: the signed-in user''s jobs written since cursor (committed after the cursor''s snapshot, in whatever order) and the ids of jobs deleted since. Answers {cursor, reset, changed: [{job_id, group_id, image_index, status, attempts, error_message, updated_at}], removed: [job_id]}. cursor null, older than the 7-day tombstones or more than 500 changes: reset true (reload, keep the new cursor). Errors: 42501 not signed in, 22023 not a cursor.';
revoke all on function public.job_changes_since(text)
from public, anon, authenticated, service_role;
grant execute on function public.job_changes_since(text) to authenticated;
