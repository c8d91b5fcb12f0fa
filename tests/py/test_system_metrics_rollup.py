"""system_metrics' roll-up of closed minutes (jobs_private.rollup_job_metrics) answers exactly
what system_metrics computed from jobs alone: the same JSON, percentiles included, for windows
that start and end inside minutes and hours and on their edges, before and after the roll-up,
after a retention purge and an admin retry changed rolled-up hours, and while another
transaction is open.

The reference is the query system_metrics ran before the roll-up, run in the same transaction
(the same now()) as the call. No assertion depends on where the clock stands: every test runs
twice, on the server as it is and on a throw-away server whose clock (libfaketime) is seconds
before a full hour when the jobs are seeded and just past it when they are rolled up. (Before,
a run in the first minute of an hour rolled up 743 hours, not the 31 * 24 a test expected. Since
1.13.0 a run in an hour's first 2 seconds waits them out and closes that hour, which only the
faked clock shows every time.)"""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_faults import Cluster, free_port  # the fault test's throw-away cluster

from jobsdb import embedded
from jobsdb.postgrest import as_user, rpc
from jobsdb.shim import apply_shim
from jobsdb.testdb import Template, build_template
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
# Debian's libfaketime (`make deps` installs it as root)
LIBFAKETIME = next(iter(sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))), None)

# Finished jobs over the last 9 days in irregular steps, more than a quarter of them in the
# last 91 minutes (about fifteen a minute, where windows begin and end inside minutes), with
# completed_at also exactly on hour and minute edges and a microsecond either side of them; run
# times from a small set (ties), unique ones, zero and over an hour, on both sides of buckets'
# bounds (powers of 2); 4% failed (a third of all retried), 4% cancelled (half never started).
# Loaded as the superuser with session_replication_role = replica (as a restore would; the rows
# keep every rule of jobs_row_is_valid), so created_at can lie in the past.
SEED = [
    """insert into auth.users (id, aud, role, email, created_at, updated_at)
    values ('00000000-0000-4000-8000-0000000000a1', 'authenticated', 'authenticated',
        'metrics@example.com', now(), now())""",
    "insert into public.profiles (id) values ('00000000-0000-4000-8000-0000000000a1')",
    """insert into public.user_roles (user_id, role)
    values ('00000000-0000-4000-8000-0000000000a1', 'admin')""",
    "set session_replication_role = replica",
    """insert into public.jobs (
        id, user_id, job_type, status, error_message, attempts, max_attempts, metadata,
        format, quality, model_type, created_at, started_at, completed_at, updated_at,
        worker_pool, fair_rank
    )
    select gen_random_uuid(), '00000000-0000-4000-8000-0000000000a1', t.job_type, x.status,
        case when x.status = 'failed' then 'boom' end, 1 + g % 3, 3,
        jsonb_build_object('g', g), t.format, t.quality, t.model_type,
        c.at - make_interval(secs => c.run + g % 11),
        case when x.status <> 'cancelled' or g % 2 = 0 then c.at - make_interval(secs => c.run) end,
        c.at, c.at, t.worker_pool, g
    from generate_series(1, 4000) as g
    cross join lateral (
        select case g % 25 when 0 then 'failed' when 1 then 'cancelled' else 'completed' end
            as status
    ) as x
    cross join lateral (
        select
            case when g % 7 = 0
                then date_bin('1 hour', now() - make_interval(hours => g % 200),
                    timestamptz '2000-01-01 00:00:00+00')
                    + make_interval(secs => ((g / 7) % 3 - 1) * 0.000001)
                when g % 6 = 3
                then date_bin('1 minute', now() - make_interval(secs => g * 1.37),
                    timestamptz '2000-01-01 00:00:00+00')
                    + make_interval(secs => ((g / 6) % 3 - 1) * 0.000001)
                when g % 6 = 0 then now() - make_interval(secs => g * 1.37)
                else now() - make_interval(secs => g * 193.7)
            end as at,
            case when g % 13 = 0 then 0 when g % 17 = 0 then 3600.25 + g % 3
                when g % 5 = 0 then 1.5 * (g % 4) + 2 else 0.001 * g + 0.5 end as run
    ) as c
    inner join public.job_types as t on t.job_type
        = (array['sdxl_image_fast', 'sdxl_image_high', 'image_fast', 'video_fast'])[1 + g % 4]""",
    "set session_replication_role = origin",
]

