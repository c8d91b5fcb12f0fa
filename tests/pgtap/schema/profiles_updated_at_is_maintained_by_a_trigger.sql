-- jobsdb:unless-app-table public.profiles
-- profiles.updated_at moves on every update of a profile jobsdb created.
begin;
select plan(2);

select has_trigger(
    'public', 'profiles', 'profiles_touch_updated_at_trg', 'profiles has its updated_at trigger'
);

select tests.clear_authentication();
select set_config('t.owner', tests.create_user('touch@example.com')::text, true) is not null;
update public.profiles set updated_at = now() - interval '1 day'
where id = current_setting('t.owner')::uuid;
update public.profiles set display_name = 'x' where id = current_setting('t.owner')::uuid;
select is(
    (select updated_at from public.profiles where id = current_setting('t.owner')::uuid),
    now(), 'an update sets profiles.updated_at to now()'
);

select * from finish();
rollback;
