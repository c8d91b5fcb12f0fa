-- PgQ: one queue, one consumer; the ticker is called by the consumer loop (no pgqd).
create extension if not exists pgq;
select pgq.create_queue('bench');
select pgq.register_consumer('bench', 'bench_consumer');
select pgq.ticker('bench');
