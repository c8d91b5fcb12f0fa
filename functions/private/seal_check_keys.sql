-- Step 5 of the seal of job history (functions/private/seal_prepare.sql): the foreign keys into
-- jobs that seal_move added back NOT VALID are checked. Each check reads the referencing table
-- and takes no lock that writes wait for. Also the way to finish a seal whose last step was
-- interrupted. Answers the keys checked. For the owner role.
create function jobs_private.seal_check_keys()
returns text[]
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_done text [] := '{}'::text [];
    r record;
begin
    for r in
        select c.conname, c.conrelid::pg_catalog.regclass::text as tab
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0 and not c.convalidated
        order by c.conname
    loop
        execute pg_catalog.format('alter table %s validate constraint %I', r.tab, r.conname);
        v_done := v_done || pg_catalog.format('%s.%s', r.tab, r.conname);
    end loop;
    return v_done;
end;
$$;
comment on function jobs_private.seal_check_keys() is
'Step 5 of the seal of job history: checks the foreign keys into jobs left NOT VALID; answers them. For the owner role (jobsdb history seal).';
revoke all on function jobs_private.seal_check_keys()
from public, anon, authenticated, service_role;
