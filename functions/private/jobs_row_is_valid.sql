-- The row rules of public.jobs, checked by the one CHECK constraint of its partition, jobs_row_check.
-- Why one function instead of 24 CHECK constraints: PostgreSQL re-reads (stringToNode) and
-- re-plans every CHECK expression of a table at the start of every statement that writes it,
-- and a plpgsql function runs each statement of the hot path as its own executor. The 24
-- constraints cost about 85 us per statement (120 us against 30 us for one insert, measured
-- in bench/README.md: "CHECK rules"), three statements per job. This function is compiled once
-- per session. A violation raises what the named constraint raised: SQLSTATE 23514, the same
-- message, and the rule's name as the error's constraint field. Rules are tested in name order,
-- as PostgreSQL tests its constraints, so the first broken rule is the one it named. They are
-- one CASE expression, not an IF per rule: plpgsql evaluates each IF condition as an expression
-- of its own (a plan check and an executor call each), and this runs for every row written,
-- three times per job. A WHEN whose condition is null is not taken, as an IF was not, so a
-- row is refused exactly when one rule's condition is true, and by the same first rule.
create function jobs_private.jobs_row_is_valid(j jobs_private.jobs_hot)
returns boolean
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
declare
    v_rule text;
begin
    v_rule := case
        when j.attempts not between 0 and j.max_attempts
            then 'jobs_attempts_check'
        when (j.completed_at is not null) <> (j.status in ('completed', 'failed', 'cancelled'))
            then 'jobs_completed_at_iff_finished_check'
        when j.destination not in ('library', 'workspace')
            then 'jobs_destination_check'
        when j.enhancement_time_ms < 0
            then 'jobs_enhancement_time_ms_check'
        when char_length(j.error_message) > 10000
            then 'jobs_error_message_check'
        when char_length(j.idempotency_key) not between 1 and 200
            then 'jobs_idempotency_key_check'
        when char_length(j.locked_by) not between 1 and 200
            then 'jobs_locked_by_check'
        when j.max_attempts not between 1 and 25
            then 'jobs_max_attempts_check'
        when jsonb_typeof(j.metadata) <> 'object'
            then 'jobs_metadata_is_object_check'
        when j.moderation_status not in ('pending', 'approved', 'rejected', 'flagged')
            then 'jobs_moderation_status_check'
        when j.priority not between -100 and 100
            then 'jobs_priority_check'
        when not (
            case
                when j.status = 'processing'
                    then j.locked_by is not null and j.lease_expires_at is not null
                    and j.lease_token is not null
                else j.locked_by is null and j.lease_expires_at is null
            end
        )
            then 'jobs_processing_has_lease_check'
        when j.status = 'processing' and j.started_at is null
            then 'jobs_processing_started_check'
        when j.quality not in ('fast', 'high')
            then 'jobs_quality_check'
        when j.quality_improvement not between -1000000 and 1000000
            then 'jobs_quality_improvement_check'
        when j.quality_rating not between 0 and 100
            then 'jobs_quality_rating_check'
        when j.status = 'queued' and j.attempts >= j.max_attempts
            then 'jobs_queued_has_attempts_left_check'
        when j.qwen_expansion_percentage not between 0 and 1000000
            then 'jobs_qwen_expansion_percentage_check'
        when char_length(j.review_notes) > 10000
            then 'jobs_review_notes_check'
        -- A reviewer implies a review time. Not the converse: deleting the reviewing admin
        -- sets reviewed_by null (on delete set null) and the job keeps its review time.
        when j.reviewed_by is not null and j.reviewed_at is null
            then 'jobs_reviewed_check'
        when j.image_id is not null and j.video_id is not null
            then 'jobs_single_output_check'
        when j.started_at > j.completed_at
            then 'jobs_started_before_completed_check'
        when j.status not in ('queued', 'processing', 'completed', 'failed', 'cancelled')
            then 'jobs_status_check'
        when char_length(j.template_name) > 200
            then 'jobs_template_name_check'
    end;
    if v_rule is null then
        return true;
    end if;
    raise exception using
        errcode = '23514',
        message = format('new row for relation "jobs" violates check constraint "%s"', v_rule),
        constraint = v_rule, table = 'jobs', schema = 'public',
        detail = format('job %s', j.id);
end;
$$;
comment on function jobs_private.jobs_row_is_valid(jobs_private.jobs_hot) is
'The row rules of public.jobs (CHECK jobs_row_check): true, or 23514 naming the broken rule (jobs_status_check, jobs_attempts_check, ...) as a CHECK constraint of that name would.';
-- Not revoked from the service role: the CHECK runs as the writing role and the service role
-- writes jobs directly (its grant: sql/61_jobs_row_check.sql). Revoking it here would leave
-- those writes failing between this file and that grant whenever a release re-applies it.
revoke all on function jobs_private.jobs_row_is_valid(jobs_private.jobs_hot)
from public, anon, authenticated;
