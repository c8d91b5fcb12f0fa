-- pgbench: ten jobs through pgmq's own batch path, as its clients call it: send_batch of ten
-- messages, read of ten (30 s visibility timeout), archive of the ten ids; autocommit each.
select count(*) from pgmq.send_batch('bench', array_fill('{"prompt":"a red fox in the snow"}'::jsonb, array[10]));
select array_agg(r.msg_id)::text as ids from pgmq.read('bench', 30, 10) as r \gset
select count(*) from pgmq.archive('bench', :ids::bigint[]);
