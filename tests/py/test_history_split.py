"""Reads leave sealed history out where it cannot hold what they read (jobs_private.history_split,
sql/62_history_split.sql): list_jobs (of every job or the completed ones), library_items and
workspace_groups read a page from the hot leaf's ids first, and through every partition only
when a sealed job could rank in it; system_metrics reads each span of completion times from
the first partition that can hold one.
On test_seal_history's seed (old finished jobs sealed, a v4 job made 60 days ago that stays in
the hot leaf: a leaf job older than every sealed one) with recent finished jobs added:
* every page of every read, walked to its end for each user and each status, is the same
  before the seal and after it;
* system_metrics answers the same for every window before the seal and after it;
* a page the leaf answers, and system_metrics' last 24 hours, open no sealed partition (their
  scans, counted in the call's transaction, stay 0); a deeper page and 31 days do (the count
  can fail);
* no write can break what the split says: a job written into sealed history made or finished
  later than its partition's bounds is refused (23514), for the service role as for the owner;
* partitions sealed before their bound existed (1.8.0, 1.9.0) leave the reads on every
  partition until `jobsdb history seal` or seal_step bounds them, and then they do not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from test_seal_history import FAIL_OLD, HIGH_V4, partitions, seal, unfinished_db  # noqa: F401

from jobsdb.postgrest import as_user, rpc

# a second v4 job above every counter id, made before the first: two leaf jobs older than
# every sealed one, so that a page (and the row after it) can be the leaf's alone
OLDER_V4 = "c0ffee00-1234-4abc-8def-000000000002"
RECENT = f"""
insert into public.jobs (user_id, job_type, status, metadata, created_at, started_at,
    completed_at)
select p.id, 'image_fast', 'completed',
    jsonb_build_object('kind', 'recent done', 'n', g),
    now() - make_interval(hours => 30 - g), now() - make_interval(hours => 30 - g),
    now() - make_interval(hours => 30 - g)
from public.profiles as p cross join generate_series(1, 12) as g;
insert into public.jobs (id, user_id, job_type, status, metadata, created_at, started_at,
    completed_at)
select '{OLDER_V4}', j.user_id, 'image_fast', 'completed', jsonb_build_object('kind', 'v4'),
    now() - interval '70 days', now() - interval '70 days', now() - interval '70 days'
from public.jobs as j where j.id = '{HIGH_V4}';
insert into public.images_videos (user_id, job_id, asset_index, asset_type, bucket, file_path,
    file_name)
select j.user_id, j.id, 0, 'image', 'outputs', 'p/' || j.id, 'a.png' from public.jobs as j
where j.metadata ->> 'kind' = 'recent done' and (j.metadata ->> 'n')::int % 4 <> 0
    or j.id = '{OLDER_V4}';
"""
STATUSES = (None, "queued", "completed", "failed", "cancelled")


@pytest.fixture
def db(unfinished_db: str) -> str:  # noqa: F811
    """test_seal_history's seed, its old jobs finished, and 12 finished jobs per user made in
    the last 30 hours (completed, 9 of them with an output), and OLDER_V4."""
    with psycopg.connect(unfinished_db, autocommit=True) as c:
        for q in FAIL_OLD:
            c.execute(q)
        c.execute(RECENT)
    return unfinished_db


def users(url: str) -> list[str]:
    with psycopg.connect(url) as c:
        return [r[0] for r in c.execute("select id::text from public.profiles order by id")]


class Reads:
    """The three reads as PostgREST calls them, each call's scans of sealed partitions counted
    in its own transaction (pg_stat_xact_user_tables, before the commit)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.sealed_scans = 0

    def call(self, user: str, name: str, args: dict[str, Any],
             role: str = "authenticated") -> Any:
        def count(conn: psycopg.Connection[Any]) -> None:
            self.sealed_scans = conn.execute(
                "select coalesce(sum(coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0)), 0)"
                " from pg_catalog.pg_stat_xact_user_tables as s"
                " where s.schemaname = 'jobs_private' and s.relname like 'jobs\\_upto\\_%'"
            ).fetchone()[0]

        # the session's counts not yet sent to the statistics are sent when it next goes idle,
        # so the call's transaction sees only its own
        self.conn.execute("select pg_catalog.pg_stat_force_next_flush()")
        return rpc(self.conn, name, args, role=role, claims=as_user(user),
                   before_commit=count)

    def pages(self, user: str, name: str, args: dict[str, Any],
              after: Callable[[Any], dict[str, Any] | None]) -> list[Any]:
        """Every page, following the read's own cursor to the end."""
        out = []
        while True:
            page = self.call(user, name, args)
            out.append(page)
            cursor = after(page)
            if cursor is None:
                return out
            args = args | cursor


