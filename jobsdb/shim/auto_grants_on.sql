-- Supabase's automatic grants: every new table, sequence and function that postgres creates
-- in public is granted ALL to the API roles (SUPABASE.md, "the trap").
alter default privileges for role postgres in schema public grant all on tables
to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on sequences
to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public grant all on functions
to postgres, anon, authenticated, service_role;
