-- jobs_private.history_split for the reads that run as the user (list_jobs, library_items,
-- workspace_groups): jobs_private is not theirs to read. It says where the hot leaf begins and
-- when the newest sealed job was made; job ids already tell how many jobs came before them.
create function jobs_api.history_split(out below uuid, out created_upto timestamptz)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select s.below, s.created_upto from jobs_private.history_split as s where s.singleton
$$;
comment on function jobs_api.history_split() is
'Where the hot leaf begins (ids at or above below) and the latest created_at of sealed jobs (null: unknown), for the reads of a user''s newest jobs.';
revoke all on function jobs_api.history_split() from public, anon, authenticated, service_role;
grant execute on function jobs_api.history_split() to authenticated;
