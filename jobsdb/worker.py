"""Worker client for GPU workers that connect directly as a login role granted jobs_worker.

Every call is one PostgREST-shaped transaction (jobsdb.postgrest.rpc, `set local role`).
Connection loss (psycopg.OperationalError with the connection closed or broken) reconnects with
bounded exponential backoff and retries the call once when that is safe:

* claim: retried only when the error came before COMMIT (the server rolled the claim back). If
  COMMIT itself failed (CommitUncertain) the claim may have happened; it is *not* retried and the
  error is raised: jobs claimed without our knowing come back through rescue after the lease.
* heartbeat, complete, fail, rescue: always retried. They are fenced by the lease token and
  idempotent, so a replay of a committed call answers duplicate/stale/lost and changes nothing.

A claim decodes each job, and each field of it, on its own: a job whose stored JSON this
process cannot read (an integer past Python's int-string limit, nesting past the recursion
limit: the database's JSON rule keeps such values out, but the owner and the service role can
write any row) comes back with `undecodable` saying why, so the caller can fail it for good
while the rest of the claim runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from jobsdb.jobproc import JobFailed, PermanentJobFailure
from jobsdb.postgrest import CommitUncertain, rpc

__all__ = ["ClaimedJob", "JobFailed", "PermanentJobFailure", "Worker"]


@dataclass
class ClaimedJob:
    job_id: str
    lease_token: str
    attempt: int
    max_attempts: int
    job_type: str
    user_id: str
    prompt: str | None
    metadata: dict[str, Any]
    output_bucket: str
    lease_expires_at: str
    state: str = "held"  # held | cancelled | lost | done (set by heartbeat and callbacks)
    extra: dict[str, Any] = field(default_factory=dict)
    # why a field could not be decoded (that field is None): fail the job, a retry cannot help
    undecodable: str | None = None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> ClaimedJob:
        known = {
            "job_id", "lease_token", "attempt", "max_attempts", "job_type", "user_id",
            "prompt", "metadata", "output_bucket", "lease_expires_at",
        }  # fmt: skip
        return cls(**{k: r[k] for k in known}, extra={k: v for k, v in r.items() if k not in known})

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> ClaimedJob:
        """A claimed row whose fields are JSON texts (rpc(..., fields_as_text=True)), each
        decoded on its own; the first that cannot be is named in `undecodable`."""
        row: dict[str, Any] = {}
        problem = None
        for key, text in fields.items():
            try:
                row[key] = json.loads(text)
            except (ValueError, RecursionError, MemoryError) as e:
                row[key] = None
                detail = str(e).splitlines()[0][:300] if str(e) else ""
                problem = problem or f"{key}: {type(e).__name__}: {detail}".rstrip(": ")
        job = cls.from_row(row)
        job.undecodable = problem
        if problem and not isinstance(job.metadata, dict):
            job.metadata = {}
        return job


class Worker:
    def __init__(
        self,
        url: str,
        pool: str,
        worker_id: str,
        *,
        role: str = "jobs_worker",
        lease_seconds: int | None = None,
        reconnect_attempts: int = 5,
        connect_kwargs: dict[str, Any] | None = None,
    ) -> None:
        """`connect_kwargs` go to psycopg.connect, e.g. prepare_threshold=None behind a
        transaction pooler (no server-side prepared statements)."""
        self.url, self.pool, self.worker_id, self.role = url, pool, worker_id, role
        self.connect_kwargs = dict(connect_kwargs or {})
        self.lease_seconds = lease_seconds
        self.reconnect_attempts = reconnect_attempts
        self.held: dict[str, ClaimedJob] = {}
        self.reconnects = 0
        self._lock = threading.Lock()  # guards self.held
        self._conn = self._connect()
        self._listen: psycopg.Connection[Any] | None = None
        self._hb_thread: threading.Thread | None = None
        self._hb_stop = threading.Event()

    # ---- connection handling -----------------------------------------------------------
    def _connect(self) -> psycopg.Connection[Any]:
        kw = {"application_name": f"jobsdb-worker {self.worker_id}"[:63]} | self.connect_kwargs
        return psycopg.connect(self.url, **kw)

    def _reconnect(self) -> None:
        try:
            self._conn.close()
        except psycopg.Error:
            pass
        for i in range(self.reconnect_attempts):
            try:
                self._conn = self._connect()
                self.reconnects += 1
                return
            except psycopg.OperationalError:
                if i == self.reconnect_attempts - 1:
                    raise
                time.sleep(min(0.1 * 2**i, 2.0))

    def _call(self, name: str, args: dict[str, Any], *, retry_unsure: bool, **kw: Any) -> Any:
        for attempt in (1, 2):
            if self._conn.closed or self._conn.broken:
                # an earlier reconnect gave up (the server was down longer than the backoff):
                # try again now instead of calling rpc() on a dead connection forever
                self._reconnect()
            try:
                return rpc(self._conn, name, args, role=self.role, **kw)
            except psycopg.OperationalError as e:
                if not (self._conn.closed or self._conn.broken):
                    raise  # e.g. statement timeout: the connection is fine, not ours to retry
                self._reconnect()
                if attempt == 2 or (isinstance(e, CommitUncertain) and not retry_unsure):
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.stop_heartbeat()
        for c in (self._conn, self._listen):
            if c is not None:
                c.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def backend_pid(self) -> int:
        return self._conn.info.backend_pid

    # ---- the protocol ------------------------------------------------------------------
    def claim(self, max_jobs: int = 1) -> list[ClaimedJob]:
        """Claim up to max_jobs jobs. A job this process cannot decode is returned too, with
        `undecodable` set (report it failed, retryable=False): it is held like the others."""
        args: dict[str, Any] = {
            "worker_pool": self.pool, "worker_id": self.worker_id, "max_jobs": max_jobs,
            "lease_seconds": self.lease_seconds,
        }  # fmt: skip
        rows = self._call("claim_jobs", args, retry_unsure=False, fields_as_text=True)
        jobs = [ClaimedJob.from_fields(r) for r in rows]
        with self._lock:
            self.held.update((j.job_id, j) for j in jobs)
        return jobs

    def heartbeat(self, jobs: list[ClaimedJob] | None = None) -> dict[str, str]:
        """Extend the leases of `jobs` (default: all held).

        Returns job_id -> extended | cancelled | lost; cancelled and lost jobs leave `held` and
        get that `state` (stop working on them: a callback would be ignored or stale)."""
        with self._lock:
            jobs = list(self.held.values()) if jobs is None else jobs
        if not jobs:
            return {}
        args: dict[str, Any] = {
            "worker_id": self.worker_id, "job_ids": [j.job_id for j in jobs],
            "lease_tokens": [j.lease_token for j in jobs], "lease_seconds": self.lease_seconds,
        }  # fmt: skip
        rows = self._call("heartbeat_jobs", args, retry_unsure=True)
        by_id = {r["job_id"]: r for r in rows}
        with self._lock:
            for j in jobs:
                st = by_id[j.job_id]["state"] if j.job_id in by_id else "lost"
                if st == "extended":
                    j.lease_expires_at = by_id[j.job_id]["lease_expires_at"]
                else:
                    j.state = st
                    self.held.pop(j.job_id, None)
        return {k: r["state"] for k, r in by_id.items()}

    def report(self, job: ClaimedJob, args: dict[str, Any]) -> dict[str, Any]:
        """Report one outcome (job_callback with its arguments); its answer."""
        base = {"job_id": job.job_id, "lease_token": job.lease_token}
        res: dict[str, Any] = self._call("job_callback", base | args, retry_unsure=True)
        self._settle(job, res)
        return res

    def report_and_claim(self, job: ClaimedJob, args: dict[str, Any], max_jobs: int = 1
                         ) -> tuple[dict[str, Any], list[ClaimedJob]]:
        """Report one outcome and claim up to max_jobs jobs in one transaction
        (job_callback_and_claim, jobsdb 1.1.0): the report's answer and the claimed jobs,
        each decoded on its own like claim(). All or nothing: an error applied neither. Not
        retried when COMMIT itself failed (CommitUncertain): the claim may have happened (its
        jobs come back after their leases); the report replays harmlessly later. A database
        without the function raises psycopg.errors.UndefinedFunction before anything runs."""
        body: dict[str, Any] = {
            "report": {"job_id": job.job_id, "lease_token": job.lease_token} | args,
            "worker_pool": self.pool, "worker_id": self.worker_id, "max_jobs": max_jobs,
            "lease_seconds": self.lease_seconds,
        }  # fmt: skip
        rows = self._call("job_callback_and_claim", body, retry_unsure=False,
                          fields_as_text=True)
        res: dict[str, Any] = json.loads(rows[0]["answer"])
        self._settle(job, res)
        jobs = [ClaimedJob.from_fields({k: v for k, v in r.items() if k != "answer"})
                for r in rows if json.loads(r["job_id"]) is not None]
        with self._lock:
            self.held.update((j.job_id, j) for j in jobs)
        return res, jobs

    def _settle(self, job: ClaimedJob, res: dict[str, Any]) -> None:
        with self._lock:
            self.held.pop(job.job_id, None)
        done = ("completed", "failed", "requeued", "duplicate")
        r = res["result"]
        job.state = "done" if r in done else "cancelled" if r == "ignored_cancelled" else "lost"

    @staticmethod
    def outcome_args(outcome: str, assets: Any = None, metadata: Any = None, error: str = "",
                     retryable: bool = True) -> dict[str, Any]:
        """job_callback's arguments for a completed or failed outcome."""
        if outcome == "completed":
            return {"status": "completed", "assets": assets, "metadata": metadata}
        return {"status": "failed", "error_message": error, "retryable": retryable}

    def report_many(self, reports: list[tuple[ClaimedJob, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Report several outcomes in one job_callbacks call: (job, job_callback's arguments)
        each; answers (job_callback's, per job) in the same order. All or nothing: any error
        (22023, PT409, ...) means no report of the batch was applied."""
        body = [{"job_id": j.job_id, "lease_token": j.lease_token} | a for j, a in reports]
        rows = self._call("job_callbacks", {"reports": body}, retry_unsure=True)
        answers: list[dict[str, Any]] = [r["answer"] for r in rows]
        for (job, _), res in zip(reports, answers, strict=True):
            self._settle(job, res)
        return answers

    def complete(
        self, job: ClaimedJob, assets: list[Any], metadata: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        return self.report(job, self.outcome_args("completed", assets, metadata) | kw)

    def fail(
        self, job: ClaimedJob, error: str, retryable: bool = True, **kw: Any
    ) -> dict[str, Any]:
        args = self.outcome_args("failed", error=error, retryable=retryable)
        return self.report(job, args | kw)

    def release(self, jobs: list[ClaimedJob]) -> dict[str, str]:
        """Hand held jobs back when stopping (release_jobs): job_id -> released (attempt given
        back) | requeued | failed (released too often: the attempt counted) | lost."""
        if not jobs:
            return {}
        args = {
            "worker_id": self.worker_id, "job_ids": [j.job_id for j in jobs],
            "lease_tokens": [j.lease_token for j in jobs],
        }  # fmt: skip
        rows = self._call("release_jobs", args, retry_unsure=True)
        with self._lock:
            for j in jobs:
                self.held.pop(j.job_id, None)
                j.state = "done"
        return {r["job_id"]: r["state"] for r in rows}

    def rescue_is_scheduled(self) -> bool:
        """True when pg_cron runs rescue_expired_jobs; else the workers should."""
        return bool(self._call("rescue_is_scheduled", {}, retry_unsure=True))

    def rescue(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("rescue_expired_jobs", {}, retry_unsure=True)
        return result

    # ---- background heartbeat and wake-ups ---------------------------------------------
    def start_heartbeat(self, interval: float) -> Worker:
        """Heartbeat all held jobs every `interval` s on a thread with its own connection.
        Jobs reported cancelled or lost leave `held` and get that `state`."""
        self.stop_heartbeat()
        self._hb_stop.clear()
        hb = Worker.__new__(Worker)  # a twin sharing `held` but with its own connection
        hb.__dict__.update(self.__dict__)
        hb._conn, hb._listen = self._connect(), None

        def loop() -> None:
            try:
                while not self._hb_stop.wait(interval):
                    try:
                        hb.heartbeat()
                    except psycopg.Error:
                        pass  # retried at the next tick; rescue covers a long outage
            finally:
                hb._conn.close()

        self._hb_thread = threading.Thread(target=loop, name=f"hb-{self.worker_id}", daemon=True)
        self._hb_thread.start()
        return self

    @contextmanager
    def heartbeating(self, interval: float) -> Iterator[Worker]:
        """`with worker.heartbeating(5):` runs the background heartbeat for the block."""
        self.start_heartbeat(interval)
        try:
            yield self
        finally:
            self.stop_heartbeat()

    def stop_heartbeat(self) -> None:
        if self._hb_thread is not None:
            self._hb_stop.set()
            self._hb_thread.join()
            self._hb_thread = None

    def wait_for_work(self, timeout: float) -> bool:
        """Block until queue_job notifies this pool (True) or `timeout` s pass (False). LISTEN
        starts at the first call and stays on, so wake-ups between calls are not missed."""
        if self._listen is None or self._listen.closed or self._listen.broken:
            self._listen = psycopg.connect(self.url, autocommit=True, **self.connect_kwargs)
            channel = sql.Identifier(f"jobs_wake_{self.pool}")
            self._listen.execute(sql.SQL("listen {}").format(channel))
        return any(True for _ in self._listen.notifies(timeout=timeout, stop_after=1))
