-- PgQ: the queue dropped (its event tables with it); pgq_setup.sql creates it again.
select pgq.unregister_consumer('bench', 'bench_consumer');
select pgq.drop_queue('bench');
