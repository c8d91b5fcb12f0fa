"""The embedded, throw-away PostgreSQL 15 cluster used when DATABASE_URL is not set.

The cluster lives in <repo>/.jobsdb/ (git-ignored), listens on 127.0.0.1 over TCP only and
trusts local connections. Its port: $JOBSDB_PORT at `start`, else the port it last ran on
(remembered in .jobsdb/port), else 55322 (Supabase's local database is 54322 and its other
services 54320-54329, so both run side by side). While it runs, every command uses the port it
really listens on (from postmaster.pid), whatever JOBSDB_PORT says.
PostgreSQL refuses to run as root, so when we are root the server runs as the OS user
`postgres`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jobsdb.errors import (
    NOT_RUNNING,
    SETUP,
    PortInUseError,
    SetupError,
    UsageError,
    UserError,
    one_line,
)
from jobsdb.paths import home_dir
from jobsdb.urls import url_for_db

__all__ = ["url_for_db"]  # re-exported: older imports take it from here

DEFAULT_PORT = 55322
SUPERUSER = "supabase_admin"
OWNER = "postgres"
RUN_AS = "postgres"
PG_MAJOR = "15"

SERVER_CONF = """
# --- jobsdb embedded cluster: throw-away, tuned for tests ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = logical
max_connections = 200
max_replication_slots = 10
max_wal_senders = 10
shared_buffers = 256MB
logging_collector = off
"""


class EmbeddedError(UserError):
    """A problem with the embedded cluster, with a message that says what to do."""

    exit_code = SETUP


def env_port() -> int | None:
    """$JOBSDB_PORT as a number, None when unset; UsageError when it is not a port."""
    raw = os.environ.get("JOBSDB_PORT", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise UsageError(f"JOBSDB_PORT={raw!r} is not a port number 1-65535: set e.g."
                         f" JOBSDB_PORT={DEFAULT_PORT}, or unset it")
    return int(raw)


def _port_file() -> Path:
    return base_dir() / "port"


def stored_port() -> int | None:
    """The port the cluster last started on (.jobsdb/port), if any."""
    try:
        raw = _port_file().read_text().strip()
    except OSError:
        return None
    return int(raw) if raw.isdigit() else None


def running_port() -> int | None:
    """The port the running server listens on (line 4 of postmaster.pid), None if not running."""
    try:
        lines = (data_dir() / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return None
    if not Path(f"/proc/{pid}").exists():
        return None
    try:
        return int(lines[3])
    except (ValueError, IndexError):
        return None


def port() -> int:
    """The real port while running; else $JOBSDB_PORT, the remembered port, or the default."""
    return running_port() or env_port() or stored_port() or DEFAULT_PORT


def port_is_free(p: int) -> bool:
    """Whether 127.0.0.1:p can be bound the way PostgreSQL binds it (SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
    return True


def _port_taken(p: int) -> PortInUseError:
    return PortInUseError(
        f"port {p} on 127.0.0.1 is already in use by another program: start the embedded"
        f" database on a free port with `JOBSDB_PORT=<port> jobsdb db start` (it is remembered)"
    )


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def bindir() -> Path:
    """The directory holding PostgreSQL 15's initdb/pg_ctl/postgres/pg_dump/psql."""
    candidates: list[Path] = []
    env = os.environ.get("JOBSDB_PG_BINDIR")
    if env:
        candidates.append(Path(env))
    candidates.append(Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.CalledProcessError):
            pass
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    raise SetupError(
        "PostgreSQL 15 server binaries (initdb, pg_ctl) not found in PATH, "
        f"/usr/lib/postgresql/{PG_MAJOR}/bin or `pg_config --bindir`: install them with"
        f" `apt-get install postgresql-{PG_MAJOR}` (or set JOBSDB_PG_BINDIR), or set"
        " DATABASE_URL to use an existing server"
    )


def find_bin(name: str) -> str:
    """Path of a PostgreSQL client program (psql, pg_dump), preferring version 15's."""
    try:
        p = bindir() / name
        if p.is_file():
            return str(p)
    except SetupError:
        pass
    found = shutil.which(name)
    if not found:
        raise SetupError(f"{name} not found: `apt-get install postgresql-client-{PG_MAJOR}`")
    return found


def _can_reach(path: Path) -> bool:
    """Whether the server's OS user can traverse into `path`."""
    if not _is_root():
        return True
    r = subprocess.run(
        ["runuser", "-u", RUN_AS, "--", "test", "-x", str(path)], capture_output=True
    )
    return r.returncode == 0


@functools.cache
def base_dir() -> Path:
    """The cluster's home: <repo>/.jobsdb, or a temp dir when the server's user can't reach it."""
    root = home_dir()
    home = root / ".jobsdb"
    if _can_reach(root):
        return home
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    alt = Path(tempfile.gettempdir()) / f"jobsdb-{digest}"
    print(f"note: OS user {RUN_AS!r} cannot reach {root}; using {alt} for the embedded cluster",
          file=sys.stderr)
    return alt


def data_dir() -> Path:
    return base_dir() / "data"


def _cmd(args: list[str]) -> list[str]:
    if _is_root():
        return ["runuser", "-u", RUN_AS, "--", *args]
    return args


def _run(args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(_cmd(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise EmbeddedError(f"{Path(args[0]).name} failed: {one_line(r.stderr or r.stdout)}",
                            detail=f"{' '.join(args)}\n{r.stdout}{r.stderr}")
    return r


def _url(user: str) -> str:
    return f"postgresql://{user}@127.0.0.1:{port()}/postgres"


def embedded_owner_url() -> str:
    return _url(OWNER)


def embedded_superuser_url() -> str:
    return _url(SUPERUSER)


def owner_url() -> str:
    """URL of the owner role that runs migrations: DATABASE_URL, else the embedded cluster's."""
    return os.environ.get("DATABASE_URL") or embedded_owner_url()


def superuser_url() -> str | None:
    """A superuser URL if we have one (embedded cluster, or SUPERUSER_DATABASE_URL)."""
    if os.environ.get("DATABASE_URL"):
        return os.environ.get("SUPERUSER_DATABASE_URL") or None
    return embedded_superuser_url()


def _initdb() -> None:
    base = base_dir()
    data = base / "data"
    base.mkdir(parents=True, exist_ok=True)
    if _is_root():
        shutil.chown(base, RUN_AS, RUN_AS)
        base.chmod(0o700)
    _run(
        [
            str(bindir() / "initdb"),
            "-D", str(data),
            "-U", SUPERUSER,
            "--auth=trust",
            "--no-sync",
            "-E", "UTF8",
            "--locale=C",
        ]
    )
    conf = data / "postgresql.conf"
    with conf.open("a") as f:
        f.write(SERVER_CONF)


def is_running() -> bool:
    data = data_dir()
    if not (data / "PG_VERSION").exists():
        return False
    r = _run([str(bindir() / "pg_ctl"), "status", "-D", str(data)], check=False)
    return r.returncode == 0


def _wait_ready(timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(embedded_superuser_url(), connect_timeout=2) as conn:
                conn.execute("select 1")
                return
        except psycopg.OperationalError as e:
            last = e
            time.sleep(0.2)
    raise EmbeddedError(f"embedded PostgreSQL did not become ready on port {port()}:"
                        f" {one_line(str(last))}; see {data_dir() / 'server.log'}")


def start(quiet: bool = False) -> str:
    """Start (or reuse) the embedded cluster, apply the Supabase shim; return the owner URL."""
    if os.environ.get("DATABASE_URL"):
        raise UsageError("DATABASE_URL is set, so the embedded database is not used:"
                         " unset DATABASE_URL to start it")
    asked = env_port()
    current = running_port()
    if current and asked and asked != current:
        raise UsageError(
            f"the embedded database already runs on port {current}, not JOBSDB_PORT={asked}:"
            f" `jobsdb db stop` first to move it, or unset JOBSDB_PORT"
        )
    data = data_dir()
    if not current:
        p = asked or stored_port() or DEFAULT_PORT
        if not port_is_free(p):
            raise _port_taken(p)
        # names what it changes before changing it
        print(f"starting the embedded database: {data} on 127.0.0.1:{p}", file=sys.stderr)
        if not (data / "PG_VERSION").exists():
            _initdb()
        _start_server(data, p)
        _port_file().write_text(f"{p}\n")
    elif not quiet:
        print(f"embedded database already running: {data} on 127.0.0.1:{current}",
              file=sys.stderr)
    _wait_ready()
    from jobsdb.shim import apply_shim

    apply_shim(embedded_superuser_url(), "postgres", auto_grants=None, quiet=quiet)
    sweep_stale_databases(quiet=quiet)
    return embedded_owner_url()


def _preload() -> str:
    """Server options loading pg_stat_statements when its library is installed (Supabase loads
    it too): the hot-path tests count the statements each call runs with it, and skip without
    it. Given at every start, so a cluster made before this also gets it once restarted."""
    lib = bindir().parent / "lib" / "pg_stat_statements.so"
    return " -c shared_preload_libraries=pg_stat_statements" if lib.is_file() else ""


def _start_server(data: Path, p: int) -> None:
    log = data / "server.log"
    r = _run(
        [str(bindir() / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-l", str(log),
         "-o", f"-p {p}{_preload()}"],
        check=False,
    )
    if r.returncode == 0:
        return
    try:
        tail = "\n".join(log.read_text().splitlines()[-20:])
    except OSError:
        tail = ""
    if "could not create any TCP/IP sockets" in tail or "Address already in use" in tail:
        raise _port_taken(p)
    last = next((ln for ln in reversed(tail.splitlines()) if "FATAL" in ln), "")
    raise EmbeddedError(
        f"the embedded database did not start on port {p}: {one_line(last or r.stderr)};"
        f" see {log}",
        detail=f"{r.stdout}{r.stderr}\n{tail}",
    )


STALE_DB = re.compile(r"^jobsdb_(?:tpl|t|drift)_(\d+)_")


def sweep_stale_databases(quiet: bool = True) -> list[str]:
    """Drop test databases (jobsdb_tpl_<pid>_..., jobsdb_t_<pid>_...) left behind by runs that
    were killed: their process no longer exists. Embedded cluster only (pids are local)."""
    import psycopg
    from psycopg import sql

    dropped = []
    with psycopg.connect(embedded_superuser_url(), autocommit=True) as conn:
        names = [r[0] for r in conn.execute("select datname from pg_database")]
        for name in names:
            m = STALE_DB.match(name)
            if not m or Path(f"/proc/{m.group(1)}").exists():
                continue
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (name,),
            )
            conn.execute(
                sql.SQL("alter database {} is_template false").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
            dropped.append(name)
    if dropped and not quiet:
        print(f"dropped {len(dropped)} database(s) left by killed test runs", file=sys.stderr)
    return dropped


def stop(quiet: bool = False) -> None:
    if os.environ.get("DATABASE_URL"):
        raise UsageError("DATABASE_URL is set, so the embedded database is not used:"
                         " unset DATABASE_URL to stop it")
    if not is_running():
        if not quiet:
            print("embedded database is not running", file=sys.stderr)
        return
    p = port()
    print(f"stopping the embedded database: {data_dir()} on 127.0.0.1:{p}", file=sys.stderr)
    _run([str(bindir() / "pg_ctl"), "stop", "-D", str(data_dir()), "-m", "fast", "-w"])


def status() -> int:
    """Print whether it runs, where and on which port; 0 running, 3 not running. Read-only."""
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set; the embedded database is not used")
        return 0
    p = running_port()
    if p:
        print(f"running: {data_dir()} on 127.0.0.1:{p}")
        return 0
    print(f"not running: {data_dir()} (it would start on 127.0.0.1:{port()})")
    return NOT_RUNNING


def require_running() -> None:
    """For read-only commands: an error, not a start, when the embedded database is down."""
    if os.environ.get("DATABASE_URL") or running_port():
        return
    from jobsdb.errors import NotRunningError

    raise NotRunningError(
        f"the embedded database is not running (its data: {data_dir()}): start it with"
        " `jobsdb db start`, or set DATABASE_URL to use another server"
    )
