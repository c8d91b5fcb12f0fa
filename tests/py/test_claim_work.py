"""The work of one claim does not grow with what it cannot take.

Timings live in `make bench`; the claim's work is deterministic and is checked here: the shared
buffers one claim_jobs call touches (EXPLAIN (ANALYZE, BUFFERS) of the call: the function scan
counts every buffer the function's statements hit or read) stay within a small bound that does
not grow with
- 10,000 jobs of the pool waiting out a retry backoff (claimed, then failed with attempts left
  through job_callback, exactly as a worker's failure requeues them), nor with
- 10,000 claimed and finished jobs whose dead versions an open repeatable-read snapshot keeps
  alive (vacuum cannot remove them; what a pg_dump or a long analytics query does): the claim
  starts at its pool's claim floor (jobs_private.claim_floors), past them.
Each case compares with the same claim on the same database before the 10,000 jobs existed.
"""

from __future__ import annotations

import json

import psycopg
import pytest

N = 10_000
PROBES = 5
# Buffers a claim may touch beyond the baseline claim of the same database: a few index pages
# more as the index grows, and the pages of the claim floor's own versions the snapshot keeps
# (one per floor move, about one per 64 jobs claimed), never one per job (the old key touched a
# heap page per waiting job).
SLACK = 20


def _pool(c: psycopg.Connection) -> str:
    return str(c.execute(
        "select worker_pool from public.job_types where job_type = 'sdxl_image_fast'"
    ).fetchone()[0])


def _insert_jobs(c: psycopg.Connection, user_id: str, n: int, label: str) -> None:
    c.execute(
        """insert into public.jobs (user_id, job_type, status, metadata, original_prompt)
        select %s, 'sdxl_image_fast', 'queued',
            jsonb_build_object('prompt', %s || g), %s || g
        from generate_series(1, %s) as g""",
        (user_id, label, label, n),
    )
    c.execute("analyze public.jobs")  # what autoanalyze does; the session's plans are made now


def _claim_buffers(c: psycopg.Connection, pool: str) -> tuple[int, int]:
    """(shared buffers hit or read, jobs claimed) of one claim, rolled back."""
    c.execute("vacuum public.jobs")
    # twice, the second counted: the first after a vacuum also reloads catalog entries
    for _ in range(2):
        c.execute("begin")
        try:
            plan = c.execute(
                "explain (analyze, buffers, format json) "
                "select * from public.claim_jobs(%s, 'probe-worker', 1)",
                (pool,),
            ).fetchone()[0]
        finally:
            c.execute("rollback")
    if isinstance(plan, str):
        plan = json.loads(plan)
    node = plan[0]["Plan"]
    return node["Shared Hit Blocks"] + node["Shared Read Blocks"], node["Actual Rows"]


def _claim_and_report(c: psycopg.Connection, pool: str, n: int, retryable: bool) -> None:
    """Claim n jobs of the pool, 100 at a time, and report each as failed through job_callback
    (requeued with backoff when retryable and attempts are left, else finished)."""
    for _ in range(n // 100):  # one transaction per batch, as workers do
        c.execute(
            """select count(public.job_callback(
                    r.job_id, 'failed', r.lease_token, 'boom', retryable => %s))
            from public.claim_jobs(%s, 'storm-worker', 100) as r""",
            (retryable, pool),
        )


@pytest.fixture
def db(fresh_db: str):
    with psycopg.connect(fresh_db, autocommit=True) as c:
        # a backoff far longer than the test, so no job in backoff becomes due during it
        c.execute(
            "update jobs_private.settings set retry_base_seconds = 3600, "
            "retry_max_seconds = 86400, max_queued_per_user = 100000 where singleton"
        )
        uid = str(c.execute("select tests.create_user('claim-work@example.com')").fetchone()[0])
        c.execute("select public.claim_jobs(%s, 'warm-up', 1)", ("no-such-pool",))
        yield fresh_db, c, uid, _pool(c)


def _baseline(c: psycopg.Connection, uid: str, pool: str) -> int:
    _insert_jobs(c, uid, PROBES, "probe ")
    # the pool's first claim sets its claim floor (jobs_private.claim_floors): measure the next
    c.execute("select public.claim_jobs(%s, 'probe-worker', 1)", (pool,))
    buffers, claimed = _claim_buffers(c, pool)
    assert claimed == 1
    c.execute("delete from public.jobs where original_prompt like 'probe %'")
    return buffers


def test_a_claim_does_not_walk_jobs_in_backoff(db) -> None:
    _url, c, uid, pool = db
    before = _baseline(c, uid, pool)

    _insert_jobs(c, uid, N, "storm ")
    _claim_and_report(c, pool, N, retryable=True)
    waiting = c.execute(
        "select count(*) from public.jobs where status = 'queued' and run_at > now()"
    ).fetchone()[0]
    assert waiting == N

    _insert_jobs(c, uid, PROBES, "probe ")
    after, claimed = _claim_buffers(c, pool)
    assert claimed == 1
    print(f"\nclaim buffers: {before} with no job in backoff, {after} with {N}")
    assert after <= before + SLACK, (
        f"one claim touched {after} buffers with {N} jobs in backoff, {before} with none"
    )

    # The measurement can fail: the same jobs back at the rank the old design left them (a low
    # fair_rank at the head of the queue; run_at unchanged, so the triggers keep it) are walked.
    c.execute("update public.jobs set fair_rank = 0 where fair_rank >= 4611686018427387904")
    old_design, claimed = _claim_buffers(c, pool)
    print(f"claim buffers with the {N} jobs at the old design's rank: {old_design}")
    assert claimed == 1
    assert old_design > 10 * after


def test_a_claim_does_not_walk_dead_versions_an_open_snapshot_keeps(db) -> None:
    url, c, uid, pool = db
    before = _baseline(c, uid, pool)

    with psycopg.connect(url) as old:
        old.execute("set transaction isolation level repeatable read")
        old.execute("select count(*) from public.jobs").fetchone()  # the snapshot is taken
        _insert_jobs(c, uid, N, "done ")
        _claim_and_report(c, pool, N, retryable=False)
        assert c.execute(
            "select count(*) from public.jobs where status = 'failed'"
        ).fetchone()[0] == N

        _insert_jobs(c, uid, PROBES, "probe ")
        after, claimed = _claim_buffers(c, pool)
        dead = c.execute(
            "select n_dead_tup from pg_stat_user_tables"
            " where relid = 'jobs_private.jobs_hot'::regclass"
        ).fetchone()[0]
        # The measurement can fail: without the pool's claim floor the claim starts at the
        # bottom of the claim index and walks every dead entry the snapshot keeps.
        c.execute("delete from jobs_private.claim_floors")
        no_floor, claimed_no_floor = _claim_buffers(c, pool)
        old.rollback()
    print(f"\nclaim buffers: {before} before, {after} past {dead} dead versions, "
          f"{no_floor} past them without the claim floor")
    assert claimed == 1 and claimed_no_floor == 1
    assert no_floor > 5 * after
    assert dead >= N, f"the open snapshot should keep {N} dead versions, vacuum left {dead}"
    assert after <= before + SLACK, (
        f"one claim touched {after} buffers past {N} dead versions, {before} without them"
    )
