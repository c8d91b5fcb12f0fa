-- public.jobs becomes a table partitioned by id, and the table made above (sql/20_jobs.sql and
-- everything on it since) becomes its one partition, jobs_private.jobs_hot, for every id
-- (MINVALUE to MAXVALUE). Its rows are neither copied nor read: a partition covering every
-- value needs no range check, and each index of the parent attaches the partition's index of
-- the same definition instead of building one. A fresh install and the upgrade from 1.6.0 run
-- this same file at the same point (after the table's triggers and policies, before the
-- functions that follow it here), so both end in the same catalog.
--
-- Why: history can then leave the database by whole partitions (detached and dropped, not
-- deleted row by row), and vacuum, index builds and freezing work per partition. The hot path
-- keeps meeting one table: every unfinished job is in jobs_hot.
--
-- What moves to the parent, read from the catalog, so that the app, PostgREST and the functions
-- see the same jobs table: the columns with their defaults and comments; the primary key and
-- the other indexes (but the unique idempotency index: a unique index of a partitioned table
-- must contain the partition key; jobs_hot keeps it, and queue_job's per-user lock keeps keys
-- exact across partitions); the foreign keys out of jobs and into it (the project's tables'
-- too: they referenced the table that is now jobs_hot); the triggers (row triggers are cloned
-- onto every partition); the grants and policies; the functions taking or returning a jobs row.
-- The row rule stays a CHECK of the partition (sql/61_jobs_row_check.sql, its function taking
-- the partition's row type): a CHECK reading the whole row cannot be a partitioned table's.
-- jobs_hot keeps row level security on, with a policy admitting no row, and no grant: only
-- its owner reads it directly. jobs leaves the supabase_realtime publication: Realtime's
-- Postgres Changes reads changes under the partition's name, never the parent's (docs/app.md).
--
-- The queue's functions (queue_job's insert and its reads of queued jobs, the worker functions)
-- name jobs_hot, the partition every unfinished job is in, not public.jobs: a statement on the
-- partition costs what one on the plain table did, where through the parent it also locks and
-- plans the parent (at 8 clients 0.85-1.00 x the lifecycle's rate, against 1.04 x named so;
-- bench/README.md, "Release 1.7.0"). Everything else (the reads, admin and user RPCs, and the
-- deletes, whose statement triggers are the parent's) goes through public.jobs. A later
-- partition of old, finished jobs leaves the queue's functions as they are.
--
-- One statement (a DO block) for the whole change, so that it is all or nothing in an upgrade
-- that runs statement by statement, and is skipped when done; the foreign keys into jobs are
-- then checked by a second one, which takes no lock the queue waits for.
--
-- Refused (55000, nothing changed) while a view, rule or materialized view of the project
-- reads jobs: it would go on reading jobs_hot, the partition, and miss every other one.
do $$
declare
    r record;
    g record;
    v_new text;
    v_at integer;
    v_readers text;
    v_comment text := pg_catalog.obj_description('public.jobs'::pg_catalog.regclass, 'pg_class');
begin
    -- the definitions read below name every object with its schema
    perform pg_catalog.set_config('search_path', 'pg_catalog', true);
    -- done already (a step run again after its second statement failed)
    if exists (
        select from pg_catalog.pg_class as c
        where c.oid = 'public.jobs'::pg_catalog.regclass and c.relkind = 'p'
    ) then
        return;
    end if;
    select string_agg(distinct w.ev_class::pg_catalog.regclass::text, ', ')
    into v_readers
    from pg_catalog.pg_depend as d
    join pg_catalog.pg_rewrite as w on w.oid = d.objid
    where d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
        and d.refobjid = 'public.jobs'::pg_catalog.regclass
        and w.ev_class <> 'public.jobs'::pg_catalog.regclass;
    if v_readers is not null then
        raise exception using errcode = '55000',
            message = format('views read public.jobs: %s', v_readers),
            hint = 'Drop them, upgrade, and create them again: they would read one partition.';
    end if;

    alter table public.jobs rename to jobs_hot;
    alter table public.jobs_hot set schema jobs_private;
    comment on table jobs_private.jobs_hot is
    'The partition of public.jobs holding every job not moved to an older partition, so every unfinished job. Read and write public.jobs, never this table (no grants; its policy admits no row).';
    create table public.jobs (
        like jobs_private.jobs_hot including defaults including comments
    ) partition by range (id);
    execute format('comment on table public.jobs is %L', v_comment);
    -- the columns' comments are the parent's (a column added later is added to the parent)
    for r in
        select a.attname from pg_catalog.pg_attribute as a
        where a.attrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass and a.attnum > 0
            and pg_catalog.col_description(a.attrelid, a.attnum) is not null
        order by a.attnum
    loop
        execute format('comment on column jobs_private.jobs_hot.%I is null', r.attname);
    end loop;

    -- the parent's indexes, named as before; each attaches the partition's own
    for r in
        select c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) as def, i.indisprimary
        from pg_catalog.pg_index as i
        join pg_catalog.pg_class as c on c.oid = i.indexrelid
        where i.indrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
            and (i.indisprimary or not i.indisunique)
        order by c.relname
    loop
        if r.indisprimary then
            execute format('alter table public.jobs add constraint %I primary key (id)', r.relname);
        else
            execute replace(r.def, ' ON jobs_private.jobs_hot ', ' ON public.jobs ');
        end if;
    end loop;

    alter table public.jobs
    attach partition jobs_private.jobs_hot for values from (minvalue) to (maxvalue);

    -- foreign keys out of jobs: each of the parent's attaches the partition's own (no check)
    for r in
        select c.conname, pg_catalog.pg_get_constraintdef(c.oid) as def
        from pg_catalog.pg_constraint as c
        where c.conrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass and c.contype = 'f'
        order by c.conname
    loop
        execute format('alter table public.jobs add constraint %I %s', r.conname, r.def);
    end loop;
    -- foreign keys into jobs: the same constraint, referencing the parent, checked by the next
    -- statement (not under this one's lock)
    for r in
        select c.conname, c.conrelid::pg_catalog.regclass as tab,
            pg_catalog.pg_get_constraintdef(c.oid) as def
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0 and c.conrelid <> 'public.jobs'::pg_catalog.regclass
        order by 2, 1
    loop
        execute format('alter table %s drop constraint %I', r.tab, r.conname);
        execute format('alter table %s add constraint %I %s not valid', r.tab, r.conname,
            replace(r.def, 'REFERENCES jobs_private.jobs_hot(', 'REFERENCES public.jobs('));
    end loop;
    -- triggers: on the parent; its row triggers fire on every partition
    for r in
        select t.tgname, t.tgenabled, pg_catalog.pg_get_triggerdef(t.oid) as def
        from pg_catalog.pg_trigger as t
        where t.tgrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass and not t.tgisinternal
            and t.tgparentid = 0
        order by t.tgname
    loop
        execute format('drop trigger %I on jobs_private.jobs_hot', r.tgname);
        execute replace(r.def, ' ON jobs_private.jobs_hot ', ' ON public.jobs ');
        -- as it fired before: disabled, or in replica mode only or always
        if r.tgenabled <> 'O' then
            execute format('alter table public.jobs %s trigger %I',
                case r.tgenabled when 'D' then 'disable' when 'R' then 'enable replica'
                    else 'enable always' end, r.tgname);
        end if;
    end loop;
    -- grants and policies move to the parent (a new table in public may have been given
    -- default privileges: none stays); the partition keeps row level security on, with a
    -- policy that admits no row (as jobsdb's other private tables) and no grant
    revoke all on table public.jobs from public, anon, authenticated, service_role, jobs_worker;
    for g in
        select a.grantee::pg_catalog.regrole as grantee, a.privilege_type
        from pg_catalog.pg_class as c, pg_catalog.aclexplode(c.relacl) as a
        where c.oid = 'jobs_private.jobs_hot'::pg_catalog.regclass
            and a.grantee <> 0 and a.grantee <> c.relowner
    loop
        execute format('grant %s on table public.jobs to %s', g.privilege_type, g.grantee);
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
        where p.polrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
    loop
        execute format('create policy %I on public.jobs as %s for %s to %s%s%s',
            r.polname, case when r.polpermissive then 'permissive' else 'restrictive' end,
            case r.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                when 'd' then 'delete' else 'all' end,
            r.roles,
            case when r.qual is not null then format(' using (%s)', r.qual) end,
            case when r.checks is not null then format(' with check (%s)', r.checks) end);
        execute format('drop policy %I on jobs_private.jobs_hot', r.polname);
    end loop;
    if (select c.relrowsecurity from pg_catalog.pg_class as c
        where c.oid = 'jobs_private.jobs_hot'::pg_catalog.regclass) then
        alter table public.jobs enable row level security;
    end if;
    revoke all on table jobs_private.jobs_hot
    from public, anon, authenticated, service_role, jobs_worker;
    alter table jobs_private.jobs_hot enable row level security;
    create policy jobs_hot_none on jobs_private.jobs_hot using (false) with check (false);
    if exists (
        select from pg_catalog.pg_publication_rel as pr
        join pg_catalog.pg_publication as p on p.oid = pr.prpubid
        where p.pubname = 'supabase_realtime'
            and pr.prrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
    ) then
        alter publication supabase_realtime drop table jobs_private.jobs_hot;
    end if;
    -- Functions taking or returning a jobs row, made before this file (in an install as in an
    -- upgrade), took the renamed table's row type: each is made again for the parent's, with
    -- its grants and comment, in this statement, so no call between two statements finds
    -- none. The function the partition's CHECK calls keeps the partition's type.
    for r in
        select p.oid, pg_catalog.pg_get_functiondef(p.oid) as def,
            p.oid::pg_catalog.regprocedure::text as sig, p.proacl as acl, p.proowner as owner,
            pg_catalog.obj_description(p.oid, 'pg_proc') as note
        from pg_catalog.pg_proc as p
        where exists (
            select from pg_catalog.pg_type as t
            where t.oid = any (p.proargtypes::pg_catalog.oid[] || p.prorettype)
                and (
                    t.typrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
                    or t.typelem = 'jobs_private.jobs_hot'::pg_catalog.regtype
                )
        )
            and not exists (
                select from pg_catalog.pg_depend as d
                where d.refobjid = p.oid
                    and d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
            )
        order by p.oid
    loop
        -- dropped first: a changed return type is no replacement
        execute format('drop function %s', r.sig);
        -- the type in the header only: the body names the table, not the type
        v_at := pg_catalog.strpos(r.def, E'\nAS ');
        execute replace(left(r.def, v_at), 'jobs_private.jobs_hot', 'public.jobs')
            || substr(r.def, v_at + 1);
        v_new := replace(r.sig::text, 'jobs_private.jobs_hot', 'public.jobs');
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
end
$$;

-- The foreign keys into jobs, checked: each reads its table (images_videos: one row per output)
-- under a lock that writes do not wait for.
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
            and c.conparentid = 0 and not c.convalidated
        order by 2, 1
    loop
        execute format('alter table %s validate constraint %I', r.tab, r.conname);
    end loop;
end
$$;

-- The statistics of jobs as a whole: autovacuum analyzes the partitions, never a partitioned
-- table, and without them the planner estimates joins and groups read through public.jobs
-- from defaults. An upgraded database has the partition's; this gathers the parent's from a
-- sample (1.4 s at 1,000,000 jobs; no lock writes wait for). Many of their figures are
-- fractions of the rows, which the planner scales by the partitions' current row counts; they
-- are gathered again by any database-wide ANALYZE (autovacuum's runs are per table). Not in the
-- transaction that made the change (the Supabase CLI runs a file as one): there it would hold
-- the lock of jobs while it samples, so it says what to run afterwards instead.
do $$
begin
    if not exists (select from public.jobs) then
        return;  -- nothing to sample (a fresh install)
    end if;
    if exists (
        select from pg_catalog.pg_locks as l
        where l.locktype = 'relation' and l.pid = pg_catalog.pg_backend_pid()
            and l.relation = 'public.jobs'::pg_catalog.regclass and l.mode = 'AccessExclusiveLock'
    ) then
        raise notice using
            message = 'jobs is partitioned: its statistics as a whole are not gathered yet',
            hint = 'Run `analyze public.jobs;` as the owner once this migration is applied.';
        return;
    end if;
    analyze public.jobs;
end
$$;
