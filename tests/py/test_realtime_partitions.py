"""Postgres Changes (Supabase Realtime) on a partitioned table, on a real wal2json slot.

Realtime reads changes with wal2json and tells which subscriber gets which change in SQL;
tests/fixtures/realtime_postgres_changes.sql reproduces that path (the subscription's table from
pg_publication_tables, the slot's options, the match of a change's table to a subscription, the
RLS check as the subscriber). wal2json knows nothing of publications: it names every change by
the partition that holds the row. So:

* publish_via_partition_root off (what `alter publication ... add table` gives): the publication
  lists the partitions, so a subscription to the partitioned table is refused at join, and the
  changes, reported under the partitions' names, reach no subscriber;
* publish_via_partition_root on: the publication lists the partitioned table, the subscription is
  accepted, and wal2json, asked for that table's changes only, drops every change of its
  partitions: the subscriber hears nothing, silently;
* subscribing to the partitions themselves (no grants of their own, as the parent's RLS
  applies only through the parent): refused with a filter, "Error 401: Unauthorized" without.

The same path on an unpartitioned table delivers the owner's insert and update to the owner and
nothing to another user: the reproduction does deliver when Realtime would.

wal2json is Debian's postgresql-15-wal2json (`make deps` installs it as root); without it these
tests skip, saying so.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = (ROOT / "tests" / "fixtures" / "realtime_postgres_changes.sql").read_text()
PUBLICATION = "supabase_realtime"
LOW, HIGH = "10000000-0000-4000-8000-000000000001", "c0000000-0000-4000-8000-000000000002"

# A partitioned table as the history's jobs would be (range of a uuid id, partitions in a schema
# with no grants, RLS and SELECT on the parent only) and an unpartitioned twin.
TABLES = """
create schema rt_parts;
revoke all on schema rt_parts from public;
create table public.rt_parted (
    id uuid primary key, user_id uuid not null, status text not null
) partition by range (id);
create table rt_parts.rt_parted_low partition of public.rt_parted
    for values from ('00000000-0000-0000-0000-000000000000')
    to ('80000000-0000-0000-0000-000000000000');
create table rt_parts.rt_parted_high partition of public.rt_parted
    for values from ('80000000-0000-0000-0000-000000000000') to (maxvalue);
create table public.rt_plain (id uuid primary key, user_id uuid not null, status text not null);
revoke all on public.rt_parted, public.rt_plain, rt_parts.rt_parted_low,
    rt_parts.rt_parted_high from public, anon, authenticated, service_role;
grant select on public.rt_parted, public.rt_plain to authenticated;
alter table public.rt_parted enable row level security;
alter table public.rt_plain enable row level security;
create policy own_rows on public.rt_parted for select to authenticated
    using ((select auth.uid()) = user_id);
create policy own_rows on public.rt_plain for select to authenticated
    using ((select auth.uid()) = user_id);
