-- pgbench: the PgQ consumer loop (one client): tick, take the next batch, read its events,
-- finish it; sleep 10 ms when there is no batch (as a consumer's loop delay).
-- PgQ hands out batches of events to a consumer, not single jobs to competing workers.
select pgq.ticker('bench');
select coalesce(pgq.next_batch('bench', 'bench_consumer'), 0) as batch \gset
\if :batch > 0
select count(*) from pgq.get_batch_events(:batch);
select pgq.finish_batch(:batch);
\else
\sleep 10 ms
\endif
