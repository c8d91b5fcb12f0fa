-- A standing backlog of queued jobs spread over users 1..10000, so that every claim finds work.
insert into public.jobs (user_id, job_type, status, metadata, original_prompt, fair_rank)
select ('00000000-0000-4000-8000-' || lpad((1 + g %% 10000)::text, 12, '0'))::uuid,
    'sdxl_image_fast', 'queued',
    jsonb_build_object('prompt', 'backlog job ' || g), 'backlog job ' || g, g
from generate_series(1, %(n)s) as g;
