-- rescue_is_scheduled answers false without a cron schema, true when an active cron.job named
-- jobsdb-rescue-expired-jobs exists, false when it is inactive or absent. (The cron schema is
-- a stand-in with pg_cron's columns, rolled back with the test.)
begin;
select plan(4);
-- pgTAP lives in schema extensions; let the worker role call it (rolled back with the test)
grant usage on schema extensions to jobs_worker;

select tests.authenticate_as_worker();
select is(public.rescue_is_scheduled(), false, 'no cron schema: false');
select tests.clear_authentication();

create schema cron;
create table cron.job (
    jobid bigserial primary key, jobname text, schedule text, command text,
    active boolean not null default true
);
revoke all on schema cron from public;
insert into cron.job (jobname, schedule, command)
values ('jobsdb-purge-finished-jobs', '*/5 * * * *', 'select 1');

select tests.authenticate_as_worker();
select is(public.rescue_is_scheduled(), false, 'only the purge job: false');
select tests.clear_authentication();
insert into cron.job (jobname, schedule, command)
values ('jobsdb-rescue-expired-jobs', '* * * * *', 'select public.rescue_expired_jobs()');
select tests.authenticate_as_worker();
select is(
    public.rescue_is_scheduled(), true,
    'an active rescue job: true (for a worker, who cannot read cron.job itself)'
);
select tests.clear_authentication();
update cron.job set active = false where jobname = 'jobsdb-rescue-expired-jobs';
select tests.authenticate_as_worker();
select is(public.rescue_is_scheduled(), false, 'an inactive rescue job: false');
select tests.clear_authentication();
select * from finish();
rollback;
