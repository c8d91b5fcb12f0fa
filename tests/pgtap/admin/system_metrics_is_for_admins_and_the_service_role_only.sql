-- system_metrics: admins and the service role may call it; a user and anon get 42501; a window
-- outside 1 minute .. 31 days is 22023.
begin;
select plan(7);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;

select tests.authenticate_as(current_setting('t.admin')::uuid);
select ok(public.system_metrics() ? 'queue', 'an admin gets the metrics');
select throws_ok(
    $$select public.system_metrics(time_window := interval '30 seconds')$$, '22023', null,
    'a window under a minute is 22023'
);
select throws_ok(
    $$select public.system_metrics(time_window := interval '32 days')$$, '22023', null,
    'a window over 31 days is 22023'
);
select throws_ok(
    $$select public.system_metrics(time_window := null)$$, '22023', null,
    'a null window is 22023'
);
select tests.authenticate_as_service_role();
select ok(public.system_metrics() ? 'leases', 'the service role gets the metrics');
select tests.authenticate_as(current_setting('t.alice')::uuid);
select throws_ok($$select public.system_metrics()$$, '42501', null, 'a user gets 42501');
select tests.authenticate_as_anon();
select throws_ok($$select public.system_metrics()$$, '42501', null, 'anon gets 42501');
select tests.clear_authentication();

select * from finish();
rollback;
