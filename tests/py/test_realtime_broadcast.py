"""Realtime Broadcast of job status changes, and the reconcile read job_changes_since.

Supabase Realtime's objects (realtime.messages, realtime.send, realtime.topic) are made by the
Realtime service, not by the package: tests/fixtures/supabase_realtime.sql reproduces them.
Realtime decides whether a user may join a private topic the way
lib/realtime/tenants/authorization.ex does: its admin connection inserts a probe message on the
topic, then, as the user (role, request.jwt.claims, realtime.topic), selects it back: visible
means the user may read (join); an INSERT on the topic as the user decides sending.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb import embedded, package_migrate
from jobsdb.embedded import url_for_db
from jobsdb.pgtap import _janitor
from jobsdb.postgrest import as_user, rpc
from jobsdb.shim import apply_shim

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = (ROOT / "tests" / "fixtures" / "supabase_realtime.sql").read_text()
PAYLOAD_KEYS = {"id", "job_id", "group_id", "image_index", "status", "previous_status",
                "attempts", "error_message", "updated_at"}


def _superuser(db_url: str) -> str:
    su = embedded.superuser_url()
    assert su, "these tests need the embedded cluster's superuser"
    return url_for_db(su, psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])


def _user(conn: psycopg.Connection[Any], email: str) -> str:
    return str(conn.execute("select tests.create_user(%s)", (email,)).fetchone()[0])


def _queue(conn: psycopg.Connection[Any], user: str) -> str:
    answer = rpc(conn, "queue_job", {"job_type": "sdxl_image_fast", "prompt": "a cat"},
                 claims=as_user(user))
    return answer["jobs"][0]["id"]


def _messages(conn: psycopg.Connection[Any], topic: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "select event, private, extension, payload from realtime.messages"
        " where topic = %s order by inserted_at, payload ->> 'updated_at'", (topic,)
    ).fetchall()
    return [{"event": e, "private": p, "extension": x, "payload": pl} for e, p, x, pl in rows]


# Realtime's role is cluster-wide: dropped once this module's databases are gone (conftest).
pytestmark = pytest.mark.usefixtures("drop_realtime_role_after")


@pytest.fixture
def rt_db(fresh_db: str) -> str:
    """A database built from migrations/ to which Supabase Realtime arrives afterwards."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert conn.execute("select jobs_private.enable_realtime_broadcast()").fetchone()[0] \
            is False  # no Realtime yet: nothing to do, and the package works without it
    with psycopg.connect(_superuser(fresh_db), autocommit=True) as su:
        su.execute(FIXTURE)
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # the owner's set-up, twice
        for _ in range(2):
            assert conn.execute("select jobs_private.enable_realtime_broadcast()").fetchone()[0]
    return fresh_db


def test_the_set_up_is_idempotent_when_realtime_arrives_after_the_migrations(rt_db: str) -> None:
    with psycopg.connect(rt_db, autocommit=True) as conn:
        policies = conn.execute(
            "select count(*) from pg_policies where schemaname = 'realtime'"
            " and tablename = 'messages'").fetchone()[0]
        triggers = conn.execute(
            "select count(*) from pg_trigger where tgrelid = 'public.jobs'::regclass"
            " and tgname = 'jobs_status_broadcast_trg'").fetchone()[0]
    assert (policies, triggers) == (1, 1)


