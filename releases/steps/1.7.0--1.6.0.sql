-- jobsdb:no-transaction
-- jobsdb 1.7.0 -> 1.6.0: the way back, as a forward migration.
--
-- public.jobs becomes the plain table again: its one partition, jobs_private.jobs_hot, is
-- detached and takes back the name, the schema, the foreign keys in and out, the triggers,
-- grants and policies and the publication membership the parent had; no row is copied. The
-- functions taking a jobs row are made again for its row type. Refused (55000, by its first
-- statement: nothing changed) while jobs has another partition than jobs_hot or a view reads
-- public.jobs. The change is one statement, then the foreign keys into jobs are checked by the
-- next (as on the way up).
-- Refused first, before anything changes.
do $$
begin
    if not exists (
        select from pg_catalog.pg_class as c
        where c.oid = 'public.jobs'::pg_catalog.regclass and c.relkind = 'p'
    ) then
        return;
    end if;
    if exists (
        select from pg_catalog.pg_inherits as i
        where i.inhparent = 'public.jobs'::pg_catalog.regclass
            and i.inhrelid <> 'jobs_private.jobs_hot'::pg_catalog.regclass
    ) then
        raise exception using errcode = '55000',
            message = 'public.jobs has partitions besides jobs_private.jobs_hot: 1.6.0 has one table',
            hint = 'Only a jobs with the one partition 1.7.0 made can go back to 1.6.0.';
    end if;
    if exists (
        select from pg_catalog.pg_depend as d
        join pg_catalog.pg_rewrite as w on w.oid = d.objid
        where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
            and d.refobjid = 'public.jobs'::pg_catalog.regclass
            and w.ev_class <> 'public.jobs'::pg_catalog.regclass
    ) then
        raise exception using errcode = '55000', message = 'a view reads public.jobs';
    end if;
end
$$;

-- First the queue's functions of 1.6.0, naming public.jobs: they work on the partitioned table
-- and on the table it becomes, so no call between two statements finds no table.
-- jobsdb:apply functions/jobs_api/queue_job.sql from 1.6.0
-- jobsdb:apply functions/worker/claim_jobs.sql from 1.6.0
-- jobsdb:apply functions/worker/heartbeat_jobs.sql from 1.6.0
-- jobsdb:apply functions/worker/job_callback.sql from 1.6.0
-- jobsdb:apply functions/worker/job_callbacks.sql from 1.6.0
-- jobsdb:apply functions/worker/release_jobs.sql from 1.6.0
-- jobsdb:apply functions/worker/rescue_expired_jobs.sql from 1.6.0

do $$
declare
    r record;
    g record;
    v_new text;
    v_at integer;
    v_comment text;
