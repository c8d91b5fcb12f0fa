"""The queue under real concurrency: threads, each with its own connection, calling the RPCs the
way PostgREST does (users) or through the worker client (workers)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc
from jobsdb.worker import ClaimedJob, Worker


def make_user(url: str, email: str) -> str:
    with psycopg.connect(url, autocommit=True) as c:
        return str(c.execute("select tests.create_user(%s)", (email,)).fetchone()[0])


def settings(url: str, **values: int | None) -> None:
    """Set jobs_private.settings; the tests that queue many jobs for one user switch the rate
    of new jobs off (jobs_per_minute=None): it has tests of its own (test_hostile_users)."""
    with psycopg.connect(url, autocommit=True) as c:
        for k, v in values.items():
            c.execute(f"update jobs_private.settings set {k} = %s where singleton", (v,))


def query(url: str, sql: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute(sql, params).fetchall()


def queue_many(url: str, users: list[str], calls_per_user: int, num_images: int) -> None:
    def one_user(u: str) -> None:
        with psycopg.connect(url) as c:
            for i in range(calls_per_user):
                body = {"job_type": "sdxl_image_fast", "prompt": f"p{i}", "num_images": num_images}
                rpc(c, "queue_job", body, role="authenticated", claims=as_user(u))

    with ThreadPoolExecutor(len(users)) as ex:
        list(ex.map(one_user, users))


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        assert c.execute("select pg_terminate_backend(%s)", (pid,)).fetchone()[0]


def db_now(url: str):
    return query(url, "select now()")[0][0]


class Log:
    """What the workers saw: every claim and every callback answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.claims: list[tuple[str, int, str]] = []
        self.results: list[tuple[str, str]] = []
        self.rescued = Counter[str]()

    def claimed(self, jobs: list[ClaimedJob]) -> None:
        with self.lock:
            self.claims += [(j.job_id, j.attempt, j.lease_token) for j in jobs]

    def answered(self, job: ClaimedJob, res: dict) -> None:
        with self.lock:
            self.results.append((job.job_id, res["result"]))


def expire_leases(url: str, older_than: float) -> None:
    """Time moves the honest way (no caller can set a clock): as the owner, the leases of the
    attempts that started more than `older_than` seconds ago end now, so the next rescue takes
    them while it races the workers' own callbacks."""
    query(
        url,
        "update public.jobs set lease_expires_at = now() - interval '1 millisecond'"
        " where status = 'processing' and started_at < now() - make_interval(secs => %s)"
        " returning 1",
        (older_than,),
    )


@dataclass
class Crew:
    threads: list[threading.Thread]
    errors: list[BaseException] = field(default_factory=list)
    faults: list[BaseException] = field(default_factory=list)  # tolerated connection faults
    reconnects: int = 0

    def join(self) -> None:
        for t in self.threads:
            t.join(30)
        assert self.errors == []


def run_workers(
    url: str,
    n: int,
    done: threading.Event,
    log: Log,
    fail_rate: float = 0.0,
    abandon_rate: float = 0.0,
    lease_seconds: int | None = None,
    tolerate_faults: bool = False,
) -> Crew:
    """n worker threads claiming batches of 1-10 until `done`; they fail or abandon some jobs."""
    crew = Crew([])

    def loop(i: int) -> None:
        rnd = random.Random(i)
        try:
            with Worker(url, "sdxl", f"w{i}", lease_seconds=lease_seconds) as w:
                while not done.is_set():
                    try:
                        jobs = w.claim(max_jobs=rnd.randint(1, 10))
                        log.claimed(jobs)
                        if not jobs:
                            time.sleep(0.005)
                        for j in jobs:
                            x = rnd.random()
                            if x < abandon_rate:
                                continue  # a worker that "crashed" on this job: rescue's business
                            if x < abandon_rate + fail_rate:
                                res = w.fail(j, "transient")
                            else:
                                res = w.complete(j, [f"{j.user_id}/{j.job_id}/{j.attempt}.png"])
                            log.answered(j, res)
                    except psycopg.OperationalError as e:
                        if not tolerate_faults:
                            raise
                        crew.faults.append(e)
                crew.reconnects += w.reconnects
        except BaseException as e:  # noqa: BLE001 - reported by the test
            crew.errors.append(e)
            done.set()

    crew.threads = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(n)]
    for t in crew.threads:
        t.start()
    return crew


