"""`jobsdb worker` through a real PgBouncer in transaction mode (what Supabase's port 6543 is),
restarted mid-run, and on a throw-away cluster restarted mid-run (immediate shutdown). Over
each run: 0 jobs lost, 0 completed twice, and the worker reconnects by itself.

PgBouncer is Debian's `pgbouncer` (installed by `make deps-pgbouncer` as root); without it
these tests skip, saying what to install.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from test_faults import Cluster, cluster, free_port  # noqa: F401 - `cluster` is a fixture
from workerproc import (
    WorkerProc,
    assets_per_job,
    fast_retries,
    make_user,
    queue,
    states,
    wait_for,
)

from jobsdb import embedded
from jobsdb.runner import pooler_mode


def _pgbouncer_bin() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)


class PgBouncer:
    """pgbouncer in transaction mode in front of a server, on a free port of its own."""

    def __init__(self, server_port: int) -> None:
        self.bin = _pgbouncer_bin()
        assert self.bin
        self.dir = Path(tempfile.mkdtemp(prefix="jobsdb-pgbouncer-"))
        self.port = free_port()
        version = subprocess.run([self.bin, "--version"], capture_output=True, text=True).stdout
        major, minor = map(int, re.search(r"(\d+)\.(\d+)", version).groups())  # type: ignore[union-attr]
        # Newer PgBouncers (1.21+) can track protocol-level prepared statements; switched off
        # so that a worker that prepared statements would fail here as it would on a pooler
        # without that support. 1.18 (Debian 12) has no support at all.
        prepared = "max_prepared_statements = 0\n" if (major, minor) >= (1, 21) else ""
        (self.dir / "users.txt").write_text(
            f'"{embedded.OWNER}" ""\n"{embedded.SUPERUSER}" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={server_port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir}/users.txt\n"
            "pool_mode = transaction\ndefault_pool_size = 3\nmax_client_conn = 200\n"
            "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.dir}/pgbouncer.log\n{prepared}"
        )
        if embedded._is_root():
            shutil.chown(self.dir, embedded.RUN_AS)
            for f in self.dir.iterdir():
                shutil.chown(f, embedded.RUN_AS)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [self.bin, str(self.dir / "pgbouncer.ini")]
        if embedded._is_root():  # pgbouncer refuses to run as root
            cmd[1:1] = ["-u", embedded.RUN_AS]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2,
                                     prepare_threshold=None) as c:
                    c.execute("select 1")
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: immediate shutdown, every connection cut
            self.proc.wait(10)

    def url(self, dbname: str) -> str:
        return f"postgresql://{embedded.OWNER}@127.0.0.1:{self.port}/{dbname}"


@pytest.fixture
def pgbouncer(fresh_db: str) -> Iterator[PgBouncer]:
    if not _pgbouncer_bin():
        pytest.skip("pgbouncer is not installed: run `make deps-pgbouncer` as root, or "
                    "sudo apt-get install -y pgbouncer")
    b = PgBouncer(int(conninfo_to_dict(fresh_db)["port"]))
    try:
        b.start()
        yield b
    finally:
        b.stop()
        shutil.rmtree(b.dir, ignore_errors=True)


def _terminal(url: str, ids: list[str]) -> bool:
    return all(s[0] in ("completed", "failed") for s in states(url, ids).values())


def _nothing_lost_nothing_twice(url: str, ids: list[str]) -> None:
    st = states(url, ids)
    assert set(st) == set(ids)
    assert all(s[0] == "completed" for s in st.values()), st
    per_job = assets_per_job(url, ids)
    assert all(per_job.get(i) == 1 for i in ids), per_job


def test_port_6543_means_the_transaction_pooler() -> None:
    host = "postgresql://w@aws-0-eu-west-1.pooler.supabase.com"
    assert pooler_mode(f"{host}:6543/postgres?sslmode=require", "auto") == "transaction"
    assert pooler_mode(f"{host}:5432/postgres?sslmode=require", "auto") == "session"
    assert pooler_mode(f"{host}:5432/postgres", "transaction") == "transaction"
    assert pooler_mode("host=db.example.com port=6543 dbname=postgres", "auto") == "transaction"


def test_worker_through_pgbouncer_in_transaction_mode_survives_its_restart(
    fresh_db: str, pgbouncer: PgBouncer,
) -> None:
    user = make_user(fresh_db)
    fast_retries(fresh_db)
    ids = queue(fresh_db, user, 24, fake_seconds=0.15)
    dbname = conninfo_to_dict(fresh_db)["dbname"]
    w = WorkerProc(pgbouncer.url(dbname), "-c", "3", "--pooler", "transaction",
                   "--rescue-every", "1")
    try:
        wait_for(lambda: sum(s[0] == "completed" for s in states(fresh_db, ids).values()) >= 6,
                 60, "a quarter of the jobs")
        pgbouncer.stop()
        time.sleep(1.0)
        pgbouncer.start()
        wait_for(lambda: _terminal(fresh_db, ids), 90, "every job")
        w.signal(signal.SIGTERM)
        assert w.wait() == 0, w.text()
        events = w.events()
    finally:
        w.stop()
    _nothing_lost_nothing_twice(fresh_db, ids)
    assert any(e.get("mode") == "transaction" for e in events if e["event"] == "starting")
    errors = [e for e in events if e["event"] == "database_error"]
    assert errors, "the PgBouncer restart was not noticed"
    assert not [e for e in events if "prepared statement" in str(e.get("error", ""))]
    assert not [e for e in events if e["event"] in ("worker_failed", "non_json")]


def test_worker_reconnects_after_a_postgres_restart(cluster: Cluster) -> None:  # noqa: F811
    url = cluster.owner_url
    user = make_user(url)
    fast_retries(url)
    ids = queue(url, user, 16, fake_seconds=0.3)
    w = WorkerProc(url, "-c", "2", "--rescue-every", "1")
    try:
        wait_for(lambda: sum(s[0] == "completed" for s in states(url, ids).values()) >= 4,
                 60, "a quarter of the jobs")
        cluster.stop_immediate()
        time.sleep(2.0)
        cluster.start()
        wait_for(lambda: _terminal(url, ids), 120, "every job after the restart")
        w.signal(signal.SIGTERM)
        assert w.wait() == 0, w.text()
        events = w.events()
    finally:
        w.stop()
    _nothing_lost_nothing_twice(url, ids)
    assert [e for e in events if e["event"] == "database_error"]
    assert not [e for e in events if e["event"] in ("worker_failed", "non_json")]


def test_this_pgbouncer_breaks_server_side_prepared_statements(
    fresh_db: str, pgbouncer: PgBouncer,
) -> None:
    """The control: psycopg's default (prepare after 5 runs) fails through this PgBouncer,
    the worker's setting (prepare_threshold=None) does not. So the test above can fail."""
    from jobsdb.worker import Worker

    url = pgbouncer.url(conninfo_to_dict(fresh_db)["dbname"])
    errors = {}
    for name, kw in (("default", {}), ("worker", {"prepare_threshold": None})):
        workers = [Worker(url, "sdxl", f"w{i}", connect_kwargs=kw) for i in range(4)]
        errors[name] = 0
        for _ in range(20):
            for w in workers:
                try:
                    w.rescue()
                except psycopg.Error:
                    errors[name] += 1
        for w in workers:
            w.close()
    assert errors["default"] > 0 and errors["worker"] == 0, errors