# What system_metrics' job_types answered before the roll-up (from jobs alone).
REFERENCE = """
select coalesce(jsonb_agg(to_jsonb(s) order by s.job_type), '[]')
from public.job_types as t
cross join lateral (
    select
        t.job_type,
        count(*) filter (where f.status = 'completed') as completed,
        count(*) filter (where f.status = 'failed') as failed,
        count(*) filter (where f.status = 'cancelled') as cancelled,
        round((count(*) filter (where f.status = 'failed'))::numeric
            / nullif(count(*) filter (where f.status in ('completed', 'failed')), 0), 4)
            as failure_rate,
        round((count(*) filter (where f.attempts > 1))::numeric / nullif(count(*), 0), 4)
            as retry_rate,
        round(avg(f.run_seconds) filter (where f.status = 'completed')::numeric, 3)
            as avg_run_seconds,
        round((percentile_cont(0.5) within group (order by f.run_seconds)
            filter (where f.status = 'completed'))::numeric, 3) as p50_run_seconds,
        round((percentile_cont(0.95) within group (order by f.run_seconds)
            filter (where f.status = 'completed'))::numeric, 3) as p95_run_seconds,
        round(avg(f.total_seconds) filter (where f.status = 'completed')::numeric, 3)
            as avg_total_seconds
    from (
        select j.status, j.attempts,
            extract(epoch from j.completed_at - j.started_at) as run_seconds,
            extract(epoch from j.completed_at - j.created_at) as total_seconds
        from public.jobs as j
        where j.job_type = t.job_type and j.completed_at is not null
            and j.completed_at > now() - %(w)s::interval and j.completed_at <= now()
    ) as f
) as s
where s.completed + s.failed + s.cancelled > 0
"""

WINDOWS = ["1 minute", "17 minutes", "1 hour", "61 minutes 30 seconds", "90 minutes", "1 day",
           "7 days", "31 days"]
ADMIN = "00000000-0000-4000-8000-0000000000a1"


def _compare(conn: psycopg.Connection[Any], windows: list[str] = WINDOWS) -> int:
    """Each window: system_metrics' job_types == the reference, in one transaction; returns
    how many job types were compared (so an empty comparison cannot pass unnoticed)."""
    seen = 0
    for w in windows:
        with conn.transaction():
            got = conn.execute("select public.system_metrics(%s::interval)", [w]).fetchone()[0]
            want = conn.execute(REFERENCE, {"w": w}).fetchone()[0]
        assert got["job_types"] == want, w
        seen += len(want)
    return seen


def _rolled(conn: psycopg.Connection[Any]) -> int:
    """How many minutes are rolled up."""
    return conn.execute("select count(*) from jobs_private.job_metrics_minutes").fetchone()[0]


# The hours a roll-up must have closed: every hour of the widest window (31 days, from the
# hour now() - 31 days is in) that ended by the horizon it reached (job_metrics_horizon).
CLOSED = """
select coalesce(array_agg(g.hour order by g.hour), '{}')
from jobs_private.job_metrics_horizon as h
cross join lateral generate_series(
    date_bin('1 hour', now() - interval '31 days', timestamptz '2000-01-01 00:00:00+00'),
    date_bin('1 hour', h.closed_through, timestamptz '2000-01-01 00:00:00+00') - interval '1 hour',
    interval '1 hour'
) as g (hour)
"""

# The minutes it must have closed, likewise, against those it did: what is missing, what is
# not closed (both empty when right).
MINUTES_WRONG = """
with closed as (
    select g.minute
    from jobs_private.job_metrics_horizon as h
    cross join lateral generate_series(
        date_bin('1 hour', now() - interval '31 days', timestamptz '2000-01-01 00:00:00+00'),
        date_bin('1 minute', h.closed_through, timestamptz '2000-01-01 00:00:00+00')
        - interval '1 minute',
        interval '1 minute'
    ) as g (minute)
)
(select 'missing', c.minute from closed as c
except select 'missing', m.minute from jobs_private.job_metrics_minutes as m)
union all
(select 'not closed', m.minute from jobs_private.job_metrics_minutes as m
except select 'not closed', c.minute from closed as c)
"""


