"""The embedded, throw-away PostgreSQL 15 cluster used when DATABASE_URL is not set.

The cluster lives in <repo>/.jobsdb/ (git-ignored), listens on 127.0.0.1:$JOBSDB_PORT
(default 54322, like Supabase's local database) over TCP only, and trusts local connections.
PostgreSQL refuses to run as root, so when we are root the server runs as the OS user
`postgres`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from jobsdb.paths import repo_root

DEFAULT_PORT = 54322
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


class EmbeddedError(RuntimeError):
    """A problem with the embedded cluster, with a message that says what to do."""


def port() -> int:
    return int(os.environ.get("JOBSDB_PORT", DEFAULT_PORT))


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
    raise EmbeddedError(
        "PostgreSQL 15 server binaries (initdb, pg_ctl) not found in PATH, "
        f"/usr/lib/postgresql/{PG_MAJOR}/bin or `pg_config --bindir`. Install them with:\n"
        f"    apt-get install postgresql-{PG_MAJOR}\n"
        "or set DATABASE_URL to use an existing server."
    )


def find_bin(name: str) -> str:
    """Path of a PostgreSQL client program (psql, pg_dump), preferring version 15's."""
    try:
        p = bindir() / name
        if p.is_file():
            return str(p)
    except EmbeddedError:
        pass
    found = shutil.which(name)
    if not found:
        raise EmbeddedError(f"{name} not found: apt-get install postgresql-client-{PG_MAJOR}")
    return found


def _can_reach(path: Path) -> bool:
    """Whether the server's OS user can traverse into `path`."""
    if not _is_root():
        return True
    r = subprocess.run(
        ["runuser", "-u", RUN_AS, "--", "test", "-x", str(path)], capture_output=True
    )
    return r.returncode == 0


def base_dir() -> Path:
    """The cluster's home: <repo>/.jobsdb, or a temp dir when the server's user can't reach it."""
    root = repo_root()
    home = root / ".jobsdb"
    if _can_reach(root):
        return home
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    alt = Path(tempfile.gettempdir()) / f"jobsdb-{digest}"
    if not getattr(base_dir, "_warned", False):
        print(
            f"note: OS user {RUN_AS!r} cannot reach {root}; using {alt} for the embedded cluster",
            file=sys.stderr,
        )
        base_dir._warned = True  # type: ignore[attr-defined]
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
        raise EmbeddedError(f"{' '.join(args)} failed:\n{r.stdout}{r.stderr}")
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


def url_for_db(url: str, dbname: str) -> str:
    """The same URL pointing at another database (works for URLs and key=value strings)."""
    if "://" in url:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
    from psycopg.conninfo import make_conninfo

    return make_conninfo(url, dbname=dbname)


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
    raise EmbeddedError(f"embedded PostgreSQL did not become ready on port {port()}: {last}")


def start(quiet: bool = False) -> str:
    """Start (or reuse) the embedded cluster, apply the Supabase shim; return the owner URL."""
    if os.environ.get("DATABASE_URL"):
        raise EmbeddedError("DATABASE_URL is set: the embedded database is not used")
    data = data_dir()
    if not (data / "PG_VERSION").exists():
        if not quiet:
            print(f"initialising embedded PostgreSQL cluster in {data}", file=sys.stderr)
        _initdb()
    if not is_running():
        log = data / "server.log"
        r = _run(
            [
                str(bindir() / "pg_ctl"),
                "start", "-w", "-t", "60",
                "-D", str(data),
                "-l", str(log),
                "-o", f"-p {port()}",
            ],
            check=False,
        )
        if r.returncode != 0:
            tail = ""
            try:
                tail = "\n".join(log.read_text().splitlines()[-20:])
            except OSError:
                pass
            raise EmbeddedError(
                f"could not start embedded PostgreSQL on port {port()} "
                f"(is the port in use? set JOBSDB_PORT):\n{r.stdout}{r.stderr}\n{tail}"
            )
        if not quiet:
            print(f"started embedded PostgreSQL on 127.0.0.1:{port()}", file=sys.stderr)
    elif not quiet:
        print(f"embedded PostgreSQL already running on 127.0.0.1:{port()}", file=sys.stderr)
    _wait_ready()
    from jobsdb.shim import apply_shim

    apply_shim(embedded_superuser_url(), "postgres", auto_grants=None, quiet=quiet)
    sweep_stale_databases(quiet=quiet)
    return embedded_owner_url()


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
        raise EmbeddedError("DATABASE_URL is set: the embedded database is not used")
    if not is_running():
        if not quiet:
            print("embedded PostgreSQL is not running", file=sys.stderr)
        return
    _run([str(bindir() / "pg_ctl"), "stop", "-D", str(data_dir()), "-m", "fast", "-w"])
    if not quiet:
        print("stopped embedded PostgreSQL", file=sys.stderr)


def status() -> int:
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set; the embedded database is not used")
        return 0
    if is_running():
        print(f"running: {data_dir()} on 127.0.0.1:{port()}")
        return 0
    print(f"not running ({data_dir()})")
    return 3
