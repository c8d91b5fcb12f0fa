-- Reading jobs: a user sees only their own jobs, an admin and the service role see all.
begin;
select plan(7);

select tests.clear_authentication();
select tests.seed_two_tenants();

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    1, 'the owner sees exactly their one job'
);
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'
    ) as q),
    1, 'the owner sees their job'
);
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000b1'
    ) as q),
    0, 'the owner does not see another user''s job'
);
select tests.authenticate_as(current_setting('t.other')::uuid);
select is(
    (select count(*)::int from (
        select * from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'
    ) as q),
    0, 'another user does not see the owner''s job'
);
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    1, 'another user sees only their own job'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    2, 'an admin sees every job'
);
select tests.authenticate_as_service_role();
select is(
    (select count(*)::int from (
        select * from public.jobs
    ) as q),
    2, 'the service role sees every job'
);

select * from finish();
rollback;