begin
    -- the definitions read below name every object with its schema
    perform pg_catalog.set_config('search_path', 'pg_catalog', true);
    if not exists (
        select from pg_catalog.pg_class as c
        where c.oid = 'public.jobs'::pg_catalog.regclass and c.relkind = 'p'
    ) then
        return;
    end if;
    v_comment := pg_catalog.obj_description('public.jobs'::pg_catalog.regclass, 'pg_class');

    -- foreign keys into jobs: to the partition (checked by the next statement)
    for r in
        select c.conname, c.conrelid::pg_catalog.regclass as tab,
            pg_catalog.pg_get_constraintdef(c.oid) as def
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0 and c.conrelid <> 'public.jobs'::pg_catalog.regclass
        order by 2, 1
    loop
        execute format('alter table %s drop constraint %I', r.tab, r.conname);
        execute format('alter table %s add constraint %I %s not valid', r.tab, r.conname,
            replace(r.def, 'REFERENCES public.jobs(', 'REFERENCES jobs_private.jobs_hot('));
    end loop;
    -- triggers: on the partition (dropping the parent's drops their clones)
    for r in
        select t.tgname, t.tgenabled, pg_catalog.pg_get_triggerdef(t.oid) as def
        from pg_catalog.pg_trigger as t
        where t.tgrelid = 'public.jobs'::pg_catalog.regclass and not t.tgisinternal
        order by t.tgname
    loop
        execute format('drop trigger %I on public.jobs', r.tgname);
        execute replace(r.def, ' ON public.jobs ', ' ON jobs_private.jobs_hot ');
        -- as it fired before: disabled, or in replica mode only or always
        if r.tgenabled <> 'O' then
            execute format('alter table jobs_private.jobs_hot %s trigger %I',
                case r.tgenabled when 'D' then 'disable' when 'R' then 'enable replica'
                    else 'enable always' end, r.tgname);
        end if;
    end loop;
    -- grants and policies: the partition's
    drop policy if exists jobs_hot_none on jobs_private.jobs_hot;
    for g in
        select a.grantee::pg_catalog.regrole as grantee, a.privilege_type
        from pg_catalog.pg_class as c, pg_catalog.aclexplode(c.relacl) as a
        where c.oid = 'public.jobs'::pg_catalog.regclass
            and a.grantee <> 0 and a.grantee <> c.relowner
    loop
        execute format(
            'grant %s on table jobs_private.jobs_hot to %s', g.privilege_type, g.grantee
        );
    end loop;
    for r in
        select p.polname, p.polpermissive, p.polcmd,
            pg_catalog.pg_get_expr(p.polqual, p.polrelid) as qual,
            pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as checks,
            (
                select string_agg(
                    case when x = 0 then 'public' else quote_ident(x::pg_catalog.regrole::text) end,
                    ', '
                )
                from unnest(p.polroles) as x
            ) as roles
        from pg_catalog.pg_policy as p
        where p.polrelid = 'public.jobs'::pg_catalog.regclass
    loop
        execute format('create policy %I on jobs_private.jobs_hot as %s for %s to %s%s%s',
            r.polname, case when r.polpermissive then 'permissive' else 'restrictive' end,
            case r.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                when 'd' then 'delete' else 'all' end,
            r.roles,
            case when r.qual is not null then format(' using (%s)', r.qual) end,
            case when r.checks is not null then format(' with check (%s)', r.checks) end);
    end loop;
    -- functions taking a parent's row: the partition's row type (the table it becomes)
    for r in
        select p.oid, pg_catalog.pg_get_functiondef(p.oid) as def,
            p.oid::pg_catalog.regprocedure::text as sig, p.proacl as acl, p.proowner as owner,
            pg_catalog.obj_description(p.oid, 'pg_proc') as note
        from pg_catalog.pg_proc as p
        where exists (
            select from pg_catalog.pg_type as t
            where t.oid = any (p.proargtypes::pg_catalog.oid[] || p.prorettype)
                and (
                    t.typrelid = 'public.jobs'::pg_catalog.regclass
                    or t.typelem = 'public.jobs'::pg_catalog.regtype
                )
        )
        order by p.oid
    loop
        -- dropped first: a changed return type is no replacement
        execute format('drop function %s', r.sig);
        -- the type in the header only: the body names the table, not the type
        v_at := pg_catalog.strpos(r.def, E'\nAS ');
        execute replace(left(r.def, v_at), 'public.jobs', 'jobs_private.jobs_hot')
            || substr(r.def, v_at + 1);
        v_new := replace(r.sig::text, 'public.jobs', 'jobs_private.jobs_hot');
        execute format(
            'revoke all on function %s from public, anon, authenticated, service_role', v_new
        );
        for g in
            select a.grantee::pg_catalog.regrole as grantee
            from pg_catalog.aclexplode(r.acl) as a
            where a.grantee <> 0 and a.grantee <> r.owner
        loop
            execute format('grant execute on function %s to %s', v_new, g.grantee);
        end loop;
        if r.acl is null or exists (
            select from pg_catalog.aclexplode(r.acl) as a where a.grantee = 0
        ) then
            execute format('grant execute on function %s to public', v_new);
        end if;
        execute format('comment on function %s is %L', v_new, r.note);
    end loop;

    -- the columns' comments: the parent's
    for r in
        select a.attname, pg_catalog.col_description(a.attrelid, a.attnum) as note
        from pg_catalog.pg_attribute as a
        where a.attrelid = 'public.jobs'::pg_catalog.regclass and a.attnum > 0
            and not a.attisdropped
        order by a.attnum
    loop
        execute format('comment on column jobs_private.jobs_hot.%I is %L', r.attname, r.note);
    end loop;

    alter table public.jobs detach partition jobs_private.jobs_hot;
    drop table public.jobs;
    alter table jobs_private.jobs_hot set schema public;
    alter table public.jobs_hot rename to jobs;
    execute format('comment on table public.jobs is %L', v_comment);
    alter publication supabase_realtime add table public.jobs;
    -- Made again from 1.6.0's text (sql/43_job_metrics_triggers.sql): its row comparison, read
    -- back from the catalog above, parses to an equal expression of another shape.
    create or replace trigger jobs_metrics_stale_on_update_trg
    after update on public.jobs
    for each row
    when (
        old.completed_at is not null
        and (old.status, old.attempts, old.started_at, old.completed_at)
        is distinct from (new.status, new.attempts, new.started_at, new.completed_at)
    )
    execute function jobs_private.mark_job_metrics_stale();
end
$$;

-- The foreign keys into jobs, checked (each reads its table; writes go on).
do $$
declare
    r record;
begin
    -- the definitions read below name every object with its schema
    perform pg_catalog.set_config('search_path', 'pg_catalog', true);
    for r in
        select c.conname, c.conrelid::pg_catalog.regclass as tab
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and not c.convalidated
        order by 2, 1
    loop
        execute format('alter table %s validate constraint %I', r.tab, r.conname);
    end loop;
end
$$;

-- The row rule's function, named by the table's row type again (the same function).
-- jobsdb:apply functions/private/jobs_row_is_valid.sql from 1.6.0
