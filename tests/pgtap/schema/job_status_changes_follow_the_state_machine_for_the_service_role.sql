-- Every (from, to) pair of the five job statuses is allowed or refused exactly as
-- jobs_private.job_status_transitions says (DESIGN.md lifecycle), for the service role
-- (direct update).
-- A refused change raises PT409 naming both states.
begin;
select plan(20);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('transitions@example.com')::text, true) is not null;
-- one job per ordered pair, in the pair's from state
insert into public.jobs (id, user_id, job_type, status)
select
    format('00000000-0000-0000-0000-0000000500%s%s', f.i, t.i)::uuid as id,
    current_setting('t.owner')::uuid as user_id,
    'image_fast' as job_type,
    case when f.s = 'completed' then 'completed' else 'queued' end as status
from unnest(array['queued', 'processing', 'completed', 'failed', 'cancelled'])
    with ordinality as f (s, i)
cross join generate_series(1, 5) as t (i)
where f.i <> t.i;
update public.jobs
set
    status = 'processing', attempts = 1, locked_by = 'w1',
    lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
where user_id = current_setting('t.owner')::uuid
    and substr(id::text, 35, 1) in ('2', '4');
update public.jobs set status = 'failed'
where user_id = current_setting('t.owner')::uuid and substr(id::text, 35, 1) = '4';
update public.jobs set status = 'cancelled'
where user_id = current_setting('t.owner')::uuid and substr(id::text, 35, 1) = '5';

select tests.authenticate_as_service_role();

select lives_ok(
    $$update public.jobs set status = 'processing', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050012'$$,
    'queued -> processing is allowed'
);
select throws_ok(
    $$update public.jobs set status = 'completed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050013'$$,
    'PT409', 'job status cannot change from queued to completed',
    'queued -> completed is refused'
);
select throws_ok(
    $$update public.jobs set status = 'failed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050014'$$,
    'PT409', 'job status cannot change from queued to failed',
    'queued -> failed is refused'
);
select lives_ok(
    $$update public.jobs set status = 'cancelled', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050015'$$,
    'queued -> cancelled is allowed'
);
select lives_ok(
    $$update public.jobs set status = 'queued', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050021'$$,
    'processing -> queued is allowed'
);
select lives_ok(
    $$update public.jobs set status = 'completed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050023'$$,
    'processing -> completed is allowed'
);
select lives_ok(
    $$update public.jobs set status = 'failed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050024'$$,
    'processing -> failed is allowed'
);
select lives_ok(
    $$update public.jobs set status = 'cancelled', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050025'$$,
    'processing -> cancelled is allowed'
);
select throws_ok(
    $$update public.jobs set status = 'queued', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050031'$$,
    'PT409', 'job status cannot change from completed to queued',
    'completed -> queued is refused'
);
select throws_ok(
    $$update public.jobs set status = 'processing', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050032'$$,
    'PT409', 'job status cannot change from completed to processing',
    'completed -> processing is refused'
);
select throws_ok(
    $$update public.jobs set status = 'failed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050034'$$,
    'PT409', 'job status cannot change from completed to failed',
    'completed -> failed is refused'
);
select throws_ok(
    $$update public.jobs set status = 'cancelled', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050035'$$,
    'PT409', 'job status cannot change from completed to cancelled',
    'completed -> cancelled is refused'
);
select lives_ok(
    $$update public.jobs set status = 'queued', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050041'$$,
    'failed -> queued is allowed'
);
select throws_ok(
    $$update public.jobs set status = 'processing', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050042'$$,
    'PT409', 'job status cannot change from failed to processing',
    'failed -> processing is refused'
);
select throws_ok(
    $$update public.jobs set status = 'completed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050043'$$,
    'PT409', 'job status cannot change from failed to completed',
    'failed -> completed is refused'
);
select throws_ok(
    $$update public.jobs set status = 'cancelled', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050045'$$,
    'PT409', 'job status cannot change from failed to cancelled',
    'failed -> cancelled is refused'
);
select throws_ok(
    $$update public.jobs set status = 'queued', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050051'$$,
    'PT409', 'job status cannot change from cancelled to queued',
    'cancelled -> queued is refused'
);
select throws_ok(
    $$update public.jobs set status = 'processing', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050052'$$,
    'PT409', 'job status cannot change from cancelled to processing',
    'cancelled -> processing is refused'
);
select throws_ok(
    $$update public.jobs set status = 'completed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050053'$$,
    'PT409', 'job status cannot change from cancelled to completed',
    'cancelled -> completed is refused'
);
select throws_ok(
    $$update public.jobs set status = 'failed', locked_by = 'w2',
        lease_expires_at = now() + interval '5 minutes', lease_token = gen_random_uuid()
    where id = '00000000-0000-0000-0000-000000050054'$$,
    'PT409', 'job status cannot change from cancelled to failed',
    'cancelled -> failed is refused'
);

select * from finish();
rollback;
