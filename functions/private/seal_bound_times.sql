-- A partition sealed before 1.10.0 has no CHECK jobs_sealed_times, so
-- jobs_private.history_split cannot say when its newest job was made or its last one finished,
-- and the reads of a user's newest jobs and system_metrics go through it. Each call does one
-- step for one such partition, in the caller's transaction, and answers what it did (null: none
-- is left):
-- * a partition without the CHECK: its latest created_at and completed_at are read under no
--   lock, then the CHECK is added NOT VALID under a brief lock (jobs_private.lock_tables_briefly:
--   readers of jobs lock every partition);
-- * a partition whose CHECK is NOT VALID: it is validated (a read, under SHARE UPDATE
--   EXCLUSIVE, which no read or write waits for), then jobs_private.history_split_refresh.
--   Sealed jobs are not inserted or finished again by the package, so it fails (23514) only if
--   someone wrote such a row there in between: the CHECK is dropped then, and the next call
--   makes it again.
-- `jobsdb history seal` calls it until null before sealing; jobs_private.seal_step calls it
-- once per step. For the owner role.
create function jobs_private.seal_bound_times(lock_tries integer)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_part regclass;
    v_valid boolean;
    v_created timestamptz;
    v_completed timestamptz;
begin
    select s.rel, k.convalidated into v_part, v_valid
    from jobs_private.sealed_partitions() with ordinality as s (rel, n)
    left join pg_catalog.pg_constraint as k
        on k.conrelid = s.rel and k.conname = 'jobs_sealed_times'
    where not coalesce(k.convalidated, false)
    order by s.n
    limit 1;
    if v_part is null then
        return null;
    end if;
    if v_valid is not null then
        begin
            execute pg_catalog.format(
                'alter table %s validate constraint jobs_sealed_times', v_part
            );
        exception when check_violation then
            execute pg_catalog.format('alter table %s drop constraint jobs_sealed_times', v_part);
            return pg_catalog.format(
                'a job was written into %s meanwhile: its bounds are dropped, to be made again',
                v_part
            );
        end;
        perform jobs_private.history_split_refresh();
        return pg_catalog.format('checked the bounds of created_at and completed_at on %s', v_part);
    end if;
    execute pg_catalog.format(
        'select pg_catalog.max(created_at), pg_catalog.max(completed_at) from %s', v_part
    ) into v_created, v_completed;
    v_created := coalesce(v_created, '-infinity'::timestamptz);
    v_completed := coalesce(v_completed, '-infinity'::timestamptz);
    perform jobs_private.lock_tables_briefly(array[v_part], 'access exclusive', lock_tries);
    execute pg_catalog.format(
        'alter table %s add constraint jobs_sealed_times'
        ' check (created_at <= %L and completed_at <= %L) not valid',
        v_part, v_created, v_completed
    );
    return pg_catalog.format(
        'bounded created_at and completed_at on %s at %s and %s', v_part, v_created, v_completed
    );
end;
$$;
comment on function jobs_private.seal_bound_times(integer) is
'One step of bounding a partition sealed before 1.10.0: its CHECK jobs_sealed_times (created_at and completed_at at most its latest ones) added NOT VALID under a brief lock, or validated and jobs_private.history_split refreshed; answers what it did, null when every sealed partition has it. For the owner role.';
revoke all on function jobs_private.seal_bound_times(integer)
from public, anon, authenticated, service_role;
