-- jobsdb:unless-app-table public.projects
-- projects: a user reads, creates, renames and deletes their own projects only; admins have no
-- extra rights on them.
begin;
select plan(11);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.projects
    ) as q),
    1, 'a user sees only their own project'
);
select lives_ok(
    $$insert into public.projects (user_id, name) values (current_setting('t.owner')::uuid,
    'new')$$,
    'a user can create a project'
);
select throws_ok(
    $$insert into public.projects (user_id, name) values (current_setting('t.other')::uuid,
    'new')$$,
    '42501', null,
    'a user cannot create a project for another user'
);
select throws_ok(
    $$insert into public.projects (id, user_id, name) values (gen_random_uuid(),
    current_setting('t.owner')::uuid, 'n')$$,
    '42501', null,
    'a user cannot choose a project id'
);
with r as (
    update public.projects set
        name = 'renamed' where id
        = '00000000-0000-0000-0000-0000000000a5'
    returning 1
)

select is(count(*)::int, 1, 'a user can rename their project') from r;
with r as (
    update public.projects set name = 'x' where id = '00000000-0000-0000-0000-0000000000b5'
    returning 1
)

select is(count(*)::int, 0, 'a user cannot rename another user''s project (0 rows)') from r;
select throws_ok(
    $$update public.projects set user_id = current_setting('t.other')::uuid where id =
    '00000000-0000-0000-0000-0000000000a5'$$,
    '42501', null,
    'a user cannot give a project away (projects.user_id)'
);
with r as (
    delete from public.projects where id = '00000000-0000-0000-0000-0000000000b5' returning
        1
)

select is(count(*)::int, 0, 'a user cannot delete another user''s project (0 rows)') from r;
with r as (
    delete from public.projects where id = '00000000-0000-0000-0000-0000000000a5' returning
        1
)

select is(count(*)::int, 1, 'a user can delete their project') from r;
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.projects
    ) as q),
    0, 'an admin sees only their own projects'
);
with r as (
    delete from public.projects where id = '00000000-0000-0000-0000-0000000000b5' returning
        1
)

select is(count(*)::int, 0, 'an admin cannot delete another user''s project (0 rows)') from r;

select * from finish();
rollback;
