"""job_callbacks applies a batch as set statements; it must give exactly what job_callback gives
applied per element in job id order (what job_callbacks did before, and still does to name an
element it refuses). Each batch below is applied both ways to the same state, in one
transaction (savepoint, rolled back between them, so now() is the same): the answers and
everything written (jobs, output rows, video rows) must be equal, or both must fail with the
same SQLSTATE and the same message naming the same element, having written nothing.

The batches mix what the set path decides per element: fresh completions (string and object
assets, a video, metadata with the analytics keys, a first asset the service role already
wrote), failures (requeued, out of attempts, not retryable, long or missing messages), stale
reports (another attempt's token, a job back in the queue), cancelled, finished (duplicate) and
unknown jobs; and refused ones (a conflicting report, assets outside the owner's folder, too
many assets, asset metadata over the limit, a metadata number job_callback refuses, a row rule
broken) among good reports, where nothing may be written.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc
from jobsdb.urls import url_for_db

WORKER_CLAIMS = json.dumps({"role": "jobs_worker"})
KEYS = ("job_id", "status", "lease_token", "error_message", "metadata", "assets", "retryable")
# what a call wrote: every job of the test's user, its output rows and video rows (ids of output
# rows are random: named by (job, asset_index))
FINGERPRINT = """
select coalesce(jsonb_agg(to_jsonb(x) order by x.id), '[]') from (
    select j.id, j.status, j.attempts, j.run_at > now() as deferred, j.completed_at,
        j.last_error_at, j.error_message, j.metadata, j.enhancement_strategy, j.original_prompt,
        j.enhanced_prompt, j.enhancement_time_ms, j.compel_weights, j.qwen_expansion_percentage,
        j.quality_rating, j.quality_improvement, j.locked_by, j.lease_expires_at,
        j.updated_at, j.fair_rank >= 4611686018427387904 as deferred_band,
        (select array[i.asset_index::text, i.asset_type] from public.images_videos as i
         where i.id = j.image_id) as image,
        (select array[i.asset_index::text, v.file_path, v.thumbnail_path]
         from public.videos as v join public.images_videos as i on i.id = v.asset_id
         where v.id = j.video_id) as video,
        (select jsonb_agg(jsonb_build_array(i.asset_index, i.asset_type, i.bucket, i.file_path,
             i.file_name, i.thumbnail_path, i.metadata, i.user_id) order by i.asset_index)
         from public.images_videos as i where i.job_id = j.id) as assets,
        (select count(*) from public.videos as v join public.images_videos as i
         on i.id = v.asset_id where i.job_id = j.id) as videos
    from public.jobs as j
    where j.user_id = %(user)s
) as x
"""


class State:
    """A user's jobs in every state a report can meet, their claims' tokens by job."""

    def __init__(self, conn: psycopg.Connection[Any], rng: random.Random) -> None:
        self.conn = conn
        self.rng = rng
        self.user = str(conn.execute(
            f"select tests.create_user('set-path-{rng.random()}@example.com')").fetchone()[0])
        self.tokens: dict[str, str] = {}

    def queue(self, job_type: str, n: int = 1) -> list[str]:
        body = {"job_type": job_type, "prompt": "a fox"}
        return [rpc(self.conn, "queue_job", body, claims=as_user(self.user))["jobs"][0]["id"]
                for _ in range(n)]

    def claim(self, pool: str, n: int) -> list[str]:
        got = rpc(self.conn, "claim_jobs", {"worker_pool": pool, "worker_id": "gpu-1",
                                            "max_jobs": n}, role="jobs_worker")
        for c in got:
            self.tokens[c["job_id"]] = c["lease_token"]
        return [c["job_id"] for c in got]

    def report(self, job: str, status: str, **more: Any) -> Any:
        args = {"job_id": job, "status": status, "lease_token": self.tokens[job], **more}
        return rpc(self.conn, "job_callback", args, role="jobs_worker")

    def path(self, job: str, i: int, ext: str = "png") -> str:
        return f"{self.user}/{job}/{i}.{ext}"


def _jobs(st: State) -> dict[str, list[str]]:
    """Jobs of the user in each state; the claims take the user's jobs (the only user)."""
    rng = st.rng
    images = st.queue("sdxl_image_fast", 10)
    videos = st.queue("video_fast", 3)
    # one job may be claimed only once more: its failure is final (out of attempts)
    st.conn.execute("update public.jobs set max_attempts = 1 where id = %s", (images[9],))
    claimed = st.claim("sdxl", 10) + st.claim("wan", 3)
    assert sorted(claimed) == sorted(images + videos)
    done, failed, requeued, cancelled = images[5], images[6], images[7], images[8]
    st.report(done, "completed", assets=[st.path(done, 0)])
    st.report(failed, "failed", retryable=False, error_message="oom")
    st.report(requeued, "failed", error_message="busy")  # back in the queue, in backoff
    rpc(st.conn, "cancel_job", {"job_id": cancelled}, claims=as_user(st.user))
    # a first asset the service role wrote itself (a video for a video job, at random)
    pre = videos[2]
    st.conn.execute(
        "insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket,"
        " file_path, file_name) values (%s, %s, 0, %s, 'video_fast', %s, '0.mp4')",
        (st.user, pre, rng.choice(["image", "video"]), st.path(pre, 0, "mp4")))
    fresh = images[:5] + [images[9]] + videos
    return {"fresh": fresh, "done": [done], "failed": [failed], "queued": [requeued],
            "cancelled": [cancelled]}


