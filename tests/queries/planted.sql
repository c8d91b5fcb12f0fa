-- What a caller with TEMP (every role on Supabase: TEMP is granted to PUBLIC) can plant in its
-- own session to take over the names a function resolves while it runs: loaded with
-- jobsdb.queries.load_file by tests/py/test_name_resolution.py and run by the planting role.
-- Every planted object calls pg_temp.planted(what), which reports, as a NOTICE
-- 'jobsdb-planted|<what>|<current_user>', each time it runs: run as any other role than the
-- one that planted it, it is that role's rights in the planter's hands.

-- name: plant
-- Names from the catalog, not from a list: a view for every relation name of the database
-- (reading it, or writing through it, runs the planted function); a domain over the same type
-- for every type name (its CHECK runs the planted function whenever a value, NULL too, is
-- coerced to it), or, where no domain can be made (pseudo-types such as record, a type this
-- role may not use), a composite type whose column is such a domain; an operator for every
-- boolean binary operator of pg_catalog (PostgreSQL never looks operators up in pg_temp: the
-- planted ones show it).
do $plant$
declare
    v_rel text;
    v_type record;
    v_op record;
begin
    -- this block's own names: the real ones
    perform pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    create function pg_temp.planted(what text) returns boolean
    language plpgsql
    as $f$
    begin
        raise notice 'jobsdb-planted|%|%', what, current_user;
        return true;
    end;
    $f$;
    create function pg_temp.planted_write() returns trigger
    language plpgsql
    as $f$
    begin
        perform pg_temp.planted('a write to the planted relation ' || tg_table_name);
        return null;
    end;
    $f$;
    create domain pg_temp.jobsdb_planted_text as pg_catalog.text
    check (pg_temp.planted('a column of a planted row type'));

    for v_rel in
        select distinct c.relname::text
        from pg_catalog.pg_class as c
        inner join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and n.nspname !~ '^pg_(toast|temp)'
    loop
        execute format(
            'create view pg_temp.%I as select %L::pg_temp.jobsdb_planted_text as shadow'
            ' where pg_temp.planted(%L)', v_rel, 'x', 'relation ' || v_rel
        );
        execute format(
            'create trigger planted_write instead of insert or update or delete on pg_temp.%I'
            ' for each row execute function pg_temp.planted_write()', v_rel
        );
    end loop;

    -- types: not the array types (named through their element) nor the row types of
    -- relations (the views above made a type of each relation name)
    for v_type in
        select distinct on (t.typname) t.typname::text as name,
            format('%I.%I', n.nspname, t.typname) as qualified
        from pg_catalog.pg_type as t
        inner join pg_catalog.pg_namespace as n on n.oid = t.typnamespace
        left join pg_catalog.pg_class as c on c.oid = t.typrelid
        where n.nspname !~ '^pg_(toast|temp)'
            and (t.typrelid = 0 or c.relkind = 'c')
            and t.typsubscript <> 'pg_catalog.array_subscript_handler'::pg_catalog.regproc
            and not exists (
                select from pg_catalog.pg_class as r
                where r.relname = t.typname and r.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
            )
        order by t.typname, n.nspname <> 'pg_catalog'
    loop
        begin
            execute format(
                'create domain pg_temp.%I as %s check (pg_temp.planted(%L))',
                v_type.name, v_type.qualified, 'type ' || v_type.name
            );
        exception
            when others then
                execute format(
                    'create type pg_temp.%I as (shadow pg_temp.jobsdb_planted_text)', v_type.name
                );
        end;
    end loop;

    for v_op in
        select o.oid, o.oprname::text as name, o.oprleft::pg_catalog.regtype::text as l,
            o.oprright::pg_catalog.regtype::text as r
        from pg_catalog.pg_operator as o
        inner join pg_catalog.pg_type as lt on lt.oid = o.oprleft
        inner join pg_catalog.pg_type as rt on rt.oid = o.oprright
        where o.oprnamespace = 'pg_catalog'::pg_catalog.regnamespace
            and o.oprresult = 'pg_catalog.bool'::pg_catalog.regtype
            and lt.typtype <> 'p' and rt.typtype <> 'p'
    loop
        execute format(
            'create function pg_temp.planted_op_%s(l %s, r %s) returns boolean'
            ' language plpgsql as $f$ begin perform pg_temp.planted(%L);'
            ' return l operator(pg_catalog.%s) r; end; $f$',
            v_op.oid, v_op.l, v_op.r, format('operator %s(%s, %s)', v_op.name, v_op.l, v_op.r),
            v_op.name
        );
        execute format(
            'create operator pg_temp.%s (function = pg_temp.planted_op_%s, leftarg = %s,'
            ' rightarg = %s)', v_op.name, v_op.oid, v_op.l, v_op.r
        );
    end loop;
end;
$plant$

-- name: planted
-- What was planted in this session's pg_temp.
select
    count(*) filter (where c.relkind = 'v') as views,
    (select count(*) from pg_catalog.pg_type as t
        left join pg_catalog.pg_class as r on r.oid = t.typrelid
        where t.typnamespace = pg_catalog.pg_my_temp_schema()
            and (t.typtype = 'd' or r.relkind = 'c')) as types,
    (select count(*) from pg_catalog.pg_operator as o
        where o.oprnamespace = pg_catalog.pg_my_temp_schema()) as operators
from pg_catalog.pg_class as c
where c.relnamespace = pg_catalog.pg_my_temp_schema()
