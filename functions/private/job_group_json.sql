create function jobs_private.job_group_json(user_id uuid, group_id uuid, deduplicated boolean)
returns jsonb
-- plpgsql, not sql: a SQL function with a SET clause is never inlined and is parsed and planned
-- again on every call; plpgsql keeps the plan for the session (queue_job calls this every time).
language plpgsql
stable
set search_path = ''
as $$
begin
    return (
    select jsonb_build_object(
        'group_id', job_group_json.group_id,
        'deduplicated', job_group_json.deduplicated,
        'jobs', coalesce(jsonb_agg(jsonb_build_object(
            'id', j.id, 'status', j.status, 'job_type', j.job_type,
            'worker_pool', j.worker_pool, 'format', j.format, 'quality', j.quality,
            'model_type', j.model_type, 'destination', j.destination,
            'image_index', (j.metadata ->> 'image_index')::integer,
            'priority', j.priority, 'run_at', j.run_at, 'created_at', j.created_at
        ) order by (j.metadata ->> 'image_index')::integer, j.id), '[]')
    )
    from public.jobs as j
    where j.user_id = job_group_json.user_id
        and (j.metadata ->> 'job_id') = job_group_json.group_id::text
    );
end;
$$;
comment on function jobs_private.job_group_json(uuid, uuid, boolean) is
'The answer of queue_job: the jobs of one group (metadata.job_id) of one user, as JSON.';
revoke all on function jobs_private.job_group_json(uuid, uuid, boolean)
from public, anon, authenticated, service_role;