def wait_until(url: str, done: threading.Event, cond_sql: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done.is_set() and time.monotonic() < deadline:
        if query(url, cond_sql)[0][0]:
            break
        time.sleep(0.1)
    done.set()


def check_claims(url: str, log: Log) -> dict[str, int]:
    """Every (job, attempt) claimed once, and each job claimed exactly `attempts` times."""
    per_attempt = Counter((j, a) for j, a, _ in log.claims)
    assert max(per_attempt.values()) == 1, "a job attempt was claimed twice"
    assert len({t for _, _, t in log.claims}) == len(log.claims), "a lease token was reused"
    per_job = Counter(j for j, _, _ in log.claims)
    attempts = dict(query(url, "select id::text, attempts from public.jobs"))
    assert per_job == Counter({j: a for j, a in attempts.items() if a}), "claims != attempts"
    return attempts


def test_8_workers_5000_jobs(fresh_db: str) -> None:
    settings(fresh_db, max_queued_per_user=100000, retry_base_seconds=0, jobs_per_minute=None)
    users = [make_user(fresh_db, f"u{i}@example.com") for i in range(5)]
    t0 = time.monotonic()
    queue_many(fresh_db, users, calls_per_user=250, num_images=4)  # 5 users x 250 calls x 4
    total = query(fresh_db, "select count(*) from public.jobs")[0][0]
    assert total == 5000
    t_queue = time.monotonic() - t0

    done, log = threading.Event(), Log()
    t1 = time.monotonic()
    crew = run_workers(fresh_db, 8, done, log, fail_rate=0.02)
    wait_until(
        fresh_db,
        done,
        "select count(*) = 0 from public.jobs where status in ('queued', 'processing')",
        timeout=120,
    )
    elapsed = time.monotonic() - t1
    crew.join()

    attempts = check_claims(fresh_db, log)
    assert len(attempts) == total, "a job was lost"
    results = Counter(r for _, r in log.results)
    assert set(results) <= {"completed", "requeued", "failed"}  # never stale or duplicate here
    completed = Counter(j for j, r in log.results if r == "completed")
    assert max(completed.values()) == 1, "a job was completed twice"
    status = dict(query(fresh_db, "select status, count(*) from public.jobs group by 1"))
    assert status.get("completed", 0) == len(completed) and sum(status.values()) == total
    assert status.get("completed", 0) + status.get("failed", 0) == total
    (rows, jobs_with_assets, bad) = query(
        fresh_db,
        "select count(*), count(distinct iv.job_id),"
        " count(*) filter (where j.status <> 'completed' or j.image_id <> iv.id)"
        " from public.images_videos as iv join public.jobs as j on j.id = iv.job_id",
    )[0]
    assert rows == jobs_with_assets == len(completed) and bad == 0
    print(
        f"\n8 workers: {total} jobs ({len(log.claims)} claims, {results['requeued']} retried,"
        f" {results['failed']} failed) in {elapsed:.2f}s = {total / elapsed:.0f} jobs/s;"
        f" queueing {total} jobs by 5 users in {t_queue:.2f}s = {total / t_queue:.0f} jobs/s"
    )


def test_concurrent_duplicate_queue_job(fresh_db: str) -> None:
    user = make_user(fresh_db, "a@example.com")
    n = 8
    for round_, num_images in enumerate((1, 3, 1, 3)):
        barrier = threading.Barrier(n)
        key = f"retry-key-{round_}"

        def call(
            _: int,
            key: str = key,
            num_images: int = num_images,
            barrier: threading.Barrier = barrier,
        ) -> dict:
            with psycopg.connect(fresh_db) as c:
                c.execute("select 1")
                c.commit()
                barrier.wait()
                body = {
                    "job_type": "sdxl_image_fast",
                    "prompt": "p",
                    "num_images": num_images,
                    "idempotency_key": key,
                }
                return rpc(c, "queue_job", body, role="authenticated", claims=as_user(user))

        with ThreadPoolExecutor(n) as ex:
            answers = list(ex.map(call, range(n)))
        assert len({a["group_id"] for a in answers}) == 1
        assert sorted(a["deduplicated"] for a in answers) == [False] + [True] * (n - 1)
        assert all(len(a["jobs"]) == num_images for a in answers)
        assert (
            query(
                fresh_db,
                "select count(*) from public.jobs where metadata->>'job_id' = %s",
                (answers[0]["group_id"],),
            )[0][0]
            == num_images
        )
    assert query(fresh_db, "select count(*) from public.jobs")[0][0] == 8


def test_killed_worker_job_is_rescued_and_late_callback_is_stale(fresh_db: str) -> None:
    settings(fresh_db, retry_base_seconds=0)
    user = make_user(fresh_db, "a@example.com")
    queue_many(fresh_db, [user], 1, 1)
    dead = Worker(fresh_db, "sdxl", "dead", lease_seconds=10)
    (job,) = dead.claim()
    terminate(fresh_db, dead.backend_pid)
    # nothing happens before the lease ends
    with Worker(fresh_db, "sdxl", "alive", lease_seconds=10) as alive:
        assert alive.rescue() == {"requeued": 0, "failed": 0}
        assert alive.claim() == []
        expire_leases(fresh_db, 0)  # as the owner: the dead worker's lease ends
        assert alive.rescue() == {"requeued": 1, "failed": 0}
        (again,) = alive.claim()
        assert again.job_id == job.job_id and again.attempt == 2
        assert again.lease_token != job.lease_token
        # the dead worker comes back (new connection) while the job runs elsewhere: stale
        assert dead.fail(job, "I was away")["result"] == "stale"
        assert dead.reconnects == 1
        assert dead.heartbeat([job]) == {job.job_id: "lost"}
        assert alive.complete(again, [f"{again.user_id}/alive.png"])["result"] == "completed"
        # and after it was completed: still stale, nothing changes
        before = query(fresh_db, "select to_jsonb(j) from public.jobs as j")[0][0]
        assert dead.complete(job, [f"{job.user_id}/dead.png"])["result"] == "stale"
        assert query(fresh_db, "select to_jsonb(j) from public.jobs as j")[0][0] == before
    dead.close()
    assert query(fresh_db, "select file_path from public.images_videos") == [
        (f"{job.user_id}/alive.png",)]
    assert query(fresh_db, "select status, attempts from public.jobs") == [("completed", 2)]


def test_fairness_second_user_not_starved(fresh_db: str) -> None:
    settings(fresh_db, max_queued_per_user=1000, jobs_per_minute=None)
    a, b = make_user(fresh_db, "a@example.com"), make_user(fresh_db, "b@example.com")
    queue_many(fresh_db, [a], 200, 1)
    queue_many(fresh_db, [b], 1, 1)
    with Worker(fresh_db, "sdxl", "w") as w:
        owners = [w.claim()[0].user_id for _ in range(3)]
    assert b in owners, owners
    print(f"\nfairness: user B's job claimed at position {owners.index(b) + 1} of A's 200")


def test_concurrent_rescue_while_claiming(fresh_db: str) -> None:
    settings(fresh_db, max_queued_per_user=10000, retry_base_seconds=0, jobs_per_minute=None)
    users = [make_user(fresh_db, f"u{i}@example.com") for i in range(2)]
    queue_many(fresh_db, users, 75, 4)  # 600 jobs
    done, log = threading.Event(), Log()
    crew = run_workers(fresh_db, 4, done, log, fail_rate=0.05, abandon_rate=0.05, lease_seconds=10)

    def rescuer(i: int) -> None:
        with Worker(fresh_db, "sdxl", f"rescuer{i}") as r:
            while not done.is_set():
                # every lease taken before the previous round has expired: rescue races the
                # workers' own callbacks all the time
                expire_leases(fresh_db, 0.05)
                res = r.rescue()
                with log.lock:
                    log.rescued.update(res)
                time.sleep(0.05)

    rescuers = [threading.Thread(target=rescuer, args=(i,), daemon=True) for i in range(2)]
    for t in rescuers:
        t.start()
    wait_until(
        fresh_db,
        done,
        "select count(*) = 0 from public.jobs where status in ('queued', 'processing')",
        timeout=60,
    )
    for t in rescuers:
        t.join(30)
    crew.join()

    check_claims(fresh_db, log)
    accepted = [(j, r) for j, r in log.results if r in ("completed", "requeued", "failed")]
    # every claim ended exactly once: by an accepted callback or by one rescue
    assert len(log.claims) == len(accepted) + log.rescued["requeued"] + log.rescued["failed"]
    completed = Counter(j for j, r in accepted if r == "completed")
    assert not completed or max(completed.values()) == 1
    status = dict(query(fresh_db, "select status, count(*) from public.jobs group by 1"))
    assert status.get("completed", 0) == len(completed)
    assert query(fresh_db, "select count(*), count(distinct job_id) from public.images_videos")[
        0
    ] == (len(completed), len(completed))
    print(
        f"\nrescue race: {len(log.claims)} claims, {len(accepted)} accepted callbacks,"
        f" {Counter(r for _, r in log.results)['stale']} stale, rescued {dict(log.rescued)},"
        f" final {status}"
    )


@pytest.mark.chaos
def test_chaos_workers_killed_at_random(fresh_db: str) -> None:
    """Bigger variant: 8 workers over 3,000 jobs while their connections are killed at random."""
    settings(fresh_db, max_queued_per_user=100000, retry_base_seconds=0, jobs_per_minute=None)
    users = [make_user(fresh_db, f"u{i}@example.com") for i in range(3)]
    queue_many(fresh_db, users, 250, 4)
    done, log = threading.Event(), Log()
    crew = run_workers(
        fresh_db, 8, done, log, fail_rate=0.02, lease_seconds=10, tolerate_faults=True
    )
    kills = 0

    def killer() -> None:
        nonlocal kills
        rnd = random.Random(0)
        while not done.is_set():
            pids = query(
                fresh_db,
                "select pid from pg_stat_activity where datname ="
                " current_database() and application_name like 'jobsdb-worker w%%'",
            )
            if pids:
                try:
                    terminate(fresh_db, rnd.choice(pids)[0])
                    kills += 1
                except AssertionError:
                    pass
            time.sleep(0.2)
            expire_leases(fresh_db, 0.2)
            query(
                fresh_db,
                "select set_config('role', 'jobs_worker', false), public.rescue_expired_jobs()",
            )

    k = threading.Thread(target=killer, daemon=True)
    k.start()
    wait_until(
        fresh_db,
        done,
        "select count(*) = 0 from public.jobs where status in ('queued', 'processing')",
        timeout=300,
    )
    k.join(30)
    crew.join()
    per_attempt = Counter((j, a) for j, a, _ in log.claims)
    assert max(per_attempt.values()) == 1, "a job attempt was claimed twice"
    assert (
        query(
            fresh_db, "select count(*) from public.jobs where status in ('queued', 'processing')"
        )[0][0]
        == 0
    )
    completed = Counter(j for j, r in log.results if r == "completed")
    assert not completed or max(completed.values()) == 1
    status = dict(query(fresh_db, "select status, count(*) from public.jobs group by 1"))
    assets = query(fresh_db, "select count(*), count(distinct job_id) from public.images_videos")
    assert assets[0] == (status.get("completed", 0), status.get("completed", 0))
    assert kills > 0 and crew.reconnects > 0
    print(
        f"\nchaos: {kills} connections killed, {crew.reconnects} reconnects,"
        f" {len(crew.faults)} tolerated faults, final {status}"
    )
