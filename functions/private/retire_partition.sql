-- Retention by whole partitions: a sealed partition of jobs (jobs_private.jobs_upto_*, made by
-- the seal) made ready to leave the database, after `jobsdb history retire` has exported it to
-- verified Parquet; the command then detaches it concurrently and drops it. PostgreSQL refuses
-- to detach a partition whose rows another table references, so what deleting its jobs would do
-- to the tables referencing them is done here, by each foreign key's ON DELETE action: jobsdb's
-- outputs keep their files and lose their job_id (set null), its job_releases rows go
-- (cascade), and a project's table the same way by its own key. A key that would refuse the
-- delete (no action, restrict) while rows reference the partition refuses this (55000, nothing
-- changed), naming its table. The removal is recorded as a delete of the jobs records it: a
-- tombstone per job for job_changes_since, and the hours of their completion for the metrics'
-- roll-up. Refused too for a partition that is not a sealed one, or whose newest job is not
-- older than `older_than`. Answers {jobs, newest, references: {table: rows}}. For the owner
-- role.
create function jobs_private.retire_partition(part regclass, older_than interval)
returns jsonb
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_newest timestamptz;
    v_jobs bigint;
    v_rows bigint;
    v_refs jsonb := '{}'::jsonb;
    v_blocked text;
    v_held boolean;
    r record;
begin
    if not exists (
        select from jobs_private.sealed_partitions() as s (rel)
        where s.rel = retire_partition.part
    ) then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format('%s is not a sealed partition of public.jobs', part),
            hint = 'Only partitions made by jobsdb history seal leave by retention; the hot '
            'leaf never does.';
    end if;
    if older_than is null or older_than < interval '0' then
        raise exception using errcode = '22023', message = 'older_than must be an interval >= 0';
    end if;
    execute pg_catalog.format('select pg_catalog.max(created_at), pg_catalog.count(*) from %s', part)
    into v_newest, v_jobs;
    if v_newest >= pg_catalog.now() - older_than then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format(
                '%s holds a job made %s, within %s', part, v_newest, older_than
            );
    end if;

    -- the keys into jobs: each a single column (job ids); refused before anything changes
    for r in
        select c.conrelid::pg_catalog.regclass::text as tab, c.conname, c.confdeltype as action,
            pg_catalog.cardinality(c.conkey) as width,
            (select a.attname from pg_catalog.pg_attribute as a
                where a.attrelid = c.conrelid and a.attnum = c.conkey[1]) as col
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0
        order by 1, 2
    loop
        if r.width = 1 and r.action in ('a', 'r') then
            execute pg_catalog.format(
                'select exists (select from %s where %I in (select id from %s))',
                r.tab, r.col, part
            ) into v_held;
        end if;
        if r.width <> 1 or r.action in ('a', 'r') and v_held then
            v_blocked := pg_catalog.concat_ws(
                ', ', v_blocked, pg_catalog.format('%s (%s)', r.tab, r.conname)
            );
        end if;
    end loop;
    if v_blocked is not null then
        raise exception using
            errcode = '55000',
            message = pg_catalog.format('rows reference jobs of %s: %s', part, v_blocked),
            hint = 'Their foreign keys refuse a delete of those jobs (no action, restrict): '
            'delete or detach those rows first, or give the key an ON DELETE action.';
    end if;
    for r in
        select c.conrelid::pg_catalog.regclass::text as tab, c.confdeltype as action,
            (select a.attname from pg_catalog.pg_attribute as a
                where a.attrelid = c.conrelid and a.attnum = c.conkey[1]) as col
        from pg_catalog.pg_constraint as c
        where c.confrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and c.conparentid = 0 and c.confdeltype in ('c', 'n', 'd')
        order by 1
    loop
        execute pg_catalog.format(
            case r.action
                when 'c' then 'delete from %1$s where %2$I in (select id from %3$s)'
                when 'n' then 'update %1$s set %2$I = null where %2$I in (select id from %3$s)'
                else 'update %1$s set %2$I = default where %2$I in (select id from %3$s)'
            end,
            r.tab, r.col, part
        );
        get diagnostics v_rows = row_count;
        v_refs := v_refs || pg_catalog.jsonb_build_object(r.tab, v_rows);
    end loop;

    execute pg_catalog.format(
        'insert into jobs_private.job_tombstones (job_id, user_id)'
        ' select p.id, p.user_id from %s as p on conflict (job_id) do nothing', part
    );
    execute pg_catalog.format(
        'insert into jobs_private.job_metrics_stale (hour)'
        ' select distinct pg_catalog.date_bin(interval ''1 hour'', p.completed_at,'
        ' timestamptz ''2000-01-01 00:00:00+00'') from %s as p'
        ' where p.completed_at is not null',
        part
    );
    return pg_catalog.jsonb_build_object(
        'jobs', v_jobs, 'newest', v_newest, 'references', v_refs
    );
end;
$$;
comment on function jobs_private.retire_partition(regclass, interval) is
'Retention: a sealed partition of jobs whose newest job is older than older_than made ready to be detached and dropped (after its export): the rows referencing its jobs handled by each foreign key''s ON DELETE action (55000 if one refuses), tombstones and stale metric hours recorded as for a delete; answers {jobs, newest, references}. For the owner role (jobsdb history retire).';
revoke all on function jobs_private.retire_partition(regclass, interval)
from public, anon, authenticated, service_role;
