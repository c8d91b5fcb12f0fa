-- Step 2 of the seal of job history (functions/private/seal_prepare.sql says what the seal is):
-- the copy gets the foreign keys of jobs, NOT VALID (seal_move checks them, under no lock writes
-- wait for), so that attaching it checks nothing under the move's lock. Adding a foreign key
-- locks the table it references against writes (jobs' outputs among them) until the commit,
-- hence a brief lock in a transaction of its own, after the copy's large commit. For the owner
-- role.
create function jobs_private.seal_keys(copy regclass, lock_tries integer)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    r record;
begin
    perform jobs_private.lock_tables_briefly(
        array(
            select distinct c.confrelid::pg_catalog.regclass from pg_catalog.pg_constraint as c
            where c.conrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
        ),
        'share row exclusive', lock_tries
    );
    for r in
        select c.conname, pg_catalog.pg_get_constraintdef(c.oid) as def
        from pg_catalog.pg_constraint as c
        where c.conrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and not exists (
                select from pg_catalog.pg_constraint as o
                where o.conrelid = copy and o.conname = c.conname
            )
    loop
        execute pg_catalog.format(
            'alter table %s add constraint %I %s not valid', copy, r.conname, r.def
        );
    end loop;
end;
$$;
comment on function jobs_private.seal_keys(regclass, integer) is
'Step 2 of the seal of job history: the foreign keys of jobs on the copy, NOT VALID, under a brief lock. For the owner role (jobsdb history seal).';
revoke all on function jobs_private.seal_keys(regclass, integer)
from public, anon, authenticated, service_role;
