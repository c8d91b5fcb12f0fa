-- Step 3 of the seal of job history (functions/private/seal_prepare.sql says what the seal is):
-- the hot leaf's new lower bound as CHECK (id >= cut) NOT VALID, under a brief lock. New rows
-- meet it at once (new ids are above the cut); the rows already there are read for it by
-- seal_move, under no lock writes wait for. For the owner role.
create function jobs_private.seal_bound(cut uuid, lock_tries integer)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
begin
    perform jobs_private.lock_tables_briefly(
        array['jobs_private.jobs_hot'::pg_catalog.regclass], 'access exclusive', lock_tries
    );
    execute pg_catalog.format(
        'alter table jobs_private.jobs_hot add constraint jobs_hot_seal_bound'
        ' check (id >= %L) not valid',
        cut
    );
end;
$$;
comment on function jobs_private.seal_bound(uuid, integer) is
'Step 3 of the seal of job history: the hot leaf''s new lower bound as a NOT VALID CHECK, under a brief lock. For the owner role (jobsdb history seal).';
revoke all on function jobs_private.seal_bound(uuid, integer)
from public, anon, authenticated, service_role;
