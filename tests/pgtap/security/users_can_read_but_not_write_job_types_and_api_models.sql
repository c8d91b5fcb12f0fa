-- jobsdb:unless-app-table public.api_models
-- job_types and api_models are catalogues: every signed-in user (admins too) reads them, nobody
-- signed in writes them.
begin;
select plan(16);

select tests.clear_authentication();
select tests.seed_two_tenants();
-- every type there is, the project's own too
select set_config('t.job_types', (select count(*) from public.job_types)::text, true) is not null;

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from (
        select * from public.job_types
    ) as q),
    current_setting('t.job_types')::int, 'a user sees every job type'
);
select is(
    (select count(*)::int from (
        select * from public.api_models
    ) as q),
    1, 'a user sees every api model'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
    model_type, output_bucket, lease_seconds) values ('x_fast', 'x', 'image', 'png',
    'fast', 'x', 'x', 60)$$,
    '42501', null,
    'a user cannot insert job_types'
);
select throws_ok(
    $$update public.job_types set description = 'x' where true$$,
    '42501', null,
    'a user cannot update job_types'
);
select throws_ok(
    $$delete from public.job_types where job_type = 'rv51_high'$$,
    '42501', null,
    'a user cannot delete job_types'
);
select throws_ok(
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    '42501', null,
    'a user cannot insert api_models'
);
select throws_ok(
    $$update public.api_models set display_name = 'x' where true$$,
    '42501', null,
    'a user cannot update api_models'
);
select throws_ok(
    $$delete from public.api_models where true$$,
    '42501', null,
    'a user cannot delete api_models'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select is(
    (select count(*)::int from (
        select * from public.job_types
    ) as q),
    current_setting('t.job_types')::int, 'an admin sees every job type'
);
select is(
    (select count(*)::int from (
        select * from public.api_models
    ) as q),
    1, 'an admin sees every api model'
);
select throws_ok(
    $$insert into public.job_types (job_type, worker_pool, media_type, format, quality,
    model_type, output_bucket, lease_seconds) values ('x_fast', 'x', 'image', 'png',
    'fast', 'x', 'x', 60)$$,
    '42501', null,
    'an admin cannot insert job_types'
);
select throws_ok(
    $$update public.job_types set description = 'x' where true$$,
    '42501', null,
    'an admin cannot update job_types'
);
select throws_ok(
    $$delete from public.job_types where job_type = 'rv51_high'$$,
    '42501', null,
    'an admin cannot delete job_types'
);
select throws_ok(
    $$insert into public.api_models (model_key, provider) values ('k2', 'p')$$,
    '42501', null,
    'an admin cannot insert api_models'
);
select throws_ok(
    $$update public.api_models set display_name = 'x' where true$$,
    '42501', null,
    'an admin cannot update api_models'
);
select throws_ok(
    $$delete from public.api_models where true$$,
    '42501', null,
    'an admin cannot delete api_models'
);

select * from finish();
rollback;
