-- The jobs of a retry storm, ranked at the head of the pool's queue (fair_rank 0), so the
-- claims that fail them into backoff take exactly these; the standing backlog stays claimable.
insert into public.jobs (user_id, job_type, status, metadata, original_prompt, fair_rank)
select ('00000000-0000-4000-8000-' || lpad((1 + g %% 10000)::text, 12, '0'))::uuid,
    'sdxl_image_fast', 'queued',
    jsonb_build_object('prompt', 'storm job ' || g), 'storm job ' || g, 0
from generate_series(1, %(n)s) as g;