def _fresh_report(st: State, job: str) -> dict[str, Any]:
    rng = st.rng
    if rng.random() < 0.4:
        r: dict[str, Any] = {"status": "failed"}
        if rng.random() < 0.5:
            r["retryable"] = rng.choice([True, False])
        if rng.random() < 0.7:
            r["error_message"] = rng.choice(["oom", "x" * 10050, "bad prompt"])
        return r
    assets: list[Any] = []
    for i in range(rng.choice([0, 1, 1, 2, 3])):
        if rng.random() < 0.5:
            assets.append(st.path(job, i))
        else:
            a: dict[str, Any] = {"url": st.path(job, i, "mp4")}
            if rng.random() < 0.5:
                a["type"] = rng.choice(["image", "video"])
            if rng.random() < 0.5:
                a["thumbnail_url"] = st.path(job, i, "thumb.jpg")
            if rng.random() < 0.5:
                a["metadata"] = rng.choice([None, {"seed": i}, {"w": 512, "h": [1, 2]}])
            assets.append(a)
    r = {"status": "completed"}
    if assets or rng.random() < 0.5:
        r["assets"] = assets
    if rng.random() < 0.7:
        r["metadata"] = rng.choice([
            None, {},
            {"seed": 7, "job_id": "not-the-group", "image_index": 3, "num_images": 9},
            {"quality_rating": 87.5, "enhancement_time_ms": 1200, "enhancement_strategy": "s" * 80,
             "original_prompt": "orig", "enhanced_prompt": "better", "compel_weights": {"a": 1},
             "qwen_expansion_percentage": 12, "quality_improvement": -3.25},
            {"compel_weights": None, "quality_rating": None},
        ])
    return r


def _good_batch(st: State, jobs: dict[str, list[str]]) -> list[dict[str, Any]]:
    rng = st.rng
    batch = []
    for job in jobs["fresh"]:
        if rng.random() < 0.85:
            r = _fresh_report(st, job)
            if rng.random() < 0.15:
                r["lease_token"] = str(uuid.uuid4())  # another attempt's token: stale
            batch.append({"job_id": job, **r})
    for job in jobs["done"]:
        batch.append({"job_id": job, "status": "completed", "assets": [st.path(job, 5)]})
    for job in jobs["failed"]:
        batch.append({"job_id": job, "status": "failed"})
    for job in jobs["queued"] + jobs["cancelled"]:
        batch.append({"job_id": job, "status": rng.choice(["completed", "failed"])})
    batch.append({"job_id": str(uuid.uuid4()), "status": "completed"})  # unknown
    for r in batch:
        r.setdefault("lease_token", st.tokens.get(r["job_id"], str(uuid.uuid4())))
    rng.shuffle(batch)
    return batch