def test_realtime_installed_before_the_migrations_is_set_up_by_them(owner_url: str) -> None:
    name = f"jobsdb_rt_first_{uuid.uuid4().hex[:6]}"
    j = _janitor(owner_url, name)
    j.init()
    try:
        url = url_for_db(owner_url, name)
        apply_shim(embedded.superuser_url() or owner_url, name, quiet=True)
        with psycopg.connect(_superuser(url), autocommit=True) as su:
            su.execute(FIXTURE)
        package_migrate.up(url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        with psycopg.connect(url, autocommit=True) as conn:
            # on jobs (its partition has the clone PostgreSQL makes of it)
            n = conn.execute("select count(*) from pg_trigger where tgname ="
                             " 'jobs_status_broadcast_trg'"
                             " and tgrelid = 'public.jobs'::regclass").fetchone()[0]
        assert n == 1
    finally:
        j.drop()


def test_a_status_change_sends_one_message_to_the_owners_topic_and_none_elsewhere(
    rt_db: str,
) -> None:
    with psycopg.connect(rt_db, autocommit=True) as conn:
        alice, bob = _user(conn, "alice@example.com"), _user(conn, "bob@example.com")
        job = _queue(conn, alice)
        assert _messages(conn, f"jobs:{alice}") == []  # queueing is the app's own answer
        claimed = rpc(conn, "claim_jobs", {"worker_pool": "sdxl", "worker_id": "gpu-1"},
                      role="jobs_worker", claims={})
        [lease] = [c["lease_token"] for c in claimed if c["job_id"] == job]
        msgs = _messages(conn, f"jobs:{alice}")
        assert len(msgs) == 1, msgs
        m = msgs[0]
        assert (m["event"], m["private"], m["extension"]) == ("job_status", True, "broadcast")
        assert set(m["payload"]) == PAYLOAD_KEYS
        assert (m["payload"]["job_id"], m["payload"]["status"],
                m["payload"]["previous_status"]) == (job, "processing", "queued")
        assert lease not in json.dumps(m["payload"]) and "gpu-1" not in json.dumps(m["payload"])

        # a heartbeat writes the row but not its status: no message
        rpc(conn, "heartbeat_jobs", {"worker_id": "gpu-1", "job_ids": [job],
                                     "lease_tokens": [lease]}, role="jobs_worker", claims={})
        assert len(_messages(conn, f"jobs:{alice}")) == 1
        rpc(conn, "job_callback", {"job_id": job, "status": "completed", "lease_token": lease,
                                   "assets": [f"{alice}/a.png"]}, role="jobs_worker",
            claims={})
        statuses = [m["payload"]["status"] for m in _messages(conn, f"jobs:{alice}")]
        assert statuses == ["processing", "completed"]
        assert _messages(conn, f"jobs:{bob}") == []
        total = conn.execute("select count(*) from realtime.messages").fetchone()[0]
        assert total == 2


def _can_join(conn: psycopg.Connection[Any], user: str, topic: str) -> bool:
    """Realtime's read check: a probe message on the topic, selected back as the user."""
    probe = str(uuid.uuid4())
    with conn.transaction(force_rollback=True):
        conn.execute("insert into realtime.messages (id, topic, extension, private)"
                     " values (%s, %s, 'broadcast', true)", (probe, topic))
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('realtime.topic', %s, true),"
            " set_config('request.jwt.claims', %s, true),"
            " set_config('request.jwt.claim.sub', %s, true)",
            (topic, json.dumps(as_user(user)), user),
        )
        return conn.execute("select count(*) from realtime.messages where id = %s",
                            (probe,)).fetchone()[0] == 1


def _can_send(conn: psycopg.Connection[Any], user: str, topic: str) -> bool:
    """Realtime's write check: an insert on the topic as the user."""
    with conn.transaction(force_rollback=True):
        conn.execute(
            "select set_config('role', 'authenticated', true),"
            " set_config('realtime.topic', %s, true),"
            " set_config('request.jwt.claims', %s, true)",
            (topic, json.dumps(as_user(user))),
        )
        try:
            with conn.transaction():
                conn.execute("insert into realtime.messages (topic, extension, private)"
                             " values (%s, 'broadcast', true)", (topic,))
        except psycopg.errors.InsufficientPrivilege:
            return False
        return True


def test_a_user_can_join_only_their_own_topic_and_send_on_none(rt_db: str) -> None:
    with psycopg.connect(_superuser(rt_db), autocommit=True) as su:
        alice, bob = _user(su, "alice@example.com"), _user(su, "bob@example.com")
        assert _can_join(su, alice, f"jobs:{alice}")
        assert not _can_join(su, bob, f"jobs:{alice}")
        assert not _can_join(su, alice, f"jobs:{bob}")
        assert not _can_join(su, alice, "jobs:*")
        assert not _can_send(su, alice, f"jobs:{alice}")
        assert not _can_send(su, bob, f"jobs:{alice}")
    with psycopg.connect(rt_db, autocommit=True) as conn:
        job = _queue(conn, alice)
        conn.execute("update public.jobs set status = 'cancelled' where id = %s", (job,))
        with conn.transaction(force_rollback=True):  # reading the table directly, as bob
            conn.execute("select set_config('role', 'authenticated', true),"
                         " set_config('request.jwt.claims', %s, true)",
                         (json.dumps(as_user(bob)),))
            assert conn.execute("select count(*) from realtime.messages").fetchone()[0] == 0
        with conn.transaction(force_rollback=True):
            conn.execute("select set_config('role', 'authenticated', true),"
                         " set_config('request.jwt.claims', %s, true)",
                         (json.dumps(as_user(alice)),))
            assert conn.execute("select count(*) from realtime.messages").fetchone()[0] == 1


