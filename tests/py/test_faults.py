"""Faults, with nothing lost, and the statement-timeout budget seen under them.

Users queue jobs through queue_job the way PostgREST does while 8 workers (jobsdb.worker.Worker,
short leases, background heartbeat) claim, "work", and complete them with one asset or fail them
retryably. Meanwhile the test kills worker connections mid-job (pg_terminate_backend), crashes
workers between their work and their callback (the jobs are abandoned, never called back), stalls
workers past their lease (their heartbeat dies; the late callback must be stale), restarts the
server with an immediate shutdown in the middle of the run, and rescues expired leases every
second, as pg_cron would. At the end every job whose queue_job call returned is accounted for as
the lifecycle says, nothing was done twice, and the worst latency of each user-facing RPC is
reported against authenticated's 8 s statement timeout.

The server is restarted, so the test runs its own throw-away cluster (temp dir, free port, fsync
on so that a commit survives the immediate shutdown), never the shared embedded one.

    pytest tests/py/test_faults.py -q -s          # default size (~1,000 jobs), part of make test
    pytest tests/py/test_faults.py -q -s -m chaos # full size (10,000 jobs), make chaos
"""

from __future__ import annotations

import random
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb import embedded, package_migrate, queries
from jobsdb.postgrest import CommitUncertain, as_user, rpc
from jobsdb.shim import apply_shim
from jobsdb.worker import ClaimedJob, Worker

ROOT = Path(__file__).resolve().parents[2]
Q = queries.load_file(Path(__file__).resolve().parents[1] / "queries" / "faults.sql")

LEASE = 10  # seconds: the shortest lease claim_jobs accepts
HEARTBEAT = 2.0  # seconds between background heartbeats
DOWNTIME = 3.0  # seconds the server stays down at a restart (a real crash recovery takes a while)
USER_TIMEOUT = 8.0  # authenticated's statement_timeout (jobsdb/shim/cluster.sql)
POOL = "sdxl"


# ---- a throw-away cluster of our own ---------------------------------------------------

