-- The seal of job history moves finished jobs out of the hot leaf, jobs_private.jobs_hot, into
-- a partition of their own, so that the leaf the queue works on stays the size of recent work
-- and old periods can later leave the database whole (exported, detached, dropped). The leaf
-- holds ids [C, MAXVALUE); a seal chooses a cut C' and moves [C, C'): the jobs made before
-- `older_than` ago, up to the oldest unfinished job (ids order by creation, so all of them are
-- finished). Three functions, each its own transaction, run in order by `jobsdb history seal`:
--   0. jobs_private.seal_clean: what an interrupted seal left is removed.
--   1. jobs_private.seal_prepare (this one): the rows are copied into a new table
--      jobs_private.jobs_upto_<C'>, not yet a partition (nobody reads it), with the leaf's
--      indexes, its range, "finished" and its latest created_at and completed_at as CHECKs, row
--      level security with a policy admitting no row, and no grants. No lock anyone waits for.
--   2. jobs_private.seal_keys: under a brief lock, the copy gets the foreign keys of jobs.
--   3. jobs_private.seal_bound: under a brief lock, the leaf gets CHECK (id >= C') NOT VALID
--      (new ids are above C' already).
--   4. jobs_private.seal_move: the rows leave the leaf, the copy becomes its partition.
--   5. jobs_private.seal_check_keys: the foreign keys into jobs are checked again.
-- Each brief lock is a transaction of its own, so that waiting for one never holds another,
-- and none is held while a large commit is written.
-- Refused (55000, nothing done) while a publication carries jobs' rows: a subscriber would see
-- the move as deletes (jobs_private.seal_check_publications).
-- Answers {copy, cut, copied}, or null when there is nothing to seal. For the owner role.
create function jobs_private.seal_prepare(older_than interval)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_low uuid;
    v_cut uuid;
    v_name text;
    v_table text;
    v_range text;
    v_copied bigint;
    v_created timestamptz;
    v_completed timestamptz;
    v_cols text;
    r record;
begin
    if older_than is null or older_than < interval '0' then
        raise exception using errcode = '22023', message = 'older_than must be an interval >= 0';
    end if;
    if pg_catalog.cardinality(jobs_private.seal_copies()) > 0 or exists (
        select from pg_catalog.pg_constraint as c
        where c.conrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
            and c.conname = 'jobs_hot_seal_bound'
    ) then
        raise exception using
            errcode = '55000',
            message = 'an interrupted seal left a copy or the hot leaf''s new bound',
            hint = 'Run jobs_private.seal_clean(200) first (jobsdb history seal does).';
    end if;
    perform jobs_private.seal_check_publications();
    -- A key into jobs from a partitioned table could not be re-added NOT VALID for the move
    -- (PostgreSQL 15), and re-adding it checked would read that table under the lock.
    select pg_catalog.string_agg(c.conrelid::pg_catalog.regclass::text, ', ') into v_table
    from pg_catalog.pg_constraint as c
    inner join pg_catalog.pg_class as t on c.conrelid = t.oid
    where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
        and c.conparentid = 0 and t.relkind = 'p';
    if v_table is not null then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format('partitioned tables reference public.jobs: %s', v_table),
            hint = 'The seal drops and re-adds the foreign keys into jobs unchecked for a moment, '
            'which PostgreSQL 15 cannot do for a partitioned table: reference jobs from a plain '
            'table.';
    end if;

    -- the cut: the oldest unfinished job, or the next id to be made (every id of
    -- jobs_private.new_job_id starts with the counter), or the first job made within
    -- older_than if that is below both (read last, from the bottom of the leaf up to them)
    v_low := jobs_private.seal_low_bound();
    select least(
        (select h.id from jobs_private.jobs_hot as h
            where h.status in ('queued', 'processing') order by h.id limit 1),
        (pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.nextval('jobs_private.job_id_seq')), 12, '0')
            || '00000000000000000000')::uuid
    ) into v_cut;
    select coalesce(
        (select h.id from jobs_private.jobs_hot as h
            where h.id < v_cut and h.created_at >= pg_catalog.now() - older_than
            order by h.id limit 1),
        v_cut
    ) into v_cut;
    if v_low is not null and v_cut <= v_low
        or not exists (
            select from jobs_private.jobs_hot as h
            where h.id < v_cut and (v_low is null or h.id >= v_low)
        ) then
        return null;
    end if;
    v_name := 'jobs_upto_' || pg_catalog.left(pg_catalog.replace(v_cut::text, '-', ''), 12);
    v_table := pg_catalog.format('jobs_private.%I', v_name);
    v_range := pg_catalog.format(
        'id < %L%s', v_cut,
        case when v_low is null then '' else pg_catalog.format(' and id >= %L', v_low) end
    );

    execute pg_catalog.format(
        'create table %s (like jobs_private.jobs_hot including defaults including storage)',
        v_table
    );
    execute pg_catalog.format(
        'with c as (insert into %s select * from jobs_private.jobs_hot where %s'
        ' returning created_at, completed_at) select pg_catalog.count(*),'
        ' pg_catalog.max(c.created_at), pg_catalog.max(c.completed_at) from c',
        v_table, v_range
    ) into v_copied, v_created, v_completed;
    execute pg_catalog.format('alter table %s add primary key (id)', v_table);
    for r in
        select pg_catalog.pg_get_indexdef(i.indexrelid) as def, c.relname
        from pg_catalog.pg_index as i
        inner join pg_catalog.pg_class as c on i.indexrelid = c.oid
        where i.indrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass and not i.indisprimary
    loop
        execute pg_catalog.replace(
            pg_catalog.replace(r.def, ' ON jobs_private.jobs_hot ', ' ON ' || v_table || ' '),
            'INDEX ' || r.relname || ' ', 'INDEX ' || pg_catalog.quote_ident(
                pg_catalog.left(v_name || '_' || r.relname, 63)
            ) || ' '
        );
    end loop;
    execute pg_catalog.format(
        'alter table %s add constraint jobs_sealed_range check (%s)', v_table, v_range
    );
    -- a sealed job stays finished: the queue works on the leaf only, so a job queued again
    -- there would never be claimed (retry_job refuses it first, with a message)
    execute pg_catalog.format(
        'alter table %s add constraint jobs_sealed_finished'
        ' check (status in (''completed'', ''failed'', ''cancelled''))',
        v_table
    );
    -- when its newest job was made and its last one finished, which no write can move later
    -- (created_at never changes, nothing inserts into sealed history, and a write that would
    -- is refused here): jobs_private.history_split, by which the reads of a user's newest jobs and
    -- system_metrics leave sealed partitions out, is made from these
    execute pg_catalog.format(
        'alter table %s add constraint jobs_sealed_times'
        ' check (created_at <= %L and completed_at <= %L)',
        v_table, v_created, v_completed
    );
    -- every row rule, for the rows written from now on: the copies met them in the leaf
    select pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' order by a.attnum)
    into v_cols
    from pg_catalog.pg_attribute as a
    where a.attrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass and a.attnum > 0
        and not a.attisdropped;
    execute pg_catalog.format(
        'alter table %s add constraint jobs_row_check check'
        ' (jobs_private.jobs_row_is_valid(row(%s)::jobs_private.jobs_hot)) not valid',
        v_table, v_cols
    );
    execute pg_catalog.format('alter table %s enable row level security', v_table);
    execute pg_catalog.format(
        'create policy jobs_sealed_none on %s using (false) with check (false)', v_table
    );
    execute pg_catalog.format(
        'revoke all on table %s from public, anon, authenticated, service_role', v_table
    );
    execute pg_catalog.format('analyze %s', v_table);

    return pg_catalog.jsonb_build_object('copy', v_table, 'cut', v_cut, 'copied', v_copied);
end;
$$;
comment on function jobs_private.seal_prepare(interval) is
'Step 1 of the seal of job history: the finished jobs made before older_than ago (up to the oldest unfinished one) copied out of the hot leaf into a table that is not yet a partition, not yet with the foreign keys of jobs; answers {copy, cut, copied}, or null when there is nothing to seal. For the owner role (jobsdb history seal).';
revoke all on function jobs_private.seal_prepare(interval)
from public, anon, authenticated, service_role;
