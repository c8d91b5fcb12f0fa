-- Scoped worker credentials: the pools the calling worker may claim from; null = every pool.
--  * Through PostgREST (session_user authenticator, role jobs_worker from a JWT signed with the
--    project's secret): the JWT claim worker_pools, a JSON array of pool names (absent = every
--    pool; present but not an array = none).
--  * A direct SQL login (session_user = the login role): its row in jobs_private.worker_logins
--    (worker_pools null = every pool); a login without a row may serve every pool.
-- request.jwt.claims is read only for authenticator's sessions: any session can set that
-- setting, but only PostgREST logs in as authenticator, and session_user cannot be changed
-- without superuser. Trusted callers (service role, owner) may claim from every pool.
create function jobs_private.claimable_pools()
returns text[]
language plpgsql
stable
set search_path = ''
as $$
declare
    v_claim jsonb;
    v_pools text[];
begin
    if jobs_private.is_trusted_caller() then
        return null;
    end if;
    if session_user = 'authenticator' then
        v_claim := nullif(current_setting('request.jwt.claims', true), '')::jsonb -> 'worker_pools';
        if v_claim is null then
            return null;
        elsif jsonb_typeof(v_claim) <> 'array' then
            return '{}'::text[];
        end if;
        return array(
            select e.value from jsonb_array_elements_text(v_claim) as e (value)
        );
    end if;
    select l.worker_pools into v_pools
    from jobs_private.worker_logins as l
    where l.login = session_user;
    return v_pools;
end;
$$;
comment on function jobs_private.claimable_pools() is
'The pools the calling worker may claim from (null = every pool): the JWT claim worker_pools through PostgREST, else the login''s row in jobs_private.worker_logins.';
revoke all on function jobs_private.claimable_pools()
from public, anon, authenticated, service_role;