def _apply(conn: psycopg.Connection[Any], user: str, batch: list[dict[str, Any]],
           per_element: bool) -> tuple[Any, Any]:
    """(answers or (sqlstate, message), what was written) of one way, rolled back after."""
    conn.execute("savepoint one_way")
    conn.execute("select set_config('role', 'jobs_worker', true),"
                 " set_config('request.jwt.claims', %s, true)", (WORKER_CLAIMS,))
    try:
        if per_element:
            got: Any = [None] * len(batch)
            order = sorted(range(len(batch)), key=lambda k: uuid.UUID(batch[k]["job_id"]))
            for k in order:
                r = batch[k]
                try:
                    got[k] = conn.execute(
                        "select public.job_callback(job_id := %s, status := %s,"
                        " lease_token := %s, error_message := %s,"
                        " metadata := nullif(%s::jsonb, 'null'),"
                        " assets := nullif(%s::jsonb, 'null'), retryable := coalesce(%s, true))",
                        (r["job_id"], r["status"], r.get("lease_token"), r.get("error_message"),
                         json.dumps(r.get("metadata")), json.dumps(r.get("assets")),
                         r.get("retryable"))).fetchone()[0]
                except psycopg.Error as e:
                    msg = e.diag.message_primary
                    if e.sqlstate in ("22023", "PT409", "42501"):
                        msg = f"reports[{k}] (job {r['job_id']}): {msg}"
                    got = (e.sqlstate, msg)
                    break
        else:
            try:
                got = [a for (a,) in conn.execute(
                    "select answer from public.job_callbacks(%s::jsonb)",
                    (json.dumps(batch),)).fetchall()]
            except psycopg.Error as e:
                got = (e.sqlstate, e.diag.message_primary)
        if isinstance(got, tuple):
            conn.execute("rollback to savepoint one_way")
        conn.execute("select set_config('role', 'none', true)")
        written = conn.execute(FINGERPRINT, {"user": user}).fetchone()[0]
    finally:
        conn.execute("rollback to savepoint one_way")
    return got, written


def _job_callback_calls(superuser_url: str | None, db_url: str,
                        batch: list[dict[str, Any]]) -> int | None:
    """How many job_callback calls one job_callbacks call of `batch` made (rolled back): 0 on
    the set path. None without a superuser (track_functions is a superuser's setting)."""
    if superuser_url is None:
        return None
    db = str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    with psycopg.connect(url_for_db(superuser_url, db)) as su:
        su.execute("set track_functions = 'pl'")
        su.execute("select set_config('role', 'jobs_worker', true),"
                   " set_config('request.jwt.claims', %s, true)", (WORKER_CLAIMS,))
        try:
            su.execute("select * from public.job_callbacks(%s::jsonb)", (json.dumps(batch),))
        except psycopg.Error:
            pass
        else:
            su.execute("select set_config('role', 'none', true)")
        if su.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            return -1  # refused: the per-element way ran (and raised)
        calls = dict(su.execute(
            "select f.funcname, f.calls from pg_catalog.pg_stat_xact_user_functions as f"
            " where f.schemaname = 'public'").fetchall())
        su.rollback()
        assert calls.get("job_callbacks") == 1, calls  # the tracking works
        return int(calls.get("job_callback", 0))


def _same(conn: psycopg.Connection[Any], st: State, batch: list[dict[str, Any]]) -> Any:
    with conn.transaction(force_rollback=True):
        new = _apply(conn, st.user, batch, per_element=False)
        old = _apply(conn, st.user, batch, per_element=True)
    got, want = new[0], old[0]
    if isinstance(want, list) and isinstance(got, list):
        # a retry's backoff has random jitter, output rows random ids: equal in shape
        for a, b in zip(got, want, strict=True):
            if b.get("result") == "requeued":
                assert a.get("retry_at") and b.get("retry_at")
                a.pop("retry_at")
                b.pop("retry_at")
            for x in (a, b):
                if "asset_ids" in x:
                    x["asset_ids"] = len(x["asset_ids"])
    assert got == want, json.dumps({"batch": batch, "set": got, "per_element": want})
    differ = [(a, b) for a, b in zip(new[1], old[1], strict=True) if a != b]
    assert new[1] == old[1], f"the two ways wrote different rows (set, per element): {differ}"
    return want


