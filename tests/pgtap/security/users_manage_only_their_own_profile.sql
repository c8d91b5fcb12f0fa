-- jobsdb:unless-app-table public.profiles
-- profiles: a user reads, creates and edits (display columns only) their own profile and never
-- deletes it; an admin reads all profiles but edits only their own.
begin;
select plan(11);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.profiles
    ) as q),
    1, 'a user sees only their own profile'
);
with r as (
    update public.profiles set display_name = 'me' where true returning 1
)

select is(count(*)::int, 1, 'a user can update their own profile') from r;
with r as (
    update public.profiles set
        display_name = 'x' where id
        = current_setting('t.other')::uuid
    returning 1
)

select is(count(*)::int, 0, 'a user cannot update another user''s profile (0 rows)') from r;
select throws_ok(
    $$update public.profiles set id = current_setting('t.other')::uuid where id =
    current_setting('t.owner')::uuid$$,
    '42501', null,
    'a user cannot update profiles.id'
);
select throws_ok(
    $$update public.profiles set created_at = now() where id =
    current_setting('t.owner')::uuid$$,
    '42501', null,
    'a user cannot update profiles.created_at'
);
select throws_ok(
    $$delete from public.profiles where id = current_setting('t.owner')::uuid$$,
    '42501', null,
    'a user cannot delete their profile'
);
select throws_ok(
    $$insert into public.profiles (id) values (current_setting('t.bare')::uuid)$$,
    '42501', null,
    'a user cannot create another user''s profile'
);
select tests.clear_authentication();
select tests.authenticate_as(current_setting('t.bare')::uuid);
select lives_ok(
    $$insert into public.profiles (id, display_name) values (auth.uid(), 'new')$$,
    'a user without a profile can create their own'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.profiles
    ) as q),
    4, 'an admin sees every profile'
);
with r as (
    update public.profiles set
        display_name = 'x' where id
        = current_setting('t.owner')::uuid
    returning 1
)

select is(count(*)::int, 0, 'an admin cannot update another user''s profile (0 rows)') from r;
select tests.authenticate_as(current_setting('t.other')::uuid);
select is(
    (select count(*)::int from (
        select * from public.profiles where id = current_setting('t.owner')::uuid
    ) as q),
    0, 'another user does not see the owner''s profile'
);

select * from finish();
rollback;
