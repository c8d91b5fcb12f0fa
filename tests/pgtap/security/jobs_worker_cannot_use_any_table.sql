-- jobs_worker (a GPU worker's login role; it has the worker functions only) gets 42501 for select, insert, update and delete on every
-- table of public, whatever rows exist.
begin;
select plan(1 + 4 * (
    select count(*)::integer from pg_catalog.pg_class
    where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
        and tests.jobsdbs_table(relname)
));

select tests.clear_authentication();
select tests.create_user('owner@example.com') is not null as owner_created;
select ok(
    (
        select count(*) from pg_catalog.pg_class
        where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')
    ) >= 9,
    'public has the package''s tables (the check below is not vacuous)'
);
select * from tests.check_no_table_access('jobs_worker');

select * from finish();
rollback;