alter publication supabase_realtime add table public.rt_parted, public.rt_plain;
"""


class Realtime:
    """Realtime's two admin connections (a superuser): the poller's, holding its temporary
    wal2json slot, and the subscription manager's (an error there leaves the slot alone: a
    session's error drops its temporary slots)."""

    def __init__(self, conn: psycopg.Connection[Any], subs: psycopg.Connection[Any], url: str,
                 slot: str) -> None:
        self.conn = conn
        self.subs = subs
        self.url = url  # the database's, for the app's writes
        self.slot = slot

    def subscribe(self, schema: str, table: str, user: str, filters: dict[str, str]) -> int:
        """A channel's postgres_changes binding for `user` (its subscription id is the user's
        id here); how many subscription rows it made (0: Realtime refuses the binding)."""
        return self.subs.execute(
            "select realtime.subscribe(%s, %s, %s, %s, %s, '*', %s)",
            (PUBLICATION, schema, table, uuid.UUID(user), json.dumps(as_user(user)),
             json.dumps(filters)),
        ).fetchone()[0]

    def raw(self) -> list[tuple[str, str, str]]:
        """The slot's changes of the test's tables, without Realtime's table list (not consumed):
        (action, schema, table)."""
        rows = self.conn.execute(
            "select data::jsonb from pg_logical_slot_peek_changes(%s, null, null,"
            " 'format-version', '2', 'include-transaction', 'false')", (self.slot,)
        ).fetchall()
        return [(d["action"], d["schema"], d["table"]) for (d,) in rows
                if d["table"].startswith("rt_")]

    def poll(self) -> list[dict[str, Any]]:
        """One poll as Realtime's (consumes the slot): every change and whom it reaches."""
        cur = self.conn.execute(
            "select schema_name, table_name, action, subscription_id::text, record, old_record,"
            " error from realtime.list_changes(%s, %s)", (PUBLICATION, self.slot)
        )
        names = [c.name for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture
def realtime(fresh_db: str, superuser_url: str | None) -> Iterator[Realtime]:
    if superuser_url is None:
        pytest.skip("Realtime's path needs a superuser connection (slot, roles)")
    su = url_for_db(superuser_url, psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"])
    with psycopg.connect(su, autocommit=True) as conn, \
            psycopg.connect(su, autocommit=True) as subs:
        if conn.execute("show wal_level").fetchone()[0] != "logical":
            pytest.skip("wal_level is not logical")
        slot = f"supabase_realtime_rls_{secrets.token_hex(4)}"
        try:
            conn.execute("select pg_create_logical_replication_slot(%s, 'wal2json', true)",
                         (slot,))
        except psycopg.errors.UndefinedFile:
            pytest.skip("wal2json is not installed: `make deps` as root installs"
                        " postgresql-15-wal2json (or: sudo apt-get install -y"
                        " postgresql-15-wal2json)")
        conn.execute(FIXTURE)
        conn.execute(TABLES)
        try:
            yield Realtime(conn, subs, su, slot)
        finally:
            # dropped here, not left to the connection's end: the server ends a closed
            # session a moment later, and dropping the database meanwhile fails on the slot
            conn.execute("select pg_drop_replication_slot(%s)", (slot,))


def _via_root(rt: Realtime, on: bool) -> None:
    rt.conn.execute(f"alter publication {PUBLICATION} set"
                    f" (publish_via_partition_root = {'true' if on else 'false'})")


def _listed(rt: Realtime) -> set[str]:
    rows = rt.conn.execute(
        "select schemaname || '.' || tablename from pg_publication_tables"
        " where pubname = %s and tablename like 'rt\\_%%'", (PUBLICATION,)
    ).fetchall()
    return {r[0] for r in rows}


def _write(rt: Realtime, table: str, user: str, other: str) -> None:
    """The app's writes: a row of `user` in each partition, one of `other`, then an update."""
    with psycopg.connect(rt.url, autocommit=True) as conn:
        # the cluster may run with synchronous_commit off; a slot decodes only flushed WAL
        conn.execute("set synchronous_commit = on")
        conn.execute(
            f"insert into public.{table} (id, user_id, status)"
            " values (%s, %s, 'queued'), (%s, %s, 'queued'), (gen_random_uuid(), %s, 'queued')",
            (LOW, user, HIGH, user, other),
        )
        conn.execute(f"update public.{table} set status = 'processing' where id = %s", (HIGH,))


def _delivered(changes: list[dict[str, Any]], user: str) -> list[tuple[str, str | None]]:
    """What `user`'s subscriptions received: (action, the record's status or the error)."""
    return [
        (c["action"], c["error"] or c["record"]["status"])
        for c in changes if c["subscription_id"] == user
    ]


def test_an_unpartitioned_table_delivers_to_its_owner_only(realtime: Realtime) -> None:
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    assert realtime.subscribe("public", "rt_plain", alice, {"user_id": alice}) == 1
    assert realtime.subscribe("public", "rt_plain", bob, {"user_id": bob}) == 1
    _write(realtime, "rt_plain", alice, bob)

    changes = realtime.poll()
    assert _delivered(changes, alice) == [
        ("INSERT", "queued"), ("INSERT", "queued"), ("UPDATE", "processing"),
    ]
    assert _delivered(changes, bob) == [("INSERT", "queued")]
    update = next(c for c in changes if c["subscription_id"] == alice and c["action"] == "UPDATE")
    assert update["record"] == {"id": HIGH, "user_id": alice, "status": "processing"}
    assert update["old_record"] == {"id": HIGH}  # replica identity: the primary key


def test_partitions_listed_so_the_partitioned_table_cannot_be_subscribed(
    realtime: Realtime,
) -> None:
    """publish_via_partition_root off: refused at join; changes go by the partitions' names."""
    _via_root(realtime, False)
    assert _listed(realtime) == {"public.rt_plain", "rt_parts.rt_parted_low",
                                 "rt_parts.rt_parted_high"}
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    assert realtime.subscribe("public", "rt_parted", alice, {"user_id": alice}) == 0
    _write(realtime, "rt_parted", alice, bob)

    changes = realtime.poll()
    assert [(c["action"], c["schema_name"], c["table_name"]) for c in changes] == [
        ("INSERT", "rt_parts", "rt_parted_low"),
        ("INSERT", "rt_parts", "rt_parted_high"),
        ("INSERT", "rt_parts", _partition_of(realtime, bob)),
        ("UPDATE", "rt_parts", "rt_parted_high"),
    ]
    assert all(c["subscription_id"] is None for c in changes)  # nobody gets anything


def test_via_root_the_subscription_is_accepted_and_hears_nothing(realtime: Realtime) -> None:
    """publish_via_partition_root on: subscribed, and wal2json drops every partition's change."""
    _via_root(realtime, True)
    assert _listed(realtime) == {"public.rt_plain", "public.rt_parted"}
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    assert realtime.subscribe("public", "rt_parted", alice, {"user_id": alice}) == 1
    _write(realtime, "rt_parted", alice, bob)

    # The slot has the four changes, each under its partition's name...
    assert realtime.raw() == [
        ("I", "rt_parts", "rt_parted_low"),
        ("I", "rt_parts", "rt_parted_high"),
        ("I", "rt_parts", _partition_of(realtime, bob)),
        ("U", "rt_parts", "rt_parted_high"),
    ]
    # ...and Realtime, asking wal2json for public.rt_parted's, gets none of them.
    assert realtime.poll() == []

    # The same subscriber on the unpartitioned twin, same slot, same settings, does hear.
    assert realtime.subscribe("public", "rt_plain", alice, {"user_id": alice}) == 1
    _write(realtime, "rt_plain", alice, bob)
    assert _delivered(realtime.poll(), alice) == [
        ("INSERT", "queued"), ("INSERT", "queued"), ("UPDATE", "processing"),
    ]


def test_the_partitions_themselves_give_nothing_away(realtime: Realtime) -> None:
    """No grants on the partitions: a filter on them is refused, without one only 401s come."""
    _via_root(realtime, False)
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    with pytest.raises(psycopg.errors.RaiseException, match="invalid column for filter user_id"):
        realtime.subscribe("rt_parts", "*", alice, {"user_id": alice})
    assert realtime.subscribe("rt_parts", "*", alice, {}) == 2
    _write(realtime, "rt_parted", alice, bob)

    changes = realtime.poll()
    assert {c["error"] for c in changes if c["subscription_id"] == alice} == {
        "Error 401: Unauthorized"
    }
    assert all(c["record"] is None for c in changes)


def _partition_of(rt: Realtime, user: str) -> str:
    return rt.conn.execute(
        "select tableoid::regclass::text from public.rt_parted where user_id = %s", (user,)
    ).fetchone()[0].removeprefix("rt_parts.")
