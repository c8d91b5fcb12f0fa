"""Upgrading a live database: real `jobsdb worker` processes keep working while `jobsdb migrate`
runs, and nothing of the work is lost or repeated.

The database holds running work when the upgrade starts: completed jobs with outputs, jobs
processing under the workers' leases, jobs queued. After it: every job completes; a job that was
processing keeps its attempt (its lease and fencing token survived: no rescue, no second run);
the completed jobs and their outputs are as they were; no worker call failed; and the catalog
equals a fresh install's (jobsdb.schema.dump, as the drift test compares them). Three ways:
  * a database built from the migrations before 1.0.0, upgraded to the newest release;
  * the newest release upgraded to the next one (a fixture release whose step adds a column to
    jobs and re-creates a function, tests/py/fixture_release.py), the older workers running on;
  * the way back from that next release, a forward migration: the newer workers stop (their
    jobs handed back), the older release's workers finish the jobs that were in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from fixture_release import Fixture, make
from workerproc import WorkerProc, assets_per_job, fast_retries, make_user, queue, wait_for

from jobsdb import embedded, migrate, package_migrate, releases, schema

ROOT = Path(__file__).resolve().parents[2]
JOBSDB = str(Path(sys.executable).with_name("jobsdb"))
FAILURES = ("database_error", "heartbeat_failed", "report_refused", "result_refused", "refused",
            "batch_refused", "release_failed", "worker_failed", "job_error")


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return make(tmp_path_factory.mktemp("fixture") / "src")


def jobsdb_migrate(url: str, *args: str, env: dict[str, str] | None = None) -> None:
    e = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    r = subprocess.run([JOBSDB, "migrate", "--url", url, *args], capture_output=True,
                       text=True, env={**e, **(env or {})}, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def dump(url: str, superuser_url: str | None) -> str:
    name = url.rsplit("/", 1)[1]
    return schema.dump(embedded.url_for_db(superuser_url, name) if superuser_url else url)


def rows(url: str, ids: list[str]) -> dict[str, tuple]:
    with psycopg.connect(url) as c:
        return {r[0]: r[1:] for r in c.execute(
            "select j.id::text, j.status, j.attempts, j.lease_token, j.image_id, j.completed_at,"
            " (select array_agg(iv.file_path order by iv.asset_index) from public.images_videos"
            "  as iv where iv.job_id = j.id)"
            " from public.jobs as j where j.id = any(%s::uuid[])", (ids,))}


def processing(url: str, ids: list[str]) -> list[str]:
    return [i for i, r in rows(url, ids).items() if r[0] == "processing"]


def reported(w: WorkerProc) -> set[str]:
    return {e["job_id"] for e in w.events() if e.get("event") == "job_reported"
            and e.get("outcome") == "completed"}


def run_work_through_upgrade(url: str, upgrade, hand_over: bool = False) -> None:
    """Completed, processing and queued work, the upgrade while two workers run, then: every
    job completes, once, the processing ones with their attempt. With hand_over (a way back),
    the newer workers stop after it, handing their jobs back at once (--grace 0), and workers
    started after it (the older release's) finish them."""
    user = make_user(url)
    fast_retries(url)
    done = queue(url, user, 2, fake_seconds=0.05)
    grace = ["--grace", "0"] if hand_over else []
    workers = [WorkerProc(url, "-c", "2", *grace), WorkerProc(url, "-c", "2", *grace)]
    try:
        wait_for(lambda: all(r[0] == "completed" for r in rows(url, done).values()), 60,
                 "the first jobs completed")
        before_done = rows(url, done)
        for w in workers:
            w.wait_event("ready")
        running = queue(url, user, 4, fake_seconds=3)
        wait_for(lambda: len(processing(url, running)) >= 3, 60, "jobs in flight")
        in_flight = processing(url, running)
        waiting = queue(url, user, 3, fake_seconds=0.05)
        upgrade()
        newer = list(workers)
        if hand_over:
            for w in newer:
                w.signal(signal.SIGTERM)
                assert w.wait(60) == 0, w.text()
            workers.append(WorkerProc(url, "-c", "2"))
        ids = done + running + waiting
        wait_for(lambda: all(r[0] == "completed" for r in rows(url, ids).values()), 90,
                 "every job completed")
        after = rows(url, ids)
        assert {i: after[i] for i in done} == before_done  # completed work and outputs intact
        assert all(n == 1 for n in assets_per_job(url, ids).values())  # none ran twice
        if hand_over:
            assert sum(w.count("job_released") for w in newer) >= 1
            handed = {e["job_id"] for w in newer for e in w.events()
                      if e.get("event") == "job_released"}
            # jobs the newer workers held at their stop (in flight at the way back, or
            # claimed since): handed back, then finished by the older release's worker
            assert handed <= set(running + waiting) and handed <= reported(workers[-1])
            assert all(after[i][1] == 1 for i in handed), after  # the attempt given back
        else:
            assert all(after[i][1] == 1 for i in in_flight), after  # no lease lost, no rescue
        for w in workers:
            assert sum(w.count(e) for e in FAILURES) == 0, w.text()
    finally:
        for w in workers:
            w.stop()


def test_the_history_before_1_0_0_upgrades_under_running_workers(
        bare_db_factory, superuser_url: str | None) -> None:
    url = bare_db_factory()
    migrate.up(url, ROOT / "migrations", out=quiet)
    with psycopg.connect(url) as conn:
        assert releases.installed(conn) == releases.PRE
    run_work_through_upgrade(url, lambda: jobsdb_migrate(url))
    with psycopg.connect(url) as conn:
        assert releases.installed(conn) == releases.latest(ROOT / "releases")
    fresh = bare_db_factory()
    package_migrate.up(fresh, rdir=ROOT / "releases", mdir=ROOT / "migrations", out=quiet)
    assert dump(url, superuser_url) == dump(fresh, superuser_url)


def test_a_release_upgrades_to_the_next_under_its_running_workers(
        fixture: Fixture, bare_db_factory, superuser_url: str | None) -> None:
    url = bare_db_factory()
    env = fixture.env()
    jobsdb_migrate(url, "--release", fixture.old, env=env)
    run_work_through_upgrade(url, lambda: jobsdb_migrate(url, env=env))
    fresh = bare_db_factory()
    jobsdb_migrate(fresh, env=env)
    assert dump(url, superuser_url) == dump(fresh, superuser_url)


def test_the_way_back_lets_the_older_workers_finish_the_jobs_in_flight(
        fixture: Fixture, bare_db_factory, superuser_url: str | None) -> None:
    url = bare_db_factory()
    env = fixture.env()
    jobsdb_migrate(url, env=env)
    with psycopg.connect(url) as conn:
        assert releases.installed(conn) == fixture.new
    run_work_through_upgrade(url, lambda: jobsdb_migrate(url, "--release", fixture.old,
                                                         env=env), hand_over=True)
    with psycopg.connect(url) as conn:
        assert releases.installed(conn) == fixture.old
    older = bare_db_factory()
    jobsdb_migrate(older, "--release", fixture.old, env=env)
    assert dump(url, superuser_url) == dump(older, superuser_url)
