-- Every partition of jobs has one CHECK constraint: every row rule, in
-- jobs_private.jobs_row_is_valid (the function says why, and keeps each rule's name in its
-- errors). A CHECK reading the whole row cannot be the partitioned parent's, so the partition
-- carries it, and every row of public.jobs is in a partition. Made after the partitioning
-- (sql/60_jobs_partitioned.sql): a database upgraded from 1.6.0 has it from then, the table
-- that became the partition carrying it.
alter table jobs_private.jobs_hot
add constraint jobs_row_check check (jobs_private.jobs_row_is_valid(jobs_hot));
comment on constraint jobs_row_check on jobs_private.jobs_hot is
'Every row rule of jobs (jobs_private.jobs_row_is_valid): 23514 naming the broken rule.';
-- CHECK expressions run as the writing role: the service role writes jobs directly.
grant execute on function jobs_private.jobs_row_is_valid(jobs_private.jobs_hot) to service_role;

-- Job ids order by creation (functions/private/new_job_id.sql), for direct inserts too: a row
-- inserted through public.jobs takes the parent's default.
alter table public.jobs alter column id set default jobs_private.new_job_id();
alter table jobs_private.jobs_hot alter column id set default jobs_private.new_job_id();
