"""jobs_private.lock_tables_briefly (the seal's and the retirement's locks) against a real
autovacuum: an autovacuum holding a table outlasts any number of 20 ms tries, and autovacuum
runs on the hot leaf after every seal's delete (for minutes at scale). The function first waits
for SHARE UPDATE EXCLUSIVE, a mode no query of the queue conflicts with, past deadlock_timeout,
which makes PostgreSQL cancel the autovacuum; writers of the table go on meanwhile.

Its own throw-away cluster: autovacuum must start within a second (autovacuum_naptime), a
setting of the whole server the shared test cluster does not have."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from test_faults import Cluster, free_port  # the fault test's throw-away cluster

from jobsdb import package_migrate
from jobsdb.shim import apply_shim

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def vacuuming() -> Iterator[Cluster]:
    """jobsdb installed; public.busy (50,000 rows, half deleted) under an autovacuum slowed to
    a crawl, running when the fixture yields."""
    c = Cluster(Path(tempfile.mkdtemp(prefix="jobsdb-vacuum-")), free_port())
    try:
        c.init()
        with (c.data / "postgresql.conf").open("a") as f:
            f.write("autovacuum_naptime = 1\nlog_autovacuum_min_duration = 0\n")
        c.start()
        apply_shim(c.superuser_url, "postgres", quiet=True)
        package_migrate.up(c.owner_url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        with psycopg.connect(c.owner_url, autocommit=True) as conn:
            conn.execute("create table public.busy (id bigint generated always as identity"
                         " primary key, note text) with (autovacuum_enabled = false)")
            conn.execute("alter table public.busy enable row level security")
            conn.execute("insert into public.busy (note) select repeat('x', 200)"
                         " from generate_series(1, 50000)")
            conn.execute("delete from public.busy where id % 2 = 0")
            # one page per 100 ms: the autovacuum takes minutes
            conn.execute("alter table public.busy set (autovacuum_enabled = true,"
                         " autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1)")
            for _ in range(300):
                if autovacuums(c):
                    break
                time.sleep(0.1)
            assert autovacuums(c), "no autovacuum of public.busy started"
        yield c
    finally:
        c.destroy()


def autovacuums(c: Cluster) -> int:
    """Autovacuums of public.busy running (their query is shown to the superuser only)."""
    with psycopg.connect(c.superuser_url) as conn:
        return conn.execute("select count(*) from pg_stat_activity where backend_type ="
                            " 'autovacuum worker' and query like '%%public.busy%%'").fetchone()[0]


def test_an_autovacuum_is_cancelled_and_the_tables_writers_never_wait(
        vacuuming: Cluster) -> None:
    inserts: list[tuple[float, float]] = []  # (started, took)
    stop = threading.Event()

    def write() -> None:
        with psycopg.connect(vacuuming.owner_url, autocommit=True) as w:
            w.execute("set statement_timeout = '5s'")
            while not stop.is_set():
                start = time.monotonic()
                w.execute("insert into public.busy (note) values ('w')")
                inserts.append((start, time.monotonic() - start))
                time.sleep(0.02)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.3)
        with psycopg.connect(vacuuming.owner_url) as conn:
            called = time.monotonic()
            tries = conn.execute("select jobs_private.lock_tables_briefly("
                                 "array['public.busy'::regclass], 'share row exclusive', 5)"
                                 ).fetchone()[0]
            returned = time.monotonic()
            # the autovacuum (minutes of work left) was cancelled, and cannot start again on
            # the table while the lock is held
            time.sleep(1.5)
            assert autovacuums(vacuuming) == 0
    finally:
        stop.set()
        writer.join(timeout=30)
    # it waited past deadlock_timeout (1 s), when PostgreSQL cancels the autovacuum
    assert tries >= 1 and 0.9 < returned - called < 10, (tries, returned - called)
    # the writer went on all the while (it waits only once the lock is held)
    meanwhile = [took for started, took in inserts if called <= started < returned - 0.1]
    assert len(meanwhile) >= 10 and max(meanwhile) < 0.3, meanwhile
