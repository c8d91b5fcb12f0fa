-- pgbench: the raw baseline, ten jobs per statement: INSERT 10 / claim 10 / complete 10.
insert into raw_jobs (payload)
select '{"prompt":"a red fox in the snow"}'::jsonb from generate_series(1, 10);
with c as (
    update raw_jobs set status = 'running', started_at = now(), worker = 'bench-worker'
    where id in (
        select id from raw_jobs where status = 'queued' order by id limit 10 for update skip locked
    )
    returning id
)
select array_agg(id)::text as ids from c \gset
update raw_jobs set status = 'done', finished_at = now() where id = any(:ids::bigint[]);
