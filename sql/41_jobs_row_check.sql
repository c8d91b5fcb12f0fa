-- public.jobs has one CHECK constraint: every row rule, in jobs_private.jobs_row_is_valid (the
-- function says why, and keeps each rule's name in its errors).
alter table public.jobs
add constraint jobs_row_check check (jobs_private.jobs_row_is_valid(jobs));
comment on constraint jobs_row_check on public.jobs is
'Every row rule of jobs (jobs_private.jobs_row_is_valid): 23514 naming the broken rule.';
-- CHECK expressions run as the writing role: the service role writes jobs directly.
grant execute on function jobs_private.jobs_row_is_valid(public.jobs) to service_role;

-- Job ids order by creation (functions/private/new_job_id.sql), for direct inserts too.
alter table public.jobs alter column id set default jobs_private.new_job_id();
