-- Retention by whole partitions, after jobs_private.retire_partition: the sealed partition
-- leaves public.jobs under one brief lock, renamed jobs_private.jobs_retired_<suffix> (so that
-- nothing takes it for a seal's copy), for `jobsdb history retire` to drop. Not DETACH ...
-- CONCURRENTLY: its check that no row references the partition holds SHARE on each referencing
-- table while it reads, and the writers of outputs (job_callback) waited 0.5 s for a partition
-- of 390,000 jobs at 10 million, a wait that grows with the partition. Here, under
-- jobs_private.lock_tables_briefly (jobs_private.jobs_ddl_locks), each table referencing jobs
-- is checked for rows in the partition's id range (retire_partition removed them; a row added
-- since refuses this, 55000, nothing changed) through its index on the key, the foreign keys
-- into jobs are dropped, the partition is detached and the keys are added back NOT VALID
-- (jobs_private.seal_check_keys checks them later, reading each referencing table, under no
-- lock writes wait for). A key without an index is read whole under the lock: index it.
-- Answers the detached table's name. For the owner role.
create function jobs_private.retire_detach(part regclass, lock_tries integer)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_name text;
    v_low uuid;
    v_high uuid;
    v_found boolean;
    v_keys text [] := '{}'::text [];
    r record;
begin
    select c.relname into v_name
    from jobs_private.sealed_partitions() as s (rel)
    inner join pg_catalog.pg_class as c on s.rel = c.oid
    where s.rel = retire_detach.part;
    if v_name is null then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format('%s is not a sealed partition of public.jobs', part),
            hint = 'Only partitions made by jobsdb history seal leave by retention; the hot '
            'leaf never does.';
    end if;
    execute pg_catalog.format(
        'select (select id from %1$s order by id limit 1),'
        ' (select id from %1$s order by id desc limit 1)', part
    ) into v_low, v_high;

    -- twice: first before the lock, then under it. The rows retire_partition unlinked left
    -- their old versions in each key's index until a vacuum; the first pass visits them (0.4 s
    -- for 365,000 outputs at 10 million jobs) and marks them dead in the index, so that the
    -- pass under the lock skips them
    for pass in 1..2 loop
        if pass = 2 then
            perform jobs_private.lock_tables_briefly(
                jobs_private.jobs_ddl_locks(null), 'access exclusive', lock_tries
            );
        end if;
        for r in
            select c.conrelid::pg_catalog.regclass::text as tab,
                (select a.attname from pg_catalog.pg_attribute as a
                    where a.attrelid = c.conrelid and a.attnum = c.conkey[1]) as col
            from pg_catalog.pg_constraint as c
            where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
                and c.conparentid = 0 and v_low is not null
            order by 1
        loop
            execute pg_catalog.format(
                'select exists (select from %s where %I between $1 and $2)', r.tab, r.col
            ) into v_found using v_low, v_high;
            if v_found then
                raise exception using
                    errcode = '55000',
                    message = pg_catalog.format(
                        'rows of %s reference jobs of %s again', r.tab, part
                    ),
                    hint = 'Added since they were handled: run jobsdb history retire again.';
            end if;
        end loop;
    end loop;
    for r in
        select c.conrelid::pg_catalog.regclass::text as tab, c.conname,
            pg_catalog.pg_get_constraintdef(c.oid) as def
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0
        order by 1, 2
    loop
        execute pg_catalog.format('alter table %s drop constraint %I', r.tab, r.conname);
        v_keys := v_keys || pg_catalog.format(
            'alter table %s add constraint %I %s not valid', r.tab, r.conname, r.def
        );
    end loop;
    execute pg_catalog.format('alter table public.jobs detach partition %s', part);
    for i in 1..coalesce(pg_catalog.array_length(v_keys, 1), 0) loop
        execute v_keys[i];
    end loop;
    v_name := pg_catalog.replace(v_name, 'jobs_upto_', 'jobs_retired_');
    execute pg_catalog.format('alter table %s rename to %I', part, v_name);
    perform jobs_private.history_split_refresh();
    return 'jobs_private.' || v_name;
end;
$$;
comment on function jobs_private.retire_detach(regclass, integer) is
'Retention: a sealed partition made ready by retire_partition detached from jobs under one brief lock (the keys into jobs dropped and added back NOT VALID, refused with 55000 if a row references its jobs again) and renamed jobs_retired_*; answers its name, for the command to drop. For the owner role (jobsdb history retire).';
revoke all on function jobs_private.retire_detach(regclass, integer)
from public, anon, authenticated, service_role;
