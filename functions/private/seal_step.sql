-- The seal of job history one step at a time, for pg_cron (functions/private/seal_prepare.sql
-- says what the seal is): each call does the next step of the seal in progress, in its own
-- transaction, so a job that runs it every few minutes makes a seal in about six runs, each
-- holding its brief lock alone. pg_cron runs one statement per job, in one transaction, and the
-- steps must commit apart; a procedure could commit between them only without a SET
-- search_path, which the Security Advisor flags (lint 0011). What the next step is, is read from
-- the catalog: a copy that is not yet a partition, its keys, the hot leaf's bound, keys into
-- jobs left NOT VALID, a partition sealed before 1.10.0 without its bounds of created_at and
-- completed_at (jobs_private.seal_bound_times). A new seal starts only when the leaf's oldest
-- job was made more than older_than + period ago, so that every sealed partition holds at
-- least a period of jobs.
-- A copy whose jobs changed before the move (40001) is dropped, and the next call starts over.
-- Answers what it did, in a few words. For the owner role.
create function jobs_private.seal_step(older_than interval, period interval)
returns text
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
as $$
declare
    v_copy regclass;
    v_cut uuid;
    v_copied bigint;
    v_oldest timestamptz;
    v_done jsonb;
    v_keys text [];
    v_step text;
begin
    if period is null or period < interval '0' then
        raise exception using errcode = '22023', message = 'period must be an interval >= 0';
    end if;
    v_copy := (jobs_private.seal_copies())[1];
    if v_copy is null then
        if exists (
            select from pg_catalog.pg_constraint as c
            where c.conrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
                and c.conname = 'jobs_hot_seal_bound'
        ) then
            perform jobs_private.seal_clean(200);
            return 'removed the hot leaf''s bound an interrupted seal left';
        end if;
        v_keys := jobs_private.seal_check_keys();
        if pg_catalog.cardinality(v_keys) > 0 then
            return 'checked the foreign keys into jobs: ' || pg_catalog.array_to_string(v_keys, ', ');
        end if;
        v_step := jobs_private.seal_bound_times(200);
        if v_step is not null then
            return v_step;
        end if;
        select h.created_at into v_oldest
        from jobs_private.jobs_hot as h order by h.id limit 1;
        if v_oldest is null or v_oldest >= pg_catalog.now() - older_than - period then
            return 'nothing to seal yet';
        end if;
        v_done := jobs_private.seal_prepare(older_than);
        if v_done is null then
            return 'nothing to seal: the oldest unfinished job is among the oldest';
        end if;
        return pg_catalog.format('copied %s jobs into %s', v_done ->> 'copied', v_done ->> 'copy');
    end if;

    if exists (
        select from pg_catalog.pg_constraint as c
        where c.conrelid = 'public.jobs'::pg_catalog.regclass and c.contype = 'f'
            and not exists (
                select from pg_catalog.pg_constraint as o
                where o.conrelid = v_copy and o.conname = c.conname
            )
    ) then
        perform jobs_private.seal_keys(v_copy, 200);
        return pg_catalog.format('added the foreign keys of jobs to %s', v_copy);
    end if;
    -- the cut, as seal_prepare wrote it into the copy's range CHECK
    v_cut := (
        pg_catalog.regexp_match(
            (select pg_catalog.pg_get_constraintdef(c.oid) from pg_catalog.pg_constraint as c
                where c.conrelid = v_copy and c.conname = 'jobs_sealed_range'),
            'id < ''([0-9a-f-]{36})'''
        )
    )[1]::uuid;
    if not exists (
        select from pg_catalog.pg_constraint as c
        where c.conrelid = 'jobs_private.jobs_hot'::pg_catalog.regclass
            and c.conname = 'jobs_hot_seal_bound'
    ) then
        perform jobs_private.seal_bound(v_cut, 200);
        return pg_catalog.format('bounded the hot leaf at %s', v_cut);
    end if;
    execute pg_catalog.format('select pg_catalog.count(*) from %s', v_copy) into v_copied;
    begin
        return pg_catalog.format(
            'moved %s jobs into %s', jobs_private.seal_move(v_copy, v_cut, v_copied, 200), v_copy
        );
    exception when serialization_failure then
        perform jobs_private.seal_clean(200);
        return pg_catalog.format('jobs changed since the copy: dropped %s, starting over', v_copy);
    end;
end;
$$;
comment on function jobs_private.seal_step(interval, interval) is
'The seal of job history one step per call, for pg_cron: the next step of the seal in progress (copy, keys, bound, move, key check), or a new seal when the hot leaf''s oldest job was made more than older_than + period ago; answers what it did. For the owner role.';
revoke all on function jobs_private.seal_step(interval, interval)
from public, anon, authenticated, service_role;
