"""`jobsdb test --url` against a database the run did not create.

Each database here is prepared beforehand the way a user's project would be (a separate
database on the embedded server: Supabase shim, jobsdb's newest release, pgtap created by the
owner), then `jobsdb test --url` runs against it as a subprocess. It must pass and leave no
trace (checked here independently, with a full pg_dump before and after), and refuse with one
line and its exit code, changing nothing, where it cannot run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from jobsdb import existing, migrate, package_migrate, releases
from jobsdb.embedded import find_bin, url_for_db

# serial: `jobsdb test --url` compares the cluster's roles and memberships before and after
# (its trace check), and other tests create and drop roles (worker logins, Realtime's role)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
JOBSDB = str(Path(sys.executable).with_name("jobsdb"))


def prepare(url: str, history_only: bool = False, pgtap: bool = True) -> str:
    """The project's database: jobsdb's newest release (or, history_only, jobsdb as the
    migrations before 1.0.0 left it), pgtap, and objects and data of the project's own."""
    migrate.up(url, ROOT / "migrations", out=lambda s: None) if history_only else \
        package_migrate.up(url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
    with psycopg.connect(url, autocommit=True) as conn:
        if pgtap:
            conn.execute("create extension pgtap with schema extensions")
        # the project's own objects beside the package's
        conn.execute("create sequence public.invoice_number")
        conn.execute("select nextval('public.invoice_number')")
        # and its own data: a user (as Auth writes one) with a queued 1x3 set and a profile,
        # which the suite's counts and claims must neither see nor change
        uid = "5eed0000-0000-4000-8000-000000000001"
        conn.execute(
            "insert into auth.users (id, instance_id, aud, role, email, created_at, updated_at)"
            " values (%s, '00000000-0000-0000-0000-000000000000', 'authenticated',"
            " 'authenticated', 'customer@example.com', now(), now())", (uid,))
        conn.execute("insert into public.profiles (id) values (%s) on conflict do nothing", (uid,))
        with conn.transaction():
            conn.execute("select set_config('role', 'authenticated', true),"
                         " set_config('request.jwt.claims', %s, true)",
                         (f'{{"sub": "{uid}", "role": "authenticated"}}',))
            conn.execute("select public.queue_job(job_type := 'sdxl_image_fast',"
                         " prompt := 'a fox', num_images := 3)")
    return url


def full_dump(url: str) -> str:
    r = subprocess.run([find_bin("pg_dump"), "-d", url], capture_output=True, text=True,
                       check=True)
    return "\n".join(ln for ln in r.stdout.splitlines() if not ln.startswith("\\"))


def jobsdb_test(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [JOBSDB, "test", "--url", url, *args], capture_output=True, text=True, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "JOBSDB_SHIM_AUTO_GRANTS"},
    )


@pytest.fixture(scope="module")
def project(bare_db_factory_module) -> str:
    return prepare(bare_db_factory_module())