# The counts the roll-up keeps, checked against what they count: every run time's bucket is
# width_bucket over job_metrics_run_bounds; a block of ten minutes, an hour, six hours or a day
# has counts per bucket (width 1) and coarse bucket (width 32) exactly when all its minutes are
# rolled up and it has a completed job (a minute: per coarse bucket only), and they are those of
# its minutes' run times; an hour's sums are its minutes' sums, and a minute's sums exist only
# while it is rolled up. Answers what is wrong.
BUCKETS_WRONG = """
with bounds as (
    select from_seconds as b from jobs_private.job_metrics_run_bounds
),
misplaced as (
    select 'bucket of a run time' as what, 1::smallint, s.minute, s.job_type, 1::smallint,
        s.bucket, s.jobs
    from jobs_private.job_metrics_run_seconds as s, bounds
    where s.bucket <> width_bucket(s.run_seconds::float8, bounds.b)
),
minute_runs as (
    select s.minute, s.job_type, w.width, s.bucket / w.width as bucket, sum(s.jobs) as jobs
    from jobs_private.job_metrics_run_seconds as s
    cross join (values (1::smallint), (32::smallint)) as w (width)
    group by 1, 2, 3, 4
),
whole_blocks as (
    select z.minutes, date_bin(make_interval(mins => z.minutes), m.minute,
        timestamptz '2000-01-01 00:00:00+00') as block
    from jobs_private.job_metrics_minutes as m
    cross join (values (1::smallint), (10::smallint), (60::smallint), (360::smallint),
        (1440::smallint)) as z (minutes)
    group by 1, 2 having count(*) = z.minutes
    -- the partial minute has a minute's counts, and is in no larger block
    union all
    select 1::smallint, p.minute from jobs_private.job_metrics_partial as p
),
want as (
    select d.minutes, d.block as period, r.job_type, r.width, r.bucket, sum(r.jobs) as jobs
    from minute_runs as r
    cross join (values (1::smallint), (10::smallint), (60::smallint), (360::smallint),
        (1440::smallint)) as z (minutes)
    inner join whole_blocks as d
        on d.minutes = z.minutes and d.block = date_bin(make_interval(mins => z.minutes),
            r.minute, timestamptz '2000-01-01 00:00:00+00')
    -- a minute's counts are coarse only
    where z.minutes > 1 or r.width = 32
    group by 1, 2, 3, 4, 5
),
got as (
    select b.minutes, b.period, b.job_type, b.width, b.bucket, b.jobs
    from jobs_private.job_metrics_run_buckets as b
),
hour_sums as (
    select 'hour sums', 60::smallint, h.period, h.job_type, 0::smallint, 0, 0::numeric
    from jobs_private.job_metrics_rollup as h
    cross join lateral (
        select sum(m.completed) as completed, sum(m.failed) as failed,
            sum(m.cancelled) as cancelled, sum(m.retried) as retried,
            sum(m.run_count) as run_count, sum(m.run_sum) as run_sum,
            sum(m.total_count) as total_count, sum(m.total_sum) as total_sum
        from jobs_private.job_metrics_rollup as m
        where m.minutes = 1 and m.job_type = h.job_type
            and m.period >= h.period and m.period < h.period + interval '1 hour'
    ) as m
    where h.minutes = 60 and (
        not exists (select from jobs_private.job_metrics_hours as x where x.hour = h.period)
        or (h.completed, h.failed, h.cancelled, h.retried, h.run_count, h.run_sum,
            h.total_count, h.total_sum) is distinct from (m.completed, m.failed, m.cancelled,
            m.retried, m.run_count, m.run_sum, m.total_count, m.total_sum)
    )
),
minute_sums as (
    select 'minute sums of a minute not rolled up', 1::smallint, m.period, m.job_type,
        0::smallint, 0, 0::numeric
    from jobs_private.job_metrics_rollup as m
    where m.minutes = 1
        and not exists (select from jobs_private.job_metrics_minutes as x where x.minute = m.period)
        and not exists (select from jobs_private.job_metrics_partial as x where x.minute = m.period)
)
(select 'missing or wrong', w.* from want as w
except all select 'missing or wrong', g.* from got as g)
union all
(select 'not counted', g.* from got as g
except all select 'not counted', w.* from want as w)
union all
select * from misplaced
union all
select * from hour_sums
union all
select * from minute_sums
"""


# The partial minute: the minute the horizon falls in, rolled up as far as the horizon, when
# the horizon is inside it (true when right).
PARTIAL_PLACED = """
select (select array[p.minute, p.upto] from jobs_private.job_metrics_partial as p)
    is not distinct from (
        select case when h.closed_through
            > date_bin('1 minute', h.closed_through, timestamptz '2000-01-01 00:00:00+00')
            then array[date_bin('1 minute', h.closed_through,
                timestamptz '2000-01-01 00:00:00+00'), h.closed_through]
        end
        from jobs_private.job_metrics_horizon as h
    )
"""
# Its sums per job type, from the roll-up and (the same columns) from its jobs.
PARTIAL_SUMS = """
select r.job_type, r.completed, r.failed, r.cancelled, r.run_count, r.run_sum
from jobs_private.job_metrics_partial as p
inner join jobs_private.job_metrics_rollup as r on r.minutes = 1 and r.period = p.minute
order by 1
"""
PARTIAL_JOBS = """
select j.job_type, count(*) filter (where j.status = 'completed'),
    count(*) filter (where j.status = 'failed'), count(*) filter (where j.status = 'cancelled'),
    count(j.started_at) filter (where j.status = 'completed'),
    sum(extract(epoch from j.completed_at - j.started_at)) filter (where j.status = 'completed')
from jobs_private.job_metrics_partial as p
inner join public.jobs as j on j.completed_at >= p.minute and j.completed_at < p.upto
group by 1
order by 1
"""


