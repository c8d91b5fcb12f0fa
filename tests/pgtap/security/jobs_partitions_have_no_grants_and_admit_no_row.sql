-- jobs is partitioned: its rows live in partitions (jobs_private.jobs_hot), which PostgREST
-- cannot reach and which carry no grant of their own. The parent's grants and its SELECT
-- policy are the only way to a job; a role reading a partition directly, even the one holding
-- its own rows, gets 42501, and the partition's policy admits no row to any role but its owner.
begin;
select plan(8);

select tests.clear_authentication();
select tests.seed_two_tenants();

select is(
    (
        select array_agg(format('%s:%s', n.nspname, c.relrowsecurity) order by c.relname)
        from pg_inherits as i
        inner join pg_class as c on i.inhrelid = c.oid
        inner join pg_namespace as n on c.relnamespace = n.oid
        where i.inhparent = 'public.jobs'::regclass
    ),
    array['jobs_private:t'],
    'jobs has one partition, in jobs_private, with row level security on'
);
select is(
    (
        select array_agg(format('%s %s', r.rolname, p.privilege) order by 1)
        from pg_inherits as i
        cross join
            (values ('anon'), ('authenticated'), ('service_role'), ('jobs_worker')) as r (rolname)
        cross join (
            values ('select'), ('insert'), ('update'), ('delete'), ('truncate'), ('references'),
            ('trigger')
        ) as p (privilege)
        where i.inhparent = 'public.jobs'::regclass
            and has_table_privilege(r.rolname, i.inhrelid, p.privilege)
    ),
    null,
    'no API role holds any privilege on a partition of jobs'
);
select is(
    (
        select
            array_agg(
                format(
                    '%s %s %s', p.polname, p.polcmd,
                    pg_get_expr(p.polqual, p.polrelid)
                ) order by p.polname
            )
        from pg_inherits as i
        inner join pg_policy as p on i.inhrelid = p.polrelid
        where i.inhparent = 'public.jobs'::regclass
    ),
    array['jobs_hot_none * false'],
    'the partition''s one policy admits no row'
);

select tests.authenticate_as(current_setting('t.owner')::uuid);
select is(
    (select count(*)::int from public.jobs where id = '00000000-0000-0000-0000-0000000000a1'),
    1, 'the owner reads their job through jobs'
);
select throws_ok(
    $$select * from jobs_private.jobs_hot where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null, 'the owner cannot read the partition holding their job'
);
select throws_ok(
    $$update jobs_private.jobs_hot set status = 'cancelled'
    where id = '00000000-0000-0000-0000-0000000000a1'$$,
    '42501', null, 'nor write it'
);
select tests.authenticate_as(current_setting('t.admin')::uuid);
select throws_ok(
    $$select count(*) from jobs_private.jobs_hot$$,
    '42501', null, 'an admin cannot read the partition'
);
select tests.authenticate_as_service_role();
select throws_ok(
    $$select count(*) from jobs_private.jobs_hot$$,
    '42501', null, 'the service role cannot read the partition'
);
-- anon and jobs_worker: no privilege (above); neither may call pgTAP to show the error

select * from finish();
rollback;
