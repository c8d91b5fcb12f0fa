-- jobsdb:unless-app-table public.prompt_tests
-- prompt_tests are admin experiments: admins read and write them, other users see none and
-- change none.
begin;
select plan(8);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.prompt_tests
    ) as q),
    0, 'a user sees no prompt tests'
);
select throws_ok(
    $$insert into public.prompt_tests (name, prompt) values ('n', 'p')$$,
    '42501', null,
    'a user cannot create a prompt test'
);
with r as (
    update public.prompt_tests set name = 'x' where true returning 1
)

select is(count(*)::int, 0, 'a user cannot update prompt tests (0 rows)') from r;
with r as (
    delete from public.prompt_tests where true returning 1
)

select is(count(*)::int, 0, 'a user cannot delete prompt tests (0 rows)') from r;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.prompt_tests
    ) as q),
    1, 'an admin sees prompt tests'
);
select lives_ok(
    $$insert into public.prompt_tests (name, prompt) values ('n', 'p')$$,
    'an admin can create a prompt test'
);
with r as (
    update public.prompt_tests set name = 'x' where true returning 1
)

select is(count(*)::int, 2, 'an admin can update prompt tests') from r;
with r as (
    delete from public.prompt_tests where true returning 1
)

select is(count(*)::int, 2, 'an admin can delete prompt tests') from r;

select * from finish();
rollback;
