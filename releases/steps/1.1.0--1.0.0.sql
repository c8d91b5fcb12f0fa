-- jobsdb 1.1.0 -> 1.0.0: the way back, as a forward migration.
--
-- 1.1.0 added job_callback_and_claim: 1.0.0's workers never call it, and a 1.1.0 worker
-- (jobsdb worker) goes back to claim_jobs and job_callback when it is gone. A 1.1.0 worker
-- still calling it gets 42883 and falls back (jobsdb worker does).
-- 1.1.0 also changed the bodies of library_items (each asset's JSON built in its query) and
-- claim_jobs (one statement fewer per claim), same signatures and answers: re-created from
-- 1.0.0's install below, with asset_json (only its comment changed). No other source file
-- changed since 1.0.0.
-- squawk-ignore ban-drop-function
drop function if exists public.job_callback_and_claim(jsonb, text, text, integer, integer);

-- jobsdb:apply functions/api/library_items.sql from 1.0.0
-- jobsdb:apply functions/private/asset_json.sql from 1.0.0
-- jobsdb:apply functions/worker/claim_jobs.sql from 1.0.0