def test_the_suite_passes_on_an_existing_database_and_leaves_no_trace(project: str) -> None:
    before = full_dump(project)
    r = jobsdb_test(project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "a database set up by the jobsdb shim" in r.stderr
    n_files = len(list((ROOT / "tests" / "pgtap").glob("**/*.sql")))
    assert f"{n_files} passed, 0 failed" in r.stdout
    assert "no trace:" in r.stderr
    assert full_dump(project) == before
    with psycopg.connect(project) as conn:  # the project's own queue is as it was
        assert conn.execute("select status, attempts, count(*) from public.jobs"
                            " group by 1, 2").fetchall() == [("queued", 0, 3)]


def test_a_file_that_commits_is_reported_as_a_trace(project: str, tmp_path: Path) -> None:
    f = tmp_path / "commits.sql"
    f.write_text(
        "begin;\nselect plan(1);\nselect ok(true);\nselect * from finish();\ncommit;\n"
        "select nextval('public.invoice_number');\n"
    )
    r = jobsdb_test(project, str(f))
    assert r.returncode == existing.EXIT_TRACE, r.stdout + r.stderr
    assert "trace left in the database" in r.stderr
    assert "new:   schema tests" in r.stderr  # the helpers were committed with the file
    assert "sequence public.invoice_number 2" in r.stderr
    with psycopg.connect(project, autocommit=True) as conn:  # undo it for the other tests
        conn.execute("drop schema tests cascade")
        conn.execute("select setval('public.invoice_number', 1)")


def test_files_sharing_a_session_start_as_on_a_new_login_and_fail_alone(
        project: str, tmp_path: Path) -> None:
    """The files of a batch share one psql session: what a file leaves in it that a rollback
    does not undo (a prepared statement, a session advisory lock, the session's role) is gone
    before the next; a file that errors after its plan ran fails, with the error, and the
    files around it pass."""
    leaves = tmp_path / "a_leaves_session_state.sql"
    leaves.write_text(
        "begin;\nselect plan(1);\nprepare leaked as select 1;\n"
        "select pg_advisory_lock(4242);\nselect ok(true);\nselect * from finish();\n"
        "rollback;\nset role authenticated;\n")
    errs = tmp_path / "b_errors_after_its_plan.sql"
    errs.write_text("begin;\nselect plan(1);\nselect ok(true);\nselect 1 / 0;\n"
                    "select * from finish();\nrollback;\n")
    sees = tmp_path / "c_sees_a_new_session.sql"
    sees.write_text(
        "begin;\nselect plan(3);\n"
        "select is((select count(*) from pg_prepared_statements)::int, 0, 'no statement');\n"
        "select is((select count(*) from pg_locks where locktype = 'advisory'"
        " and pid = pg_backend_pid())::int, 0, 'no advisory lock');\n"
        "select is(current_user::text, session_user::text, 'its login as its role');\n"
        "select * from finish();\nrollback;\n")
    r = jobsdb_test(project, str(leaves), str(errs), str(sees))
    assert r.returncode == 1, r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith(("ok ", "FAIL "))]
    assert [ln.split()[0] for ln in lines] == ["ok", "FAIL", "ok"], r.stdout
    assert "an error ended the file:" in r.stdout and "division by zero" in r.stdout
    assert "2 passed, 1 failed" in r.stdout
    assert "no trace:" in r.stderr, r.stderr


def _refusal(url: str, code: int, starts: str) -> None:
    before = full_dump(url)
    r = jobsdb_test(url)
    lines = r.stderr.strip().splitlines()
    assert (r.returncode, len(lines)) == (code, 1), r.stdout + r.stderr
    assert lines[0].startswith(starts), lines
    assert r.stdout == ""
    assert full_dump(url) == before


def test_refuses_a_database_not_at_the_newest_release(bare_db_factory_module) -> None:
    url = prepare(bare_db_factory_module(), history_only=True)
    _refusal(url, existing.EXIT_PENDING, "refusing: this database holds jobsdb from before 1.0.0"
             f" and the tests are jobsdb {releases.latest(ROOT / 'releases')}'s")


def test_refuses_without_pgtap(bare_db_factory_module) -> None:
    url = prepare(bare_db_factory_module(), pgtap=False)
    _refusal(url, existing.EXIT_NO_PGTAP, "refusing: the pgtap extension is not installed")


def test_refuses_a_database_that_is_not_supabase(bare_db_factory_module, superuser_url) -> None:
    if not superuser_url:
        pytest.skip("needs a superuser to undo the shim")
    url = bare_db_factory_module()
    with psycopg.connect(url_for_db(superuser_url, url.rsplit("/", 1)[1]), autocommit=True) as conn:
        # not the shim's database any more, and no Auth: a plain PostgreSQL database
        conn.execute("comment on schema auth is null")
        conn.execute("alter table auth.users rename to people")
    _refusal(url, existing.EXIT_NOT_SUPABASE, "refusing: this is not a Supabase database")


def test_a_real_project_is_told_from_the_shim(bare_db_factory_module, superuser_url) -> None:
    """A database whose auth schema is not the shim's (GoTrue comments it differently) is
    treated as the real platform."""
    if not superuser_url:
        pytest.skip("needs a superuser to change schema auth's comment")
    url = bare_db_factory_module()
    su = url_for_db(superuser_url, url.rsplit("/", 1)[1])
    with psycopg.connect(su, autocommit=True) as conn:
        assert existing.platform(conn) == "shim"
        conn.execute("comment on schema auth is 'Auth: stores the users'")
        assert existing.platform(conn) == "supabase"
