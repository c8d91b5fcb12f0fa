-- The copies of a seal that are not partitions yet: plain tables jobs_private.jobs_upto_*, made
-- by seal_prepare, made a partition by seal_move or dropped by seal_clean. There is at most one
-- (seal_prepare refuses to make a second), by name order. What a copy is, is said here alone:
-- the name and "a plain table, not a partition" are all that marks one.
create function jobs_private.seal_copies()
returns regclass[]
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(
        pg_catalog.array_agg(c.oid::pg_catalog.regclass order by c.relname),
        '{}'::pg_catalog.regclass []
    )
    from pg_catalog.pg_class as c
    where c.relnamespace = 'jobs_private'::pg_catalog.regnamespace
        and c.relname like 'jobs\_upto\_%' and c.relkind = 'r' and not c.relispartition
$$;
comment on function jobs_private.seal_copies() is
'The copies of a seal not yet partitions of jobs (jobs_private.jobs_upto_* plain tables), by name; at most one. For the owner role.';
revoke all on function jobs_private.seal_copies()
from public, anon, authenticated, service_role;
