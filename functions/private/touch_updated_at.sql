create function jobs_private.touch_updated_at()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
    new.updated_at := now();
    return new;
end;
$$;
comment on function jobs_private.touch_updated_at() is 'Trigger: sets updated_at on every update.';
revoke all on function jobs_private.touch_updated_at()
from public, anon, authenticated, service_role;
