-- public.jobs carries the queue columns the worker protocol needs (DESIGN.md data model):
-- pool, priority, run-after, fairness rank, lease holder, lease expiry and fencing token,
-- idempotency key and last error time.
begin;
select plan(25);

select col_type_is('public', 'jobs', 'worker_pool', 'text', 'worker_pool is text');
select col_not_null('public', 'jobs', 'worker_pool', 'worker_pool is not null');
select col_type_is('public', 'jobs', 'priority', 'smallint', 'priority is smallint');
select col_not_null('public', 'jobs', 'priority', 'priority is not null');
select col_default_is('public', 'jobs', 'priority', '0', 'priority defaults to 0');
select col_type_is('public', 'jobs', 'run_at', 'timestamp with time zone', 'run_at is timestamptz');
select col_not_null('public', 'jobs', 'run_at', 'run_at is not null');
select col_default_is('public', 'jobs', 'run_at', 'now()', 'run_at defaults to now()');
select col_type_is('public', 'jobs', 'fair_rank', 'bigint', 'fair_rank is bigint');
select col_not_null('public', 'jobs', 'fair_rank', 'fair_rank is not null');
select col_default_is('public', 'jobs', 'fair_rank', '0', 'fair_rank defaults to 0');
select col_type_is('public', 'jobs', 'locked_by', 'text', 'locked_by is text');
select col_is_null('public', 'jobs', 'locked_by', 'locked_by is nullable');
select col_type_is(
    'public', 'jobs', 'lease_expires_at', 'timestamp with time zone',
    'lease_expires_at is timestamptz'
);
select col_is_null('public', 'jobs', 'lease_expires_at', 'lease_expires_at is nullable');
select col_type_is('public', 'jobs', 'lease_token', 'uuid', 'lease_token is uuid');
select col_is_null('public', 'jobs', 'lease_token', 'lease_token is nullable');
select col_type_is('public', 'jobs', 'idempotency_key', 'text', 'idempotency_key is text');
select col_is_null('public', 'jobs', 'idempotency_key', 'idempotency_key is nullable');
select col_type_is(
    'public', 'jobs', 'last_error_at', 'timestamp with time zone', 'last_error_at is timestamptz'
);
select col_is_null('public', 'jobs', 'last_error_at', 'last_error_at is nullable');

-- worker_pool, format, quality and model_type are derived from job_types on insert
select tests.clear_authentication();
select set_config('t.owner', tests.create_user('queue-cols@example.com')::text, true) is not null;
insert into public.jobs (user_id, job_type)
values (current_setting('t.owner')::uuid, 'rv51_high');
select results_eq(
    $$select worker_pool, format, quality, model_type from public.jobs
    where user_id = current_setting('t.owner')::uuid$$,
    $$values ('rv51'::text, 'png'::text, 'high'::text, 'rv51'::text)$$,
    'an insert derives worker_pool, format, quality and model_type from job_types'
);

-- the same idempotency key twice for one user is refused; for two users it is fine
insert into public.jobs (user_id, job_type, idempotency_key)
values (current_setting('t.owner')::uuid, 'rv51_high', 'key-1');
select throws_ok(
    $$insert into public.jobs (user_id, job_type, idempotency_key)
    values (current_setting('t.owner')::uuid, 'rv51_high', 'key-1')$$,
    '23505', null, 'an idempotency key is unique per user'
);
select set_config('t.other', tests.create_user('queue-cols-2@example.com')::text, true) is not null;
select lives_ok(
    $$insert into public.jobs (user_id, job_type, idempotency_key)
    values (current_setting('t.other')::uuid, 'rv51_high', 'key-1')$$,
    'another user may use the same idempotency key'
);
select throws_ok(
    $$insert into public.jobs (user_id, job_type, worker_pool)
    values (current_setting('t.owner')::uuid, 'no_such_type', 'sdxl')$$,
    '23503', null, 'job_type must be a row of job_types'
);

select * from finish();
rollback;
