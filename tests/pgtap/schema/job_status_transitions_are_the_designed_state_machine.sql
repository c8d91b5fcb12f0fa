-- The one place the state machine lives, jobs_private.job_status_transitions, holds exactly
-- the transitions of DESIGN.md's lifecycle, and no client role can read or change it.
begin;
select plan(4);

select results_eq(
    $$select from_status, to_status from jobs_private.job_status_transitions
    order by from_status, to_status$$,
    $$values
        ('failed', 'queued'),
        ('processing', 'cancelled'), ('processing', 'completed'), ('processing', 'failed'),
        ('processing', 'queued'),
        ('queued', 'cancelled'), ('queued', 'processing')$$,
    'the seven designed transitions and no others'
);
select ok(
    not has_table_privilege('service_role', 'jobs_private.job_status_transitions', 'insert')
    and not has_table_privilege('service_role', 'jobs_private.job_status_transitions', 'update')
    and not has_table_privilege('service_role', 'jobs_private.job_status_transitions', 'delete'),
    'the service role cannot change the state machine'
);
select ok(
    not has_table_privilege('authenticated', 'jobs_private.job_status_transitions', 'select')
    and not has_table_privilege('authenticated', 'jobs_private.job_status_transitions', 'insert'),
    'users cannot read or change the state machine'
);
select ok(
    not has_schema_privilege('anon', 'jobs_private', 'usage')
    and not has_schema_privilege('jobs_worker', 'jobs_private', 'usage'),
    'anon and jobs_worker cannot use the private schema'
);

select * from finish();
rollback;
