-- After pgmq's own SQL (pgmq/sql/pgmq.sql of the PyPI package `pgmq`): one queue (a plain,
-- logged table, as Supabase Queues creates by default) and the standing backlog.
select pgmq.create('bench');
select count(*) from pgmq.send_batch('bench', array(
    select jsonb_build_object('prompt', 'backlog job ' || g) from generate_series(1, %(n)s) as g));
