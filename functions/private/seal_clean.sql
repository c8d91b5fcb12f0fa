-- Step 0 of the seal of job history (functions/private/seal_prepare.sql says what the seal
-- is): removes what an interrupted seal left, a copy that never became a partition and the hot
-- leaf's new bound, under a brief lock (dropping the copy's foreign keys locks the tables they
-- reference). Nothing of jobs is in either: the rows stay in the leaf until the move commits.
-- Answers what it removed. For the owner role.
create function jobs_private.seal_clean(lock_tries integer)
returns text[]
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_copies regclass [];
    v_bound boolean;
    v_done text [] := '{}'::text [];
    v_copy regclass;
begin
    v_copies := jobs_private.seal_copies();
    v_bound := exists (
        select from pg_catalog.pg_constraint as c
        where c.conrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
            and c.conname = 'jobs_hot_seal_bound'
    );
    if pg_catalog.cardinality(v_copies) = 0 and not v_bound then
        return v_done;
    end if;
    perform jobs_private.lock_tables_briefly(
        array['jobs_private.jobs_hot'::pg_catalog.regclass] || v_copies || array(
            select distinct c.confrelid::pg_catalog.regclass from pg_catalog.pg_constraint as c
            where c.conrelid = any(v_copies) and c.contype = 'f'
        ),
        'access exclusive', lock_tries
    );
    foreach v_copy in array v_copies loop
        execute pg_catalog.format('drop table %s', v_copy);
        v_done := v_done || v_copy::text;
    end loop;
    if v_bound then
        alter table jobs_private.jobs_hot drop constraint jobs_hot_seal_bound;
        v_done := v_done || 'jobs_private.jobs_hot.jobs_hot_seal_bound'::text;
    end if;
    return v_done;
end;
$$;
comment on function jobs_private.seal_clean(integer) is
'Step 0 of the seal of job history: drops what an interrupted seal left (a copy that never became a partition, the hot leaf''s new bound) under a brief lock; answers what it dropped. For the owner role (jobsdb history seal).';
revoke all on function jobs_private.seal_clean(integer)
from public, anon, authenticated, service_role;
