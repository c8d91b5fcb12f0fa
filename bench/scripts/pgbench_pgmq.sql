-- pgbench: one job through pgmq (Supabase Queues) as its clients call it: send, read one
-- message with a 30 s visibility timeout, archive it (archive mode: the message moves to the
-- queue's archive table); autocommit each.
select * from pgmq.send('bench', '{"prompt":"a red fox in the snow"}'::jsonb);
select msg_id from pgmq.read('bench', 30, 1) \gset
select pgmq.archive('bench', :msg_id::bigint);
