-- A partition sealed before 1.10.0 has no CHECK jobs_sealed_created, so
-- jobs_private.history_split cannot say when its newest job was made, and the reads of a
-- user's newest jobs go through every partition. Each call does one step for one such
-- partition, in the caller's transaction, and answers what it did (null: none is left):
-- * a partition without the CHECK: its newest created_at is read under no lock, then the CHECK
--   is added NOT VALID under a brief lock (jobs_private.lock_tables_briefly: readers of jobs
--   lock every partition);
-- * a partition whose CHECK is NOT VALID: it is validated (a read, under SHARE UPDATE
--   EXCLUSIVE, which no read or write waits for), then jobs_private.history_split_refresh.
--   The package never inserts into a sealed partition, so it fails (23514) only if someone
--   wrote a row there in between: the CHECK is dropped then, and the next call makes it again.
-- `jobsdb history seal` calls it until null before sealing; jobs_private.seal_step calls it
-- once per step. For the owner role.
create function jobs_private.seal_bound_created(lock_tries integer)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_part regclass;
    v_valid boolean;
    v_upto timestamptz;
begin
    select i.inhrelid::pg_catalog.regclass, k.convalidated into v_part, v_valid
    from pg_catalog.pg_inherits as i
    inner join pg_catalog.pg_class as c on i.inhrelid = c.oid
    left join pg_catalog.pg_constraint as k
        on k.conrelid = i.inhrelid and k.conname = 'jobs_sealed_created'
    where i.inhparent = 'public.jobs'::pg_catalog.regclass
        and c.relnamespace = 'jobs_private'::pg_catalog.regnamespace
        and c.relname like 'jobs\_upto\_%'
        and not coalesce(k.convalidated, false)
    order by c.relname
    limit 1;
    if v_part is null then
        return null;
    end if;
    if v_valid is not null then
        begin
            execute pg_catalog.format(
                'alter table %s validate constraint jobs_sealed_created', v_part
            );
        exception when check_violation then
            execute pg_catalog.format(
                'alter table %s drop constraint jobs_sealed_created', v_part
            );
            return pg_catalog.format(
                'a job was written into %s meanwhile: its bound is dropped, to be made again',
                v_part
            );
        end;
        perform jobs_private.history_split_refresh();
        return pg_catalog.format('checked the bound of created_at on %s', v_part);
    end if;
    execute pg_catalog.format('select pg_catalog.max(created_at) from %s', v_part) into v_upto;
    v_upto := coalesce(v_upto, '-infinity'::timestamptz);
    perform jobs_private.lock_tables_briefly(array[v_part], 'access exclusive', lock_tries);
    execute pg_catalog.format(
        'alter table %s add constraint jobs_sealed_created check (created_at <= %L) not valid',
        v_part, v_upto
    );
    return pg_catalog.format('bounded created_at on %s at %s', v_part, v_upto);
end;
$$;
comment on function jobs_private.seal_bound_created(integer) is
'One step of bounding a partition sealed before 1.10.0: its CHECK jobs_sealed_created (created_at at most its newest job''s) added NOT VALID under a brief lock, or validated and jobs_private.history_split refreshed; answers what it did, null when every sealed partition has it. For the owner role.';
revoke all on function jobs_private.seal_bound_created(integer)
from public, anon, authenticated, service_role;
