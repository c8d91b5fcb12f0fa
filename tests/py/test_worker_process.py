"""The real `jobsdb worker` command, started as a subprocess on a clone of the template:
jobs end to end, the job time limit, SIGTERM (finish, then release), a second signal, SIGKILL
(the lease expires and the job is rescued by the next worker, pg_cron being absent), LISTEN
wake-ups and the exit codes. Every run checks: no job lost, none completed twice."""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest
from workerproc import (
    WorkerProc,
    assets_per_job,
    fast_retries,
    make_user,
    queue,
    states,
    wait_for,
)

TERMINAL = ("completed", "failed")


def _all_terminal(url: str, ids: list[str]) -> bool:
    return all(s[0] in TERMINAL for s in states(url, ids).values())


def _check_once(url: str, ids: list[str]) -> None:
    """0 lost (every job is known and terminal), 0 completed twice (one asset per job)."""
    st = states(url, ids)
    assert set(st) == set(ids)
    completed = [i for i, s in st.items() if s[0] == "completed"]
    per_job = assets_per_job(url, ids)
    assert all(per_job.get(i) == 1 for i in completed), per_job


def test_worker_runs_jobs_end_to_end(fresh_db: str) -> None:
    user = make_user(fresh_db)
    fast_retries(fresh_db)
    ok = queue(fresh_db, user, 5)
    once = queue(fresh_db, user, 1, fake_fail="once")
    bad = queue(fresh_db, user, 1, fake_fail="permanent")
    ids = ok + once + bad
    w = WorkerProc(fresh_db, "-c", "2")
    try:
        wait_for(lambda: _all_terminal(fresh_db, ids), 60, "all jobs terminal")
        w.signal(signal.SIGTERM)
        assert w.wait() == 0, w.text()
    finally:
        w.stop()
    st = states(fresh_db, ids)
    assert all(st[i] == ("completed", 1) for i in ok)
    assert st[once[0]] == ("completed", 2)  # failed once (retryable), ran again
    assert st[bad[0]] == ("failed", 1)  # PermanentJobFailure: no retry
    _check_once(fresh_db, ids)
    with psycopg.connect(fresh_db) as c:
        row = c.execute(
            "select j.enhanced_prompt, j.quality_rating, iv.file_path, iv.bucket"
            " from public.jobs as j join public.images_videos as iv on iv.id = j.image_id"
            " where j.id = %s", (ok[0],)).fetchone()
    assert row[0] == "job 0, highly detailed" and float(row[1]) == 80
    assert row[2] == f"{user}/{ok[0]}.png" and row[3]


def test_a_hung_job_is_stopped_by_the_time_limit_and_retried(fresh_db: str) -> None:
    user = make_user(fresh_db)
    fast_retries(fresh_db)
    hung = queue(fresh_db, user, 1, fake_hang=True)
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute("update public.jobs set max_attempts = 2 where id = %s", (hung[0],))
    w = WorkerProc(fresh_db, "--job-timeout", "1")
    try:
        wait_for(lambda: _all_terminal(fresh_db, hung), 30, "the hung job to fail")
        assert w.count("job_timed_out") == 2
        w.signal(signal.SIGTERM)
        assert w.wait() == 0
    finally:
        w.stop()
    with psycopg.connect(fresh_db) as c:
        st, attempts, err = c.execute("select status, attempts, error_message from public.jobs"
                                      " where id = %s", (hung[0],)).fetchone()
    assert (st, attempts) == ("failed", 2)  # each attempt timed out and was reported retryable
    assert "timed out after 1 s" in err


def test_sigterm_finishes_running_jobs_and_releases_the_rest(fresh_db: str) -> None:
    user = make_user(fresh_db)
    short = queue(fresh_db, user, 2, fake_seconds=1.0)
    long = queue(fresh_db, user, 2, fake_seconds=60)
    ids = short + long
    w = WorkerProc(fresh_db, "-c", "4", "--grace", "3")
    try:
        wait_for(lambda: all(s[0] == "processing" for s in states(fresh_db, ids).values()),
                 30, "four jobs running")
        w.signal(signal.SIGTERM)
        started = time.monotonic()
        assert w.wait(20) == 0, w.text()
        took = time.monotonic() - started
        assert w.count("job_released") == 2
    finally:
        w.stop()
    assert 2.5 <= took < 10  # the grace period, not the 60 s jobs
    st = states(fresh_db, ids)
    assert all(st[i] == ("completed", 1) for i in short)
    assert all(st[i] == ("queued", 0) for i in long)  # released: the attempt is not spent
    _check_once(fresh_db, short)


