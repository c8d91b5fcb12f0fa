"""`jobsdb demo`: the whole job pipeline at work on the database (embedded by default).

Two users queue jobs through queue_job the way the queue-job edge function does (PostgREST
call with the user's JWT); an sdxl worker and two wan workers process them. One sdxl job fails
once and is retried after its backoff; one wan worker is killed mid-job, its lease expires,
rescue_expired_jobs (pg_cron's job) requeues it, the other wan worker completes it, and the
dead worker's late callback is refused as stale. Ends with the job states and system_metrics.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from jobsdb import migrate, queries
from jobsdb.embedded import owner_url
from jobsdb.paths import repo_root
from jobsdb.postgrest import as_user, rpc
from jobsdb.worker import ClaimedJob, Worker

LEASE_SECONDS = 10  # the shortest lease claim_jobs accepts, so the rescue happens quickly
FAIL_ONCE = "a lighthouse in a storm (fails once)"
Q = queries.load("demo.sql")


def _say(msg: str) -> None:
    print(msg, flush=True)


def _table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> None:
    cells = [tuple(str(c) for c in r) for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for n, r in enumerate(cells):
        _say("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if n == 0:
            _say("  " + "  ".join("-" * w for w in widths))


def _asset(job: ClaimedJob) -> list[dict[str, Any]]:
    kind = "video" if job.job_type.startswith(("video", "wan_video")) else "image"
    ext = "mp4" if kind == "video" else "png"
    path = f"{job.user_id}/{job.job_id}.{ext}"
    return [{"type": kind, "url": path, "thumbnail_url": f"{path}.thumb.png"}]


class Demo:
    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg.connect(url, autocommit=True)
        tag = uuid.uuid4().hex[:6]
        self.users = {
            name: self.conn.execute(
                Q["create_user"], {"email": f"{name}-{tag}@example.invalid", "admin": admin}
            ).fetchone()[0]
            for name, admin in (("alice", False), ("bob", False), ("admin", True))
        }
        self.failed_once: set[str] = set()

    def queue(self, user: str, **body: Any) -> dict[str, Any]:
        res = rpc(self.conn, "queue_job", body, claims=as_user(self.users[user]))
        jobs = res["jobs"]
        _say(f"  {user:5} queue_job({body['job_type']}, num_images={len(jobs)})"
             f" -> {len(jobs)} job(s) for pool {jobs[0]['worker_pool']}, group {res['group_id']}")
        return res

    def progress(self, started: float, note: str = "") -> tuple[int, ...]:
        users = [self.users["alice"], self.users["bob"]]
        c = self.conn.execute(Q["counts"], {"users": users}).fetchone()
        line = (f"  [{time.monotonic() - started:5.1f}s] queued {c[0]}  processing {c[1]}"
                f"  completed {c[2]}  failed {c[3]}  {note}")
        _say(line)
        return tuple(c)

    def work(self, worker: Worker) -> str:
        """One step of a worker: claim one job and report on it. Returns what happened."""
        jobs = worker.claim(1)
        if not jobs:
            return ""
        job = jobs[0]
        if job.prompt == FAIL_ONCE and job.job_id not in self.failed_once:
            self.failed_once.add(job.job_id)
            res = worker.fail(job, "CUDA out of memory (demo)", retryable=True)
            return f"{worker.worker_id}: attempt {job.attempt} failed -> {res['result']}"
        res = worker.complete(job, _asset(job), metadata={"enhancement_time_ms": 42})
        return f"{worker.worker_id}: {job.job_type} attempt {job.attempt} -> {res['result']}"

    def run(self) -> int:
        _say("\n== two users queue jobs (queue_job, called as PostgREST does with their JWT)")
        self.queue("alice", job_type="sdxl_image_fast", prompt="a red fox, 1x3 set", num_images=3)
        self.queue("alice", job_type="video_fast", prompt="waves at dusk")
        self.queue("bob", job_type="sdxl_image_high", prompt=FAIL_ONCE)
        self.queue("bob", job_type="image_fast", prompt="a glass teapot")
        body = {"job_type": "image_fast", "prompt": "retried request", "idempotency_key": "k1"}
        dup = rpc(self.conn, "queue_job", body, claims=as_user(self.users["bob"]))
        again = rpc(self.conn, "queue_job", body, claims=as_user(self.users["bob"]))
        _say(f"  bob   same idempotency key twice -> same group: "
             f"{dup['group_id'] == again['group_id']}, deduplicated={again['deduplicated']}")

        _say("\n== workers: sdxl-1 (pool sdxl), wan-1 and wan-2 (pool wan)")
        sdxl = Worker(self.url, "sdxl", "sdxl-1", lease_seconds=LEASE_SECONDS)
        wan1 = Worker(self.url, "wan", "wan-1", lease_seconds=LEASE_SECONDS)
        wan2 = Worker(self.url, "wan", "wan-2", lease_seconds=LEASE_SECONDS)
        doomed = wan1.claim(1)[0]
        _say(f"  wan-1 claimed {doomed.job_type} {doomed.job_id} and is killed mid-job"
             f" (pg_terminate_backend); its lease ends in {LEASE_SECONDS}s")
        self.conn.execute(Q["terminate_backend"], {"pid": wan1.backend_pid})

        started, deadline = time.monotonic(), time.monotonic() + 120
        last = 0.0
        while time.monotonic() < deadline:
            notes = [n for n in (self.work(sdxl), self.work(wan2)) if n]
            rescued = rpc(self.conn, "rescue_expired_jobs", {}, role="service_role")
            if rescued["requeued"] or rescued["failed"]:
                notes.append(f"rescue_expired_jobs (pg_cron's job): {rescued}")
            if notes or time.monotonic() - last >= 2:
                counts = self.progress(started, "; ".join(notes))
                last = time.monotonic()
                if counts[0] == counts[1] == 0:
                    break
            if not notes:
                sdxl.wait_for_work(0.5)
        else:
            _say("  gave up waiting after 120 s")
            return 1

        late = wan1.complete(doomed, _asset(doomed))
        _say(f"\n  wan-1 comes back (reconnected {wan1.reconnects}x) and reports its old job:"
             f" result = {late['result']}")
        for w in (sdxl, wan1, wan2):
            w.close()

        _say("\n== job states")
        users = [self.users["alice"], self.users["bob"]]
        rows = self.conn.execute(Q["job_states"], {"users": users}).fetchall()
        _table([(e.split("-")[0], *rest) for e, *rest in rows],
               ("user", "job_type", "pool", "status", "attempts", "output or error"))

        _say("\n== system_metrics (as the admin)")
        m = rpc(self.conn, "system_metrics", {}, claims=as_user(self.users["admin"]))
        _table([(q["worker_pool"], q["status"], q["jobs"]) for q in m["queue"]] or [("-", "-", 0)],
               ("pool", "status", "jobs"))
        _say("")
        _table([(t["job_type"], t["completed"], t["failed"], t["retry_rate"], t["p50_run_seconds"])
                for t in m["job_types"]],
               ("job_type", "completed", "failed", "retry_rate", "p50_run_s"))
        _say(f"\n  leases: {m['leases']}")
        return 0


def main(url: str | None = None, root: Path | None = None) -> int:
    url = url or owner_url()
    root = root or repo_root()
    _say("== migration status")
    if migrate.status(url, root / "migrations") != 0:
        _say("migrations are not up to date: run `jobsdb migrate` first")
        return 1
    try:
        return Demo(url).run()
    except psycopg.Error as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 1
