-- pgbench: one job through Procrastinate's own SQL functions, as its Python library calls them:
-- defer (procrastinate_defer_jobs_v1), fetch (procrastinate_fetch_job_v2 with a registered
-- worker id), finish (procrastinate_finish_job_v1 succeeded, keep the row); autocommit each.
\set wid :client_id + 1
select unnest(procrastinate_defer_jobs_v1(array[row('default', 'bench.task', 0, null, null, '{"prompt":"a red fox in the snow"}'::jsonb, null)::procrastinate_job_to_defer_v1])) as id;
select id from procrastinate_fetch_job_v2(array['default']::varchar[], :wid) \gset
select procrastinate_finish_job_v1(:id, 'succeeded', false);
