-- bench_pgmq_record: the bench's users (as jobsdb_setup.sql makes them; ids 0..10000, user n
-- is 00000000-0000-4000-8000-<n, 12 digits>) and their profiles. Run as superuser.
insert into auth.users (id, email, aud, role, created_at, updated_at)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'u' || g || '@bench.test',
    'authenticated', 'authenticated', now(), now()
from generate_series(0, 10000) as g
on conflict do nothing;
insert into public.profiles (id)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid from generate_series(0, 10000) as g
on conflict do nothing;
