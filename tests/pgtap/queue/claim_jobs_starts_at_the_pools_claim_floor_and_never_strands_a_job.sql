-- The claim starts its scan at the pool's claim floor (jobs_private.claim_floors), past the
-- dead entries an old snapshot keeps. A job that goes back below the floor is still
-- claimed in its turn: a released job at once (trigger), a higher priority at once
-- (queue_job), a job inserted below it by plain SQL once nothing is claimable above it or once
-- rescue_expired_jobs has recomputed the floor.
begin;
select plan(11);

select set_config('t.alice', tests.create_user('alice@example.com')::text, true) is not null;
-- a pool that has never had a job (on an existing database its floor may exist: rolled back)
delete from jobs_private.claim_floors where worker_pool = 'sdxl';
select is(
    (select count(*)::integer from jobs_private.claim_floors as f where f.worker_pool = 'sdxl'),
    0, 'a pool without jobs has no floor'
);
select set_config('t.admin', tests.create_user('admin@example.com', true)::text, true) is not null;
select tests.authenticate_as(current_setting('t.alice')::uuid);
select count(public.queue_job(job_type := 'sdxl_image_fast', prompt := 'a' || g)) = 4
from generate_series(1, 4) as g;
select tests.clear_authentication();
select is(
    (select f.fair_rank from jobs_private.claim_floors as f where f.worker_pool = 'sdxl'),
    -9223372036854775808, 'the pool''s first job gives it a floor at the bottom'
);

-- 1. rescue_expired_jobs sets the floor at the first job still queued (claims move it there
-- about once per 64 jobs).
select tests.authenticate_as_worker();
select set_config('t.first', (
    select job_id::text || ' ' || lease_token::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1')
), true) is not null;
select public.rescue_expired_jobs() is not null;
select tests.clear_authentication();
select is(
    (select f.id from jobs_private.claim_floors as f where f.worker_pool = 'sdxl'),
    (select j.id from public.jobs as j where j.original_prompt = 'a2'),
    'the floor is at the first job still queued'
);

-- 2. A released job goes back below the floor and is the next one claimed.
select tests.authenticate_as_worker();
select set_config('t.released', (
    select r.state
    from public.release_jobs(
            'gpu-1',
            array[split_part(current_setting('t.first'), ' ', 1)::uuid],
            array[split_part(current_setting('t.first'), ' ', 2)::uuid]
        ) as r
), true) is not null;
select set_config('t.next', (
    select c.prompt
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select tests.clear_authentication();
select is(current_setting('t.released'), 'released', 'the worker releases its job');
select is(current_setting('t.next'), 'a1', 'the released job is claimed next, before the floor');

-- 3. A higher priority queued after the floor was set is claimed next.
select tests.authenticate_as(current_setting('t.admin')::uuid);
select public.queue_job(
    job_type := 'sdxl_image_fast', prompt := 'urgent', priority := 10
) is not null;
select tests.clear_authentication();
select tests.authenticate_as_worker();
select set_config('t.next', (
    select c.prompt
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select tests.clear_authentication();
select is(current_setting('t.next'), 'urgent', 'a higher priority is claimed next');

-- 4. A job inserted below the floor by plain SQL (fair_rank 0) waits while jobs above it are
-- claimable, and is claimed first once rescue_expired_jobs has recomputed the floor.
-- (the floor where claims move it about once per 64 jobs: at the first queued job, a2)
update jobs_private.claim_floors as f
set neg_priority = -j.priority, fair_rank = j.fair_rank, id = j.id
from public.jobs as j
where f.worker_pool = 'sdxl' and j.original_prompt = 'a2';
insert into public.jobs (user_id, job_type, status, metadata, original_prompt)
values (
    current_setting('t.alice')::uuid, 'sdxl_image_fast', 'queued', '{"prompt": "plain"}', 'plain'
);
select tests.authenticate_as_worker();
select set_config('t.next', (
    select c.prompt
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select public.rescue_expired_jobs() is not null;
select set_config('t.after_rescue', (
    select c.prompt
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
-- 5. Below the floor with nothing claimable above it: the claim's second pass takes it.
select set_config('t.rest', (
    select count(*)::text
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1', max_jobs := 10)
), true) is not null;
select tests.clear_authentication();
select is(
    current_setting('t.next'), 'a2',
    'a job inserted below the floor waits while jobs above it are claimable'
);
select is(
    current_setting('t.after_rescue'), 'plain',
    'rescue_expired_jobs moved the floor back: the plain insert is claimed next'
);
select is(current_setting('t.rest'), '2', 'the last two jobs above the floor are claimed');
insert into public.jobs (user_id, job_type, status, metadata, original_prompt)
values (
    current_setting('t.alice')::uuid, 'sdxl_image_fast', 'queued', '{"prompt": "late"}', 'late'
);
select tests.authenticate_as_worker();
select set_config('t.next', (
    select c.prompt
    from public.claim_jobs(worker_pool := 'sdxl', worker_id := 'gpu-1') as c
), true) is not null;
select tests.clear_authentication();
select is(
    current_setting('t.next'), 'late',
    'with nothing claimable above the floor, the claim reads from the bottom'
);
select isnt(
    (select f.id::text from jobs_private.claim_floors as f where f.worker_pool = 'sdxl'),
    null, 'the pool keeps a floor'
);

select * from finish();
rollback;