def _changes(conn: psycopg.Connection[Any], user: str, cursor: str | None) -> dict[str, Any]:
    return rpc(conn, "job_changes_since", {"cursor": cursor}, claims=as_user(user))


def test_the_reconcile_read_returns_exactly_the_jobs_changed_since_a_cursor(
    fresh_db: str,
) -> None:
    """Works without Realtime too (fresh_db has none). A transaction that changed job A before
    another changed job B, and committed after it, is reported on the next read, not skipped."""
    with psycopg.connect(fresh_db, autocommit=True) as c0, \
            psycopg.connect(fresh_db, autocommit=True) as c1, \
            psycopg.connect(fresh_db, autocommit=True) as c2:
        alice, bob = _user(c0, "alice@example.com"), _user(c0, "bob@example.com")
        a, b, c, d, untouched = (_queue(c0, alice) for _ in range(5))
        bobs = _queue(c0, bob)
        start = _changes(c0, alice, None)
        assert start["reset"] is True and start["changed"] == []
        cursor0 = start["cursor"]

        c1.execute("begin")
        c1.execute("update public.jobs set status = 'cancelled' where id = %s", (a,))
        c2.execute("update public.jobs set status = 'cancelled' where id = %s", (b,))
        c0.execute("update public.jobs set status = 'cancelled' where id = %s", (bobs,))
        first = _changes(c0, alice, cursor0)
        assert first["reset"] is False
        assert [j["job_id"] for j in first["changed"]] == [b]
        assert first["changed"][0]["status"] == "cancelled"
        c1.execute("commit")  # A committed after B, with an older updated_at
        ua, ub = (c0.execute("select updated_at from public.jobs where id = %s",
                             (x,)).fetchone()[0] for x in (a, b))
        assert ua < ub  # a timestamp cursor taken at `first` would skip A

        second = _changes(c0, alice, first["cursor"])
        assert [j["job_id"] for j in second["changed"]] == [a]
        assert second["removed"] == []

        # retention deletes c; d changes: both reported, nothing else
        c0.execute("update public.jobs set status = 'cancelled' where id = any(%s)", ([c, d],))
        c0.execute("delete from public.jobs where id = %s", (c,))
        third = _changes(c0, alice, second["cursor"])
        assert [j["job_id"] for j in third["changed"]] == [d]
        assert third["removed"] == [c]
        assert untouched not in json.dumps(third)

        # from the first cursor: everything since, once
        everything = _changes(c0, alice, cursor0)
        assert sorted(j["job_id"] for j in everything["changed"]) == sorted([a, b, d])
        assert everything["removed"] == [c]
        # nothing since the latest cursor; bob sees only his own
        assert _changes(c0, alice, third["cursor"])["changed"] == []
        assert [j["job_id"] for j in _changes(c0, bob, cursor0)["changed"]] == [bobs]
        # a bad cursor is the caller's error
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            _changes(c0, alice, "yesterday")


