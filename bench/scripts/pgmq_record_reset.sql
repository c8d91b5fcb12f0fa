-- bench_pgmq_record: the queue dropped (its queue and archive tables with it) and the record
-- emptied; pgmq_record_queue.sql creates the queue and the backlog again.
select pgmq.drop_queue('jobs');
truncate public.images_videos, public.videos, public.jobs;
