-- pgmq: the queue dropped (its queue and archive tables with it); pgmq_setup.sql creates it again.
select pgmq.drop_queue('bench');
