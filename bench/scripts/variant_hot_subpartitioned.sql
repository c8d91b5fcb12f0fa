-- A --variant for measurement only (bench/README.md, "A partitioned hot leaf"), on release
-- 1.7.0: the hot leaf jobs_private.jobs_hot becomes itself a table range-partitioned by id,
-- with the old leaf (renamed jobs_hot_0, every row, its check and indexes) as its first child
-- and v_children (1) more, empty, created ahead above it. The queue's functions name
-- jobs_private.jobs_hot, so they now go through a partitioned table of 1 + v_children
-- partitions instead of a plain one. A period would then leave the hot leaf by DDL alone
-- (detach the child from the leaf, attach it to public.jobs), with no row copied or deleted.
-- The bench's ids stay below the first empty child's bound: all the work is on jobs_hot_0, as
-- the current period's would be. Never for a real database: the foreign keys into jobs are
-- re-added without a check, and the empty children have no whole-row check.
do $$
declare
    r record;
    v_fks text[] := '{}';
    v_bound text;
    v_children int := 1;
begin
    perform pg_catalog.set_config('search_path', 'pg_catalog', true);
    for r in
        select c.conname, c.conrelid::regclass as tab, pg_get_constraintdef(c.oid) as def
        from pg_constraint as c
        where c.contype = 'f' and c.confrelid = 'public.jobs'::regclass and c.conparentid = 0
    loop
        v_fks := v_fks || format('alter table %s add constraint %I %s not valid',
            r.tab, r.conname, r.def);
        execute format('alter table %s drop constraint %I', r.tab, r.conname);
    end loop;
    alter table public.jobs detach partition jobs_private.jobs_hot;
    alter table jobs_private.jobs_hot rename to jobs_hot_0;
    create table jobs_private.jobs_hot (like jobs_private.jobs_hot_0 including defaults)
    partition by range (id);
    alter table jobs_private.jobs_hot attach partition jobs_private.jobs_hot_0
    for values from (minvalue) to ('f0000000-0000-0000-0000-000000000000');
    for i in 1..v_children loop
        v_bound := case when i = v_children then 'maxvalue' else
            format('%L', 'f' || i || '000000-0000-0000-0000-000000000000') end;
        execute format(
            'create table jobs_private.jobs_hot_%s (like jobs_private.jobs_hot_0 including defaults)',
            i);
        execute format(
            'alter table jobs_private.jobs_hot attach partition jobs_private.jobs_hot_%s'
            ' for values from (%L) to (%s)',
            i, 'f' || (i - 1) || '000000-0000-0000-0000-000000000000', v_bound);
    end loop;
    alter table public.jobs attach partition jobs_private.jobs_hot
    for values from (minvalue) to (maxvalue);
    for i in 1..coalesce(array_length(v_fks, 1), 0) loop
        execute v_fks[i];
    end loop;
end
$$;
analyze public.jobs;
