-- For measurement only (bench/seal.py --rules-on-parent), after variant_partitioned.sql and
-- variant_partitioned_leaf_functions.sql: the row rules arranged as a real design would have
-- them, so that the seal can run as the owner (a Supabase project's postgres is no superuser
-- and cannot skip triggers with session_replication_role). The foreign keys into jobs go (they
-- point at the leaf, and rows leave it); every trigger of the leaf moves to public.jobs: the
-- row triggers are cloned from there to every partition, so they still fire on the leaf, and
-- the statement triggers (the delete's tombstones and metrics marks) fire only for statements
-- sent to public.jobs, not for the seal's delete on the leaf.
alter table public.images_videos drop constraint images_videos_job_id_fkey;
alter table jobs_private.job_releases drop constraint job_releases_job_id_fkey;
do $$
declare
    r record;
begin
    for r in
        select t.tgname, pg_catalog.pg_get_triggerdef(t.oid) as def
        from pg_catalog.pg_trigger as t
        where t.tgrelid = 'jobs_private.jobs_hot'::regclass and not t.tgisinternal
    loop
        execute format('drop trigger %I on jobs_private.jobs_hot', r.tgname);
        execute replace(r.def, 'ON jobs_private.jobs_hot', 'ON public.jobs');
    end loop;
end
$$;
