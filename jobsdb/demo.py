"""`jobsdb demo`: the whole job pipeline at work, in a database of its own.

It never touches existing data: on the embedded cluster it (re)creates the database
`jobsdb_demo`; with DATABASE_URL it creates a scratch database `jobsdb_demo_<random>` on that
server and drops it afterwards, or refuses in one line when it may not create databases. So its
workers can only claim the jobs it queued.

Two users queue jobs through queue_job the way the queue-job edge function does (PostgREST
call with the user's JWT). Three `jobsdb worker` processes (the real command) run them with
the example callable jobsdb.examples:render: one sdxl worker, two wan workers. One job
fails once and is retried; one wan worker is killed (SIGKILL) mid-job, its lease expires and
the other wan worker, pg_cron being absent, rescues it and runs it again; at the end both
workers get SIGTERM while one job runs: it is handed back with its attempt unspent. Ends with
the job states and system_metrics.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from jobsdb import embedded, package_migrate, queries
from jobsdb.embedded import url_for_db
from jobsdb.postgrest import as_user, rpc
from jobsdb.shim import apply_shim

LEASE_SECONDS = 10  # the shortest lease claim_jobs accepts, so the rescue happens quickly
EMBEDDED_DB = "jobsdb_demo"
Q = queries.load("demo.sql")
SHOWN = {  # worker log events the demo prints, with the fields it shows
    "ready": ("slots",), "job_started": ("job_id", "job_type", "attempt"),
    "job_error": ("job_id", "error"), "job_reported": ("job_id", "result"),
    "rescue_schedule": ("by",), "rescued_expired_jobs": ("requeued", "failed"),
    "stopping": ("signal", "running"), "job_released": ("job_id", "state"),
    "stopped": ("completed", "failed", "requeued", "released"),
}


def _say(msg: str) -> None:
    print(msg, flush=True)


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> None:
    cells = [tuple(str(c) for c in r) for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, r in enumerate(cells):
        _say("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if n == 0:
            _say("  " + "  ".join("-" * w for w in widths))


class DemoRefused(Exception):  # noqa: N818
    """The demo cannot get a database of its own: one line, exit 1."""


class WorkerCommand:
    """A `jobsdb worker` subprocess whose JSON log lines are shown in short form."""

    def __init__(self, url: str, pool: str, name: str, *extra: str) -> None:
        self.name = name
        self.started = threading.Event()
        cmd = [sys.executable, "-m", "jobsdb.cli", "worker", pool,
               "jobsdb.examples:render", "--url", url, "--worker-id", name,
               "--lease-seconds", str(LEASE_SECONDS), "--heartbeat", "2", "--poll", "1",
               "--rescue-every", "2", "--grace", "5", "--log-json", *extra]
        _say(f"  $ jobsdb worker {pool} jobsdb.examples:render --worker-id {name} "
             + " ".join(a for a in extra))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                _say(f"    [{self.name}] {line.rstrip()}")
                continue
            if e.get("event") == "job_started":
                self.started.set()
            if e.get("event") in SHOWN:
                # whole job ids: they start with a creation counter (00000000-0004-...)
                fields = " ".join(f"{k}={e[k]}" for k in SHOWN[e["event"]] if k in e)
                _say(f"    [{self.name}] {e['event']} {fields}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(60)
        self.reader.join(5)
        return code


class Demo:
    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)
        self.conn.execute(Q["fast_retries"])
        tag = uuid.uuid4().hex[:6]
        self.users = {
            name: self.conn.execute(
                Q["create_user"], {"email": f"{name}-{tag}@example.invalid", "admin": admin}
            ).fetchone()[0]
            for name, admin in (("alice", False), ("bob", False), ("admin", True))
        }

    def queue(self, user: str, **body: Any) -> dict[str, Any]:
        res = rpc(self.conn, "queue_job", body, claims=as_user(self.users[user]))
        jobs = res["jobs"]
        _say(f"  {user:5} queue_job({body['job_type']}, num_images={len(jobs)})"
             f" -> {len(jobs)} job(s) for pool {jobs[0]['worker_pool']}")
        return res

    def counts(self) -> tuple[int, ...]:
        users = [self.users["alice"], self.users["bob"]]
        return tuple(self.conn.execute(Q["counts"], {"users": users}).fetchone())

    def run(self) -> int:
        _say("\n== two users queue jobs (queue_job, called as PostgREST does with their JWT)")
        self.queue("alice", job_type="sdxl_image_fast", prompt="a red fox, 1x3 set",
                   num_images=3, metadata={"fake_seconds": 0.5})
        self.queue("alice", job_type="video_fast", prompt="waves at dusk",
                   metadata={"fake_seconds": 30})
        self.queue("bob", job_type="sdxl_image_high", prompt="a lighthouse (fails once)",
                   metadata={"fake_fail": "once"})
        self.queue("bob", job_type="image_fast", prompt="a glass teapot",
                   metadata={"fake_seconds": 1})

        _say("\n== workers: the `jobsdb worker` command, one process per pool and host")
        sdxl = WorkerCommand(self.url, "sdxl", "sdxl-1", "--concurrency", "2")
        wan1 = WorkerCommand(self.url, "wan", "wan-1")
        if not wan1.started.wait(60):
            _say("  wan-1 never started a job")
            return 1
        time.sleep(1.0)
        _say(f"  wan-1 is killed (SIGKILL) mid-job; its lease ends within {LEASE_SECONDS}s")
        wan1.stop(signal.SIGKILL)
        with self.conn.cursor() as cur:  # the 30 s video runs 1 s when it runs again
            cur.execute("update public.jobs set metadata = metadata || '{\"fake_seconds\": 1}'"
                        " where job_type = 'video_fast' and user_id = %s",
                        (self.users["alice"],))
        wan2 = WorkerCommand(self.url, "wan", "wan-2")

        started, last = time.monotonic(), (-1,)
        while time.monotonic() - started < 90:
            c = self.counts()
            if c != last:
                _say(f"  [{time.monotonic() - started:5.1f}s] queued {c[0]}  processing {c[1]}"
                     f"  completed {c[2]}  failed {c[3]}")
                last = c
            if c[0] == c[1] == 0:
                break
            time.sleep(0.5)
        else:
            _say("  gave up waiting after 90 s")
        _say("\n== SIGTERM mid-job: the workers stop claiming, let running jobs finish for"
             " --grace 5 s, hand back the rest (release_jobs: the attempt is not spent), exit")
        late = self.queue("bob", job_type="image_fast", prompt="a slow teapot",
                          metadata={"fake_seconds": 60})["jobs"][0]["id"]
        deadline = time.monotonic() + 30
        while self.job_status(late) != "processing" and time.monotonic() < deadline:
            time.sleep(0.2)
        codes = {w.name: w.stop() for w in (sdxl, wan2)}
        _say(f"  exit codes: {codes} (0 = stopped cleanly)")

        _say("\n== job states")
        users = [self.users["alice"], self.users["bob"]]
        rows = self.conn.execute(Q["job_states"], {"users": users}).fetchall()
        _table([(e.split("-")[0], *rest) for e, *rest in rows],
               ("user", "job_type", "pool", "status", "attempts", "output or error"))

        _say("\n== system_metrics (as the admin)")
        m = rpc(self.conn, "system_metrics", {}, claims=as_user(self.users["admin"]))
        _table([(t["job_type"], t["completed"], t["failed"], t["retry_rate"], t["p50_run_seconds"])
                for t in m["job_types"]],
               ("job_type", "completed", "failed", "retry_rate", "p50_run_s"))
        released = self.job_status(late) == "queued"
        _say(f"\n  the slow teapot is queued again, attempt not spent: {released}")
        return 0 if last[:2] == (0, 0) and set(codes.values()) == {0} and released else 1

    def job_status(self, job_id: str) -> str:
        return str(self.conn.execute("select status from public.jobs where id = %s",
                                     (job_id,)).fetchone()[0])


def _create_database(server_url: str, name: str, replace: bool) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        if replace:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege as e:
            raise DemoRefused(
                "the demo runs only in a database of its own, and this role may not create "
                "one (CREATEDB); nothing was changed") from e


def _drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


def main(url: str | None = None, root: Path | None = None) -> int:
    """Run the demo in its own database on the server of `url` (default: DATABASE_URL, else
    the embedded cluster). Returns the exit code."""
    external = url is not None or bool(os.environ.get("DATABASE_URL"))
    server_url = url or embedded.owner_url()
    name = f"jobsdb_demo_{secrets.token_hex(4)}" if external else EMBEDDED_DB
    try:
        _create_database(server_url, name, replace=not external)
    except DemoRefused as e:
        print(f"demo refused: {e}", file=sys.stderr)
        return 1
    demo_url = url_for_db(server_url, name)
    try:
        _say(f"== a database of its own: {name} (Supabase shim, then jobsdb's newest release)")
        superuser = embedded.superuser_url() if url is None else None
        apply_shim(url_for_db(superuser or server_url, "postgres"), name, quiet=True)
        package_migrate.up(demo_url, rdir=root / "releases" if root else None,
                           mdir=root / "migrations" if root else None, out=lambda s: None)
        return Demo(demo_url).run()
    except psycopg.Error as e:
        print(f"demo failed: {str(e).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        if external:
            _drop_database(server_url, name)
            _say(f"\n== dropped {name}: the server is as it was")
        else:
            _say(f"\n== the demo's database stays for a look: psql -d {name} (next run "
                 "recreates it)")
