-- Step 4 of the seal of job history (functions/private/seal_prepare.sql says what the seal is):
-- the copied rows leave the hot leaf and the copy becomes the partition below it, in one
-- transaction whose only lock the queue waits for is the last, brief one.
-- * The copy's foreign keys are checked (reads: no lock writes wait for).
-- * The rows are deleted from the leaf in replica mode, so no trigger and no foreign key
--   action fires: they move, nothing is deleted (no tombstone, no metrics mark, outputs keep
--   their job_id). Refused (40001, nothing moved) unless every deleted row is finished and
--   unchanged since the copy, and they are as many as were copied.
-- * The leaf's CHECK (id >= cut) is validated: a read, no lock writes wait for.
-- * Under jobs_private.lock_tables_briefly (jobs_private.jobs_ddl_locks: the leaf, jobs, the
--   copy, the other partitions, the tables referencing jobs and those jobs references): the
--   foreign keys into jobs are dropped, the leaf is detached and attached again as
--   [cut, MAXVALUE), the copy attached as [low, cut), and the keys added back NOT VALID
--   (seal_check_keys checks them), and jobs_private.history_split is set for the new
--   partitions. PostgreSQL refuses to detach a partition whose rows another
--   table references, so the keys go for that moment; they are back before the transaction
--   commits, and nobody sees them missing. Each attach finds its range implied by a
--   validated CHECK and reads no row.
-- Refused (55000, nothing moved) while a publication carries jobs' rows, as seal_prepare is: one
-- may have been made since the copy (jobs_private.seal_check_publications).
-- Replica mode needs a superuser or, on hosted Supabase, the privileged role postgres, for
-- which supautils allows session_replication_role as a SET statement only (not set_config).
-- Answers the number of jobs moved. For the owner role.
create function jobs_private.seal_move(copy regclass, cut uuid, copied bigint, lock_tries integer)
returns bigint
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_low uuid := jobs_private.seal_low_bound();
    v_range text;
    v_moved bigint;
    v_unfinished bigint;
    v_changed bigint;
    v_keys text [] := '{}'::text [];
    r record;
begin
    if not coalesce(seal_move.copy = any(jobs_private.seal_copies()), false) or not exists (
        select from pg_catalog.pg_constraint as c
        where c.conrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
            and c.conname = 'jobs_hot_seal_bound'
    ) or exists (
        select from pg_catalog.pg_constraint as c
        where c.conrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and not exists (
                select from pg_catalog.pg_constraint as o
                where o.conrelid = copy and o.conname = c.conname
            )
    ) then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format(
                '%s is not a copy prepared by seal_prepare, seal_keys and seal_bound', copy
            ),
            hint = 'Run jobsdb history seal: it prepares the copy first.';
    end if;
    perform jobs_private.seal_check_publications();
    v_range := pg_catalog.format(
        'id < %L%s', cut,
        case when v_low is null then '' else pg_catalog.format(' and id >= %L', v_low) end
    );
    -- the copy's own keys, so that attaching it checks nothing under the lock
    for r in
        select c.conname from pg_catalog.pg_constraint as c
        where c.conrelid = copy and c.contype = 'f' and not c.convalidated
    loop
        execute pg_catalog.format('alter table %s validate constraint %I', copy, r.conname);
    end loop;

    set local session_replication_role = replica;
    execute pg_catalog.format(
        'with d as (delete from jobs_private.jobs_hot where %s'
        ' returning id, updated_at, status)'
        ' select pg_catalog.count(*),'
        ' pg_catalog.count(*) filter (where d.status in (''queued'', ''processing'')),'
        ' pg_catalog.count(*) filter (where s.id is null'
        ' or s.updated_at is distinct from d.updated_at)'
        ' from d left join %s as s on s.id = d.id',
        v_range, copy
    ) into v_moved, v_unfinished, v_changed;
    set local session_replication_role = origin;
    if v_moved <> copied or v_unfinished > 0 or v_changed > 0 then
        raise exception using
            errcode = '40001',
            message = pg_catalog.format(
                'jobs changed while they were sealed: %s copied, %s to move, %s unfinished, '
                '%s changed since the copy', copied, v_moved, v_unfinished, v_changed
            ),
            hint = 'Nothing moved; run the seal again.';
    end if;
    alter table jobs_private.jobs_hot validate constraint jobs_hot_seal_bound;

    perform jobs_private.lock_tables_briefly(
        jobs_private.jobs_ddl_locks(copy), 'access exclusive', lock_tries
    );
    for r in
        select c.conname, c.conrelid::pg_catalog.regclass::text as tab,
            pg_catalog.pg_get_constraintdef(c.oid) as def
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0
        order by c.conname
    loop
        execute pg_catalog.format('alter table %s drop constraint %I', r.tab, r.conname);
        v_keys := v_keys || pg_catalog.format(
            'alter table %s add constraint %I %s not valid', r.tab, r.conname, r.def
        );
    end loop;
    alter table public.jobs detach partition jobs_private.jobs_hot;
    execute pg_catalog.format(
        'alter table public.jobs attach partition jobs_private.jobs_hot'
        ' for values from (%L) to (maxvalue)', cut
    );
    execute pg_catalog.format(
        'alter table public.jobs attach partition %s for values from (%s) to (%L)',
        copy, coalesce(pg_catalog.quote_literal(v_low), 'minvalue'), cut
    );
    for i in 1..coalesce(pg_catalog.array_length(v_keys, 1), 0) loop
        execute v_keys[i];
    end loop;
    alter table jobs_private.jobs_hot drop constraint jobs_hot_seal_bound;
    perform jobs_private.history_split_refresh();
    return v_moved;
end;
$$;
comment on function jobs_private.seal_move(regclass, uuid, bigint, integer) is
'Step 4 of the seal of job history: the copied jobs leave the hot leaf (replica mode: they move, no trigger fires) and the copy becomes its partition below it, under one brief lock; answers the jobs moved, 40001 (nothing moved) if any changed since the copy. For the owner role (jobsdb history seal).';
revoke all on function jobs_private.seal_move(regclass, uuid, bigint, integer)
from public, anon, authenticated, service_role;
