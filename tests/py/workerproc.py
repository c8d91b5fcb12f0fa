"""Helpers for the tests that run the real `jobsdb worker` command as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from jobsdb.postgrest import as_user, rpc

TARGET = "jobsdb.examples:render"


def jobsdb_command() -> list[str]:
    script = Path(sys.executable).parent / "jobsdb"
    return [str(script)] if script.exists() else [sys.executable, "-m", "jobsdb.cli"]


def make_user(url: str) -> str:
    uid = str(uuid.uuid4())
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "insert into auth.users (id, email, created_at, raw_app_meta_data)"
            " values (%s, %s, now(), '{\"provider\": \"email\"}')",
            (uid, f"w-{uid[:8]}@example.invalid"),
        )
        c.execute("insert into public.profiles (id) values (%s)", (uid,))
    return uid


def fast_retries(url: str) -> None:
    """Retry backoff 0 s so that a retried job is claimable at once (seconds-long tests)."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("update jobs_private.settings set retry_base_seconds = 0, retry_max_seconds = 0")


def queue(url: str, user: str, n: int, job_type: str = "sdxl_image_fast",
          **meta: Any) -> list[str]:
    ids = []
    with psycopg.connect(url, autocommit=True) as c:
        for i in range(n):
            res = rpc(c, "queue_job", {"job_type": job_type, "prompt": f"job {i}",
                                       "metadata": meta}, claims=as_user(user))
            ids += [j["id"] for j in res["jobs"]]
    return ids


def states(url: str, ids: list[str]) -> dict[str, tuple[str, int]]:
    with psycopg.connect(url) as c:
        rows = c.execute("select id::text, status, attempts from public.jobs"
                         " where id = any(%s::uuid[])", (ids,)).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def assets_per_job(url: str, ids: list[str]) -> dict[str, int]:
    with psycopg.connect(url) as c:
        rows = c.execute("select job_id::text, count(*) from public.images_videos"
                         " where job_id = any(%s::uuid[]) group by 1", (ids,)).fetchall()
    return {r[0]: r[1] for r in rows}


def wait_for(pred: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class WorkerProc:
    """`jobsdb worker POOL TARGET --log-json ...` with its JSON log collected from a file."""

    def __init__(self, url: str, *args: str, pool: str = "sdxl", target: str = TARGET) -> None:
        self.log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="jobsdb-worker-", suffix=".log", delete=False)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)
        cmd = [*jobsdb_command(), "worker", pool, target, "--url", url, "--log-json",
               "--lease-seconds", "10", "--heartbeat", "1", "--poll", "0.5", *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log_file,
                                     env=env, start_new_session=True)

    def events(self) -> list[dict[str, Any]]:
        out = []
        for line in Path(self.log_file.name).read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                out.append({"event": "non_json", "line": line})
        return out

    def count(self, event: str) -> int:
        return sum(1 for e in self.events() if e.get("event") == event)

    def wait_event(self, event: str, n: int = 1, timeout: float = 30.0) -> None:
        wait_for(lambda: self.count(event) >= n or self.proc.poll() is not None, timeout,
                 f"{n} x {event}")
        assert self.count(event) >= n, f"worker exited {self.proc.returncode}:\n{self.text()}"

    def text(self) -> str:
        return Path(self.log_file.name).read_text()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log_file.close()
        os.unlink(self.log_file.name)
        return self.proc.returncode
