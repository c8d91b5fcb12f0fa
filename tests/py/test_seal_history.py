"""The seal of job history (`jobsdb history seal`, functions/private/seal_*.sql): the finished
jobs made before a given age leave the hot leaf jobs_private.jobs_hot, where the queue works,
for a partition of public.jobs of their own. On a database with old finished jobs (outputs and
a project's own table referencing them), recent and unfinished ones, and ids of both kinds
(counter ids, and random v4 ids as databases from before 1.0.0 have):
* every row, output and reference is the same afterwards, read through public.jobs; the keys
  into jobs are checked again; no trigger fired (no tombstone, no metrics mark); a v4 id below
  every counter id is sealed with its period, one above them all stays in the hot leaf;
* the sealed partition is as closed as the hot leaf (no grants, a policy admitting no row, 42501
  for a user reading it directly), keeps its jobs finished for every writer (retry_job: PT409;
  the service role's update: 23514), and deletes, cascades and key checks work through it;
* the oldest unfinished job bounds a seal, and a second seal makes a second partition;
* a seal that cannot get its brief lock (55P03, exit 11) or is killed changes no job, and the
  next run removes what it left and seals;
* under workers claiming and completing jobs and a reader counting the sealed range on other
  connections, nothing fails, every count is the same, and every job ends completed;
* retirement takes sealed partitions only, and the move the seal's own copy only: the hot leaf,
  a copy, a table of the project named like a partition and any other table are refused
  (55000) and stay as they were;
* while a publication carries jobs' rows, in any of its forms, the seal refuses (55000, exit 11)
  and changes nothing; made while a seal is under way, the move refuses, and a subscriber
  (pgoutput, decoded from a logical slot) receives no delete.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from test_cli_errors import jobsdb, one_error_line

from jobsdb.postgrest import as_user, rpc
from jobsdb.urls import url_for_db
from jobsdb.worker import Worker

LOW_V4 = "00000000-0000-4000-8000-00000000beef"  # below every counter id
HIGH_V4 = "c0ffee00-1234-4abc-8def-000000000001"  # above every counter id
SEED = f"""
with u as (
    insert into auth.users (id, aud, role, email, created_at, updated_at)
    select gen_random_uuid(), 'authenticated', 'authenticated', 'seal' || g || '@example.com',
        now(), now()
    from generate_series(1, 3) as g
    returning id
), p as (
    insert into public.profiles (id) select id from u returning id
)
insert into public.jobs (user_id, job_type, status, metadata, created_at, started_at,
    completed_at)
select p.id, 'image_fast', case when g % 100 = 50 then 'queued' else 'completed' end,
    jsonb_build_object('kind', 'old', 'n', g),
    now() - make_interval(days => 40 - g / 10),
    case when g % 100 <> 50 then now() - make_interval(days => 40 - g / 10) end,
    case when g % 100 <> 50 then now() - make_interval(days => 40 - g / 10) end
from p cross join generate_series(1, 300) as g order by g;
insert into public.jobs (id, user_id, job_type, status, metadata, created_at, started_at,
    completed_at)
select v.id::uuid, (select min(id::text)::uuid from public.profiles), 'image_fast', 'completed',
    jsonb_build_object('kind', 'v4'), now() - interval '60 days', now() - interval '60 days',
    now() - interval '60 days'
from (values ('{LOW_V4}'), ('{HIGH_V4}')) as v (id);
insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket, file_path,
    file_name)
