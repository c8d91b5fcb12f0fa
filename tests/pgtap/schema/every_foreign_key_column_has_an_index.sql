-- Every foreign key column of public has an index whose first column is that column, usable
-- by the FK's lookups: no predicate, or only "column is not null" (which "column = x"
-- implies). Deleting a referenced row then never scans the referencing table. In a project's
-- database, the foreign keys of jobsdb's tables (a table of the project's own referencing jobs
-- is the project's to index).
begin;
select plan(2);

select is_empty(
    $$select c.conrelid::regclass::text || '.' || a.attname
    from pg_catalog.pg_constraint as c
    inner join pg_catalog.pg_attribute as a
        on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    inner join pg_catalog.pg_class as r on r.oid = c.conrelid
    where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        and tests.jobsdbs_table(r.relname::text)
        and not exists (
            select
            from pg_catalog.pg_index as i
            where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]
        )$$,
    'every foreign key column leads an index'
);

-- jobs.job_type is referenced with no action and only led by a partial metrics index
-- (completed jobs); it is listed here on purpose: job types are never deleted in use.
select is_empty(
    $$select c.conrelid::regclass::text || '.' || a.attname
    from pg_catalog.pg_constraint as c
    inner join pg_catalog.pg_attribute as a
        on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    inner join pg_catalog.pg_class as r on r.oid = c.conrelid
    where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        and tests.jobsdbs_table(r.relname::text)
        and (c.conrelid::regclass::text, a.attname::text) <> ('jobs', 'job_type')
        and not exists (
            select
            from pg_catalog.pg_index as i
            where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]
                and (
                    i.indpred is null
                    or pg_catalog.pg_get_expr(i.indpred, i.indrelid)
                    = format('(%I IS NOT NULL)', a.attname)
                )
        )$$,
    'every foreign key column (but jobs.job_type) leads an index usable by the FK lookup'
);

select * from finish();
rollback;
