-- pgbench: the raw baseline's three autocommit statements, run by the table owner on
-- public.jobs itself: its row check, triggers, foreign keys and indexes, but no function, no
-- PostgREST framing, no output row. Between the raw baseline and the jobsdb lifecycle, it
-- splits the gap into what the jobs table costs and what the functions and framing cost. The
-- claim reads jobs_claim_idx in its order (fairly ranked band, -priority, fair_rank, id).
\set uid random(1, 10000)
insert into public.jobs (user_id, job_type, metadata, original_prompt, worker_pool, format, quality, model_type)
values (('00000000-0000-4000-8000-' || lpad(:uid::text, 12, '0'))::uuid, 'sdxl_image_fast', '{"prompt":"a red fox in the snow"}', 'a red fox in the snow', 'sdxl', 'png', 'fast', 'sdxl');
update public.jobs set status = 'processing', attempts = attempts + 1, locked_by = 'bench-worker',
    lease_token = gen_random_uuid(), lease_expires_at = now() + interval '5 minutes'
where id = (
    select id from public.jobs
    where status = 'queued' and worker_pool = 'sdxl' and run_at <= now()
        and greatest(fair_rank, 4611686018427387904) <= 4611686018427387904
    order by greatest(fair_rank, 4611686018427387904), -priority, fair_rank, id
    limit 1 for update skip locked
)
returning id \gset
update public.jobs set status = 'completed' where id = :id;