def list_after(size: int) -> Callable[[Any], dict[str, Any] | None]:
    def after(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        if len(rows) < size:
            return None
        return {"before": rows[-1]["created_at"], "before_id": rows[-1]["id"]}
    return after


def library_after(page: dict[str, Any]) -> dict[str, Any] | None:
    return page["next"]


def groups_after(page: dict[str, Any]) -> dict[str, Any] | None:
    return page["next"] if page["groups"] else None


def everything(reads: Reads, user: str) -> dict[str, list[Any]]:
    """Every page of every read for one user, in small pages (so most cross the split)."""
    out: dict[str, list[Any]] = {}
    for status in STATUSES:
        # pages of one: the leaf's v4 job, older than every sealed one, fills a page alone
        for size in (1, 5, 50) if status in (None, "completed") else (5, 50):
            out[f"list_jobs {status} {size}"] = reads.pages(
                user, "list_jobs", {"status": status, "max_rows": size}, list_after(size))
    for size in (1, 4):
        out[f"library_items {size}"] = reads.pages(user, "library_items", {"max_rows": size},
                                                   library_after)
        out[f"workspace_groups {size}"] = reads.pages(
            user, "workspace_groups", {"max_groups": size}, groups_after)
    return out


# the seed's sealed jobs finished 10 to 40 days ago: 12 days ends among them
WINDOWS = ("1 hour", "24 hours", "7 days", "12 days", "31 days")


def admin(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as c:
        user = users(url)[0]
        c.execute("insert into public.user_roles (user_id, role) values (%s, 'admin')"
                  " on conflict do nothing", (user,))
    return user


def without_ages(doc: Any) -> Any:
    """system_metrics' answer without what moves with the clock (its window's ends, the oldest
    queued job's age)."""
    if isinstance(doc, dict):
        return {k: without_ages(v) for k, v in doc.items()
                if k not in ("oldest_seconds", "now", "since")}
    if isinstance(doc, list):
        return [without_ages(v) for v in doc]
    return doc


def metrics(reads: Reads, user: str) -> dict[str, tuple[Any, int]]:
    """Each window's answer and the sealed partitions' scans of its call."""
    out = {}
    for w in WINDOWS:
        doc = reads.call(user, "system_metrics", {"time_window": w})
        out[w] = (without_ages(doc), reads.sealed_scans)
    return out


def split(url: str) -> tuple[str | None, str | None]:
    with psycopg.connect(url) as c:
        return c.execute("select below::text, created_upto::text"
                         " from jobs_private.history_split").fetchone()


def newest_pages_open_no_sealed_partition(reads: Reads, user: str) -> dict[str, int]:
    """The sealed partitions' scans of each read's first page, answered by the leaf."""
    scans = {}
    for name, args in (("list_jobs", {"max_rows": 5}),
                       ("list_jobs", {"status": "completed", "max_rows": 5}),
                       ("library_items", {"max_rows": 4}),
                       ("workspace_groups", {"max_groups": 3})):
        reads.call(user, name, args)
        scans[f"{name} {args}"] = reads.sealed_scans
    return scans


def test_every_page_is_the_same_sealed_and_the_leaf_answers_the_newest(db: str) -> None:
    reads = Reads(db)
    people = users(db)
    before = {u: everything(reads, u) for u in people}
    assert split(db) == (None, None)
    boss = admin(db)
    before_metrics = metrics(reads, boss)
    assert {w: n for w, (_, n) in before_metrics.items()} == dict.fromkeys(WINDOWS, 0)
    rc, out, err = seal(db)
    assert rc == 0, err
    [(sealed, _), _hot] = partitions(db)
    after_metrics = metrics(reads, boss)
    assert {w: d for w, (d, _) in after_metrics.items()} == {
        w: d for w, (d, _) in before_metrics.items()}
    # the seed's sealed jobs finished 10 to 40 days ago: the last hour and day are the leaf's
    scans = {w: n for w, (_, n) in after_metrics.items()}
    assert scans["1 hour"] == scans["24 hours"] == 0 and scans["31 days"] > 0, scans
    with psycopg.connect(db) as c:
        newest_sealed = c.execute(f"select max(created_at)::text from {sealed}").fetchone()[0]
        below = c.execute("select jobs_private.seal_low_bound()::text").fetchone()[0]
        # the leaf keeps a job made before every sealed one (the v4 id above every counter id)
        assert c.execute("select min(created_at) < %s::timestamptz from jobs_private.jobs_hot",
                         (newest_sealed,)).fetchone()[0]
    assert split(db) == (below, newest_sealed)
    with psycopg.connect(db) as c:
        assert c.execute("select sealed_completed_upto = array[("
                         f"select max(completed_at) from {sealed})] from"
                         " jobs_private.history_split").fetchone()[0]
    after = {u: everything(reads, u) for u in people}
    for u in people:
        for k in before[u]:
            assert after[u][k] == before[u][k], (u, k)
    # the pages reach into sealed history: the comparison covers both sides of the split
    assert sum(len(p) for p in after[people[0]]["list_jobs None 50"]) > 300
    assert newest_pages_open_no_sealed_partition(reads, people[0]) == dict.fromkeys(
        newest_pages_open_no_sealed_partition(reads, people[0]), 0)
    # a page below the leaf's newest reads the sealed partitions (the count can fail)
    deep = reads.call(people[0], "list_jobs", {"max_rows": 50})
    reads.call(people[0], "list_jobs", {"max_rows": 50, "before": deep[-1]["created_at"],
                                        "before_id": deep[-1]["id"]})
    assert reads.sealed_scans > 0


def test_no_write_makes_a_sealed_job_newer_or_later_finished_than_its_bounds(db: str) -> None:
    rc, _, err = seal(db)
    assert rc == 0, err
    [(sealed, _), _hot] = partitions(db)
    with psycopg.connect(db, autocommit=True) as c:
        user, low = c.execute(f"select user_id, id from {sealed} order by id limit 1"
                              ).fetchone()
        # an id inside the sealed range, not taken
        free = c.execute("select overlay(%s::text placing 'ffff' from 33 for 4)::uuid",
                         (str(low),)).fetchone()[0]
        for role in ("service_role", "postgres"):
            with pytest.raises(psycopg.errors.CheckViolation) as e, c.transaction():
                if role == "service_role":
                    c.execute("set local role service_role")
                c.execute("insert into public.jobs (id, user_id, job_type, status, created_at,"
                          " started_at, completed_at) values (%s, %s, 'image_fast',"
                          " 'completed', now(), now(), now())", (free, user))
            assert "jobs_sealed_times" in str(e.value), e.value
            with pytest.raises(psycopg.errors.CheckViolation) as e, c.transaction():
                if role == "service_role":
                    c.execute("set local role service_role")
                c.execute("update public.jobs set completed_at = now() where id = %s", (low,))
            assert "jobs_sealed_times" in str(e.value), e.value


def test_partitions_sealed_before_the_bound_keep_reads_whole_until_bounded(db: str) -> None:
    reads = Reads(db)
    user = users(db)[0]
    rc, _, err = seal(db)
    assert rc == 0, err
    want = split(db)
    [(sealed, _), _hot] = partitions(db)
    expected = everything(reads, user)
    # as 1.8.0 and 1.9.0 sealed it: no bound of created_at
    with psycopg.connect(db, autocommit=True) as c:
        c.execute(f"alter table {sealed} drop constraint jobs_sealed_times")
        c.execute("select jobs_private.history_split_refresh()")
    assert split(db) == (want[0], None)
    assert set(newest_pages_open_no_sealed_partition(reads, user).values()) != {0}
    assert everything(reads, user) == expected
    # pg_cron's path: the bound added, then validated and the split refreshed
    with psycopg.connect(db, autocommit=True) as c:
        step = "select jobs_private.seal_step('7 days', '1 day')"
        said = [c.execute(step).fetchone()[0] for _ in range(3)]
    assert said[0].startswith(f"bounded created_at and completed_at on {sealed} at "), said
    assert said[1] == f"checked the bounds of created_at and completed_at on {sealed}", said
    assert split(db) == want
    assert set(newest_pages_open_no_sealed_partition(reads, user).values()) == {0}
    # the command's path, from the same state
    with psycopg.connect(db, autocommit=True) as c:
        c.execute(f"alter table {sealed} drop constraint jobs_sealed_times")
        c.execute("select jobs_private.history_split_refresh()")
    rc, out, err = seal(db)
    assert rc == 0, err
    assert f"checked the bounds of created_at and completed_at on {sealed}" in out + err, (
        out + err)
    assert split(db) == want
    assert everything(reads, user) == expected