@pytest.mark.parametrize("seed", range(8))
def test_a_mixed_batch_gets_job_callbacks_answers_and_writes(
    fresh_db: str, superuser_url: str | None, seed: int
) -> None:
    rng = random.Random(seed)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("update jobs_private.settings set max_queued_per_user = 1000,"
                     " jobs_per_minute = null")
        st = State(conn, rng)
        jobs = _jobs(st)
        for _ in range(3):
            batch = _good_batch(st, jobs)
            answers = _same(conn, st, batch)
            assert isinstance(answers, list), answers
            # applied by the set statement: job_callback not called
            assert _job_callback_calls(superuser_url, fresh_db, batch) in (0, None)
        # and the set path is the one that applied it: the answers are its own, committed
        got = rpc(conn, "job_callbacks", {"reports": batch}, role="jobs_worker")
        assert [g["job_id"] for g in got] == [str(uuid.UUID(r["job_id"])) for r in batch]
        assert {g["result"] for g in got} >= {"unknown_job", "ignored_cancelled", "duplicate",
                                             "stale"}


# (what breaks one report, among good ones): job_callback refuses it, so both ways must fail the
# same, naming the same element, and write nothing
REFUSED = {
    "conflict": lambda st, j: {"status": "failed"},  # on the completed job
    "outside the owner's folder": lambda st, j: {
        "status": "completed", "assets": [st.path(j, 0), f"{uuid.uuid4()}/x.png"]},
    "not a storage key": lambda st, j: {"status": "completed", "assets": [st.path(j, 0) + "/../x"]},
    "thumbnail outside": lambda st, j: {
        "status": "completed", "assets": [{"url": st.path(j, 0), "thumbnail_url": "other/t.png"}]},
    "too many assets": lambda st, j: {
        "status": "completed", "assets": [st.path(j, i) for i in range(11)]},
    "asset metadata over the limit": lambda st, j: {
        "status": "completed",
        "assets": [{"url": st.path(j, i), "metadata": {"x": "m" * 12000}} for i in range(3)]},
    "asset metadata deeper than 32": lambda st, j: {
        "status": "completed", "assets": [{"url": st.path(j, 0), "metadata": _deep(40)}]},
    "metadata number not a number": lambda st, j: {
        "status": "completed", "metadata": {"quality_rating": "great"}},
    "metadata over 64 KiB": lambda st, j: {"status": "failed", "metadata": {"x": "m" * 70000}},
    "bad asset shape": lambda st, j: {"status": "failed", "assets": [{"url": ""}]},
    "a row rule": lambda st, j: {"status": "completed", "metadata": {"quality_rating": 150}},
    "integer out of range": lambda st, j: {
        "status": "completed", "metadata": {"enhancement_time_ms": 1e12}},
}


def _deep(n: int) -> Any:
    d: Any = 1
    for _ in range(n):
        d = {"a": d}
    return d


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_element_fails_the_batch_as_job_callback_does(fresh_db: str, case: str) -> None:
    rng = random.Random(case)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("update jobs_private.settings set max_queued_per_user = 1000,"
                     " jobs_per_minute = null")
        st = State(conn, rng)
        jobs = _jobs(st)
        batch = _good_batch(st, jobs)
        target = jobs["done"][0] if case == "conflict" else rng.choice(jobs["fresh"][:5])
        bad = {"job_id": target, "lease_token": st.tokens[target], **REFUSED[case](st, target)}
        batch = [r for r in batch if r["job_id"] != target]
        batch.insert(rng.randrange(len(batch) + 1), bad)
        got = _same(conn, st, batch)
        assert isinstance(got, tuple), got
        k = batch.index(bad)
        if got[0] in ("22023", "PT409"):
            assert got[1].startswith(f"reports[{k}] (job {target}): "), got
        else:
            assert got[0] in ("23514", "22003"), got
