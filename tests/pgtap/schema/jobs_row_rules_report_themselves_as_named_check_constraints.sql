-- public.jobs keeps its row rules in one CHECK (jobs_row_check) of each partition. A broken rule must look to a
-- client exactly as a CHECK constraint of the rule's name would: SQLSTATE 23514 with the
-- constraint, schema and table error fields set; when several rules are broken, the first in
-- name order is named (PostgreSQL checks constraints in name order); nothing is written. The
-- service role, which writes jobs directly, passes the check when the row is valid.
begin;
select plan(6);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('rules@example.com')::text, true) is not null;
insert into public.jobs (id, user_id, job_type)
values ('00000000-0000-0000-0000-00000000e001', current_setting('t.owner')::uuid, 'image_fast');

-- The error fields a client (PostgREST, psycopg) sees, or null when the statement succeeds.
create function pg_temp.error_fields(stmt text)
returns text[]
language plpgsql
as $$
declare
    v_state text;
    v_constraint text;
    v_schema text;
    v_table text;
begin
    execute stmt;
    return null;
exception when others then
    get stacked diagnostics
        v_state = returned_sqlstate, v_constraint = constraint_name,
        v_schema = schema_name, v_table = table_name;
    return array[v_state, v_constraint, v_schema, v_table];
end;
$$;

select is(
    pg_temp.error_fields(
        $$update public.jobs set quality_rating = 101
        where id = '00000000-0000-0000-0000-00000000e001'$$
    ),
    array['23514', 'jobs_quality_rating_check', 'public', 'jobs'],
    'a broken rule sets SQLSTATE 23514 and the constraint, schema and table fields'
);
select is(
    pg_temp.error_fields(
        $$update public.jobs set quality_rating = 101, priority = 500
        where id = '00000000-0000-0000-0000-00000000e001'$$
    ),
    array['23514', 'jobs_priority_check', 'public', 'jobs'],
    'with two rules broken, the first in name order is named'
);
select is(
    (select quality_rating from public.jobs where id = '00000000-0000-0000-0000-00000000e001'),
    null,
    'a refused update writes nothing'
);
-- jobs is partitioned: each partition carries the one CHECK (a CHECK reading the whole row
-- cannot be the partitioned parent's), and every row is in a partition
select set_eq(
    $$select c.conrelid::regclass::text, c.conname::text from pg_constraint as c
    where c.contype = 'c' and c.conrelid in (
        select 'public.jobs'::regclass
        union all
        select i.inhrelid from pg_inherits as i where i.inhparent = 'public.jobs'::regclass
    )$$,
    $$select i.inhrelid::regclass::text, 'jobs_row_check' from pg_inherits as i
    where i.inhparent = 'public.jobs'::regclass$$,
    'each partition of jobs has exactly one CHECK constraint, jobs_row_check, and jobs none'
);

select tests.authenticate_as_service_role();
select is(
    pg_temp.error_fields(
        $$update public.jobs set quality_rating = 88.5, review_notes = 'fine'
        where id = '00000000-0000-0000-0000-00000000e001'$$
    ),
    null,
    'the service role writes a valid row directly'
);
select is(
    pg_temp.error_fields(
        $$update public.jobs set quality_rating = -1
        where id = '00000000-0000-0000-0000-00000000e001'$$
    ),
    array['23514', 'jobs_quality_rating_check', 'public', 'jobs'],
    'the service role is held to the same rules'
);

select * from finish();
rollback;
