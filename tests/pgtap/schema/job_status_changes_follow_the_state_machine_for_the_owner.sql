-- Every (from, to) pair of the five job statuses is allowed or refused exactly as DESIGN.md's
-- lifecycle says, for the owner (table owner, direct update).
-- A refused change raises PT409 naming both states (tests.check_status_changes).
begin;
select plan(20);

select * from tests.check_status_changes(
        allowed => array[
            'queued->processing', 'queued->cancelled',
            'processing->queued', 'processing->completed', 'processing->failed',
            'processing->cancelled', 'failed->queued'
        ],
        as_service_role => false
    );

select * from finish();
rollback;
