-- For measurement only (bench/README.md, "A hot leaf"): with `python -m bench.scale --before`,
-- the loaded scale history's public.jobs re-made as a table range-partitioned by id into 26
-- partitions of equal size (its ids follow its 180 days of creation: weekly partitions), with
-- the old table's indexes (its unique idempotency index made plain: a unique index of a
-- partitioned table must hold the partition key), RLS policies, grants and row triggers, and
-- every function of the old row type re-made for the parent's. The old table stays as
-- jobs_private.jobs_flat, out of the reads' way; the row CHECK (whole-row) and the foreign keys
-- are not carried over: the reads do not need them. Run as the superuser.
set maintenance_work_mem = '512MB';
alter table public.jobs rename to jobs_flat;
alter table public.jobs_flat set schema jobs_private;
create table public.jobs (like jobs_private.jobs_flat including defaults) partition by range (id);
do $$
declare
    v_n bigint := (select count(*) from jobs_private.jobs_flat);
    v_lo text := 'MINVALUE';
    v_hi text;
    r record;
begin
    for k in 1..26 loop
        v_hi := case when k = 26 then 'MAXVALUE' else format('%L', (
            select f.id::text from jobs_private.jobs_flat as f order by f.id offset (v_n * k / 26) limit 1)) end;
        execute format('create table jobs_private.jobs_w%s partition of public.jobs for values from (%s) to (%s)',
            lpad(k::text, 2, '0'), v_lo, v_hi);
        execute format('alter table jobs_private.jobs_w%s enable row level security', lpad(k::text, 2, '0'));
        v_lo := v_hi;
    end loop;
    insert into public.jobs select * from jobs_private.jobs_flat;
    alter table public.jobs add primary key (id);
    for r in
        select pg_get_indexdef(i.indexrelid) as def, c.relname
        from pg_index as i join pg_class as c on c.oid = i.indexrelid
        where i.indrelid = 'jobs_private.jobs_flat'::regclass and not i.indisprimary
    loop
        -- a unique index must hold the partition key: the idempotency key's becomes plain here
        execute replace(replace(replace(r.def, 'CREATE UNIQUE INDEX', 'CREATE INDEX'),
            'ON jobs_private.jobs_flat', 'ON public.jobs'), 'INDEX ' || r.relname, 'INDEX ' || r.relname || '_p');
    end loop;
    alter table public.jobs enable row level security;
    for r in select * from pg_policies where schemaname = 'jobs_private' and tablename = 'jobs_flat' loop
        execute format('create policy %I on public.jobs as %s for %s to %s%s%s',
            r.policyname, r.permissive, r.cmd, array_to_string(r.roles, ', '),
            case when r.qual is not null then format(' using (%s)', r.qual) else '' end,
            case when r.with_check is not null then format(' with check (%s)', r.with_check) else '' end);
    end loop;
    for r in select grantee, privilege_type from information_schema.role_table_grants
        where table_schema = 'jobs_private' and table_name = 'jobs_flat' and grantee <> 'postgres' loop
        execute format('grant %s on public.jobs to %I', r.privilege_type, r.grantee);
    end loop;
end
$$;
alter table public.jobs owner to postgres;
analyze public.jobs;
-- the row triggers on the parent (cloned to every partition), for the bench's backlog
do $$
declare r record;
begin
    for r in select pg_get_triggerdef(t.oid) as def from pg_trigger as t
        where t.tgrelid = 'jobs_private.jobs_flat'::regclass and not t.tgisinternal loop
        execute replace(r.def, 'ON jobs_private.jobs_flat', 'ON public.jobs');
    end loop;
end
$$;
-- the functions of the old table's row type (the reads' asset_json, list_jobs' rows), of the
-- parent's now, with their owner and grants
do $$
declare
    r record;
    v_new text;
    g record;
begin
    for r in select p.oid, p.oid::regprocedure::text as sig, p.proacl, p.proowner::regrole as owner,
            pg_get_functiondef(p.oid) as def,
            pg_get_function_result(p.oid) ~ 'jobs_private\.jobs_flat' as ret
        from pg_proc as p
        where pg_get_function_arguments(p.oid) ~ 'jobs_private\.jobs_flat'
            or pg_get_function_result(p.oid) ~ 'jobs_private\.jobs_flat' loop
        if r.ret then
            execute format('drop function %s', r.sig);
        end if;
        execute replace(r.def, 'jobs_private.jobs_flat', 'public.jobs');
        v_new := replace(r.sig, 'jobs_private.jobs_flat', 'public.jobs');
        execute format('alter function %s owner to %s', v_new, r.owner);
        execute format('revoke all on function %s from public', v_new);
        for g in select a.grantee::regrole as who from aclexplode(r.proacl) as a
            where a.privilege_type = 'EXECUTE' and a.grantee <> 0 loop
            execute format('grant execute on function %s to %s', v_new, g.who);
        end loop;
    end loop;
end
$$;
