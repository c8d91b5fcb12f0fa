"""Retention by whole partitions (`jobsdb history retire`, functions/private/retire_partition.sql):
a sealed partition whose newest job is older than an age is exported to Parquet, its jobs'
references handled as a delete of them would, and then it is detached concurrently and dropped.
On the sealed database of test_seal_history:
* a partition with a job within the age stays; past it, the partition leaves: the Parquet file
  holds exactly its jobs (DuckDB reads the same ids; the manifest's row count and checksum
  verify), outputs stay with job_id null, the project's cascading notes go, the app's
  job_changes_since reports the jobs removed, their metric hours are re-rolled, and the queue's
  partition is untouched;
* a project table whose key refuses deletes (no action) and references a job of the partition
  stops it: 55000 naming the table, exit 11, and nothing of the database changed;
* the detach (one brief lock, the keys into jobs dropped and added back NOT VALID) and the drop
  never make the queue wait behind a reader of a table they change; refused (55P03), they
  leave the partition for the next run, which also drops a table left detached and checks the
  keys; a row referencing the partition's jobs again stops the detach;
* a detach an earlier release's command left pending is finished by the next run.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from pathlib import Path

import duckdb
import psycopg
import pytest
from test_cli_errors import jobsdb, one_error_line
from test_seal_history import db, partitions, seal, unfinished_db  # noqa: F401 (fixtures)

from jobsdb import history
from jobsdb.postgrest import as_user, rpc


def retire(url: str, dest: Path, *args: str):
    return jobsdb("history", "retire", str(dest), "--url", url, *args)


def sealed(url: str) -> tuple[str, set[str]]:
    assert seal(url)[0] == 0
    [(part, _), _hot] = partitions(url)
    with psycopg.connect(url) as c:
        ids = {r[0] for r in c.execute(f"select id::text from {part}")}
    return part, ids


def test_retire_exports_and_drops_a_partition_older_than_the_age(db: str,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    part, ids = sealed(db)
    with psycopg.connect(db, autocommit=True) as c:
        user = c.execute(f"select user_id::text from {part} limit 1").fetchone()[0]
        theirs = {r[0] for r in c.execute(f"select id::text from {part} where user_id = %s",
                                          (user,))}
        cursor = rpc(c, "job_changes_since", {}, claims=as_user(user))["cursor"]
        outputs = c.execute("select count(*) from public.images_videos").fetchone()[0]
        stale = c.execute("select count(*) from jobs_private.job_metrics_stale").fetchone()[0]
        kept = {r[0] for r in c.execute("select id::text from jobs_private.jobs_hot")}
    # its newest job is 10 days old
    r = retire(db, tmp_path, "--older-than", "30d")
    assert r.returncode == 0 and r.stdout.startswith("nothing to retire"), r.stdout + r.stderr
    assert [p for p, _ in partitions(db)] == [part, "jobs_private.jobs_hot"]
    r = retire(db, tmp_path, "--older-than", "5d")
    assert r.returncode == 0, r.stderr
    assert f"{part}: {len(ids)} jobs" in r.stdout and "detached and dropped" in r.stdout, r.stdout
    assert [p for p, _ in partitions(db)] == ["jobs_private.jobs_hot"]
    with psycopg.connect(db, autocommit=True) as c:
        assert c.execute("select to_regclass(%s)", (part,)).fetchone()[0] is None
        assert {r[0] for r in c.execute("select id::text from public.jobs")} == kept
        # outputs survive, no longer linked; the project's cascading notes went with the jobs
        assert c.execute("select count(*), count(*) filter (where job_id is null)"
                         " from public.images_videos").fetchone() == (outputs, len(ids))
        assert c.execute("select count(*) from public.job_notes where job_id is null"
                         " or job_id::text = any(%s)", (list(ids),)).fetchone()[0] == 0
        # the app learns the jobs were removed; their hours are rolled up again
        changes = rpc(c, "job_changes_since", {"cursor": cursor}, claims=as_user(user))
        assert not changes["reset"] and set(changes["removed"]) == theirs, changes
        now_stale = c.execute("select count(*) from jobs_private.job_metrics_stale").fetchone()
        assert now_stale[0] > stale
        # the reads' split no longer lists the partition (its lower bound was MINVALUE)
        assert c.execute("select sealed_lows, below is not null"
                         " from jobs_private.history_split").fetchone() == ([], True)
    # the file: exactly the partition's jobs, verified against its manifest
    parquet = tmp_path / f"{part}.parquet"
    assert history.verify_file(parquet).rows == len(ids)
    got = {str(r[0]) for r in duckdb.sql(f"select id from read_parquet('{parquet}')").fetchall()}
    assert got == ids


def test_a_key_refusing_deletes_stops_retirement_and_changes_nothing(db: str,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    part, ids = sealed(db)
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("create table public.job_audits (id serial primary key,"
                  " job_id uuid references public.jobs (id))")
        c.execute("alter table public.job_audits enable row level security")
        c.execute("insert into public.job_audits (job_id) values (%s)", (min(ids),))
        before = c.execute(
            "select (select count(*) from public.images_videos where job_id is null),"
            " (select count(*) from jobs_private.job_tombstones),"
            " (select count(*) from public.job_notes)").fetchone()
    r = retire(db, tmp_path, "--older-than", "5d")
    line = one_error_line(r, 11)
    assert "[55000]" in line and "public.job_audits (job_audits_job_id_fkey)" in line, line
    assert [p for p, _ in partitions(db)] == [part, "jobs_private.jobs_hot"]
    with psycopg.connect(db) as c:
        assert c.execute(
            "select (select count(*) from public.images_videos where job_id is null),"
            " (select count(*) from jobs_private.job_tombstones),"
            " (select count(*) from public.job_notes)").fetchone() == before
        assert c.execute(f"select count(*) from {part}").fetchone()[0] == len(ids)


def test_a_detach_an_earlier_command_left_pending_is_finished_by_the_next_run(
        db: str, tmp_path: Path) -> None:  # noqa: F811
    # 1.8.0's command detached concurrently; killed while that waited, it left the detach
    # pending (its partition was exported and made ready first)
    part, _ = sealed(db)
    with psycopg.connect(db) as c:
        c.execute("select jobs_private.retire_partition(%s::regclass, '5 days')", (part,))
    holder = psycopg.connect(db)
    try:
        # an open transaction that read the partition: DETACH CONCURRENTLY waits for it
        holder.execute(f"select count(*) from {part}")

        def detach() -> None:
            with psycopg.connect(db, autocommit=True) as c, suppress(psycopg.OperationalError):
                c.execute(f"alter table public.jobs detach partition {part} concurrently")

        t = threading.Thread(target=detach)
        t.start()
        with psycopg.connect(db, autocommit=True) as c:
            for _ in range(300):
                killed = c.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where query like 'alter table public.jobs detach partition%%'"
                    " and wait_event_type = 'Lock'").fetchall()
                if killed:
                    break
                time.sleep(0.1)
        t.join(timeout=60)
        assert killed == [(True,)], killed
    finally:
        holder.close()
    with psycopg.connect(db) as c:
        assert c.execute("select inhdetachpending from pg_inherits"
                         " where inhrelid = %s::regclass", (part,)).fetchone() == (True,)
    r = retire(db, tmp_path, "--older-than", "5d")
    assert r.returncode == 0 and f"{part}: an interrupted detach finished; dropped" in r.stdout, (
        r.stdout + r.stderr)
    assert [p for p, _ in partitions(db)] == ["jobs_private.jobs_hot"]


def test_a_table_left_detached_is_dropped_and_the_keys_checked_by_the_next_run(
        db: str, tmp_path: Path) -> None:  # noqa: F811
    part, _ = sealed(db)
    with psycopg.connect(db) as c:
        c.execute("select jobs_private.retire_partition(%s::regclass, '5 days')", (part,))
        gone = c.execute("select jobs_private.retire_detach(%s::regclass, 5)",
                         (part,)).fetchone()[0]
    assert gone == part.replace(".jobs_upto_", ".jobs_retired_")
    assert [p for p, _ in partitions(db)] == ["jobs_private.jobs_hot"]
    keys = "select conname, convalidated from pg_constraint where contype = 'f'" \
        " and confrelid = 'public.jobs'::regclass and conparentid = 0 order by 1"
    with psycopg.connect(db) as c:
        assert {v for _, v in c.execute(keys).fetchall()} == {False}
    r = retire(db, tmp_path, "--older-than", "5d")
    assert r.returncode == 0, r.stderr
    assert f"{gone}: detached by an interrupted run; dropped" in r.stdout, r.stdout
    assert "foreign keys into jobs checked: " in r.stdout, r.stdout
    with psycopg.connect(db) as c:
        assert c.execute("select to_regclass(%s)", (gone,)).fetchone()[0] is None
        assert {v for _, v in c.execute(keys).fetchall()} == {True}


def test_a_reference_added_after_the_partition_was_made_ready_stops_its_detach(
        db: str) -> None:  # noqa: F811
    part, ids = sealed(db)
    with psycopg.connect(db) as c:
        c.execute("select jobs_private.retire_partition(%s::regclass, '5 days')", (part,))
    with psycopg.connect(db, autocommit=True) as c:
        # an output linked to one of its jobs again, as the service role's write could
        c.execute("update public.images_videos set job_id = %s"
                  " where id = (select id from public.images_videos where job_id is null"
                  " limit 1)", (min(ids),))
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState,
                           match="rows of public.images_videos reference jobs of"):
            c.execute("select jobs_private.retire_detach(%s::regclass, 5)", (part,))
        assert c.execute("select count(*) from pg_constraint where contype = 'f'"
                         " and confrelid = 'public.jobs'::regclass and conparentid = 0"
                         " and not convalidated").fetchone()[0] == 0
    assert [p for p, _ in partitions(db)] == [part, "jobs_private.jobs_hot"]


def test_the_retirement_waits_for_no_lock_the_queue_needs(db: str,  # noqa: F811
                                                           tmp_path: Path) -> None:
    # Detaching and dropping a partition adds and removes its keys' triggers on job_types,
    # profiles, ...: a reader holds job_types here, and a detach or drop waiting for it untimed
    # would make every queue_job (which reads job_types) queue behind it.
    part, _ = sealed(db)
    with psycopg.connect(db, autocommit=True) as c:
        users = [r[0] for r in c.execute("select id::text from public.profiles")]
        tombstones = c.execute("select count(*) from jobs_private.job_tombstones").fetchone()[0]
    holder = psycopg.connect(db)
    took: list[float] = []
    try:
        holder.execute("select count(*) from public.job_types")
        box: list[object] = []
        t = threading.Thread(target=lambda: box.append(retire(
            db, tmp_path, "--older-than", "5d", "--lock-tries", "5")))
        t.start()
        with psycopg.connect(db, autocommit=True) as c:
            c.execute("set statement_timeout = '2s'")
            # from the moment the partition was made ready until the command gives up
            while t.is_alive() and c.execute("select count(*) from jobs_private.job_tombstones"
                                             ).fetchone()[0] == tombstones:
                time.sleep(0.01)
            while t.is_alive() and len(took) < 25:
                start = time.monotonic()
                # a job per user in turn, within the per-user limits
                rpc(c, "queue_job", {"job_type": "image_fast", "prompt": "p"},
                    claims=as_user(users[len(took) % len(users)]))
                took.append(time.monotonic() - start)
                time.sleep(0.2)
        t.join(timeout=120)
    finally:
        holder.close()
    # the queue went on (each call well under the 2 s a queued-behind call would wait)
    assert len(took) >= 5 and max(took) < 0.5, took
    assert "[55P03]" in one_error_line(box[0], 11)
    # nothing left: the partition stays, and the next run retires it
    assert [p for p, _ in partitions(db)] == [part, "jobs_private.jobs_hot"]
    r = retire(db, tmp_path, "--older-than", "5d")
    assert r.returncode == 0 and "detached and dropped" in r.stdout, r.stdout + r.stderr
    assert [p for p, _ in partitions(db)] == ["jobs_private.jobs_hot"]
