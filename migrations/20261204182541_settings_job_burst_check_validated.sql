-- settings job burst check validated
--
-- Why: the previous migration added settings_job_burst_covers_a_request_check `not valid` (the
-- checklist's pattern: validating in the same file would keep its exclusive lock while the
-- table is scanned); validating now takes a lock that does not block writes.

alter table jobs_private.settings validate constraint settings_job_burst_covers_a_request_check;
