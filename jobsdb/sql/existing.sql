-- Named queries of `jobsdb test --url` (jobsdb/existing.py): what "no trace" compares.

-- name: catalog
-- One line per schema, relation, function, role, membership, policy, trigger, extension,
-- publication member, default ACL and sequence value (with owners, ACLs and function bodies).
select 'schema ' || n.nspname || ' ' || pg_get_userbyid(n.nspowner) || ' '
    || coalesce(n.nspacl::text, '')
from pg_namespace n where n.nspname !~ '^pg_(toast|temp)'
union all
select 'relation ' || c.oid::regclass::text || ' ' || c.relkind::text || ' '
    || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '') || ' '
    || c.relrowsecurity::text || ' ' || c.relnatts
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname !~ '^pg_(toast|temp)'
union all
select 'function ' || p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner) || ' '
    || coalesce(p.proacl::text, '') || ' ' || md5(coalesce(p.prosrc, ''))
from pg_proc p
union all
select 'role ' || rolname || ' ' || rolsuper::text || rolinherit::text
    || rolcanlogin::text || rolbypassrls::text
from pg_roles
union all
select 'membership ' || roleid::regrole::text || ' ' || member::regrole::text from pg_auth_members
union all
select 'policy ' || schemaname || '.' || tablename || ' ' || policyname || ' '
    || coalesce(qual, '') || ' ' || coalesce(with_check, '')
from pg_policies
union all
select 'trigger ' || tgrelid::regclass::text || ' ' || tgname || ' ' || tgenabled::text
from pg_trigger
union all
select 'extension ' || extname || ' ' || extversion from pg_extension
union all
select 'publication table ' || pubname || ' ' || schemaname || '.' || tablename
from pg_publication_tables
union all
select 'default acl ' || defaclrole::regrole::text || ' ' || defaclnamespace || ' '
    || defaclobjtype::text || ' ' || defaclacl::text
from pg_default_acl
union all
select 'sequence ' || schemaname || '.' || sequencename || ' '
    || coalesce(last_value::text, 'null')
from pg_sequences
order by 1;

-- name: tables
-- Every table the role may read (their row counts are compared).
select format('%I.%I', n.nspname, c.relname)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p') and n.nspname <> 'information_schema'
    and n.nspname !~ '^pg_' and has_table_privilege(c.oid, 'select')
order by 1;

-- name: sequences_roll_back
-- Run first in each file's transaction. A sequence does not roll back: a test that queues a job
-- takes ids from jobs_private.job_id_seq for good. `alter sequence ... restart` gives the
-- sequence a new relation file for this transaction, so it, and every nextval after it, is
-- undone by the file's rollback: the sequence ends where it was. Only sequences the role owns
-- (it may alter only those); the lock it takes makes other sessions' nextval wait for the
-- file's transaction, one more reason to run where nothing else writes.
do $$
declare
    s record;
begin
    for s in
        select
            c.oid::regclass as seq,
            coalesce(pg_sequence_last_value(c.oid) + q.seqincrement, q.seqstart) as next_value,
            q.seqmin,
            q.seqmax
        from pg_class as c
        inner join pg_sequence as q on q.seqrelid = c.oid
        where c.relkind = 'S' and pg_has_role(c.relowner, 'usage')
    loop
        if s.next_value between s.seqmin and s.seqmax then
            execute format('alter sequence %s restart with %s', s.seq, s.next_value);
        end if;
    end loop;
end
$$;

-- name: set_aside_existing_jobs
-- Run next in each file's transaction. The queue's tests claim "the next job of a pool" and
-- count the queue, and the security tests count every row a role sees, so the project's own
-- profiles, jobs and what hangs off them (projects, roles, outputs) are set aside for the file:
-- TRUNCATE is transactional, the file's rollback brings every row back, and it costs the same
-- whatever the size of the table. It locks jobs and the tables that reference it for the
-- file's duration (well under a second); lock_timeout keeps it from queueing behind traffic.
-- auth.users is left alone: the tests create their own users and count only those.
set local lock_timeout = '5s';
-- the files check jobsdb's objects only, beside the project's own (tests/helpers.sql)
set local jobsdb.test_target = 'project';
set local client_min_messages = warning;
truncate public.profiles, public.jobs cascade;
reset client_min_messages;
