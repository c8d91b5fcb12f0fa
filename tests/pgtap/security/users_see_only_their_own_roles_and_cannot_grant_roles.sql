-- jobsdb:unless-app-table public.user_roles
-- user_roles is server-set: users and admins read only their own role rows; nobody signed in
-- inserts, updates or deletes roles (only the service role and the owner do).
begin;
select plan(8);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.user_roles
    ) as q),
    0, 'a user without roles sees no role rows'
);
select throws_ok(
    $$insert into public.user_roles (user_id, role) values (current_setting('t.owner')::uuid,
    'admin')$$,
    '42501', null,
    'a user cannot make themselves admin'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.user_roles
    ) as q),
    1, 'an admin sees their own role'
);
select throws_ok(
    $$insert into public.user_roles (user_id, role) values (current_setting('t.owner')::uuid,
    'admin')$$,
    '42501', null,
    'an admin cannot grant the admin role'
);
select throws_ok(
    $$update public.user_roles set granted_at = now() where true$$,
    '42501', null,
    'an admin cannot update roles'
);
select throws_ok(
    $$delete from public.user_roles where true$$,
    '42501', null,
    'an admin cannot delete roles'
);
select tests.clear_authentication();
insert into public.user_roles (user_id, role) values (current_setting('t.other')::uuid, 'admin');
select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.user_roles
    ) as q),
    0, 'a user does not see other users'' roles'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.user_roles
    ) as q),
    1, 'an admin sees only their own role row, not other admins'''
);

select * from finish();
rollback;