def test_a_second_signal_stops_at_once_and_leaves_the_jobs_to_their_leases(
    fresh_db: str,
) -> None:
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 1, fake_seconds=60)
    w = WorkerProc(fresh_db, "--grace", "60")
    try:
        wait_for(lambda: states(fresh_db, ids)[ids[0]][0] == "processing", 30, "job running")
        w.signal(signal.SIGTERM)
        w.wait_event("stopping")
        w.signal(signal.SIGINT)
        assert w.wait(10) == 5
    finally:
        w.stop()
    assert states(fresh_db, ids)[ids[0]] == ("processing", 1)


def test_sigkill_mid_job_the_lease_expires_and_the_next_worker_rescues_it(
    fresh_db: str,
) -> None:
    user = make_user(fresh_db)
    fast_retries(fresh_db)
    ids = queue(fresh_db, user, 1, fake_seconds=60)
    w = WorkerProc(fresh_db)
    try:
        wait_for(lambda: states(fresh_db, ids)[ids[0]][0] == "processing", 30, "job running")
        w.wait_event("job_started")
        os.killpg(w.proc.pid, signal.SIGKILL)  # the worker and its job process
        w.wait()
    finally:
        w.stop()
    with psycopg.connect(fresh_db, autocommit=True) as c:
        # as the owner: make the lease run out now instead of waiting for it
        c.execute("update public.jobs set lease_expires_at = now() - interval '1 second',"
                  " metadata = metadata || '{\"fake_seconds\": 0.1}' where id = %s", (ids[0],))
    w2 = WorkerProc(fresh_db, "--rescue-every", "0.5")
    try:
        wait_for(lambda: _all_terminal(fresh_db, ids), 30, "the rescued job to complete")
        assert w2.count("rescued_expired_jobs") >= 1
        assert any(e.get("by") == "workers" for e in w2.events()
                   if e.get("event") == "rescue_schedule")
    finally:
        assert w2.stop() == 0
    assert states(fresh_db, ids)[ids[0]] == ("completed", 2)
    _check_once(fresh_db, ids)


def test_a_parked_worker_wakes_on_notify_before_its_poll(fresh_db: str) -> None:
    user = make_user(fresh_db)
    w = WorkerProc(fresh_db, "--poll", "30")
    try:
        w.wait_event("ready")
        time.sleep(1.0)  # the first claim (empty) has happened; the next poll is 30 s away
        ids = queue(fresh_db, user, 1, fake_seconds=0)
        started = time.monotonic()
        wait_for(lambda: _all_terminal(fresh_db, ids), 10, "the job, woken by NOTIFY")
        assert time.monotonic() - started < 5
    finally:
        assert w.stop() == 0


def test_exit_codes_for_a_bad_callable_no_database_and_a_refused_role(fresh_db: str) -> None:
    w = WorkerProc(fresh_db, target="no_such_module_xyz:run")
    try:
        assert w.wait() == 2
        assert "cannot import no_such_module_xyz" in w.text()
    finally:
        w.stop()
    w = WorkerProc("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert w.wait() == 3
    finally:
        w.stop()
    w = WorkerProc(fresh_db, "--role", "authenticated")  # users may not claim jobs
    try:
        assert w.wait() == 4
        assert "refused" in w.text()
    finally:
        w.stop()


@pytest.mark.parametrize("bad", [["--concurrency", "0"], ["--lease-seconds", "5"]])
def test_bad_options_exit_2(fresh_db: str, bad: list[str]) -> None:
    w = WorkerProc(fresh_db, *bad)
    try:
        assert w.wait() == 2
    finally:
        w.stop()


def test_a_job_cancelled_while_running_is_stopped_and_not_reported(fresh_db: str) -> None:
    from jobsdb.postgrest import as_user, rpc

    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 1, fake_seconds=60)
    w = WorkerProc(fresh_db)
    try:
        w.wait_event("job_started")
        with psycopg.connect(fresh_db, autocommit=True) as c:
            rpc(c, "cancel_job", {"job_id": ids[0]}, claims=as_user(user))
        w.wait_event("job_stopped", timeout=15)  # the next heartbeat answered cancelled
        assert [e["reason"] for e in w.events() if e["event"] == "job_stopped"] == ["cancelled"]
        later = queue(fresh_db, user, 1, fake_seconds=0)  # the slot was restarted and works
        wait_for(lambda: _all_terminal(fresh_db, later), 30, "a job after the cancel")
    finally:
        assert w.stop() == 0
    assert states(fresh_db, ids)[ids[0]] == ("cancelled", 1)
    assert assets_per_job(fresh_db, ids) == {}


def test_heartbeats_follow_a_lease_shorter_than_the_heartbeat_interval(fresh_db: str) -> None:
    """A lease shorter than asked for (the job type's maximum clamps it) is kept alive: the
    worker heartbeats within a third of the granted lease, not only every --heartbeat s.
    Here --heartbeat 30 with a 10 s lease and a 13 s job, while rescue runs every second."""
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 1, fake_seconds=13)
    w = WorkerProc(fresh_db, "--heartbeat", "30", "--rescue-every", "1")
    try:
        wait_for(lambda: _all_terminal(fresh_db, ids), 40, "the 13 s job")
    finally:
        assert w.stop() == 0
    assert states(fresh_db, ids)[ids[0]] == ("completed", 1)  # never rescued
    _check_once(fresh_db, ids)