def test_a_job_written_under_a_savepoint_across_the_cursor_is_reported(fresh_db: str) -> None:
    """A transaction open across the cursor's snapshot writes job A under a savepoint (a worker's
    library wrapping its call, a function with an exception block): the row's xmin is then the
    subtransaction's id, which a snapshot's list of transactions in progress leaves out, so a
    read testing xmin took A as committed before the cursor and never reported it. Through the
    writer's top-level id (jobs.written_xid) it is reported once the transaction commits; a
    savepoint rolled back reports nothing."""
    with psycopg.connect(fresh_db, autocommit=True) as c0, \
            psycopg.connect(fresh_db, autocommit=True) as c1:
        alice = _user(c0, "alice@example.com")
        a, b = _queue(c0, alice), _queue(c0, alice)
        c1.execute("begin")
        c1.execute("select pg_current_xact_id()")  # the transaction has its id first
        c1.execute("savepoint s1")
        c1.execute("update public.jobs set status = 'cancelled' where id = %s", (a,))
        c1.execute("release savepoint s1")
        c1.execute("savepoint s2")
        c1.execute("update public.jobs set status = 'cancelled' where id = %s", (b,))
        c1.execute("rollback to savepoint s2")
        cursor = _changes(c0, alice, None)["cursor"]  # taken while c1 is open
        c1.execute("commit")
        xmin, written = c0.execute(
            "select xmin::text, written_xid::text from public.jobs where id = %s", (a,)
        ).fetchone() or ("", "")
        assert xmin != written  # A's xmin is the subtransaction's, not c1's own
        after = _changes(c0, alice, cursor)
        assert after["reset"] is False
        assert [(j["job_id"], j["status"]) for j in after["changed"]] == [(a, "cancelled")]
        assert _changes(c0, alice, after["cursor"])["changed"] == []


def test_no_broadcast_or_reconcile_row_carries_the_workers_name(rt_db: str) -> None:
    """The messages the package writes itself when a worker lets a job go (released too often,
    lease expired, run time exceeded) say what happened, not which worker it was: a broadcast
    carries the job's error_message, and the README says broadcasts never carry the worker."""
    worker = "gpu-box-7"

    def call(conn: psycopg.Connection[Any], name: str, args: dict[str, Any]) -> Any:
        return rpc(conn, name, args, role="jobs_worker", claims={})

    with psycopg.connect(rt_db, autocommit=True) as conn:
        alice = _user(conn, "alice@example.com")
        cursor = _changes(conn, alice, None)["cursor"]
        released, expired, overran = _queue(conn, alice), _queue(conn, alice), _queue(conn, alice)
        # handed back four times: the fourth counts the attempt and says so
        for _ in range(4):
            (c,) = call(conn, "claim_jobs", {"worker_pool": "sdxl", "worker_id": worker})
            assert c["job_id"] == released
            call(conn, "release_jobs", {"worker_id": worker, "job_ids": [released],
                                        "lease_tokens": [c["lease_token"]]})
        claims = call(conn, "claim_jobs", {"worker_pool": "sdxl", "worker_id": worker,
                                           "max_jobs": 3})  # fmt: skip
        assert sorted(c["job_id"] for c in claims) == sorted([released, expired, overran])
        conn.execute("update public.jobs set lease_expires_at = now() - interval '1 second'"
                     " where id = %s", (expired,))
        conn.execute("update public.jobs set started_at = now() - interval '1 day'"
                     " where id = %s", (overran,))
        assert call(conn, "rescue_expired_jobs", {})["requeued"] == 2
        errors = dict(conn.execute(
            "select id::text, error_message from public.jobs where id = any(%s::uuid[])",
            ([released, expired, overran],)).fetchall())  # fmt: skip
        assert all(errors.values()), errors  # each path wrote its message
        payloads = [m["payload"] for m in _messages(conn, f"jobs:{alice}")]
        assert {p["error_message"] for p in payloads if p["error_message"]} >= set(
            errors.values())
        changed = _changes(conn, alice, cursor)["changed"]
    assert len(changed) == 3
    for what in (errors, payloads, changed):
        assert worker not in json.dumps(what), what


@pytest.mark.parametrize("cursor", [
    "yesterday", "", "5:3:", "3:5:1", "3:5:5", "3:5:4,3", "0:0:",
    "99999999999999999999:99999999999999999999:",
])  # fmt: skip
def test_a_cursor_it_never_answered_is_refused_with_22023(fresh_db: str, cursor: str) -> None:
    """As the README documents: 22023 for a string that is not a cursor, whether its shape is
    wrong or it only looks like one (xmin after xmax, an in-progress id outside them or out of
    order, a zero id, a snapshot from the future)."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        alice = _user(conn, "alice@example.com")
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="cursor"):
            _changes(conn, alice, cursor)
        # control: a cursor it answered is taken
        assert _changes(conn, alice, _changes(conn, alice, None)["cursor"])["reset"] is False