SERVER_CONF = """
# --- jobsdb fault test cluster: throw-away, but durable (an immediate shutdown loses nothing
# committed) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 100
shared_buffers = 128MB
logging_collector = off
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/postgres"

    @property
    def superuser_url(self) -> str:
        return self.url(embedded.SUPERUSER)

    @property
    def owner_url(self) -> str:
        return self.url(embedded.OWNER)

    def pg_ctl(self, *args: str, check: bool = True) -> None:
        embedded._run([str(embedded.bindir() / "pg_ctl"), *args, "-D", str(self.data)], check)

    def init(self) -> None:
        if embedded._is_root():
            shutil.chown(self.base, embedded.RUN_AS, embedded.RUN_AS)
        self.base.chmod(0o700)
        embedded._run(
            [
                str(embedded.bindir() / "initdb"), "-D", str(self.data), "-U", embedded.SUPERUSER,
                "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C",
            ]
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as f:
            f.write(SERVER_CONF)

    def start(self) -> None:
        log = self.base / "server.log"
        self.pg_ctl("start", "-w", "-t", "120", "-l", str(log), "-o", f"-p {self.port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                with psycopg.connect(self.superuser_url, connect_timeout=2) as c:
                    c.execute("select 1")
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop_immediate(self) -> None:
        self.pg_ctl("stop", "-m", "immediate", "-w", "-t", "60")

    def destroy(self) -> None:
        self.pg_ctl("stop", "-m", "immediate", "-w", "-t", "60", check=False)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    try:
        embedded.bindir()
    except embedded.EmbeddedError as e:
        pytest.skip(str(e))
    c = Cluster(Path(tempfile.mkdtemp(prefix="jobsdb-faults-")), free_port())
    try:
        c.init()
        c.start()
        apply_shim(c.superuser_url, "postgres", quiet=True)
        package_migrate.up(c.owner_url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        yield c
    finally:
        c.destroy()


# ---- the workload ---------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    jobs: int
    users: int
    restarts: tuple[float, ...]  # restart when this fraction of the jobs is queued / terminal
    kill_every: float  # seconds between connection kills
    crash_rate: float  # per job: the worker process dies after the work, before the callback
    stalls: int  # jobs whose worker hangs past the lease, then calls back late
    fail_rate: float  # per job: a retryable failure
    timeout: float  # seconds for the queue to drain


DEFAULT = Size(1_000, 4, (0.5,), 0.3, 0.01, 2, 0.05, 150)
FULL = Size(10_000, 8, (0.4, 0.75), 0.2, 0.005, 8, 0.05, 900)


def is_connection_fault(e: BaseException, conn: psycopg.Connection[Any] | None) -> bool:
    """A lost connection or a server that is down or starting: retry. Anything else (e.g. a
    statement timeout on a healthy connection) is a real error."""
    if not isinstance(e, psycopg.OperationalError):
        return False
    return conn is None or conn.closed or bool(conn.broken)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    errors: list[str] = field(default_factory=list)  # unexpected exceptions in any thread
    # queue side
    calls: int = 0
    queued: dict[str, str] = field(default_factory=dict)  # job id -> idempotency key of the call
    keys: dict[str, list[str]] = field(default_factory=dict)  # key -> job ids answered
    queue_retries: int = 0
    queue_uncertain: int = 0  # retries after a COMMIT whose outcome was unknown
    deduplicated: int = 0  # retried calls answered deduplicated (their first COMMIT had happened)
    # worker side
    claims: list[tuple[str, int, str]] = field(default_factory=list)  # job, attempt, token
    answers: list[tuple[str, int, str, str]] = field(default_factory=list)  # job, att, kind, res
    claim_faults: int = 0
    callback_faults: int = 0
    abandoned: int = 0  # jobs left by a crashed worker
    crashes: int = 0
    stalled: list[str] = field(default_factory=list)  # answers to late (stalled) callbacks
    worker_reconnects: int = 0
    # faults and rescue
    kills: int = 0
    restarts: int = 0
    restart_seconds: list[float] = field(default_factory=list)
    rescued: Counter[str] = field(default_factory=Counter)
    rescue_faults: int = 0
    client_reconnects: int = 0  # user-side connections re-opened (queuers, readers)
    worst_overdue: float = 0.0  # the most overdue lease seen while running
    # user-facing RPC latencies (successful calls), name -> seconds
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def error(self, where: str, e: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{where}: {type(e).__name__}: {e}")


def user_connect(url: str) -> psycopg.Connection[Any]:
    # PostgREST runs a user's request under authenticated's statement_timeout (8 s)
    return psycopg.connect(url, options=f"-c statement_timeout={int(USER_TIMEOUT * 1000)}")


class UserClient:
    """A user-side connection that re-opens itself after a connection fault."""

    def __init__(self, url: str, stats: Stats) -> None:
        self.url, self.stats = url, stats
        self.conn: psycopg.Connection[Any] | None = None

    def call(self, name: str, body: dict[str, Any], uid: str) -> Any:
        """One attempt: the answer, or a connection fault raised (after closing)."""
        if self.conn is None or self.conn.closed or self.conn.broken:
            if self.conn is not None:
                self.conn.close()
                with self.stats.lock:
                    self.stats.client_reconnects += 1
            self.conn = None
            self.conn = user_connect(self.url)
        t0 = time.monotonic()
        # a 57014 (statement timeout) is raised like any error and fails the test: callers
        # retry only connection faults (is_connection_fault)
        res = rpc(self.conn, name, body, role="authenticated", claims=as_user(uid))
        with self.stats.lock:
            self.stats.latency[name].append(time.monotonic() - t0)
        return res

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def queuer(url: str, uid: str, n_jobs: int, stats: Stats, stop: threading.Event) -> None:
    """Queue at least n_jobs jobs for one user. Every 10th call asks for a 1x3 set, every 5th
    goes to the workspace. A call whose outcome is unknown is retried with the SAME key."""
    client, done, i = UserClient(url, stats), 0, 0
    try:
        while done < n_jobs and not stop.is_set():
            key = f"{uid}:{i}"
            body = {
                "job_type": "sdxl_image_fast", "prompt": f"a cat #{i}", "idempotency_key": key,
                "num_images": 3 if i % 10 == 9 else 1,
                "destination": "workspace" if i % 5 == 4 else "library",
            }  # fmt: skip
            retried = False
            while True:
                try:
                    res = client.call("queue_job", body, uid)
                    break
                except psycopg.OperationalError as e:
                    if not is_connection_fault(e, client.conn) or stop.is_set():
                        raise
                    with stats.lock:
                        stats.queue_retries += 1
                        stats.queue_uncertain += isinstance(e, CommitUncertain)
                    retried = True
                    time.sleep(0.1)
            ids = [j["id"] for j in res["jobs"]]
            with stats.lock:
                stats.calls += 1
                stats.deduplicated += bool(res["deduplicated"])
                assert not res["deduplicated"] or retried, f"{key}: deduplicated, never retried"
                assert key not in stats.keys, f"{key} answered twice"
                stats.keys[key] = ids
                for j in ids:
                    assert j not in stats.queued, f"job {j} returned by two calls"
                    stats.queued[j] = key
            done += len(ids)
            i += 1
    except BaseException as e:  # noqa: BLE001 - reported by the test
        stats.error(f"queuer {uid}", e)
    finally:
        client.close()


def reader(url: str, users: list[str], stats: Stats, stop: threading.Event) -> None:
    """What the app does meanwhile: list_jobs, get_job and workspace_groups as users."""
    client, rnd = UserClient(url, stats), random.Random(7)
    try:
        while not stop.wait(0.25):
            uid = rnd.choice(users)
            with stats.lock:
                mine = [j for j, k in stats.queued.items() if k.startswith(uid)]
            try:
                client.call("list_jobs", {"max_rows": 50}, uid)
                client.call("workspace_groups", {"max_groups": 20}, uid)
                if mine:
                    job = rnd.choice(mine)
                    got = client.call("get_job", {"job_id": job}, uid)
                    assert got is not None, f"job {job} was queued (committed) and is gone"
                    assert got["user_id"] == uid
            except psycopg.OperationalError as e:
                if not is_connection_fault(e, client.conn):
                    raise
    except BaseException as e:  # noqa: BLE001
        stats.error("reader", e)
    finally:
        client.close()


class Crew:
    """8 worker threads; each runs one Worker at a time (a new one after a simulated crash)."""

    def __init__(self, url: str, size: Size, stats: Stats, stop: threading.Event) -> None:
        self.url, self.size, self.stats, self.stop = url, size, stats, stop
        self.live: dict[int, Worker] = {}
        self.lock = threading.Lock()
        self.stalls_left = size.stalls
        self.threads = [
            threading.Thread(target=self.run, args=(i,), name=f"worker{i}", daemon=True)
            for i in range(8)
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
        alive = [t.name for t in self.threads if t.is_alive()]
        assert not alive, f"worker threads did not stop: {alive}"

    def _new_worker(self, i: int, gen: int) -> Worker | None:
        try:
            w = Worker(self.url, POOL, f"w{i}.{gen}", lease_seconds=LEASE)
        except psycopg.OperationalError:
            return None  # the server is down: try again shortly
        try:
            w.start_heartbeat(HEARTBEAT)
        except psycopg.OperationalError:
            w.close()
            return None
        with self.lock:
            self.live[i] = w
        return w

    def _retire(self, i: int, w: Worker) -> None:
        with self.lock:
            self.live.pop(i, None)
        with self.stats.lock:
            self.stats.worker_reconnects += w.reconnects
        w.close()

    def _deliver(self, w: Worker, j: ClaimedJob, kind: str) -> str:
        """Call back until an answer comes (a real worker retries its callback; the replay is
        fenced and idempotent)."""
        deadline = time.monotonic() + 120
        while True:
            try:
                if kind == "completed":
                    res = w.complete(j, [f"{j.user_id}/{j.job_id}/{j.attempt}.png"])
                else:
                    res = w.fail(j, f"transient error on attempt {j.attempt}")
                break
            except psycopg.OperationalError:
                with self.stats.lock:
                    self.stats.callback_faults += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        r = str(res["result"])
        with self.stats.lock:
            self.stats.answers.append((j.job_id, j.attempt, kind, r))
        return r

    def run(self, i: int) -> None:
        rnd, gen, w = random.Random(1000 + i), 0, None
        size, stats = self.size, self.stats
        try:
            while not self.stop.is_set():
                if w is None:
                    w = self._new_worker(i, gen)
                    if w is None:
                        time.sleep(0.2)
                        continue
                try:
                    jobs = w.claim(max_jobs=rnd.randint(1, 4))
                except psycopg.OperationalError:
                    with stats.lock:
                        stats.claim_faults += 1
                    time.sleep(0.1)
                    continue
                with stats.lock:
                    stats.claims += [(j.job_id, j.attempt, j.lease_token) for j in jobs]
                if not jobs:
                    time.sleep(0.02)
                    continue
                for k, j in enumerate(jobs):
                    time.sleep(rnd.uniform(0.002, 0.01))  # the work
                    x = rnd.random()
                    if x < size.crash_rate:
                        # the process dies between its work and its callback: this job and the
                        # rest of its batch are never called back; rescue must bring them back
                        with stats.lock:
                            stats.crashes += 1
                            stats.abandoned += len(jobs) - k
                        self._retire(i, w)
                        w, gen = None, gen + 1
                        break
                    if x < size.crash_rate + 0.01 and self._take_stall():
                        # hung past the lease with a dead heartbeat, then reports anyway
                        with w._lock:
                            w.held.pop(j.job_id, None)
                        time.sleep(LEASE + 3)
                        r = self._deliver(w, j, "completed")
                        with stats.lock:
                            stats.stalled.append(r)
                        continue
                    kind = "failed" if x < size.crash_rate + size.fail_rate else "completed"
                    self._deliver(w, j, kind)
        except BaseException as e:  # noqa: BLE001
            stats.error(f"worker {i}", e)
        finally:
            if w is not None:
                self._retire(i, w)

    def _take_stall(self) -> bool:
        with self.lock:
            if self.stalls_left > 0:
                self.stalls_left -= 1
                return True
            return False

    def victims(self) -> list[int]:
        """Backend pids of the workers' main connections while they hold jobs (mid-job)."""
        pids = []
        with self.lock:
            workers = list(self.live.values())
        for w in workers:
            try:
                if w.held and not w._conn.closed:
                    pids.append(w.backend_pid)
            except Exception:  # noqa: BLE001 - a connection being replaced: skip it
                pass
        return pids


