-- The fencing token of a claim never rests in the database: jobs.lease_token holds this digest
-- of it, and only the worker that claimed the job holds the token itself (claim_jobs returns
-- it once). A user or Realtime subscriber reading jobs.lease_token, the service role, a dump or
-- a replica sees a digest that cannot be presented back: heartbeat_jobs and job_callback digest
-- what they are given, so the digest itself never matches. SHA-256 of 122 random bits.
create function jobs_private.lease_digest(token uuid)
returns uuid
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
as $$
begin
    return pg_catalog.left(
        pg_catalog.encode(pg_catalog.sha256(pg_catalog.uuid_send(lease_digest.token)), 'hex'), 32
    )::uuid;
end;
$$;
comment on function jobs_private.lease_digest(uuid) is
'What jobs.lease_token stores for a claim''s fencing token: the first 128 bits of its SHA-256, as a uuid. The token itself is known only to the worker that claimed the job.';
revoke all on function jobs_private.lease_digest(uuid)
from public, anon, authenticated, service_role;
