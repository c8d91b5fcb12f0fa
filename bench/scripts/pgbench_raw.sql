-- pgbench: the raw baseline, one job: INSERT / claim UPDATE ... SKIP LOCKED / complete UPDATE,
-- each its own transaction (autocommit).
insert into raw_jobs (payload) values ('{"prompt":"a red fox in the snow"}');
update raw_jobs set status = 'running', started_at = now(), worker = 'bench-worker'
where id = (
    select id from raw_jobs where status = 'queued' order by id limit 1 for update skip locked
)
returning id \gset
update raw_jobs set status = 'done', finished_at = now() where id = :id;