def _rollup(conn: psycopg.Connection[Any], from_scratch: bool = False, *, fresh: bool = True,
            ) -> int:
    """One run in a read committed transaction of its own; after it, in that transaction: the
    rolled-up minutes and hours are exactly the closed ones, the partial minute is the one the
    horizon falls in with its jobs' sums, every count and sum is its minutes', and (fresh: no
    other transaction was open) the horizon is 2 seconds before the clock when the run read it,
    so they are all the window's 31 * 24 hours, the one that has just ended included (a run in
    the first 2 seconds of an hour waits them out; on the faked clock every run starts there).
    Returns what the run answered."""
    with conn.transaction():
        n = conn.execute("select jobs_private.rollup_job_metrics(%s)",
                         [from_scratch]).fetchone()[0]  # fmt: skip
        hours = conn.execute("select coalesce(array_agg(hour order by hour), '{}')"
                             " from jobs_private.job_metrics_hours").fetchone()[0]  # fmt: skip
        closed = conn.execute(CLOSED).fetchone()[0]
        minutes_wrong = conn.execute(MINUTES_WRONG).fetchall()
        partial_placed = conn.execute(PARTIAL_PLACED).fetchone()[0]
        partial_sums = conn.execute(PARTIAL_SUMS).fetchall()
        partial_jobs = conn.execute(PARTIAL_JOBS).fetchall()
        # the run read the clock between now() and clock_timestamp()
        horizon_in_reach = conn.execute(
            "select h.closed_through between now() - interval '2 seconds'"
            " and clock_timestamp() - interval '2 seconds'"
            " from jobs_private.job_metrics_horizon as h"
        ).fetchone()[0]
    assert hours == closed
    assert minutes_wrong == []
    assert partial_placed
    assert partial_sums == partial_jobs
    assert conn.execute(BUCKETS_WRONG).fetchall() == []
    if fresh:
        assert horizon_in_reach
        assert len(hours) == 31 * 24
    return n


@dataclass
class Server:
    """Where a test's database lives: its template, its superuser, and, for the faked clock,
    what puts the clock seconds before the next full hour (`before_the_hour`) and then on that
    hour (`on_the_hour`)."""

    template: Template
    superuser_url: str | None
    before_the_hour: Callable[[], datetime] | None = None
    on_the_hour: Callable[[datetime], None] | None = None


class FakedClock(Cluster):
    """A throw-away cluster whose server processes read their clock through libfaketime."""

    at: datetime  # the server's time at its last start

    def start(self) -> None:  # type: ignore[override]
        env = {**os.environ, "LD_PRELOAD": str(LIBFAKETIME), "TZ": "UTC",
               "FAKETIME": self.at.strftime("@%Y-%m-%d %H:%M:%S"),
               "FAKETIME_DONT_FAKE_MONOTONIC": "1"}  # fmt: skip
        r = subprocess.run(embedded._cmd([
            str(embedded.bindir() / "pg_ctl"), "start", "-w", "-t", "120", "-D", str(self.data),
            "-l", str(self.base / "server.log"), "-o", f"-p {self.port}"]),
            capture_output=True, text=True, env=env)  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        with psycopg.connect(self.superuser_url, connect_timeout=10) as c:
            c.execute("select 1")

    def next_hour(self) -> datetime:
        """Restart with the clock three seconds before the full hour after the current one."""
        hour = self.at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
        self.restart_at(hour - timedelta(seconds=3))
        return hour

    def restart_at(self, at: datetime) -> None:
        """Restart with the clock at `at`: what waiting for it would do to an idle server,
        without the wait."""
        self.pg_ctl("stop", "-m", "fast", "-w", "-t", "60")
        self.at = at
        self.start()


@pytest.fixture(scope="module", params=["server clock", "clock before a full hour"])
def server(request, template_db: Template, superuser_url: str | None) -> Iterator[Server]:
    if request.param == "server clock":
        yield Server(template_db, superuser_url)
        return
    try:
        embedded.bindir()
    except embedded.EmbeddedError as e:
        pytest.skip(f"no local PostgreSQL server binaries for a server with a faked clock: {e}")
    if LIBFAKETIME is None:
        pytest.skip("libfaketime is not installed, so the roll-up tests do not run with a clock"
                    " before a full hour: `make deps` as root installs it"
                    " (or: sudo apt-get install -y libfaketime)")
    c = FakedClock(Path(tempfile.mkdtemp(prefix="jobsdb-clock-")), free_port())
    c.at = datetime.now(UTC).replace(microsecond=0)
    try:
        c.init()
        c.start()
        apply_shim(c.superuser_url, "postgres", quiet=True)
        tpl = build_template(c.owner_url, c.superuser_url, ROOT)
        yield Server(tpl, c.superuser_url, c.next_hour, c.restart_at)
    finally:
        c.destroy()


