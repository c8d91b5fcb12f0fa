"""The `jobsdb` command as a user meets it: each mistake is one line on stderr saying what was
wrong and what to do, with its own exit code (docs/operators.md, "Exit codes"), and no traceback
unless `--debug`. Run as subprocesses, the way a user runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobsdb import __version__, embedded, errors

ROOT = Path(__file__).resolve().parents[2]
JOBSDB = [sys.executable, "-m", "jobsdb.cli"]
EMBEDDED_ONLY = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                                   reason="embedded cluster only")
TAKEN = {54322, *range(55411, 55417)}  # supabase start's, and the other engineers'


def jobsdb(*args: str, env: dict[str, str | None] | None = None,
           cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if k not in ("JOBSDB_DEBUG",)}
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return subprocess.run([*JOBSDB, *args], capture_output=True, text=True, env=e, cwd=cwd,
                          timeout=120)


def one_error_line(r: subprocess.CompletedProcess[str], code: int) -> str:
    """The single error line (lines naming the database changed may come before it)."""
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("jobsdb: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert r.returncode == code, (r.returncode, r.stderr)
    return lines[0]


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p not in TAKEN:
            return p


@pytest.fixture
def home() -> Iterator[Path]:
    """An empty JOBSDB_HOME the server's OS user can reach (it runs as `postgres` under root)."""
    d = Path(tempfile.mkdtemp(prefix="jobsdb-cli-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        if (d / ".jobsdb" / "data" / "postmaster.pid").exists():
            jobsdb("db", "stop", env={"JOBSDB_HOME": str(d), "DATABASE_URL": None})
        subprocess.run(["rm", "-rf", str(d)], check=False)


def test_version() -> None:
    r = jobsdb("--version")
    assert (r.returncode, r.stdout.strip()) == (0, f"jobsdb {__version__}")


def test_bad_option_value_is_refused_before_anything_runs() -> None:
    line = one_error_line(jobsdb("migrate", "--lock-timeout", "banana"), errors.USAGE)
    assert "'banana' is not a PostgreSQL duration" in line
    line = one_error_line(jobsdb("migrate", "up", "--statement-timeout", "5 parsecs"),
                          errors.USAGE)
    assert "is not a PostgreSQL duration" in line
    one_error_line(jobsdb("migrate", "--wait", "soon"), errors.USAGE)
    one_error_line(jobsdb("test", "-j", "0"), errors.USAGE)
    one_error_line(jobsdb("frobnicate"), errors.USAGE)


def test_debug_shows_the_traceback() -> None:
    for args in (["--debug", "migrate", "--lock-timeout", "banana"],
                 ["migrate", "--lock-timeout", "banana", "--debug"]):
        r = jobsdb(*args)
        assert r.returncode != 0 and "Traceback" in r.stderr and "UsageError" in r.stderr
        assert "is not a PostgreSQL duration" in r.stderr


def test_bad_url() -> None:
    line = one_error_line(jobsdb("migrate", "status", env={"DATABASE_URL": "notaurl"}),
                          errors.BAD_URL)
    assert "DATABASE_URL is not a PostgreSQL connection URL" in line
    r = jobsdb("migrate", "status", env={"DATABASE_URL": "postgresql://u:s3cret@h:99999/d"})
    assert "port '99999'" in one_error_line(r, errors.BAD_URL)
    assert "s3cret" not in r.stderr
    one_error_line(jobsdb("migrate", "status", "--url", "nope"), errors.BAD_URL)


def test_wrong_port() -> None:
    p = free_port()
    r = jobsdb("migrate", "status", env={"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{p}/x"})
    line = one_error_line(r, errors.CONNECT)
    assert f"port {p}" in line and "Connection refused" in line
    r = jobsdb("db", "start", env={"JOBSDB_PORT": "banana", "DATABASE_URL": None})
    assert "JOBSDB_PORT='banana' is not a port number" in one_error_line(r, errors.USAGE)


@EMBEDDED_ONLY
def test_missing_role_and_missing_privilege(superuser_url: str) -> None:
    p = embedded.port()
    r = jobsdb("migrate", "status",
               env={"DATABASE_URL": f"postgresql://jobsdb_nosuchrole@127.0.0.1:{p}/postgres"})
    assert "role 'jobsdb_nosuchrole' does not exist" in one_error_line(r, errors.PRIVILEGE)
    with psycopg.connect(superuser_url, autocommit=True) as c:
        c.execute("drop role if exists jobsdb_cli_noprivs")
        c.execute("create role jobsdb_cli_noprivs login")  # may connect, may not create
    try:
        r = jobsdb("migrate",
                   env={"DATABASE_URL": f"postgresql://jobsdb_cli_noprivs@127.0.0.1:{p}/postgres"})
        line = one_error_line(r, errors.PRIVILEGE)
        assert "permission denied" in line and "owner role" in line
        assert r.stderr.startswith('jobsdb: migrating database "postgres" on 127.0.0.1:')
    finally:
        with psycopg.connect(superuser_url, autocommit=True) as c:
            c.execute("drop role jobsdb_cli_noprivs")


def test_a_timeout_is_the_databases_answer_not_a_connection_failure(owner_url: str) -> None:
    """A statement timeout (57014) and a lock timeout (55P03) are raised by psycopg as
    OperationalError, like a refused connection; they are database errors with their SQLSTATE
    (exit 11), not "cannot connect ... check the host and port" (exit 5)."""
    with psycopg.connect(owner_url, autocommit=True) as holder, \
            psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("set statement_timeout = '50ms'")
        with pytest.raises(psycopg.OperationalError) as timeout:
            conn.execute("select pg_sleep(2)")
        holder.execute("select pg_advisory_lock(hashtext('cli_errors_probe'))")
        conn.execute("set statement_timeout = 0")
        conn.execute("set lock_timeout = '50ms'")
        with pytest.raises(psycopg.OperationalError) as lock:
            conn.execute("select pg_advisory_lock(hashtext('cli_errors_probe'))")
    for exc, code in ((timeout.value, "57014"), (lock.value, "55P03")):
        err = errors.classify(exc)
        assert exc.sqlstate == code
        assert err.exit_code == errors.DATABASE, str(err)
        assert str(err).startswith(f"database error [{code}]: "), str(err)
    refused = psycopg.OperationalError("connection failed: connection refused")
    assert errors.classify(refused).exit_code == errors.CONNECT


def test_missing_file() -> None:
    r = jobsdb("test", "tests/pgtap/nope.sql")
    assert "tests/pgtap/nope.sql" in one_error_line(r, errors.MISSING_FILE)
    r = jobsdb("migrate", "status", "--dir", "no/such/dir")
    assert "no/such/dir does not exist" in one_error_line(r, errors.MISSING_FILE)


def test_taken_port_is_one_line(home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        p = s.getsockname()[1]
        r = jobsdb("db", "start", env={"JOBSDB_HOME": str(home), "JOBSDB_PORT": str(p),
                                      "DATABASE_URL": None})
    line = one_error_line(r, errors.PORT_IN_USE)
    assert f"port {p} on 127.0.0.1 is already in use" in line and "JOBSDB_PORT=" in line
    assert not (home / ".jobsdb").exists()  # refused before initdb


@EMBEDDED_ONLY
def test_postgres_own_socket_error_becomes_the_same_line(home: Path, monkeypatch) -> None:
    """Should the port be taken between our check and the server's start, PostgreSQL's
    "could not create any TCP/IP sockets" becomes the same one line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        p = s.getsockname()[1]
        monkeypatch.setenv("JOBSDB_HOME", str(home))
        monkeypatch.setenv("JOBSDB_PORT", str(p))
        monkeypatch.setattr(embedded, "port_is_free", lambda _p: True)
        embedded.base_dir.cache_clear()
        try:
            with pytest.raises(errors.PortInUseError, match=f"port {p} on 127.0.0.1"):
                embedded.start(quiet=True)
            log = (home / ".jobsdb" / "data" / "server.log").read_text()
            assert "could not create any TCP/IP sockets" in log
        finally:
            embedded.base_dir.cache_clear()


@EMBEDDED_ONLY
def test_embedded_remembers_its_port_and_read_only_commands_start_nothing(home: Path) -> None:
    env: dict[str, str | None] = {"JOBSDB_HOME": str(home), "DATABASE_URL": None,
                                  "JOBSDB_PORT": None}
    # read-only commands on a database that is not there: an error, nothing created
    r = jobsdb("migrate", "status", env=env)
    assert "embedded database is not running" in one_error_line(r, errors.NOT_RUNNING)
    r = jobsdb("db", "status", env=env)
    assert r.returncode == errors.NOT_RUNNING and "not running" in r.stdout
    assert "127.0.0.1:55322" in r.stdout  # the documented default
    assert not (home / ".jobsdb").exists()

    p = free_port()
    r = jobsdb("db", "start", env={**env, "JOBSDB_PORT": str(p)})
    assert r.returncode == 0, r.stderr
    assert f"starting the embedded database: {home}" in r.stderr and f":{p}" in r.stderr
    for port_env in (None, str(free_port())):  # unset, or naming another port
        r = jobsdb("db", "status", env={**env, "JOBSDB_PORT": port_env})
        assert (r.returncode, r.stdout.strip().endswith(f"on 127.0.0.1:{p}")) == (0, True)
        r = jobsdb("db", "url", env={**env, "JOBSDB_PORT": port_env})
        assert r.stdout.strip() == f"postgresql://postgres@127.0.0.1:{p}/postgres"
    r = jobsdb("db", "start", env={**env, "JOBSDB_PORT": str(p + 1)})
    assert f"already runs on port {p}" in one_error_line(r, errors.USAGE)
    # migrate status is read-only: it must not create the history table
    r = jobsdb("migrate", "status", env=env)
    assert r.returncode == 1 and "pending" in r.stdout, r.stderr
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{p}/postgres") as c:
        assert c.execute("select to_regnamespace('supabase_migrations')").fetchone() == (None,)
    r = jobsdb("db", "stop", env=env)
    assert r.returncode == 0 and f"127.0.0.1:{p}" in r.stderr
    r = jobsdb("db", "status", env=env)
    assert r.returncode == errors.NOT_RUNNING and f"127.0.0.1:{p}" in r.stdout  # remembered
    r = jobsdb("db", "start", env=env)
    assert r.returncode == 0 and f"127.0.0.1:{p}" in r.stderr