select j.user_id, j.id, 0, 'image', 'outputs', 'p/' || j.id, 'a.png' from public.jobs as j;
create table public.job_notes (
    id serial primary key,
    job_id uuid not null references public.jobs (id) on delete cascade,
    note text
);
alter table public.job_notes enable row level security;
insert into public.job_notes (job_id, note) select id, 'n' from public.jobs;
insert into public.jobs (user_id, job_type, metadata)
select p.id, 'image_fast', jsonb_build_object('kind', 'recent')
from public.profiles as p cross join generate_series(1, 4);
"""
# the old jobs seeded queued (one in a hundred), walked to failed
FAIL_OLD = [
    "update public.jobs set status = 'processing', attempts = 1, locked_by = 'seed',"
    " started_at = created_at, lease_expires_at = now() + interval '1 hour',"
    " lease_token = gen_random_uuid() where metadata ->> 'kind' = 'old' and status = 'queued'",
    "update public.jobs set status = 'failed', completed_at = created_at, error_message = 'x'"
    " where metadata ->> 'kind' = 'old' and status = 'processing'",
]


@pytest.fixture
def unfinished_db(template_db) -> Iterator[str]:
    """The seed, its old jobs left unfinished one in a hundred."""
    with template_db.clone() as url:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(SEED)
        yield url


@pytest.fixture
def db(unfinished_db: str) -> str:
    """The seed, every old job finished (one in a hundred failed)."""
    with psycopg.connect(unfinished_db, autocommit=True) as c:
        for q in FAIL_OLD:
            c.execute(q)
    return unfinished_db


def partitions(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as c:
        return c.execute(
            "select c.oid::regclass::text, pg_get_expr(c.relpartbound, c.oid)"
            " from pg_inherits as i join pg_class as c on c.oid = i.inhrelid"
            " where i.inhparent = 'public.jobs'::regclass"
            " order by c.relname = 'jobs_hot', c.relname").fetchall()


def snapshot(url: str) -> dict[str, object]:
    with psycopg.connect(url) as c:
        return {
            "jobs": dict(c.execute("select id::text, to_jsonb(j) from public.jobs as j")
                         .fetchall()),
            "outputs": sorted(c.execute("select id::text, job_id::text"
                                        " from public.images_videos").fetchall()),
            "notes": sorted(c.execute("select id, job_id::text from public.job_notes")
                            .fetchall()),
            "tombstones": c.execute("select count(*) from jobs_private.job_tombstones")
            .fetchone()[0],
            "stale": c.execute("select count(*) from jobs_private.job_metrics_stale")
            .fetchone()[0],
        }


def where(url: str) -> dict[str, str]:
    """job id -> the partition holding it"""
    with psycopg.connect(url) as c:
        return dict(c.execute("select id::text, tableoid::regclass::text from public.jobs")
                    .fetchall())


def seal(url: str, *args: str) -> tuple[int, str, str]:
    r = jobsdb("history", "seal", "--url", url, *args)
    return r.returncode, r.stdout, r.stderr


def test_the_seal_moves_old_finished_jobs_and_keeps_every_row_and_reference(db: str) -> None:
    before = snapshot(db)
    with psycopg.connect(db, autocommit=True) as c:
        kinds = dict(c.execute("select id::text, metadata ->> 'kind' from public.jobs")
                     .fetchall())
        # a trigger the project disabled stays disabled on every partition
        c.execute("alter table public.jobs disable trigger jobs_metrics_stale_on_update_trg")
    rc, out, err = seal(db)
    assert rc == 0, err
    [(sealed, low_bound), (hot, hot_bound)] = partitions(db)
    assert hot == "jobs_private.jobs_hot" and sealed.startswith("jobs_private.jobs_upto_")
    assert f"into {sealed} " in out and "3 foreign keys into jobs checked" in out, out
    assert low_bound.startswith("FOR VALUES FROM (MINVALUE) TO (") and hot_bound.endswith(
        "TO (MAXVALUE)")
    place = where(db)
    moved = {i for i, p in place.items() if p == sealed}
    assert moved == {i for i, k in kinds.items() if k == "old"} | {LOW_V4}
    assert place[HIGH_V4] == hot
    after = snapshot(db)
    assert after == before  # rows (every column), outputs, references; no trigger fired
    with psycopg.connect(db) as c:
        keys = c.execute(
            "select string_agg(format('%s %s', conname, convalidated), ', ' order by conname)"
            " from pg_constraint where contype = 'f' and conparentid = 0"
            " and confrelid = 'public.jobs'::regclass").fetchone()[0]
        assert keys == ("images_videos_job_id_fkey t, job_notes_job_id_fkey t,"
                        " job_releases_job_id_fkey t"), keys
        # each partition's triggers are the parent's row triggers, enabled or not alike
        parent = c.execute(
            "select array_agg(tgname || ' ' || tgenabled::text order by tgname) from pg_trigger"
            " where tgrelid = 'public.jobs'::regclass and not tgisinternal"
            " and tgtype & 1 = 1").fetchone()[0]
        assert "jobs_metrics_stale_on_update_trg D" in parent, parent
        for part in (sealed, hot):
            trig = c.execute(
                "select array_agg(tgname || ' ' || tgenabled::text order by tgname)"
                " from pg_trigger where tgrelid = %s::regclass and not tgisinternal",
                (part,)).fetchone()[0]
            assert trig == parent, (part, trig, parent)


def test_seal_step_as_pg_cron_runs_it_makes_the_same_seal_a_step_a_call(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as c:
        kinds = dict(c.execute("select id::text, metadata ->> 'kind' from public.jobs")
                     .fetchall())
        step = "select jobs_private.seal_step('7 days', %s)"
        # the oldest job is 40 days old: not yet a period of 60 days past the 7
        assert c.execute(step, ("60 days",)).fetchone()[0] == "nothing to seal yet"
        said = [c.execute(step, ("1 day",)).fetchone()[0] for _ in range(6)]
    assert [s.split(" ")[0] for s in said] == [
        "copied", "added", "bounded", "moved", "checked", "nothing"], said
    [(sealed, _), _hot] = partitions(db)
    assert said[3] == f"moved {len(kinds) - 12 - 1} jobs into {sealed}", said
    moved = {i for i, p in where(db).items() if p == sealed}
    assert moved == {i for i, k in kinds.items() if k == "old"} | {LOW_V4}
    with psycopg.connect(db) as c:
        assert c.execute("select count(*) from pg_constraint where contype = 'f'"
                         " and confrelid = 'public.jobs'::regclass and not convalidated"
                         " and conparentid = 0").fetchone()[0] == 0


def test_a_sealed_partition_is_closed_and_its_jobs_stay_finished(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as c:
        old = [c.execute("select id::text, user_id::text from public.jobs where metadata"
                         " ->> 'kind' = 'old' and status = %s order by id limit 1", (s,)).fetchone()
               for s in ("failed", "completed")]
        admin = c.execute("select tests.create_user('seal-admin@example.com', true)"
                          ).fetchone()[0]
    assert seal(db)[0] == 0
    [(sealed, _), _hot] = partitions(db)
    with psycopg.connect(db, autocommit=True) as c:
        grants = c.execute(
            "select r, p from (values ('anon'), ('authenticated'), ('service_role'),"
            " ('jobs_worker')) as a (r) cross join (values ('select'), ('insert'), ('update'),"
            " ('delete'), ('truncate'), ('references'), ('trigger')) as b (p)"
            " where has_table_privilege(r, %s::regclass, p)", (sealed,)).fetchall()
        assert grants == []
        rel = c.execute(
            "select c.relrowsecurity, (select array_agg(p.polname || ' '"
            " || pg_get_expr(p.polqual, p.polrelid)) from pg_policy as p"
            " where p.polrelid = c.oid) from pg_class as c where c.oid = %s::regclass",
            (sealed,)).fetchone()
        assert rel == (True, ["jobs_sealed_none false"])
        # the owner of a sealed job reads it through the API, never through the partition
        job = rpc(c, "get_job", {"job_id": old[1][0]}, claims=as_user(old[1][1]))
        assert job["id"] == old[1][0] and job["status"] == "completed"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with c.transaction():
                c.execute("select set_config('role', 'authenticated', true),"
                          " set_config('request.jwt.claims', %s, true)",
                          (f'{{"sub": "{old[1][1]}", "role": "authenticated"}}',))
                c.execute(f"select count(*) from {sealed}")
        # retried: refused with a message; queued again by the service role: refused by the
        # partition's CHECK
        with pytest.raises(psycopg.Error) as e:
            rpc(c, "retry_job", {"job_id": old[0][0]}, claims=as_user(admin))
        assert e.value.sqlstate == "PT409" and "sealed history" in str(e.value)
        with pytest.raises(psycopg.errors.CheckViolation) as e:
            with c.transaction():
                c.execute("set local role service_role")
                c.execute("update public.jobs set status = 'queued' where id = %s", (old[0][0],))
        assert e.value.diag.constraint_name == "jobs_sealed_finished"
        # a sealed job deleted through jobs: its outputs stay (job_id null), the project's
        # notes go with it, and the change feed records it; a note for no job is refused
        tombs = c.execute("select count(*) from jobs_private.job_tombstones").fetchone()[0]
        c.execute("delete from public.jobs where id = %s", (old[1][0],))
        assert c.execute("select count(*) from public.images_videos where job_id is null"
                         ).fetchone()[0] == 1
        assert c.execute("select count(*) from public.job_notes where job_id = %s",
                         (old[1][0],)).fetchone()[0] == 0
        assert c.execute("select count(*) from jobs_private.job_tombstones"
                         ).fetchone()[0] == tombs + 1
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            c.execute("insert into public.job_notes (job_id) values (%s)", (old[1][0],))


def test_the_oldest_unfinished_job_bounds_a_seal_and_a_second_seal_adds_a_partition(
    unfinished_db: str,
) -> None:
    db = unfinished_db
    with psycopg.connect(db, autocommit=True) as c:
        rows = c.execute("select id::text, status from public.jobs"
                         " where metadata ->> 'kind' = 'old' order by id").fetchall()
    ids = [i for i, _ in rows]
    k = next(n for n, (_, s) in enumerate(rows) if s == "queued")
    assert 0 < k < len(ids) - 1
    assert seal(db)[0] == 0
    first = where(db)
    assert {i for i in ids if first[i] != "jobs_private.jobs_hot"} == set(ids[:k])
    rc, out, _ = seal(db)
    assert rc == 0 and out.startswith("nothing to seal"), out
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("update public.jobs set status = 'cancelled'"
                  " where metadata ->> 'kind' = 'old' and status = 'queued'")
    assert seal(db)[0] == 0
    parts = partitions(db)
    assert len(parts) == 3
    # contiguous: each partition begins where the one below ends
    uppers = [p[1].split(" TO ")[1] for p in parts[:-1]]
    lowers = [p[1].split(" TO ")[0].removeprefix("FOR VALUES FROM ") for p in parts[1:]]
    assert uppers == lowers, parts
    second = where(db)
    assert {i for i in ids if second[i] == "jobs_private.jobs_hot"} == set()


def test_a_seal_without_its_lock_or_killed_changes_nothing_and_the_next_run_cleans_up(
    db: str,
) -> None:
    before = snapshot(db)
    holder = psycopg.connect(db)
    try:
        # holds a lock of a table referencing jobs, which only the move's lock needs
        holder.execute("select count(*) from public.job_notes")
        r = jobsdb("history", "seal", "--url", db, "--lock-tries", "5")
        # no try can succeed while the reader holds on: the CLI says so, after three rounds
        assert "[55P03]" in one_error_line(r, 11), r.stderr
        assert [p[0] for p in partitions(db)] == ["jobs_private.jobs_hot"]
        assert snapshot(db) == before
        # killed while it tries for the lock (a real termination of its backend)
        box: list[object] = []
        t = threading.Thread(target=lambda: box.append(jobsdb("history", "seal", "--url", db)))
        t.start()
        with psycopg.connect(db, autocommit=True) as c:
            for _ in range(100):
                killed = c.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where query like 'select jobs_private.seal_move(%%'").fetchall()
                if killed:
                    break
                time.sleep(0.1)
        t.join(timeout=30)
        assert killed == [(True,)] and box and box[0].returncode != 0, (killed, box)
    finally:
        holder.close()
    assert snapshot(db) == before
    with psycopg.connect(db) as c:
        left = c.execute(
            "select (select count(*) from pg_class where relname like 'jobs\\_upto\\_%%'"
            " and relkind = 'r' and not relispartition), (select count(*) from pg_constraint"
            " where conname = 'jobs_hot_seal_bound')").fetchone()
    assert left == (1, 1), left  # the copy and the leaf's bound, which the next run removes
    rc, out, err = seal(db)
    assert rc == 0 and out.startswith("sealed 901 jobs into"), (out, err)
    assert "left by an interrupted seal" in err, err
    with psycopg.connect(db) as c:
        left = c.execute(
            "select (select count(*) from pg_class where relname like 'jobs\\_upto\\_%%'"
            " and relkind = 'r' and not relispartition), (select count(*) from pg_constraint"
            " where conname = 'jobs_hot_seal_bound')").fetchone()
    assert left == (0, 0), left
    assert snapshot(db) == before


def test_a_seal_under_working_workers_and_a_reader_loses_and_doubles_nothing(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as c:
        users = [r[0] for r in c.execute("select id::text from public.profiles")]
        old = c.execute("select count(*) from public.jobs where metadata ->> 'kind' = 'old'"
                        ).fetchone()[0]
        # each user's 50 new jobs within the token bucket however long the seal takes (30 at
        # once and one a second by default: the queue stopped after about 35 when a seal's
        # brief locks waited for an autovacuum to be cancelled)
        c.execute("update jobs_private.settings set job_burst = 100 where singleton")
    errors: list[BaseException] = []
    counts: list[int] = []
    done = threading.Event()

    def queue_and_work(n: int) -> None:
        try:
            with psycopg.connect(db, autocommit=True) as c, Worker(db, "wan", f"w{n}") as w:
                for _ in range(50):
                    if done.is_set():
                        return
                    rpc(c, "queue_job", {"job_type": "image_fast", "prompt": "p"},
                        claims=as_user(users[n]))
                    for j in w.claim(5):
                        w.complete(j, [f"{j.user_id}/out/{j.job_id}.png"])
                    time.sleep(0.1)
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    def read() -> None:
        try:
            with psycopg.connect(db, autocommit=True) as c:
                while not done.is_set():
                    counts.append(c.execute("select count(*) from public.jobs"
                                            " where metadata ->> 'kind' = 'old'").fetchone()[0])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=queue_and_work, args=(i,)) for i in range(2)]
    threads.append(threading.Thread(target=read))
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        rc, out, err = seal(db)
        time.sleep(1.0)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    assert rc == 0 and "sealed" in out, (out, err)
    assert set(counts) == {old}, set(counts)
    with psycopg.connect(db, autocommit=True) as c:
        made = c.execute("select count(*) from public.jobs where metadata ->> 'kind' is null"
                         ).fetchone()[0]
        assert made > 0, "no job was queued while the seal ran"
        # what the workers left is finishable: complete the rest, nothing is stuck
        with Worker(db, "wan", "last") as w:
            while jobs := w.claim(50):
                for j in jobs:
                    w.complete(j, [f"{j.user_id}/out/{j.job_id}.png"])
        left = c.execute("select status, count(*) from public.jobs where metadata ->> 'kind'"
                         " is null or metadata ->> 'kind' = 'recent' group by 1").fetchall()
    assert [s for s, _ in left] == ["completed"], left


# Each form in which a publication can carry the rows of jobs, and who may make it: the parent
# through publish_via_partition_root, its partitions (a table named without it), a schema of
# partitions, every table.
PUBLICATIONS = [
    ("postgres", "for table public.jobs with (publish_via_partition_root = true)"),
    ("postgres", "for table public.jobs"),
    ("supabase_admin", "for tables in schema jobs_private"),
    ("supabase_admin", "for all tables"),
]


def test_a_seal_refuses_while_a_publication_carries_jobs_and_its_subscriber_sees_no_delete(
    db: str, superuser_url: str,
) -> None:
    su = url_for_db(superuser_url, psycopg.conninfo.conninfo_to_dict(db)["dbname"])
    before = snapshot(db)
    for who, form in PUBLICATIONS:
        with psycopg.connect(su if who == "supabase_admin" else db, autocommit=True) as c:
            c.execute(f"create publication jobsdb_history {form}")
        try:
            r = jobsdb("history", "seal", "--url", db)
            line = one_error_line(r, 11)
            assert "[55000]" in line and "public.jobs is published (jobsdb_history)" in line, (
                form, line)
            with psycopg.connect(db, autocommit=True) as c:
                with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
                    c.execute("select jobs_private.seal_step('7 days', '1 day')")
        finally:
            with psycopg.connect(su, autocommit=True) as c:
                c.execute("drop publication jobsdb_history")
        assert [p[0] for p in partitions(db)] == ["jobs_private.jobs_hot"], form
        assert snapshot(db) == before, form
        with psycopg.connect(db) as c:  # refused before anything was copied
            assert c.execute("select count(*) from pg_class where relname like"
                             " 'jobs\\_upto\\_%%'").fetchone()[0] == 0, form

    # a publication made while a seal is under way: the move refuses, and a subscriber that
    # was listening receives no delete of a job (without the check: one per sealed job)
    with psycopg.connect(db, autocommit=True) as c:
        step = "select jobs_private.seal_step('7 days', '1 day')"
        assert c.execute(step).fetchone()[0].startswith("copied ")
        c.execute(f"create publication jobsdb_history {PUBLICATIONS[0][1]}")
        with psycopg.connect(su, autocommit=True) as sub:
            sub.execute("select pg_create_logical_replication_slot(%s, 'pgoutput', true)",
                        (f"jobsdb_seal_{sub.info.backend_pid}",))
            assert [c.execute(step).fetchone()[0].split(" ")[0] for _ in range(2)] == [
                "added", "bounded"]
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as e:
                c.execute(step)
            assert "public.jobs is published (jobsdb_history)" in str(e.value)
            # a change the subscriber does receive: the slot decodes, and the check can fail.
            # Committed synchronously: a slot decodes only WAL already flushed
            c.execute("set synchronous_commit = on")
            c.execute("delete from public.jobs where id = (select id from public.jobs"
                      " where metadata ->> 'kind' = 'recent' order by id limit 1)")
            kinds = dict(sub.execute(
                "select chr(get_byte(data, 0)), count(*)"
                " from pg_logical_slot_get_binary_changes(%s, null, null, 'proto_version', '1',"
                " 'publication_names', 'jobsdb_history') group by 1",
                (f"jobsdb_seal_{sub.info.backend_pid}",)).fetchall())
        assert kinds.get("D") == 1 and "I" not in kinds, kinds
        c.execute("drop publication jobsdb_history")
    assert [p[0] for p in partitions(db)] == ["jobs_private.jobs_hot"]
    # unpublished, the seal goes on: the next run removes the copy and seals
    rc, out, err = seal(db)
    assert rc == 0 and out.startswith("sealed 901 jobs into"), (out, err)


def test_retirement_and_the_move_take_only_the_tables_made_for_them(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as c:
        step = "select jobs_private.seal_step('7 days', '1 day')"
        assert c.execute(step).fetchone()[0].startswith("copied ")
        copy = c.execute("select (jobs_private.seal_copies())[1]::text").fetchone()[0]
        assert copy.startswith("jobs_private.jobs_upto_")
        # a project's table that looks like a partition by its name, in its own schema
        c.execute("create table public.jobs_upto_000000000001 (id uuid)")
        others = ["jobs_private.jobs_hot", copy, "public.jobs_upto_000000000001",
                  "public.profiles"]
        calls = [
            ("retire_partition", "select jobs_private.retire_partition(%s::regclass, '0')",
             "is not a sealed partition of public.jobs"),
            ("retire_detach", "select jobs_private.retire_detach(%s::regclass, 5)",
             "is not a sealed partition of public.jobs"),
            ("seal_move", "select jobs_private.seal_move(%s::regclass,"
             " 'ffffffff-ffff-ffff-ffff-ffffffffffff', 0, 5)",
             "is not a copy prepared by seal_prepare"),
        ]
        for name, call, says in calls:
            for rel in others:
                if name == "seal_move" and rel == copy:
                    continue  # the copy is the move's: refused below for another reason
                with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as e:
                    c.execute(call, (rel,))
                assert says in str(e.value), (name, rel, str(e.value))
        # the copy before its keys and the hot leaf's bound: not yet the move's either
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            c.execute(calls[2][1], (copy,))
        assert c.execute("select count(*) from public.jobs_upto_000000000001"
                         ).fetchone()[0] == 0
    assert [p[0] for p in partitions(db)] == ["jobs_private.jobs_hot"]
    # the seal then goes on, and its partition is retirement's to take
    rc, out, err = seal(db)
    assert rc == 0 and out.startswith("sealed 901 jobs into"), (out, err)
    [(sealed, _), _hot] = partitions(db)
    with psycopg.connect(db, autocommit=True) as c:
        assert c.execute("select array_agg(s::text) from jobs_private.sealed_partitions() as s"
                         ).fetchone()[0] == [sealed]
        assert c.execute("select jobs_private.seal_copies()").fetchone()[0] == []
