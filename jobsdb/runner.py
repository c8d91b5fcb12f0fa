"""`jobsdb worker`: a worker process for one pool.

The main thread claims jobs, hands each to a free slot (a child process running the job
callable, see jobsdb.jobproc), watches the slots' time limits and reports the outcomes through
job_callback. A background thread heartbeats the held leases on its own connection; a job
answered `cancelled` or `lost` is stopped (its slot is killed and restarted) and not reported.
Database errors never stop the worker: calls are retried with exponential backoff, reports of
finished jobs are kept until they are delivered (they are fenced by the lease token, so a
replay is harmless). On SIGTERM/SIGINT it stops claiming, lets running jobs finish within the
grace period and hands back the rest with release_jobs; a second signal stops at once.

No job stops the worker: a job it cannot decode, or cannot hand to a job process, or whose
process cannot read it, is reported failed with retryable=false (a retry would fail the same
way) and the rest of the claim runs; so is a result the database refuses or that is not JSON.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from jobsdb.jobproc import child_main
from jobsdb.postgrest import CommitUncertain
from jobsdb.worker import ClaimedJob, Worker

# Exit codes (docs/workers.md, "jobsdb worker").
EXIT_OK = 0  # stopped by a signal or --max-jobs: every job it held was reported or released
EXIT_FAILED = 1  # an unexpected error in the worker itself (a bug: the log says what)
EXIT_USAGE = 2  # bad option, or the job callable cannot be imported
EXIT_CONNECT = 3  # could not connect to the database at start
EXIT_REFUSED = 4  # the database refused the worker: not a jobs_worker member, pool not
#                   allowed for this login, or the package is not installed (42501/42883)
EXIT_ABANDONED = 5  # stopped at once by a second signal (or the grace period's release
#                     failed): the jobs it held come back when their leases expire

TICK = 0.1  # s: how often the main loop looks at its slots when nothing wakes it
REPORT_GRACE = 10.0  # s after the grace period to deliver reports of finished jobs


@dataclass
class Options:
    url: str
    pool: str
    target: str
    worker_id: str = ""
    concurrency: int = 1
    job_timeout: float = 3600.0
    lease_seconds: int = 60
    heartbeat: float | None = None  # default lease_seconds / 3
    poll: float = 5.0
    grace: float = 30.0
    pooler: str = "auto"  # auto | direct | session | transaction
    rescue_every: float = 60.0
    max_jobs: int | None = None
    log_json: bool = False
    role: str = "jobs_worker"
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        self.worker_id = self.worker_id or f"{socket.gethostname()}-{os.getpid()}"


def pooler_mode(url: str, pooler: str) -> str:
    """transaction (poll-only, no prepared statements) or session (LISTEN + poll)."""
    if pooler in ("direct", "session", "transaction"):
        return "transaction" if pooler == "transaction" else "session"
    try:
        port = str(conninfo_to_dict(url).get("port") or "")
    except psycopg.ProgrammingError:
        port = ""
    return "transaction" if port.split(",")[0] == "6543" else "session"


class Log:
    def __init__(self, as_json: bool, worker_id: str, pool: str) -> None:
        self.as_json, self.base = as_json, {"worker_id": worker_id, "pool": pool}
        # re-entrant: the signal handler logs, and may interrupt the main thread mid-line
        self._lock = threading.RLock()

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        if self.as_json:
            line = json.dumps({"ts": ts, "level": level, "event": event, **self.base, **fields},
                              default=str)
        else:
            kv = " ".join(f"{k}={_fmt(v)}" for k, v in fields.items())
            line = f"{ts} {level.upper():5} {event} {kv}".rstrip()
        with self._lock:
            print(line, file=sys.stderr, flush=True)


def _fmt(v: Any) -> str:
    s = str(v)
    return json.dumps(s) if (" " in s or not s) else s


@dataclass
class Slot:
    """One child process that runs jobs, one at a time."""

    proc: Any
    conn: Connection
    ready: bool = False
    job: ClaimedJob | None = None
    deadline: float = 0.0
    started: float = 0.0
    pending: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class Report:
    job: ClaimedJob
    outcome: str  # completed | failed
    args: dict[str, Any]


class Runner:
    def __init__(self, opts: Options) -> None:
        self.o = opts
        self.log = Log(opts.log_json, opts.worker_id, opts.pool)
        self.mode = pooler_mode(opts.url, opts.pooler)
        self.connect_kwargs: dict[str, Any] = (
            {"prepare_threshold": None} if self.mode == "transaction" else {}
        )
        self.ctx = get_context("spawn")
        self.slots: list[Slot] = []
        self.reports: list[Report] = []
        self.batch_reports = True  # several ready outcomes go in one job_callbacks call
        # the last ready outcome and the next claim go in one job_callback_and_claim call
        # (jobsdb 1.1.0); False on a database without it (1.0.0): report, then claim
        self.report_and_claim = True
        self.signals = 0
        self.done = 0  # jobs reported (completed or failed) or dropped (cancelled/lost)
        self.counts = {"completed": 0, "failed": 0, "requeued": 0, "timed_out": 0,
                       "cancelled": 0, "lost": 0, "released": 0}
        self.backoff = 0.0
        self.db_retry_at = 0.0
        self.next_claim_at = 0.0
        self.cron_rescues: bool | None = None
        self.next_cron_check = 0.0
        self.next_rescue = 0.0
        self.w: Worker | None = None
        self.hb: Worker | None = None
        self._hb_stop = threading.Event()
        self._hb_thread: threading.Thread | None = None

    # ---- slots ---------------------------------------------------------------------------
    def _spawn(self) -> Slot:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=child_main, args=(self.o.target, child, os.getpid()),
                                name="jobsdb-job", daemon=False)
        proc.start()
        child.close()
        return Slot(proc=proc, conn=parent)

    def _kill(self, slot: Slot) -> None:
        if slot.proc.is_alive():
            slot.proc.kill()
        slot.proc.join(5)
        slot.conn.close()

    def _replace(self, slot: Slot) -> None:
        self._kill(slot)
        self.slots[self.slots.index(slot)] = self._spawn()

    def _start_slots(self) -> int | None:
        """Start the slots and wait until each imported the callable. None, or an exit code."""
        self.slots = [self._spawn() for _ in range(self.o.concurrency)]
        while not all(s.ready for s in self.slots):
            if self.signals:
                return EXIT_OK
            for s in self.slots:
                if s.ready or not s.conn.poll(TICK):
                    if not s.ready and not s.proc.is_alive():
                        self.log("job_process_died", "error", exitcode=s.proc.exitcode)
                        return EXIT_USAGE
                    continue
                kind, detail = s.conn.recv()
                if kind == "bad_target":
                    self.log("bad_job_callable", "error", target=self.o.target, error=detail)
                    return EXIT_USAGE
                s.ready = True
        return None

    # ---- database calls with backoff ---------------------------------------------------
    def _db_ok(self) -> None:
        if self.backoff:
            self.log("database_recovered")
        self.backoff = 0.0

    def _db_error(self, what: str, e: Exception) -> None:
        self.backoff = min(self.o.max_backoff, max(0.2, self.backoff * 2))
        delay = self.backoff * random.uniform(0.8, 1.2)
        self.db_retry_at = time.monotonic() + delay
        self.log("database_error", "warning", during=what, error=str(e).strip().splitlines()[0]
                 if str(e).strip() else type(e).__name__, retry_in=round(delay, 2))

    def _ensure_worker(self) -> Worker:
        if self.w is None:
            self.w = Worker(self.o.url, self.o.pool, self.o.worker_id, role=self.o.role,
                            lease_seconds=self.o.lease_seconds, reconnect_attempts=2,
                            connect_kwargs=self.connect_kwargs)
            self.log("connected", mode=self.mode)
        return self.w

    # ---- heartbeats ----------------------------------------------------------------------
    def _start_heartbeat(self, w: Worker) -> None:
        """Heartbeat every --heartbeat seconds, sooner when a lease is shorter than asked for
        (the job type's maximum may clamp it): never later than a third of the shortest lease
        granted, measured from the answers."""
        base = self.o.heartbeat or max(1.0, self.o.lease_seconds / 3)
        hb = Worker.__new__(Worker)  # shares w.held and its lock, has its own connection
        hb.__dict__.update(w.__dict__)
        hb._listen, hb._conn = None, None  # type: ignore[assignment]
        self.hb = hb

        def loop() -> None:
            interval, last = base, time.monotonic()
            while not self._hb_stop.wait(min(0.5, base)):
                rem = _min_remaining(hb)
                if rem is None or (time.monotonic() - last < interval and rem > interval):
                    continue
                try:
                    if hb._conn is None:
                        hb._conn = hb._connect()
                    states = hb.heartbeat()
                except Exception as e:  # noqa: BLE001 - the thread must outlive any error
                    self.log("heartbeat_failed", "warning", error=str(e).strip()[:200])
                    if hb._conn is not None and (hb._conn.closed or hb._conn.broken):
                        hb._conn = None  # type: ignore[assignment]
                    continue
                last = time.monotonic()
                rem = _min_remaining(hb)
                if rem is not None:
                    interval = max(0.5, min(base, rem / 3))
                for job_id, st in states.items():
                    if st != "extended":
                        self.log("heartbeat", "warning", job_id=job_id, state=st)
            if hb._conn is not None:
                hb._conn.close()

        self._hb_thread = threading.Thread(target=loop, name="jobsdb-heartbeat", daemon=True)
        self._hb_thread.start()

    # ---- the loop ------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signals += 1
        if self.signals == 1:
            self.log("stopping", signal=signal.Signals(signum).name, grace_s=self.o.grace,
                     running=sum(1 for s in self.slots if s.job))
        else:
            self.log("stopping_now", "warning", signal=signal.Signals(signum).name)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.log("starting", target=self.o.target, concurrency=self.o.concurrency,
                 mode=self.mode, lease_s=self.o.lease_seconds, job_timeout_s=self.o.job_timeout)
        try:
            w = self._ensure_worker()
        except psycopg.OperationalError as e:
            self.log("cannot_connect", "error", error=str(e).strip().splitlines()[0])
            return EXIT_CONNECT
        code = self._start_slots()
        if code is not None:
            self._shutdown_slots()
            w.close()
            return code
        self.log("ready", slots=len(self.slots))
        self._start_heartbeat(w)
        try:
            return self._loop(w)
        except Exception as e:  # noqa: BLE001 - a bug in the worker: one log line, exit 1
            self.log("worker_failed", "error", error=f"{type(e).__name__}: {e}",
                     at=_where(e))
            return EXIT_FAILED
        finally:
            self._hb_stop.set()
            if self._hb_thread is not None:
                self._hb_thread.join(5)
            self._shutdown_slots()
            w.close()
            self.log("stopped", **self.counts)

    def _shutdown_slots(self) -> None:
        for s in self.slots:
            self._kill(s)

    def _loop(self, w: Worker) -> int:
        stop_deadline: float | None = None
        while True:
            if self.signals >= 2:
                return self._abandon()
            if self.signals == 1 and stop_deadline is None:
                stop_deadline = time.monotonic() + self.o.grace
            self._collect()
            try:
                self._flush_reports(w)
            except _Refused as e:
                self.log("refused", "error", error=str(e))
                return EXIT_REFUSED
            busy = [s for s in self.slots if s.job]
            if stop_deadline is not None or self._max_jobs_reached():
                if not busy and not self.reports:
                    return EXIT_OK
                now = time.monotonic()
                if stop_deadline is not None and now >= stop_deadline:
                    if busy:
                        if not self._release_unfinished(w):
                            return EXIT_ABANDONED
                        continue
                    if not busy and now >= stop_deadline + REPORT_GRACE:
                        self.log("abandoned", "warning",
                                 jobs=[r.job.job_id for r in self.reports],
                                 note="finished but not reported: their leases expire")
                        return EXIT_ABANDONED
                self._wait(busy, listen=False)
                continue
            try:
                self._maintenance(w)
                self._claim(w)
            except _Refused as e:
                self.log("refused", "error", error=str(e))
                return EXIT_REFUSED
            self._wait([s for s in self.slots if s.job], listen=True)

    def _max_jobs_reached(self) -> bool:
        if self.o.max_jobs is None:
            return False
        return self.done + sum(1 for s in self.slots if s.job) >= self.o.max_jobs

    def _wait(self, busy: list[Slot], listen: bool) -> None:
        """Sleep until a slot answers, a wake-up arrives or one tick passes."""
        now = time.monotonic()
        if listen and self.mode == "session" and now >= self.db_retry_at and any(
            not s.job for s in self.slots
        ) and self.w is not None and now < self.next_claim_at:
            try:
                limit = TICK if busy else TICK * 5
                if self.w.wait_for_work(min(limit, max(0.0, self.next_claim_at - now))):
                    self.next_claim_at = 0.0
                return
            except psycopg.Error as e:
                self._db_error("listen", e)
                self.w._listen = None
                return
        if busy:
            wait([s.conn for s in busy], timeout=TICK)
        else:
            time.sleep(TICK)

    def _free_slots(self, reporting: int = 0) -> list[Slot]:
        """Slots a claim may fill now (--max-jobs counts `reporting` outcomes as done)."""
        free = [s for s in self.slots if s.ready and not s.job]
        if self.o.max_jobs is not None:
            busy = len(self.slots) - len(free)
            free = free[: max(0, self.o.max_jobs - self.done - reporting - busy)]
        return free

    def _claim(self, w: Worker) -> None:
        now = time.monotonic()
        free = self._free_slots()
        if not free or now < self.next_claim_at or now < self.db_retry_at:
            return
        try:
            jobs = w.claim(min(len(free), 100))  # claim_jobs takes at most 100 at a time
            self._db_ok()
        except CommitUncertain as e:
            # the claim may have committed: such jobs come back when their leases expire
            self._db_error("claim (commit uncertain: any job it took returns after its lease)", e)
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFunction) as e:
            raise _Refused(str(e).strip()) from e
        except psycopg.Error as e:  # lost connection, statement timeout, server restarting
            self._db_error("claim", e)
            return
        if len(jobs) < len(free):
            self.next_claim_at = now + self.o.poll
        self._start(jobs, free)

    def _start(self, jobs: list[ClaimedJob], free: list[Slot]) -> None:
        """Hand claimed jobs to free slots (one each); a job that cannot start is failed."""
        for job in jobs:
            if job.undecodable is not None:
                self._fail_for_good(job, "job_undecodable",
                                    f"the worker cannot decode this job ({job.undecodable})")
                continue
            slot = free.pop(0)
            try:
                slot.conn.send(self._payload(job))
            except OSError as e:  # the job process is gone: restart it, the job may run again
                self._replace(slot)
                self.reports.append(Report(job, "failed", {
                    "error": f"the job process was gone ({type(e).__name__})", "retryable": True}))
                continue
            except Exception as e:  # noqa: BLE001 - the payload cannot be pickled (e.g. too deep)
                free.insert(0, slot)  # nothing was sent: the slot is still free
                self._fail_for_good(job, "job_not_handed_over",
                                    f"the job cannot be handed to a job process ({_one_line(e)})")
                continue
            slot.job, slot.started = job, time.monotonic()
            slot.deadline = slot.started + self.o.job_timeout
            self.log("job_started", job_id=job.job_id, job_type=job.job_type,
                     attempt=job.attempt, max_attempts=job.max_attempts)

    def _fail_for_good(self, job: ClaimedJob, event: str, why: str) -> None:
        """Report a job failed with retryable=false: another attempt would fail the same way."""
        message = f"{why}; a retry cannot fix it"[:2000]
        self.log(event, "error", job_id=job.job_id, error=message)
        self.reports.append(Report(job, "failed", {"error": message, "retryable": False}))

    def _payload(self, job: ClaimedJob) -> dict[str, Any]:
        return {
            "job_id": job.job_id, "job_type": job.job_type, "worker_pool": self.o.pool,
            "user_id": job.user_id, "prompt": job.prompt, "metadata": job.metadata,
            "format": job.extra.get("format"), "quality": job.extra.get("quality"),
            "model_type": job.extra.get("model_type"), "output_bucket": job.output_bucket,
            "attempt": job.attempt, "max_attempts": job.max_attempts,
            "lease_expires_at": job.lease_expires_at,
        }

    def _collect(self) -> None:
        """Results, deaths, timeouts and cancellations of the running jobs."""
        for slot in list(self.slots):
            job = slot.job
            if not slot.ready:
                self._check_ready(slot)
                continue
            if job is None:
                continue
            secs = round(time.monotonic() - slot.started, 3)
            msg = None
            try:
                if slot.conn.poll():
                    msg = slot.conn.recv()
            except (EOFError, OSError):
                msg = ("died", None)
            if msg is None and not slot.proc.is_alive():
                msg = ("died", None)
            if job.state in ("cancelled", "lost"):
                # the heartbeat learnt it: stop working, a report would be ignored or stale
                self.counts[job.state] += 1
                self.done += 1
                self.log("job_stopped", "warning", job_id=job.job_id, reason=job.state,
                         seconds=secs)
                slot.job = None
                self._replace(slot)
                continue
            if msg is None and time.monotonic() >= slot.deadline:
                self.counts["timed_out"] += 1
                self.log("job_timed_out", "warning", job_id=job.job_id,
                         limit_s=self.o.job_timeout)
                self._replace(slot)
                msg = ("error", {"message": f"timed out after {self.o.job_timeout:g} s "
                                 "(worker --job-timeout)", "retryable": True})
            if msg is None:
                continue
            kind, detail = msg
            if kind == "died":
                code = slot.proc.exitcode
                self._replace(slot)
                detail = {"message": f"the job process died (exit code {code})",
                          "retryable": True}
                kind = "error"
            else:
                slot.job = None
            if kind == "ok":
                self.reports.append(Report(job, "completed", {
                    "assets": detail["assets"], "metadata": detail["metadata"]}))
                self.log("job_finished", job_id=job.job_id, seconds=secs,
                         assets=len(detail["assets"]))
            else:
                self.reports.append(Report(job, "failed", {
                    "error": detail["message"], "retryable": detail["retryable"]}))
                self.log("job_error", "warning", job_id=job.job_id, seconds=secs,
                         retryable=detail["retryable"], error=detail["message"][:200])

    def _check_ready(self, slot: Slot) -> None:
        """A restarted slot becomes usable once its process imported the callable again."""
        try:
            msg = slot.conn.recv() if slot.conn.poll() else None
        except (EOFError, OSError):
            msg = ("died", None)
        if msg is None and not slot.proc.is_alive():
            msg = ("died", None)
        if msg is None:
            return
        if msg[0] == "ready":
            slot.ready = True
            return
        self.log("job_process_restart_failed", "error", detail=msg[1])
        self._kill(slot)
        self.slots.remove(slot)
        if not self.slots:
            raise _Refused("no job process could be restarted")

    def _flush_batch(self, w: Worker) -> bool:
        """Several outcomes ready: one job_callbacks call for up to 100 of them. False when the
        database is unreachable (they stay queued). job_callbacks is all or nothing, so when it
        refuses the batch (e.g. one result's bad assets) nothing was applied and the reports go
        one by one, where each refusal is handled for its own job."""
        batch = self.reports[:100]
        try:
            answers = w.report_many([(r.job, self._args(r)) for r in batch])
            self._db_ok()
        except psycopg.OperationalError as e:
            self._db_error("job_callbacks", e)
            return False
        except psycopg.errors.InsufficientPrivilege as e:
            raise _Refused(str(e).strip()) from e
        except psycopg.errors.UndefinedFunction:
            self.batch_reports = False  # a database without job_callbacks: one by one
            return True
        except (psycopg.Error, ValueError, TypeError, RecursionError) as e:
            # refused (or not even JSON): one by one, each refusal for its own job
            self.log("batch_refused", "warning", reports=len(batch), error=_one_line(e))
            return True
        del self.reports[: len(batch)]
        for r, res in zip(batch, answers, strict=True):
            self._reported(r, res, batch=len(batch))
        return True

    @staticmethod
    def _args(r: Report) -> dict[str, Any]:
        if r.outcome == "completed":
            return Worker.outcome_args("completed", r.args["assets"], r.args["metadata"])
        return Worker.outcome_args("failed", error=r.args["error"],
                                   retryable=r.args["retryable"])  # fmt: skip

    def _reported(self, r: Report, res: dict[str, Any], **extra: Any) -> None:
        self.done += 1
        result = res.get("result")
        if result in self.counts:
            self.counts[result] += 1
        self.log("job_reported", job_id=r.job.job_id, outcome=r.outcome, result=result, **extra)

    def _flush_with_claim(self, w: Worker) -> bool | None:
        """The last ready outcome and the next claim in one call, when the worker would claim
        right after reporting: True done, False the database is unreachable (the report stays
        queued), None not done (report it alone: no function, nothing to claim, or refused)."""
        now = time.monotonic()
        free = self._free_slots(reporting=1)
        if (not self.report_and_claim or len(self.reports) != 1 or not free or self.signals
                or now < self.next_claim_at):
            return None
        r = self.reports[0]
        try:
            res, jobs = w.report_and_claim(r.job, self._args(r), min(len(free), 100))
            self._db_ok()
        except psycopg.errors.UndefinedFunction:
            self.report_and_claim = False  # a 1.0.0 database: report, then claim
            return None
        except CommitUncertain as e:
            # the claim may have committed (its jobs return after their leases); the report
            # stays queued: a replay answers duplicate or stale and changes nothing
            self._db_error("job_callback_and_claim (commit uncertain)", e)
            return False
        except psycopg.OperationalError as e:
            self._db_error("job_callback_and_claim", e)
            return False
        except (psycopg.Error, ValueError, TypeError, RecursionError):
            return None  # refused (nothing applied): the report alone says why, for its job
        self.reports.pop(0)
        self._reported(r, res, claimed=len(jobs))
        if len(jobs) < len(free):
            self.next_claim_at = now + self.o.poll
        self._start(jobs, free)
        return True

    def _flush_reports(self, w: Worker) -> None:
        if (len(self.reports) > 1 and self.batch_reports
                and time.monotonic() >= self.db_retry_at and not self._flush_batch(w)):
            return
        if self.reports and time.monotonic() >= self.db_retry_at:
            done = self._flush_with_claim(w)
            if done is not None:
                return
        while self.reports and time.monotonic() >= self.db_retry_at:
            r = self.reports[0]
            try:
                res = w.report(r.job, self._args(r))
                self._db_ok()
            except psycopg.OperationalError as e:
                self._db_error("job_callback", e)
                return
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFunction) as e:
                raise _Refused(str(e).strip()) from e
            except (psycopg.Error, ValueError, TypeError, RecursionError) as e:
                if r.outcome == "completed":
                    # the database refused the callable's result (e.g. 22023 bad assets), or
                    # it is not even JSON: report the attempt as failed for good, saying why
                    self.log("result_refused", "error", job_id=r.job.job_id, error=_one_line(e))
                    r.outcome = "failed"
                    r.args = {"error": f"the worker's result was refused: {_one_line(e)}; a "
                              "retry cannot fix it"[:2000], "retryable": False}
                    continue
                self.log("report_refused", "error", job_id=r.job.job_id, error=str(e).strip())
                res = {"result": "refused"}
            self.reports.pop(0)
            self._reported(r, res)

    def _maintenance(self, w: Worker) -> None:
        """Learn whether pg_cron rescues expired leases; if not, rescue them ourselves."""
        now = time.monotonic()
        if now < self.db_retry_at:
            return
        try:
            if now >= self.next_cron_check:
                scheduled = w.rescue_is_scheduled()
                if scheduled != self.cron_rescues:
                    self.log("rescue_schedule", by="pg_cron" if scheduled else "workers")
                self.cron_rescues = scheduled
                self.next_cron_check = now + 300
            if not self.cron_rescues and now >= self.next_rescue:
                res = w.rescue()
                self.next_rescue = now + self.o.rescue_every * random.uniform(0.8, 1.2)
                if res.get("requeued") or res.get("failed"):
                    self.log("rescued_expired_jobs", **res)
            self._db_ok()
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedFunction) as e:
            raise _Refused(str(e).strip()) from e
        except psycopg.Error as e:
            self._db_error("rescue", e)

    def _release_unfinished(self, w: Worker) -> bool:
        """Stop the running jobs and hand them back; False if the database never answered."""
        busy = [s for s in self.slots if s.job]
        jobs = [s.job for s in busy if s.job is not None]
        for s in busy:
            self._kill(s)
        self.slots = [s for s in self.slots if s not in busy]  # stopping: no restart
        self.log("grace_period_over", "warning", unfinished=len(jobs))
        for attempt in range(3):
            try:
                states = w.release(jobs)
                for job_id, st in states.items():
                    self.counts["released" if st == "released" else "lost"] += 1
                    self.log("job_released", job_id=job_id, state=st)
                return True
            except psycopg.Error as e:
                self.log("release_failed", "warning", attempt=attempt + 1,
                         error=str(e).strip()[:200])
                time.sleep(0.5 * 2**attempt)
        self.log("abandoned", "warning", jobs=[j.job_id for j in jobs],
                 note="their leases expire and rescue_expired_jobs requeues them")
        return False

    def _abandon(self) -> int:
        held = [s.job.job_id for s in self.slots if s.job]
        for s in self.slots:
            self._kill(s)
        self.log("abandoned", "warning", jobs=held,
                 note="their leases expire and rescue_expired_jobs requeues them")
        return EXIT_ABANDONED


def _min_remaining(w: Worker) -> float | None:
    """Seconds left on the shortest held lease (local clock), None when nothing is held."""
    with w._lock:
        ends = [j.lease_expires_at for j in w.held.values()]
    if not ends:
        return None
    now = datetime.now(UTC)
    return min((datetime.fromisoformat(str(e)) - now).total_seconds() for e in ends)


def _one_line(e: BaseException) -> str:
    """`Type: first line of the message`, at most 300 characters."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {text}"[:300] if text else type(e).__name__


def _where(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    return f"{tb[-1].filename}:{tb[-1].lineno}" if tb else ""


class _Refused(Exception):  # noqa: N818
    pass


def run(opts: Options) -> int:
    if opts.url and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # `module:function` from the current folder
    return Runner(opts).run()
