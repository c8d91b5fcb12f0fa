-- Variant epilogue for "Partitioned jobs against unpartitioned" (bench/README.md): put after the
-- step that partitions public.jobs (jobs_legacy, the current epoch's partition and the next one
-- made ahead), it rotates to a new epoch 9 times, as jobs_private.maintain_job_partitions does
-- once a settings.partition_period: jobs then has 12 partitions (jobs_legacy, 10 past and
-- current epochs, 1 ahead), what a project keeping about 10 weeks of weekly partitions has.
-- Each turn dates the current epoch's opening one period (and a second) back, then runs the
-- maintenance. The bench's backlog stays where the step put it (jobs_legacy); new jobs go to
-- the last epoch's partition.
do $$
begin
    for i in 1..9 loop
        update jobs_private.job_id_epochs as e
        set opened_at = now() - s.partition_period - interval '1 second'
        from jobs_private.settings as s
        where s.singleton and e.epoch = (select max(m.epoch) from jobs_private.job_id_epochs as m);
        perform jobs_private.maintain_job_partitions();
    end loop;
end
$$;