@dataclass
class Seeded:
    url: str  # the owner's
    superuser_url: str


@pytest.fixture
def seeded(server: Server) -> Iterator[Seeded]:
    if server.superuser_url is None:
        pytest.skip("the seed needs a superuser (session_replication_role)")
    hour = server.before_the_hour() if server.before_the_hour else None
    with server.template.clone() as url:
        db = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        su = url_for_db(server.superuser_url, str(db))
        with psycopg.connect(su, autocommit=True) as conn:
            for sql in SEED:
                conn.execute(sql)
            conn.execute("vacuum analyze public.jobs")
            if hour is not None:  # seeded before the hour, rolled up after it
                assert conn.execute("select now() < %s", [hour]).fetchone()[0]
        if hour is not None and server.on_the_hour is not None:
            server.on_the_hour(hour)
            with psycopg.connect(su, autocommit=True) as conn:
                assert conn.execute("select clock_timestamp() >= %s", [hour]).fetchone()[0]
        yield Seeded(url, su)


def test_rolled_up_answers_equal_the_answers_from_jobs(seeded: Seeded) -> None:
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        assert _compare(conn) >= 4 * 4  # before any roll-up: all live
        _rollup(conn)  # every closed hour of the widest window
        assert conn.execute(
            "select count(*) from jobs_private.job_metrics_rollup"
        ).fetchone()[0] > 0
        # the roll-up really is read: answers come from it (a wrong roll-up row shows)
        assert _compare(conn) >= 16
        # the sums of hours and of minutes are read: a wrong row of either kind shows
        for minutes in (60, 1):
            conn.execute(
                "update jobs_private.job_metrics_rollup set completed = completed + 1"
                " where minutes = %s", [minutes])  # fmt: skip
            with pytest.raises(AssertionError):
                _compare(conn)
            conn.execute(
                "update jobs_private.job_metrics_rollup set completed = completed - 1"
                " where minutes = %s", [minutes])  # fmt: skip
        # the bucket counts of whole days (coarse and fine), six hours, single hours and ten
        # minutes are read, and the run times of the buckets the percentiles fall in: a wrong
        # row of any shows
        blocks = dict(conn.execute(
            "select minutes, count(*) from jobs_private.job_metrics_run_buckets group by minutes"
        ).fetchall())
        assert all(blocks.get(m, 0) > 0 for m in (1, 10, 60, 360, 1440)), blocks
        # every row of a kind at once: which rows a window reads (which hours stand alone,
        # which buckets hold its percentiles) depends on where the clock stands
        for wrong, undo in (
            ("update jobs_private.job_metrics_run_buckets set jobs = jobs + 1"
             " where minutes = 1440 and width = 32",
             "update jobs_private.job_metrics_run_buckets set jobs = jobs - 1"
             " where minutes = 1440 and width = 32"),
            ("update jobs_private.job_metrics_run_buckets set bucket = bucket + 100000"
             " where minutes = 60",
             "update jobs_private.job_metrics_run_buckets set bucket = bucket - 100000"
             " where minutes = 60"),
            ("update jobs_private.job_metrics_run_buckets set bucket = bucket + 100000"
             " where minutes = 1440 and width = 1",
             "update jobs_private.job_metrics_run_buckets set bucket = bucket - 100000"
             " where minutes = 1440 and width = 1"),
            ("update jobs_private.job_metrics_run_buckets set bucket = bucket + 100000"
             " where minutes = 360",
             "update jobs_private.job_metrics_run_buckets set bucket = bucket - 100000"
             " where minutes = 360"),
            ("update jobs_private.job_metrics_run_buckets set jobs = jobs + 1"
             " where minutes = 10 and width = 32",
             "update jobs_private.job_metrics_run_buckets set jobs = jobs - 1"
             " where minutes = 10 and width = 32"),
            ("update jobs_private.job_metrics_run_buckets set bucket = bucket + 100000"
             " where minutes = 10 and width = 1",
             "update jobs_private.job_metrics_run_buckets set bucket = bucket - 100000"
             " where minutes = 10 and width = 1"),
            ("update jobs_private.job_metrics_run_buckets set jobs = jobs + 1"
             " where minutes = 1",
             "update jobs_private.job_metrics_run_buckets set jobs = jobs - 1"
             " where minutes = 1"),
            # the single minutes at a window's edges are counted from their run times
            ("update jobs_private.job_metrics_run_seconds set bucket = bucket + 100000",
             "update jobs_private.job_metrics_run_seconds set bucket = bucket - 100000"),
            # no run time is negative: the new values collide with none (the key holds them)
            ("update jobs_private.job_metrics_run_seconds set run_seconds = -run_seconds - 1",
             "update jobs_private.job_metrics_run_seconds set run_seconds = -run_seconds - 1"),
        ):
            conn.execute(wrong)
            with pytest.raises(AssertionError):
                _compare(conn)
            conn.execute(undo)
        assert _compare(conn) >= 16
        # a second run redoes nothing (idempotent): it adds only the minutes that closed since
        # (and an hour, if one did)
        before = dict(conn.execute(
            "select hour, rolled_up_at from jobs_private.job_metrics_hours").fetchall())
        minutes_before = _rolled(conn)
        n = _rollup(conn)
        after = dict(conn.execute(
            "select hour, rolled_up_at from jobs_private.job_metrics_hours").fetchall())
        assert n == _rolled(conn) - minutes_before <= 5
        assert len(set(after) - set(before)) <= 1
        assert {h: before[h] for h in set(before) & set(after)} == {
            h: after[h] for h in set(before) & set(after)}
        assert _compare(conn) >= 16


