-- At install only (public.jobs does not exist yet): list the spec's tables the project already
-- has as the project's own (jobs_private.app_tables), then stop, on one line naming everything
-- missing, if they lack what jobsdb needs (jobs_private.app_table_problems). Nothing is created
-- before this check. On a database that has jobsdb, this does nothing.
do $$
declare
    v_problems text;
begin
    if pg_catalog.to_regclass('public.jobs') is not null then
        return;
    end if;
    insert into jobs_private.app_tables (table_name)
    select t.table_name
    from (
        values
        ('public.profiles'), ('public.user_roles'), ('public.projects'), ('public.api_models'),
        ('public.prompt_tests'), ('public.images_videos'), ('public.videos')
    ) as t (table_name)
    where pg_catalog.to_regclass(t.table_name) is not null;
    select pg_catalog.string_agg(p.problem, '; ')
    into v_problems
    from jobs_private.app_table_problems() as p (problem);
    if v_problems is not null then
        raise exception using
            errcode = '42P16',
            message = 'jobsdb cannot use the project''s own tables: ' || v_problems,
            hint = 'Add what is missing in a migration of the project''s own before jobsdb''s'
            || ' (docs/operators.md, "What a project may change").';
    end if;
end
$$;
