-- The read functions are for signed-in users: anon cannot execute any of them (42501).
begin;
select plan(5);

select tests.authenticate_as_anon();
select throws_ok(
    $$select * from public.list_jobs()$$, '42501', null, 'anon cannot call list_jobs'
);
select throws_ok(
    $$select public.get_job(job_id := gen_random_uuid())$$, '42501', null,
    'anon cannot call get_job'
);
select throws_ok(
    $$select public.asset_info(asset_id := gen_random_uuid())$$, '42501', null,
    'anon cannot call asset_info'
);
select throws_ok(
    $$select public.workspace_groups()$$, '42501', null, 'anon cannot call workspace_groups'
);
select throws_ok(
    $$select public.library_items()$$, '42501', null, 'anon cannot call library_items'
);
select tests.clear_authentication();

select * from finish();
rollback;