def test_purge_retry_and_late_inserts_do_not_make_rolled_up_hours_stale(seeded: Seeded) -> None:
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        _rollup(conn)
        # retention deletes failed/cancelled jobs of rolled-up hours
        purged = rpc(conn, "purge_finished_jobs", {"older_than": "2 days", "batch_size": 10000},
                     role="service_role")
        assert purged > 0
        assert conn.execute("select count(*) from jobs_private.job_metrics_stale").fetchone()[0] > 0
        assert _compare(conn) >= 16  # stale hours read from jobs
        # an admin retries a failed job of a rolled-up hour (completed_at becomes null)
        failed = conn.execute(
            "select id from public.jobs where status = 'failed'"
            " and completed_at < now() - interval '3 hours' limit 1"
        ).fetchone()[0]
        rpc(conn, "retry_job", {"job_id": str(failed)}, claims=as_user(ADMIN))
        # a finished job inserted into a rolled-up hour (a restore, an output copy)
        conn.execute(
            "insert into public.jobs (user_id, job_type, status, metadata, started_at,"
            " completed_at, created_at, attempts)"
            " values (%s, 'image_fast', 'completed', '{}', now() - interval '5 hours 1 minute',"
            " now() - interval '5 hours', now() - interval '5 hours 2 minutes', 1)",
            [ADMIN],
        )
        assert _compare(conn) >= 16
        # the next run recomputes the marked hours and clears their markers
        _rollup(conn)
        stale = conn.execute("select count(*) from jobs_private.job_metrics_stale").fetchone()[0]
        assert stale == 0
        assert _compare(conn) >= 16


def test_a_window_starting_in_a_stale_hour_reads_its_first_minute_from_jobs(
    seeded: Seeded,
) -> None:
    # A window's first, partial minute counts whole from the roll-up, less its part before the
    # window read from jobs, only while its hour is not stale: jobs restored into the minutes
    # around where two windows start (one with less than half of its first minute before it,
    # whatever the clock) are in jobs, not in the roll-up, until the next run.
    windows = ["90 minutes", "90 minutes 30 seconds"]
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        _rollup(conn)
        conn.execute(
            "insert into public.jobs (user_id, job_type, status, metadata, started_at,"
            " completed_at, created_at, attempts)"
            " select %s, 'image_fast', 'completed', '{}', t - interval '7 seconds', t,"
            " t - interval '9 seconds', 1"
            " from generate_series(now() - interval '93 minutes', now() - interval '87 minutes',"
            " interval '5 seconds') as t",
            [ADMIN],
        )
        assert conn.execute("select count(*) from jobs_private.job_metrics_stale").fetchone()[0] > 0
        assert _compare(conn, windows) >= 2
        _rollup(conn)  # the next run recomputes the stale hours
        assert _compare(conn, windows) >= 2


def test_an_open_transaction_holds_the_horizon_back(seeded: Seeded) -> None:
    with psycopg.connect(seeded.url, autocommit=True) as conn, \
            psycopg.connect(seeded.url) as other:  # fmt: skip
        other.execute("select 1")  # a transaction is open on the other connection
        assert _rollup(conn, fresh=False) == 0
        # nothing is closed while a transaction that started earlier may still write
        assert _rolled(conn) == 0
        assert _compare(conn) >= 16
        other.rollback()
        # that transaction has ended: the time the first run saw it open becomes the horizon
        assert _rollup(conn, fresh=False) == _rolled(conn) > 0
        assert _compare(conn) >= 16


