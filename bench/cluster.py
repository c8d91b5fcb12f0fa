"""The bench's own throw-away cluster: initdb/pg_ctl called the way jobsdb.embedded does (as OS
user postgres when root, TCP only, trust auth), but in its own data dir, on its own port, with
settings tuned for throughput, and stopped and removed at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from jobsdb.embedded import RUN_AS, SUPERUSER, bindir

DEFAULT_PORT = 54330

# Durable and synchronous, as a Supabase database runs (and as the anchor figures the targets
# started from were measured). The "async commit" rows repeat jobsdb and the raw baseline per
# connection with synchronous_commit = off: without the flush wait, they show the CPU cost of
# each design.
SERVER_CONF = """
# --- jobsdb bench cluster: throw-away, tuned for queue throughput ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 60
shared_buffers = 512MB
work_mem = 16MB
maintenance_work_mem = 256MB
effective_cache_size = 2GB
random_page_cost = 1.1
fsync = on
synchronous_commit = on
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
checkpoint_timeout = 30min
autovacuum_naptime = 10s
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
logging_collector = off
"""


def _is_root() -> bool:
    return os.geteuid() == 0


def _cmd(args: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *args] if _is_root() else args


class Cluster:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or int(os.environ.get("BENCH_PORT", DEFAULT_PORT))
        self.base = Path(tempfile.gettempdir()) / f"jobsdb-bench-{self.port}"
        self.data = self.base / "data"
        self.log = self.base / "server.log"

    @property
    def superuser_url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _run(self, args: list[str]) -> None:
        r = subprocess.run(_cmd(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{r.stdout}{r.stderr}")

    def start(self) -> str:
        self.stop(quiet=True)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        if _is_root():
            shutil.chown(self.base, RUN_AS, RUN_AS)
        self.base.chmod(0o700)
        self._run([str(bindir() / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                   "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"])
        with (self.data / "postgresql.conf").open("a") as f:
            f.write(SERVER_CONF)
        self._run([str(bindir() / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                   "-l", str(self.log), "-o", f"-p {self.port}"])
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.superuser_url, connect_timeout=2) as c:
                    c.execute("select 1")
                return self.superuser_url
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self, quiet: bool = False) -> None:
        if not (self.data / "PG_VERSION").exists():
            return
        subprocess.run(_cmd([str(bindir() / "pg_ctl"), "stop", "-D", str(self.data), "-m",
                             "fast", "-w"]), capture_output=True, text=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
