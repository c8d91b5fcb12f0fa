-- A --variant for measurement only (bench/README.md, "A hot leaf"): public.jobs becomes a table
-- range-partitioned by id with 12 partitions, the existing table (its rows, indexes, check,
-- triggers, policies and foreign keys) attached as the newest one, jobs_private.jobs_hot
-- [its lowest id, MAXVALUE), and 11 older partitions with the same indexes below it, as a
-- project keeping 11 past periods would have. Nothing else changes: the functions name
-- public.jobs, so every statement of the hot path goes through the partitioned parent (what
-- PostgreSQL 15 makes of it: a cached generic plan locks every partition). Followed by
-- variant_partitioned_leaf_functions.sql, the same functions name the leaf instead. Never
-- for a real database: the parent has no row rule, no policy and no grant of its own.
alter table public.jobs rename to jobs_hot;
alter table public.jobs_hot set schema jobs_private;
create table public.jobs (like jobs_private.jobs_hot including defaults) partition by range (id);
alter table public.jobs add primary key (id);
do $$
declare
    v_low uuid := (select j.id from jobs_private.jobs_hot as j order by j.id limit 1);
    v_prev text := 'MINVALUE';
    v_next text;
begin
    -- the old partitions share the ids below the backlog's lowest (ids made by
    -- jobs_private.new_job_id start with a counter, so there is room below any real one)
    for i in 1..11 loop
        v_next := format('%L', case when i = 11 then v_low::text else
            '00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0') end);
        execute format(
            'create table jobs_private.jobs_old_%s (like jobs_private.jobs_hot including defaults including indexes)',
            lpad(i::text, 2, '0'));
        execute format(
            'alter table public.jobs attach partition jobs_private.jobs_old_%s for values from (%s) to (%s)',
            lpad(i::text, 2, '0'), v_prev, v_next);
        v_prev := v_next;
    end loop;
    execute format(
        'alter table public.jobs attach partition jobs_private.jobs_hot for values from (%s) to (MAXVALUE)',
        v_prev);
end
$$;
analyze public.jobs;