def test_a_transaction_that_ends_within_a_second_is_waited_for(seeded: Seeded) -> None:
    # a worker's transactions last milliseconds: the run waits for those open when it starts,
    # and closes every minute up to 2 seconds before the clock in the same run
    with psycopg.connect(seeded.url, autocommit=True) as conn, \
            psycopg.connect(seeded.url) as other:  # fmt: skip
        other.execute("select 1")  # a transaction is open on the other connection
        ends = threading.Timer(0.3, other.rollback)
        ends.start()
        try:
            assert _rollup(conn) > 0  # every closed minute, the horizon 2 s before the clock
        finally:
            ends.join()
        assert _compare(conn) >= 16


def test_a_transaction_in_another_database_does_not_hold_the_horizon_back(
    seeded: Seeded,
) -> None:
    # a transaction writes only the database it is connected to: one open in another database
    # of the cluster (another app's, a branch's) cannot write this one's jobs
    elsewhere = url_for_db(seeded.superuser_url, "postgres")
    with psycopg.connect(seeded.url, autocommit=True) as conn, \
            psycopg.connect(elsewhere) as other:  # fmt: skip
        other.execute("select 1")  # a transaction is open on the other connection
        assert conn.execute("select exists (select from pg_locks as l"
                            " join pg_stat_activity as a using (pid)"
                            " where l.locktype = 'virtualxid' and a.datname = 'postgres')"
                            ).fetchone()[0]  # fmt: skip
        assert _rollup(conn) > 0  # every closed minute, the horizon 2 s before the clock
        assert _compare(conn) >= 16


def test_concurrent_runs_take_turns_and_roll_up_once(seeded: Seeded) -> None:
    results: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def run() -> None:
        try:
            with psycopg.connect(seeded.url, autocommit=True) as c:
                start.wait()
                results.append(c.execute("select jobs_private.rollup_job_metrics()").fetchone()[0])
        except BaseException as e:  # reported by the main thread
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        # the runs may see each other's sessions open: then a later run closes the hours
        _rollup(conn)
        assert sum(results) <= _rolled(conn)
        assert _compare(conn) >= 16


