-- bench database only: users, an admin, and max_images_per_request raised from 4 to 10 for the
-- batched rows (the per-user queued cap keeps its default). The per-user rate of new jobs is
-- raised so far that it never refuses (its check still runs on every queue_job, as the limits
-- group's "on" side): at its default a random user drawn twice in a few seconds by the batched
-- row (10 jobs a call) went past the burst of 30 and aborted the run with PT429. Run as
-- superuser.
-- User n (1..10000) has id 00000000-0000-4000-8000-<n, 12 digits>; user 0 owns the backlog;
-- user 10001 is an admin.
insert into auth.users (id, email, aud, role, created_at, updated_at)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'u' || g || '@bench.test',
    'authenticated', 'authenticated', now(), now()
from generate_series(0, 10001) as g
on conflict do nothing;
insert into public.profiles (id)
select ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid from generate_series(0, 10001) as g
on conflict do nothing;
insert into public.user_roles (user_id, role)
values ('00000000-0000-4000-8000-000000010001', 'admin') on conflict do nothing;
update jobs_private.settings set max_images_per_request = 10, jobs_per_minute = 100000,
    job_burst = 100000
where singleton;
