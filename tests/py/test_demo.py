"""`jobsdb demo` with DATABASE_URL pointing at a database that holds other users' queued jobs:
the demo runs in a scratch database of its own, drops it, and leaves that database exactly as
it was (its jobs unclaimed, no new users, no migration run). A role that may not create
databases gets a one-line refusal and nothing changes."""

from __future__ import annotations

import os
import secrets
import subprocess

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from workerproc import jobsdb_command, make_user, queue

SNAPSHOT = """
select
    (select jsonb_agg(to_jsonb(j) order by j.id) from public.jobs as j),
    (select count(*) from auth.users),
    (select count(*) from public.images_videos),
    (select count(*) from supabase_migrations.schema_migrations)
"""


def _demo(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([*jobsdb_command(), "demo"], capture_output=True, text=True,
                          env=env, timeout=240)


def _demo_databases(url: str) -> list[str]:
    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute(
            "select datname from pg_database where datname like 'jobsdb_demo_%'")]


def test_the_demo_leaves_an_existing_database_and_its_queued_jobs_untouched(
    fresh_db: str,
) -> None:
    users = [make_user(fresh_db) for _ in range(2)]
    ids = [j for u in users for j in queue(fresh_db, u, 3)]
    ids += queue(fresh_db, users[0], 2, job_type="video_fast")
    with psycopg.connect(fresh_db) as c:
        before = c.execute(SNAPSHOT).fetchone()
    before_dbs = _demo_databases(fresh_db)
    r = _demo(fresh_db)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert "a database of its own: jobsdb_demo_" in r.stdout
    assert "job_reported" in r.stdout  # the worker command ran jobs there
    with psycopg.connect(fresh_db) as c:
        after = c.execute(SNAPSHOT).fetchone()
    assert after == before  # every job row identical, no user, asset or migration added
    assert len(before[0]) == len(ids) and all(j["status"] == "queued" for j in before[0])
    assert _demo_databases(fresh_db) == before_dbs  # the scratch database was dropped


def test_the_demo_refuses_in_one_line_without_createdb(fresh_db: str) -> None:
    role = f"demo_nocreatedb_{secrets.token_hex(3)}"
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute(f'create role "{role}" login nocreatedb')
    try:
        url = make_conninfo(**{**conninfo_to_dict(fresh_db), "user": role})
        r = _demo(url)
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("demo refused: ") and "CREATEDB" in lines[0]
        assert _demo_databases(fresh_db) == []
    finally:
        with psycopg.connect(fresh_db, autocommit=True) as c:
            c.execute(f'drop role "{role}"')