def _plant(url: str, user: str, metadata: list[str]) -> list[str]:
    """Jobs inserted by plain SQL as the owner (so queue_job's rules do not apply), claimed in
    this order (ids ascending, equal ranks); metadata as JSON text, stored exactly."""
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, len(metadata) + 1)]
    with psycopg.connect(url, autocommit=True) as c:
        for job_id, meta in zip(ids, metadata, strict=True):
            c.execute("insert into public.jobs (id, user_id, job_type, metadata)"
                      " values (%s, %s, 'sdxl_image_fast', %s::jsonb)", (job_id, user, meta))
    return ids


def _errors(url: str, ids: list[str]) -> dict[str, str | None]:
    with psycopg.connect(url) as c:
        rows = c.execute("select id::text, error_message from public.jobs"
                         " where id = any(%s::uuid[])", (ids,)).fetchall()
    return dict(rows)


def test_a_job_the_worker_cannot_decode_fails_for_good_and_the_rest_of_its_claim_runs(
    fresh_db: str,
) -> None:
    """What the database accepts from its owner, a worker must survive: a 5,001-digit integer
    (Python's int-string limit) and arrays nested 2,000 deep (RecursionError) in the middle of
    one claim of four. Before, the worker exited 1 on the whole claim, the claim rolled back and
    every restart died the same way."""
    user = make_user(fresh_db)
    deep = "[" * 2000 + "]" * 2000
    ids = _plant(fresh_db, user, [
        '{"prompt": "good first"}', '{"prompt": "too big", "n": 1e5000}',
        f'{{"prompt": "too deep", "a": {deep}}}', '{"prompt": "good last"}',
    ])
    good, bad = [ids[0], ids[3]], ids[1:3]
    w = WorkerProc(fresh_db, "-c", "4")
    try:
        wait_for(lambda: _all_terminal(fresh_db, ids), 60, "the four planted jobs")
        later = queue(fresh_db, user, 1)  # the same worker goes on
        wait_for(lambda: _all_terminal(fresh_db, later), 30, "a job queued afterwards")
        assert w.proc.poll() is None
        undecodable = [e["job_id"] for e in w.events() if e.get("event") == "job_undecodable"]
        w.signal(signal.SIGTERM)
        assert w.wait() == 0, w.text()
    finally:
        w.stop()
    assert undecodable == bad
    st = states(fresh_db, ids + later)
    assert [st[i] for i in good + later] == [("completed", 1)] * 3
    assert [st[i] for i in bad] == [("failed", 1)] * 2  # max_attempts 3: failed for good
    with psycopg.connect(fresh_db) as c:  # all four in one claim: one transaction's now()
        starts = c.execute("select count(distinct started_at) from public.jobs"
                           " where id = any(%s::uuid[])", (ids,)).fetchone()[0]
    assert starts == 1
    err = _errors(fresh_db, bad)
    assert "Exceeds the limit (4300 digits)" in err[bad[0]], err
    assert "RecursionError" in err[bad[1]], err
    assert all(e.startswith("the worker cannot decode this job (metadata: ")
               and e.endswith("a retry cannot fix it") for e in err.values()), err
    _check_once(fresh_db, good)


def test_a_result_that_is_not_json_or_is_refused_fails_for_good_and_the_worker_goes_on(
    fresh_db: str,
) -> None:
    """The callable's result: NaN in its metadata (not JSON) and an asset in another user's
    folder (refused by the database, 22023) each fail that job for good; the job between them
    completes, in the same batch of reports."""
    user, victim = make_user(fresh_db), make_user(fresh_db)
    nan = queue(fresh_db, user, 1, fake_nan=True)
    ok = queue(fresh_db, user, 1)
    stolen = queue(fresh_db, user, 1, fake_path=f"{victim}/private.png")
    ids = nan + ok + stolen
    w = WorkerProc(fresh_db, "-c", "3")
    try:
        wait_for(lambda: _all_terminal(fresh_db, ids), 60, "the three jobs")
        assert w.proc.poll() is None
    finally:
        assert w.stop() == 0
    st = states(fresh_db, ids)
    assert (st[nan[0]], st[ok[0]], st[stolen[0]]) == (("failed", 1), ("completed", 1),
                                                      ("failed", 1))
    err = _errors(fresh_db, [nan[0], stolen[0]])
    assert "result is not JSON" in err[nan[0]] and "a retry cannot fix it" in err[nan[0]]
    assert f"is not under '{user}/'" in err[stolen[0]], err
    assert assets_per_job(fresh_db, ids) == {ok[0]: 1}
