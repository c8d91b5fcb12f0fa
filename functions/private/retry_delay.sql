create function jobs_private.retry_delay(attempt integer)
returns interval
language sql
volatile
set search_path = pg_catalog, pg_temp
as $$
    select make_interval(
        secs => least(s.retry_max_seconds, s.retry_base_seconds * 2.0 ^ greatest(retry_delay.attempt - 1, 0))
        * (0.75 + random() * 0.5)
    )
    from jobs_private.settings as s;
$$;
comment on function jobs_private.retry_delay(integer) is
'Backoff before the next attempt: retry_base_seconds * 2^(attempt-1), capped at retry_max_seconds, with +-25% jitter so retries of a burst spread out.';
revoke all on function jobs_private.retry_delay(integer)
from public, anon, authenticated, service_role;