def admin(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as c:
        cur = c.execute(sql, params)
        return cur.fetchall() if cur.description is not None else []


def killer(url: str, crew: Crew, stats: Stats, stop: threading.Event, every: float) -> None:
    """pg_terminate_backend a worker connection every `every` s: mostly a worker holding jobs
    (mid-job), every third one any worker connection (main or heartbeat)."""
    rnd, n = random.Random(3), 0
    try:
        while not stop.wait(every):
            n += 1
            try:
                if n % 3:
                    pids = crew.victims()
                else:
                    pids = [
                        r[0]
                        for r in admin(
                            url,
                            "select pid from pg_stat_activity"
                            " where application_name like 'jobsdb-worker w%%'",
                        )
                    ]
                if pids:
                    pid = rnd.choice(pids)
                    if admin(url, "select pg_terminate_backend(%s)", (pid,))[0][0]:
                        with stats.lock:
                            stats.kills += 1
            except psycopg.OperationalError:
                pass  # the server is restarting
    except BaseException as e:  # noqa: BLE001
        stats.error("killer", e)


def rescuer(url: str, stats: Stats, stop: threading.Event) -> None:
    """rescue_expired_jobs every second, as pg_cron would, through the worker client."""
    w: Worker | None = None
    try:
        while not stop.wait(1.0):
            try:
                if w is None:
                    w = Worker(url, POOL, "rescuer")
                res = w.rescue()
                with stats.lock:
                    stats.rescued.update({k: int(v) for k, v in res.items()})
            except psycopg.OperationalError:
                with stats.lock:
                    stats.rescue_faults += 1
    except BaseException as e:  # noqa: BLE001
        stats.error("rescuer", e)
    finally:
        if w is not None:
            with stats.lock:
                stats.worker_reconnects += w.reconnects
            w.close()


# ---- the test -------------------------------------------------------------------------


def run_threads(targets: list[tuple[str, Callable[[], None]]]) -> list[threading.Thread]:
    threads = [threading.Thread(target=f, name=n, daemon=True) for n, f in targets]
    for t in threads:
        t.start()
    return threads


@pytest.mark.parametrize(
    "size",
    [
        pytest.param(DEFAULT, id="1k"),
        pytest.param(FULL, id="10k", marks=pytest.mark.chaos),
    ],
)
def test_faults_nothing_lost(cluster: Cluster, size: Size) -> None:
    su, url = cluster.superuser_url, cluster.owner_url
    admin(
        su,
        "update jobs_private.settings set max_queued_per_user = 100000, retry_base_seconds = 0,"
        " jobs_per_minute = null"
        " where singleton",
    )
    users = [
        str(r[0])
        for r in admin(
            su,
            "insert into auth.users (id, aud, role, email, raw_app_meta_data, created_at,"
            " updated_at) select gen_random_uuid(), 'authenticated', 'authenticated',"
            " 'faults' || g || '@example.com', '{\"provider\": \"email\"}', now(), now()"
            " from generate_series(1, %s) as g returning id",
            (size.users,),
        )
    ]
    admin(su, "insert into public.profiles (id) select unnest(%s::uuid[])", (users,))

    stats, stop_users, stop_workers = Stats(), threading.Event(), threading.Event()
    per_user = -(-size.jobs // size.users)
    t0 = time.monotonic()
    queuers = run_threads(
        [(f"queuer{k}", lambda u=u: queuer(url, u, per_user, stats, stop_users))
         for k, u in enumerate(users)]
    )  # fmt: skip
    crew = Crew(url, size, stats, stop_workers)
    crew.start()
    helpers = run_threads(
        [
            ("reader", lambda: reader(url, users, stats, stop_users)),
            ("killer", lambda: killer(su, crew, stats, stop_workers, size.kill_every)),
            ("rescuer", lambda: rescuer(url, stats, stop_workers)),
        ]
    )

    # restarts: the first when a fraction of the jobs is queued (queuers and workers both in
    # flight), the next ones when a fraction is terminal
    pending_restarts = list(size.restarts)
    deadline = t0 + size.timeout
    open_jobs, terminal = -1, 0
    try:
        while True:
            assert not stats.errors, stats.errors
            assert time.monotonic() < deadline, (
                f"queue did not drain in {size.timeout}s: {open_jobs} open jobs,"
                f" {len(stats.queued)} queued"
            )
            try:
                open_jobs, terminal = admin(su, Q["progress"])[0]
                overdue = admin(su, Q["overdue_lease_seconds"])[0][0]
                stats.worst_overdue = max(stats.worst_overdue, overdue)
            except psycopg.OperationalError:
                pass
            with stats.lock:
                n_queued = len(stats.queued)
            if pending_restarts:
                frac = pending_restarts[0]
                progress = n_queued if stats.restarts == 0 else terminal
                if progress >= frac * size.jobs:
                    pending_restarts.pop(0)
                    t_r = time.monotonic()
                    cluster.stop_immediate()
                    time.sleep(DOWNTIME)  # longer than the worker client's reconnect backoff
                    cluster.start()
                    stats.restarts += 1
                    stats.restart_seconds.append(time.monotonic() - t_r)
                    continue
            queuing = any(t.is_alive() for t in queuers)
            if not queuing and not pending_restarts and open_jobs == 0:
                break
            time.sleep(0.2)
    finally:
        stop_users.set()
        stop_workers.set()
        for t in [*queuers, *helpers]:
            t.join(60)
        crew.join(LEASE + 60)
    elapsed = time.monotonic() - t0
    assert not stats.errors, stats.errors

    # ---- accounting -------------------------------------------------------------------
    rows = {r[0]: r for r in admin(su, Q["final_jobs"])}
    queued = stats.queued
    lost = set(queued) - set(rows)
    assert not lost, f"{len(lost)} committed jobs lost, e.g. {sorted(lost)[:3]}"
    extra = set(rows) - set(queued)
    assert not extra, f"{len(extra)} jobs nobody was told about (duplicated queue_job?)"
    assert len(queued) >= size.jobs
    assert all(len(ids) in (1, 3) for ids in stats.keys.values())

    by_status = Counter(r[1] for r in rows.values())
    assert set(by_status) <= {"completed", "failed"}, f"jobs left open: {by_status}"

    # claims: every (job, attempt) claimed once, with its own token, never beyond max_attempts
    per_attempt = Counter((j, a) for j, a, _ in stats.claims)
    assert not per_attempt or max(per_attempt.values()) == 1, "a job attempt was claimed twice"
    assert len({t for _, _, t in stats.claims}) == len(stats.claims), "a lease token was reused"
    claims_per_job = Counter(j for j, _, _ in stats.claims)
    for job, a in per_attempt:
        assert a <= rows[job][3], f"job {job} claimed as attempt {a} > max_attempts"
    for job, r in rows.items():
        assert 0 <= r[2] <= r[3], f"job {job}: attempts {r[2]} of max {r[3]}"
        assert claims_per_job[job] <= r[2], f"job {job}: more claims seen than attempts"
    unseen_claims = sum(r[2] for r in rows.values()) - len(stats.claims)

    # callbacks: at most one accepted completion per job, and it is the one recorded
    results = Counter(res for *_, res in stats.answers)
    assert set(results) <= {"completed", "requeued", "failed", "duplicate", "stale"}, results
    accepted = Counter(j for j, _, kind, res in stats.answers if res == "completed")
    assert not accepted or max(accepted.values()) == 1, "a job was completed twice"
    completed_attempt: dict[str, int] = {}
    for j, a, kind, res in stats.answers:
        if kind == "completed" and res in ("completed", "duplicate"):
            assert completed_attempt.setdefault(j, a) == a, f"job {j} completed by two attempts"

    for job, r in rows.items():
        (_, status, attempts, max_attempts, error, image_id, token, lease_expires,
         has_completed_at, _, outputs, path, linked) = r  # fmt: skip
        assert outputs <= 1, f"job {job}: {outputs} output rows for a one-asset completion"
        assert has_completed_at, f"job {job} is {status} without completed_at"
        if status == "completed":
            assert job in completed_attempt, f"job {job} completed without an accepted callback"
            assert outputs == 1 and linked and image_id is not None, f"job {job}: output {r}"
            assert path.endswith(f"/{job}/{completed_attempt[job]}.png"), f"job {job}: {path}"
        else:
            assert outputs == 0 and image_id is None, f"failed job {job} has an output"
            assert job not in completed_attempt, f"job {job} failed after an accepted completion"
            # all failures are retryable: a job fails only with its attempts used up, and says why
            assert attempts == max_attempts, f"job {job} failed at attempt {attempts}"
            assert error and (
                error.startswith("transient error on attempt") or error.startswith("lease expired")
            ), f"job {job} failed with reason {error!r}"
    # every completion the workers were told was accepted is in the database
    assert set(completed_attempt) <= {j for j, r in rows.items() if r[1] == "completed"}

    # ---- faults really happened ----------------------------------------------------------
    assert stats.restarts == len(size.restarts)
    assert stats.kills > 0 and stats.abandoned > 0
    assert stats.rescued["requeued"] + stats.rescued["failed"] > 0
    # rescue runs every second: a lease overdue for long means nothing was rescuing
    assert stats.worst_overdue < DOWNTIME + 20, f"a lease stayed expired {stats.worst_overdue}s"
    reconnects = stats.worker_reconnects + stats.client_reconnects
    assert reconnects > 0

    # ---- statement-timeout budget ---------------------------------------------------------------
    worst = {name: max(v) for name, v in stats.latency.items()}
    assert set(worst) == {"queue_job", "list_jobs", "workspace_groups", "get_job"}, worst
    assert max(worst.values()) < USER_TIMEOUT

    retries = results["requeued"] + stats.rescued["requeued"]
    print(
        f"\nfaults ({len(queued)} jobs, {elapsed:.1f}s):"
        f"\n  jobs queued {len(queued)} in {stats.calls} queue_job calls by {size.users} users;"
        f" queue_job retries {stats.queue_retries} ({stats.queue_uncertain} after an unknown"
        f" COMMIT, {stats.deduplicated} answered deduplicated)"
        f"\n  completed {by_status['completed']}, failed {by_status['failed']}, lost 0,"
        f" completed twice 0, duplicated outputs 0"
        f"\n  claims {len(stats.claims)} seen + {unseen_claims} unseen (claim COMMIT lost),"
        f" retries {retries} ({results['requeued']} by callback, {stats.rescued['requeued']} by"
        f" rescue), callbacks {dict(results)}"
        f"\n  connection kills {stats.kills}, worker crashes {stats.crashes} abandoning"
        f" {stats.abandoned} jobs, stalled past lease {len(stats.stalled)} (answered"
        f" {dict(Counter(stats.stalled))}), server restarts {stats.restarts}"
        f" ({', '.join(f'{s:.1f}s' for s in stats.restart_seconds)})"
        f"\n  reconnects {reconnects} (workers {stats.worker_reconnects}, users"
        f" {stats.client_reconnects}), faults seen by claim {stats.claim_faults}, callback"
        f" {stats.callback_faults}, rescue {stats.rescue_faults}"
        f"\n  rescued {stats.rescued['requeued'] + stats.rescued['failed']}"
        f" ({stats.rescued['requeued']} requeued, {stats.rescued['failed']} failed),"
        f" stale callbacks {results['stale']}, worst overdue lease {stats.worst_overdue:.1f}s"
        f"\n  worst user RPC latency vs the {USER_TIMEOUT:.0f}s statement timeout: "
        + ", ".join(
            f"{n} {worst[n] * 1000:.0f}ms ({len(stats.latency[n])} calls)" for n in sorted(worst)
        )
    )
