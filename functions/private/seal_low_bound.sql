-- The hot leaf's lower bound, null when it is MINVALUE (read from the catalog: the leaf's
-- partition bound is the only place it is kept).
create function jobs_private.seal_low_bound()
returns uuid
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
    select (
        pg_catalog.regexp_match(
            pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([0-9a-f-]{36})''\)'
        )
    )[1]::uuid
    from pg_catalog.pg_class as c
    where c.oid = 'jobs_private.jobs_hot'::pg_catalog.regclass
$$;
comment on function jobs_private.seal_low_bound() is
'The lower bound of the hot leaf jobs_private.jobs_hot, null for MINVALUE.';
revoke all on function jobs_private.seal_low_bound()
from public, anon, authenticated, service_role;
