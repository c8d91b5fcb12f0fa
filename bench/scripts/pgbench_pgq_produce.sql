-- pgbench: PgQ producer, one event per transaction (autocommit).
select pgq.insert_event('bench', 'job', '{"prompt":"a red fox in the snow"}');
