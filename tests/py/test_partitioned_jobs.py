"""jobs partitioned by id (release 1.7.0): the upgrade of a live 1.6.0 database, what it does to
the project's own objects, and the way back.

The drift test proves that every way to 1.7.0 ends at the install's catalog, and the
migrations-under-load test that the step keeps workers within the lock budget at 100,000 jobs.
Here, on a 1.6.0 database with jobs in it:
* the project's own table referencing jobs keeps its key, now referencing the partitioned
  parent and checked, and its rows and jobs are as they were (no row copied, ids the same); a
  trigger the project disabled stays disabled;
* a project view reading jobs stops the upgrade with 55000 and changes nothing (the view would
  go on reading one partition);
* the step interrupted after the change, before the check of the keys into jobs, leaves them
  NOT VALID, and running it again checks them;
* the way back is refused while jobs has another partition than jobs_hot.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from workerproc import make_user, queue

from jobsdb import embedded, migrate, package_migrate, sqlsplit
from jobsdb.shim import apply_shim
from jobsdb.testdb import _janitor

ROOT = Path(__file__).resolve().parents[2]
RDIR, MDIR = ROOT / "releases", ROOT / "migrations"
STEP = RDIR / "jobsdb--1.6.0--1.7.0.sql"


def quiet(_: str) -> None:
    pass


@pytest.fixture
def at_1_6_0(owner_url: str, superuser_url: str | None) -> Iterator[str]:
    """A database at jobsdb 1.6.0 with a user, three jobs and a table of the project's own
    referencing jobs (one row per job)."""
    name = f"jobsdb_parted_{os.getpid()}_{secrets.token_hex(4)}"
    j = _janitor(owner_url, name)
    j.init()
    try:
        apply_shim(superuser_url or owner_url, name, quiet=True)
        url = embedded.url_for_db(owner_url, name)
        package_migrate.up(url, target="1.6.0", rdir=RDIR, mdir=MDIR, out=quiet)
        ids = queue(url, make_user(url), 3)
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("create table public.job_notes (id serial primary key,"
                      " job_id uuid not null references public.jobs (id) on delete cascade,"
                      " note text)")
            c.execute("alter table public.job_notes enable row level security")
            for i in ids:
                c.execute("insert into public.job_notes (job_id, note) values (%s, 'n')", (i,))
        yield url
    finally:
        j.drop()


def facts(url: str) -> dict[str, object]:
    with psycopg.connect(url) as c:
        return {
            "kind": c.execute("select relkind from pg_class"
                              " where oid = 'public.jobs'::regclass").fetchone()[0],
            "release": c.execute("select jobs_private.installed_release()").fetchone()[0],
            "jobs": c.execute("select array_agg(id order by id) from public.jobs").fetchone()[0],
            "keys": c.execute(
                "select array_agg(format('%s %s %s %s', conrelid::regclass, conname,"
                " confrelid::regclass, convalidated) order by conname) from pg_constraint"
                " where contype = 'f' and conparentid = 0 and confrelid in"
                " ('public.jobs'::regclass, coalesce(to_regclass('jobs_private.jobs_hot'), 0))"
            ).fetchone()[0],
        }


def test_a_projects_key_into_jobs_follows_the_parent_and_is_checked(at_1_6_0: str) -> None:
    with psycopg.connect(at_1_6_0, autocommit=True) as c:
        # a trigger the project disabled stays disabled on the parent
        c.execute("alter table public.jobs disable trigger jobs_metrics_stale_on_insert_trg")
    before = facts(at_1_6_0)
    assert before["kind"] == "r" and "job_notes job_notes_job_id_fkey jobs t" in \
        before["keys"]
    package_migrate.up(at_1_6_0, target="1.7.0", rdir=RDIR, mdir=MDIR, out=quiet)
    after = facts(at_1_6_0)
    with psycopg.connect(at_1_6_0) as c:
        assert c.execute("select tgenabled from pg_trigger where tgrelid = 'public.jobs'::regclass"
                         " and tgname = 'jobs_metrics_stale_on_insert_trg'").fetchone()[0] == "D"
    assert (after["kind"], after["release"]) == ("p", "1.7.0")
    assert after["jobs"] == before["jobs"]
    assert "job_notes job_notes_job_id_fkey jobs t" in after["keys"]
    with psycopg.connect(at_1_6_0, autocommit=True) as c:
        assert c.execute("select count(*) from public.job_notes as n"
                         " join public.jobs as j on j.id = n.job_id").fetchone()[0] == 3
        # the key holds: a note of no job is refused, and deleting a job cascades to its note
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            c.execute("insert into public.job_notes (job_id) values (gen_random_uuid())")
        c.execute("delete from public.jobs where id = %s", (before["jobs"][0],))
        assert c.execute("select count(*) from public.job_notes").fetchone()[0] == 2


def test_a_view_reading_jobs_stops_the_upgrade_and_changes_nothing(at_1_6_0: str) -> None:
    with psycopg.connect(at_1_6_0, autocommit=True) as c:
        c.execute("create view public.my_jobs with (security_invoker = on) as"
                  " select id, status from public.jobs")
    before = facts(at_1_6_0)
    with pytest.raises(migrate.MigrateError) as e:
        package_migrate.up(at_1_6_0, rdir=RDIR, mdir=MDIR, out=quiet)
    assert "[55000] views read public.jobs: public.my_jobs" in str(e.value)
    assert facts(at_1_6_0) == before
    with psycopg.connect(at_1_6_0, autocommit=True) as c:
        c.execute("drop view public.my_jobs")
    package_migrate.up(at_1_6_0, rdir=RDIR, mdir=MDIR, out=quiet)
    assert facts(at_1_6_0)["kind"] == "p"


def test_a_rerun_after_an_interrupted_key_check_checks_the_keys(at_1_6_0: str) -> None:
    statements = sqlsplit.split(STEP.read_text())
    with psycopg.connect(at_1_6_0, autocommit=True) as c:
        # the step's first statements, up to and including the change itself
        for stmt in statements:
            c.execute(stmt.encode())
            if "attach partition jobs_private.jobs_hot" in stmt:
                break
    interrupted = facts(at_1_6_0)
    assert interrupted["kind"] == "p"
    assert "job_notes job_notes_job_id_fkey jobs f" in interrupted["keys"]
    package_migrate.up(at_1_6_0, target="1.7.0", rdir=RDIR, mdir=MDIR, out=quiet)
    assert facts(at_1_6_0)["release"] == "1.7.0"
    assert all(k.endswith(" t") for k in facts(at_1_6_0)["keys"])


def test_the_way_back_is_refused_while_jobs_has_another_partition(at_1_6_0: str) -> None:
    package_migrate.up(at_1_6_0, rdir=RDIR, mdir=MDIR, out=quiet)
    with psycopg.connect(at_1_6_0, autocommit=True) as c:
        c.execute("delete from public.job_notes")  # a detach checks the keys into jobs
        c.execute("alter table public.jobs detach partition jobs_private.jobs_hot")
        c.execute("create table jobs_private.jobs_old partition of public.jobs"
                  " for values from (minvalue) to ('00000000-0000-0000-0000-000000000100')")
        c.execute("alter table public.jobs attach partition jobs_private.jobs_hot"
                  " for values from ('00000000-0000-0000-0000-000000000100') to (maxvalue)")
    with pytest.raises(migrate.MigrateError) as e:
        package_migrate.up(at_1_6_0, target="1.6.0", rdir=RDIR, mdir=MDIR, out=quiet)
    assert "[55000] public.jobs has partitions besides jobs_private.jobs_hot" in str(e.value)
    assert facts(at_1_6_0)["kind"] == "p"
    with psycopg.connect(at_1_6_0) as c:  # refused before anything changed: 1.7.0's functions
        assert "jobs_private.jobs_hot" in c.execute(
            "select prosrc from pg_proc where oid = 'public.claim_jobs'::regproc").fetchone()[0]