def test_the_roll_up_is_the_owners_alone(seeded: Seeded) -> None:
    with psycopg.connect(seeded.url) as conn:
        for role in ("authenticated", "service_role", "anon"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with conn.transaction():
                    conn.execute(f"set local role {role}")
                    conn.execute("select jobs_private.rollup_job_metrics()")
        with pytest.raises(psycopg.errors.ActiveSqlTransaction):
            with conn.transaction():
                conn.execute("set transaction isolation level repeatable read")
                conn.execute("select jobs_private.rollup_job_metrics()")


def test_from_scratch_recomputes_what_triggers_did_not_see(seeded: Seeded) -> None:
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        _rollup(conn)
        with psycopg.connect(seeded.superuser_url, autocommit=True) as su:
            su.execute("set session_replication_role = replica")  # no trigger marks the hours
            su.execute(
                "delete from public.jobs where completed_at < now() - interval '2 hours'"
                " and (metadata ->> 'g')::int % 3 = 0"
            )
        with pytest.raises(AssertionError):  # the roll-up did not see the deletes
            _compare(conn)
        assert _rollup(conn, from_scratch=True) == _rolled(conn)
        assert _compare(conn) >= 16


def test_a_short_window_reads_the_run_times_of_its_own_minutes_only(seeded: Seeded) -> None:
    """A window's exact run times are read per minute and bucket of its own, never by a pass
    over the roll-up's 31 days (1.14.0 merged them all with the buckets for its first minute,
    whatever the window: 60-90 ms a call at 500,000 run times). Counted by index tuples read,
    in the call's own transaction: each of its minutes' run times at most three times (the
    fine buckets of a single minute, then the exact values, are two reads of the same rows)."""
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        _rollup(conn)
        total = conn.execute("select count(*) from jobs_private.job_metrics_run_seconds"
                             ).fetchone()[0]
        rels = [r[0] for r in conn.execute(
            "select indexrelid from pg_index"
            " where indrelid = 'jobs_private.job_metrics_run_seconds'::regclass"
            " union all select 'jobs_private.job_metrics_run_seconds'::regclass::oid")]
        read = ("select sum(pg_stat_get_xact_tuples_returned(r))::bigint"
                " from unnest(%s::oid[]) as r")
        for w in ("1 minute", "17 minutes"):
            with conn.transaction():
                before = conn.execute(read, [rels]).fetchone()[0]
                conn.execute("select public.system_metrics(%s::interval)", [w])
                got = conn.execute(read, [rels]).fetchone()[0] - before
                own = conn.execute(
                    "select count(*) from jobs_private.job_metrics_run_seconds"
                    " where minute >= now() - %s::interval - interval '1 minute'", [w]
                ).fetchone()[0]
            assert total > 10 * own, (w, total, own)
            assert got <= 3 * own, (w, got, own, total)


def _just_finished(conn: psycopg.Connection[Any], run_seconds: float) -> None:
    """40 image_fast jobs of one run time, finished in the 40 ms up to 2.5 s before the clock:
    before the horizon of a run that starts now, inside the minute it falls in."""
    conn.execute(
        "insert into public.jobs (user_id, job_type, status, metadata, started_at,"
        " completed_at, created_at, attempts)"
        " select %s, 'image_fast', 'completed', '{}', t - make_interval(secs => %s), t,"
        " t - make_interval(secs => %s + 1), 1"
        " from (select clock_timestamp() - interval '2.5 seconds'"
        "     - make_interval(secs => g * 0.001) from generate_series(1, 40) as g) as x (t)",
        [ADMIN, run_seconds, run_seconds],
    )


def test_the_minute_not_closed_yet_is_rolled_up_as_far_as_the_horizon(
    seeded: Seeded, server: Server,
) -> None:
    """A run rolls up the minute the horizon falls in, as far as the horizon
    (job_metrics_partial), and system_metrics reads it from the roll-up, leaving only what
    finished after the horizon to read from jobs; the next run writes it again, further, and
    once the minute has closed it is a closed minute like any other."""
    image_fast = ("select r.{col} from jobs_private.job_metrics_rollup as r"
                  " where r.minutes = 1 and r.period = %s and r.job_type = 'image_fast'")
    windows = ["1 minute", "17 minutes", "1 hour"]
    # far enough into a minute that the horizon, 2 s before the clock, is still in it: waited
    # for, or on the faked clock put there
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        now = conn.execute("select clock_timestamp()").fetchone()[0]
    second = now.second + now.microsecond / 1e6
    if not 6 <= second <= 50:
        if server.on_the_hour is None:
            time.sleep((66 - second) % 60)
        else:
            server.on_the_hour(now + timedelta(seconds=(66 - second) % 60))
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        # 40 jobs of one run time finished just before the horizon: most of the minute's
        # image_fast jobs, so its p50 is one of their run times
        _just_finished(conn, run_seconds=7.25)
        _rollup(conn)
        minute, upto = conn.execute(
            "select p.minute, p.upto from jobs_private.job_metrics_partial as p").fetchone()
        assert conn.execute(image_fast.format(col="completed"), [minute]).fetchone()[0] >= 40
        assert _compare(conn, windows) >= 3
        # it is read from the roll-up: a wrong sum or run time of it shows
        for wrong, undo in (
            ("update jobs_private.job_metrics_rollup set completed = completed + 1"
             " where minutes = 1 and period = %s",
             "update jobs_private.job_metrics_rollup set completed = completed - 1"
             " where minutes = 1 and period = %s"),
            ("update jobs_private.job_metrics_run_seconds set run_seconds = -run_seconds - 1"
             " where minute = %s",
             "update jobs_private.job_metrics_run_seconds set run_seconds = -run_seconds - 1"
             " where minute = %s"),
        ):
            conn.execute(wrong, [minute])
            with pytest.raises(AssertionError):
                _compare(conn, ["1 minute"])
            conn.execute(undo, [minute])
        # the next run writes it again, as far as its own horizon
        time.sleep(0.5)
        _rollup(conn)
        again = conn.execute(
            "select p.minute, p.upto from jobs_private.job_metrics_partial as p").fetchone()
        assert again is None or again[0] > minute or again[1] > upto
        assert _compare(conn, windows) >= 3
    if server.on_the_hour is None:
        return
    # on the faked clock, later: it is a closed minute. The clock stands half a minute into the
    # last minute of a ten-minute block (:09, :19, ...), so the partial minute completes a
    # block of ten side by side with nine closed ones, and is still no whole ten minutes
    later = minute + timedelta(minutes=1)
    later += timedelta(minutes=(9 - later.minute % 10) % 10, seconds=30)
    server.on_the_hour(later)
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        _just_finished(conn, run_seconds=3.5)  # 40 more, of another run time
        _rollup(conn)
        assert conn.execute("select exists (select from jobs_private.job_metrics_minutes"
                            " where minute = %s)", [minute]).fetchone()[0]  # fmt: skip
        assert conn.execute("select p.minute from jobs_private.job_metrics_partial as p"
                            ).fetchone()[0] == later - timedelta(seconds=30)  # fmt: skip
        assert conn.execute(image_fast.format(col="completed"), [minute]).fetchone()[0] >= 40
        assert _compare(conn, windows) >= 3
    # a minute on, with no run since: the partial minute has ended but is not closed; it is
    # read once, as the partial minute (not also as a closed one)
    server.on_the_hour(later + timedelta(minutes=1))
    with psycopg.connect(seeded.url, autocommit=True) as conn:
        assert _compare(conn, windows) >= 3
