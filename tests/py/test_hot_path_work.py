"""The hot path's work per call is deterministic and bounded: what queue_job, claim_jobs and
job_callback (their batched forms, and job_callback_and_claim) execute, counted, not timed.

Each call is made as PostgREST makes it (one transaction: set_config of role and JWT claims,
the function with named arguments from json_to_record), in a steady state: the same call made
once before in the session (functions compiled, plans cached), a backlog of other users' jobs
in the pool, the claim floor's once-per-64 step pinned by its sequence. pg_stat_statements with
`track = all` then lists every statement the call executed beneath it: the functions' own, the
triggers' and the CHECK function's, and PostgreSQL's foreign key checks. Each is named by its
first keyword and the relations it reads or writes (`_label`), with how many times it ran and
the rows it returned or changed. The expected figures below must match exactly: one statement
more (a new check, a trigger, a lookup) fails its test until the figures are updated here, on
purpose. The shared buffers of the whole call (the top-level statement, nested ones included)
stay under a bound, so a plan that starts reading a table fails too. The calls of the functions
that public.jobs' triggers and CHECK run (read from pg_stat_xact_user_functions in the call's
transaction, `track_functions = pl`) are pinned as well: a trigger that fires for a row it has
nothing to do with runs no statement, yet costs a call of a function with a SET clause per row.

The buffers depend on the whole cluster, not the database alone: with one transaction holding
an xid in any other database (`begin; select txid_current()`), the same report of three read 196
buffers instead of 136 (the lock of the reported jobs 5 -> 21, the set statement 113 -> 140) and
of ten 521 instead of 388; a snapshot without an xid changed nothing. So the file runs with the
serial tests, alone on the cluster; each counted call first waits (up to 30 s) for no other
session but an autovacuum to hold an xid or a snapshot, and a bound exceeded names what held
back the horizon (sessions, prepared transactions, replication slots).

Timings are `make bench`'s (bench/README.md: database time per job and step). Skipped where the
server does not load pg_stat_statements (shared_preload_libraries; the embedded cluster does).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc
from jobsdb.testdb import Template
from jobsdb.urls import url_for_db

# alone on the cluster: other sessions' open transactions change the buffers counted (above)
pytestmark = pytest.mark.serial

WORKER = {"role": "jobs_worker"}
TYPE = "sdxl_image_fast"  # pool sdxl
BACKLOG_USERS = 20  # other users' queued jobs, 5 each: the pool's queue is never empty

# "only" but for a key into a partitioned table (jobs), whose check reads the parent
_RI = re.compile(r'^select 1 from (?:only )?"?(\w+)"?\."?(\w+)"? x where', re.I)
_WRITE = re.compile(
    r'\b(insert\s+into|update|delete\s+from)\s+(?:only\s+)?"?([a-z_]+)"?\."?([a-z_]+)"?', re.I
)
_READ = re.compile(r'\b(?:from|join)\s+(?:only\s+)?"?([a-z_]+)"?\."?([a-z_]+)"?', re.I)
_FUNCTION = re.compile(r"\b([a-z_]+)\(", re.I)


def _label(query: str) -> str:
    """What a statement does, by the relations it writes and reads (the first of a FROM list):
    'insert public.jobs', 'update public.jobs, reading jobs_private.claim_floors',
    'select public.job_types, jobs_private.settings', 'FK check public.profiles' (PostgreSQL's
    check of a foreign key), 'expression reading jobs_private.job_status_transitions' (a plpgsql
    IF or assignment with a subquery: it runs as a statement), 'select pg_advisory_xact_lock'
    and 'expression jsonb_typeof' (no relation: the first function)."""
    q = query.strip()
    ri = _RI.match(q)
    if ri:
        return f"FK check {ri.group(1)}.{ri.group(2)}"
    writes = list(dict.fromkeys(f"{v.split()[0].lower()} {s}.{t}".lower()
                                for v, s, t in _WRITE.findall(q)))
    written = {w.split()[1] for w in writes}
    reads = [r for r in dict.fromkeys(f"{s}.{t}".lower() for s, t in _READ.findall(q))
             if r not in written]
    if writes:
        return ", ".join(writes) + (f", reading {', '.join(reads)}" if reads else "")
    kind = q.split(None, 1)[0].lower()
    if kind not in ("select", "with"):  # a plpgsql expression, run as a query
        kind = "expression"
    if reads:
        return f"{kind} {'reading ' if kind == 'expression' else ''}{', '.join(reads)}"
    f = _FUNCTION.search(q)
    return f"{kind} {f.group(1).lower()}" if f else kind


# The functions public.jobs' row triggers and its CHECK call (sql/40_triggers.sql,
# sql/61_jobs_row_check.sql, sql/43_job_metrics_triggers.sql).
TABLE_FUNCTIONS = ("jobs_before_insert", "jobs_before_update", "jobs_row_is_valid",
                   "jobs_lower_claim_floor", "mark_job_metrics_stale")


class Work:
    """One call's nested statements {label: (calls, rows)}, its shared buffers, and the calls of
    the table's trigger and CHECK functions {name: calls}."""

    def __init__(self, statements: dict[str, tuple[int, int]], buffers: int,
                 functions: dict[str, int] | None = None) -> None:
        self.statements = statements
        self.buffers = buffers
        self.functions = functions or {}
        self.xid_holders: set[str] = set()  # what held back the horizon, before or after

    @property
    def total(self) -> tuple[int, int]:
        return (sum(c for c, _ in self.statements.values()),
                sum(r for _, r in self.statements.values()))


def _measure(su: psycopg.Connection[Any], call: str) -> Work:
    """The work of the latest top-level statement mentioning public.<call>( since the reset."""
    rows = su.execute(
        "select s.toplevel, s.query, s.calls, s.rows,"
        " s.shared_blks_hit + s.shared_blks_read"
        " from extensions.pg_stat_statements as s"
        " where s.dbid = (select oid from pg_database where datname = current_database())"
    ).fetchall()
    named = re.compile(rf'public\."?{call}"?\(')
    top = [r for r in rows if r[0] and named.search(r[1])]
    assert len(top) == 1 and top[0][2] == 1, f"expected one call of {call}: {top}"
    nested: Counter[str] = Counter()
    nested_rows: Counter[str] = Counter()
    for toplevel, query, calls, n, _ in rows:
        if not toplevel:
            nested[_label(query)] += calls
            nested_rows[_label(query)] += n
    return Work({k: (nested[k], nested_rows[k]) for k in sorted(nested)}, int(top[0][4]))


class HotPath:
    """A database with the pool's backlog, a user, and a superuser session counting statements."""

    def __init__(self, su: psycopg.Connection[Any]) -> None:
        self.su = su
        self.user = su.execute("select tests.create_user('hot-path@example.com')").fetchone()[0]

    def reset(self) -> None:
        self.su.execute(
            "select extensions.pg_stat_statements_reset(0,"
            " (select oid from pg_database where datname = current_database()), 0)"
        )

    def call(self, name: str, args: dict[str, Any], claims: dict[str, Any], role: str,
             counted: bool = True) -> tuple[Any, Work | None]:
        if counted:
            self.reset()
        functions: dict[str, int] = {}

        def trace(conn: psycopg.Connection[Any]) -> None:
            functions.update(conn.execute(
                "select f.funcname::text, f.calls from pg_catalog.pg_stat_xact_user_functions"
                " as f where f.schemaname = 'jobs_private' and f.funcname = any(%s)",
                (list(TABLE_FUNCTIONS),)).fetchall())  # fmt: skip

        # the session's function counts not yet sent to the statistics are flushed when it
        # next goes idle, so the call's transaction sees only its own
        self.su.execute("select pg_catalog.pg_stat_force_next_flush()")
        if counted:
            self.wait_for_quiet()
        holders = self.xid_holders()
        answer = rpc(self.su, name, args, role=role, claims=claims, before_commit=trace)
        if not counted:
            return answer, None
        work = _measure(self.su, name)
        work.functions = {k: functions[k] for k in sorted(functions)}
        work.xid_holders = holders | self.xid_holders()
        return answer, work

    def xid_holders(self) -> set[str]:
        """Whatever else in the cluster holds back the horizon: sessions with an xid or a
        snapshot (autovacuum's included: named, though PostgreSQL ignores a vacuum's), prepared
        transactions and replication slots."""
        return {" ".join(str(v) for v in row) for row in self.su.execute(
            "select a.backend_type, a.datname, a.state,"
            " 'xid ' || a.backend_xid, 'xmin ' || a.backend_xmin, left(a.query, 60)"
            " from pg_catalog.pg_stat_activity as a"
            " where (a.backend_xid is not null or a.backend_xmin is not null)"
            " and a.pid <> pg_catalog.pg_backend_pid()"
            " union all select 'prepared', p.database, p.gid, 'xid ' || p.transaction, '', ''"
            " from pg_catalog.pg_prepared_xacts as p"
            " union all select 'slot', s.database, s.slot_name, 'xmin ' || s.xmin,"
            " 'catalog_xmin ' || s.catalog_xmin, ''"
            " from pg_catalog.pg_replication_slots as s")}

    def wait_for_quiet(self, seconds: float = 30) -> None:
        """Waits, at most `seconds`, until no other session but an autovacuum holds an xid or
        a snapshot: one left by an earlier test (a process still ending) made a claim read 234
        buffers instead of 24 (the counts above are a quiet cluster's)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.su.execute(
                "select exists (select from pg_catalog.pg_stat_activity as a"
                " where (a.backend_xid is not null or a.backend_xmin is not null)"
                " and a.backend_type <> 'autovacuum worker'"
                " and a.pid <> pg_catalog.pg_backend_pid())").fetchone()[0]:
            time.sleep(0.2)

    def queue(self, n: int = 1, counted: bool = True) -> tuple[Any, Work | None]:
        return self.call("queue_job", {"job_type": TYPE, "prompt": "a red fox",
                                       "num_images": n}, as_user(self.user), "authenticated",
                         counted)

    def claim(self, n: int = 1, floor_step: bool = False,
              counted: bool = True) -> tuple[Any, Work | None]:
        # claim_jobs' floor step runs when nextval('claim_floor_tick') % 64 < max_jobs: 0 with
        # the sequence at 63, 63 (never, for at most 63 jobs) at 62
        self.su.execute("select setval('jobs_private.claim_floor_tick', %s)",
                        (63 if floor_step else 62,))
        return self.call("claim_jobs", {"worker_pool": "sdxl", "worker_id": "hot-worker",
                                        "max_jobs": n}, WORKER, "jobs_worker", counted)

    def report(self, job: dict[str, Any], counted: bool = True) -> tuple[Any, Work | None]:
        return self.call("job_callback", _completed(job), WORKER, "jobs_worker", counted)

    def report_and_claim(self, job: dict[str, Any], n: int = 1,
                         counted: bool = True) -> tuple[Any, Work | None]:
        self.su.execute("select setval('jobs_private.claim_floor_tick', 62)")
        return self.call("job_callback_and_claim",
                         {"report": _completed(job), "worker_pool": "sdxl",
                          "worker_id": "hot-worker", "max_jobs": n},
                         WORKER, "jobs_worker", counted)

    def report_many(self, jobs: list[dict[str, Any]],
                    counted: bool = True) -> tuple[Any, Work | None]:
        return self.call("job_callbacks", {"reports": [_completed(j) for j in jobs]}, WORKER,
                         "jobs_worker", counted)


def _completed(job: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": job["job_id"], "status": "completed", "lease_token": job["lease_token"],
            "assets": [f"{job['user_id']}/{job['job_id']}/0.png"]}


@pytest.fixture(scope="module")
def hot(template_db: Template, superuser_url: str | None) -> Iterator[HotPath]:
    if superuser_url is None:
        pytest.skip("pg_stat_statements is read and set up as a superuser")
    with template_db.clone() as owner_url:
        db = str(psycopg.conninfo.conninfo_to_dict(owner_url)["dbname"])
        with psycopg.connect(url_for_db(superuser_url, db), autocommit=True) as su:
            try:
                su.execute("create extension if not exists pg_stat_statements"
                           " with schema extensions")
                su.execute("select count(*) from extensions.pg_stat_statements")
            except psycopg.Error as e:
                why = str(e).strip().splitlines()[0]
                pytest.skip(f"pg_stat_statements is not loaded on this server ({why}); the"
                            " embedded cluster loads it from its next start (`jobsdb db stop`,"
                            " then `make db`)")
            su.execute("set pg_stat_statements.track = 'all'")
            su.execute("set pg_stat_statements.track_utility = off")
            su.execute("set track_functions = 'pl'")
            su.execute("update jobs_private.settings set max_queued_per_user = 1000"
                       " where singleton")
            h = HotPath(su)
            for i in range(BACKLOG_USERS):
                other = su.execute("select tests.create_user(%s)",
                                   (f"backlog{i}@example.com",)).fetchone()[0]
                rpc(su, "queue_job", {"job_type": TYPE, "prompt": "backlog", "num_images": 4},
                    role="authenticated", claims=as_user(other))
            su.execute("vacuum analyze")
            # every call once, uncounted: functions compiled, plans and catalog cached
            h.queue(counted=False)
            for floor_step in (False, True):
                claimed, _ = h.claim(floor_step=floor_step, counted=False)
                h.report(claimed[0], counted=False)
            claimed, _ = h.claim(3, counted=False)
            h.report_many(claimed, counted=False)
            claimed, _ = h.claim(1, counted=False)
            claimed, _ = h.report_and_claim(claimed[0], counted=False)
            h.report(claimed[0], counted=False)
            yield h


def _check(work: Work, expected: dict[str, tuple[int, int]], most_buffers: int,
           functions: dict[str, int]) -> None:
    print(f"\n{work.total[0]} statements, {work.total[1]} rows, {work.buffers} buffers:")
    for k, v in work.statements.items():
        print(f"    {k!r}: {v},")
    print(f"table functions: {work.functions}")
    assert work.statements == expected, (
        "the statements a call runs changed (label: (calls, rows)); if on purpose, update the"
        f" figures:\n  got      {work.statements}\n  expected {expected}"
    )
    assert work.functions == functions, (
        "the calls of public.jobs' trigger and CHECK functions changed; if on purpose, update"
        f" the figures:\n  got      {work.functions}\n  expected {functions}"
    )
    assert 0 < work.buffers <= most_buffers, (
        f"{work.buffers} shared buffers > {most_buffers}; what else held back the horizon"
        f" (an xid makes the call read more, see the top of the file):"
        f" {sorted(work.xid_holders) or 'none'}"
    )


# ---- the figures: (calls, rows) of each statement beneath one call ----------------------------

# queue_job of one image, by a user with a profile and a bucket row, the pool's queue claimable
# (no wake-up): 6 statements, 43 buffers when written (8 statements before the per-user lock
# joined the first statement and the answer joined the insert).
QUEUE_JOB = {
    # the job type, the settings and the pool's claim floor, and the per-user lock (one
    # queue_job at a time per user: the cap, idempotency and the rate stay exact), in one
    # statement
    "select public.job_types, jobs_private.settings, jobs_private.claim_floors": (1, 1),
    # profile, queued count for the cap, head of the queue, the user's fair rank
    "select public.profiles, jobs_private.jobs_hot": (1, 1),
    # the user's rate of new jobs: the tokens taken from their bucket row (a plain update; the
    # upsert runs only for a user without a row, or to refuse)
    "update jobs_private.job_rates": (1, 1),
    # the job row and the answer built from its returning rows: the before-insert trigger and
    # the row check run no statement
    "insert jobs_private.jobs_hot": (1, 1),
    "FK check public.profiles": (1, 1),
    "FK check public.job_types": (1, 1),
}
# A set of four: the same statements; one insert of four rows, a foreign key check per row.
QUEUE_JOB_SET = QUEUE_JOB | {"FK check public.profiles": (4, 4),
                             "FK check public.job_types": (4, 4)}
# Per job row inserted: the row check. queue_job's rows carry every value the before-insert
# trigger would fill, so its WHEN clause keeps it from firing.
QUEUE_JOB_FUNCTIONS = {"jobs_row_is_valid": 1}
QUEUE_JOB_SET_FUNCTIONS = {"jobs_row_is_valid": 4}

# claim_jobs of one job, the floor step not due (63 claims in 64): 2 statements, 24 buffers
# (the loop's exit reads the claim floors only when nothing was claimed: no statement here).
CLAIM = {
    # the claim: floor, head of the pool's queue, lease, for update skip locked
    "update jobs_private.jobs_hot, reading jobs_private.claim_floors,"
    " jobs_private.worker_logins": (1, 1),
    # the before-update trigger's check of the status transition
    "expression reading jobs_private.job_status_transitions": (1, 1),
}
# Once per 64 jobs claimed: the floor read, the head read, due retries ranked (none here), the
# floor moved. 6 statements, 36 buffers.
CLAIM_FLOOR_STEP = CLAIM | {
    "select jobs_private.claim_floors": (1, 1),
    "select jobs_private.jobs_hot": (1, 1),
    "update jobs_private.jobs_hot": (1, 0),
    "update jobs_private.claim_floors": (1, 1),
}
# Ten jobs in one claim: one claim statement of ten rows, a transition check per row. 11
# statements, 183 buffers.
CLAIM_TEN = CLAIM | {
    "update jobs_private.jobs_hot, reading jobs_private.claim_floors,"
    " jobs_private.worker_logins": (1, 10),
    "expression reading jobs_private.job_status_transitions": (10, 10),
}

# job_callback completed with one image asset: 8 statements, 42 buffers.
REPORT = {
    # the assets' validation (an `exists` over their elements: a query)
    "expression jsonb_typeof": (1, 1),
    # the job, its type and the asset bounds (settings), for update
    "select jobs_private.jobs_hot, public.job_types, jobs_private.settings": (1, 1),
    # the output row
    "insert public.images_videos": (1, 1),
    "FK check public.profiles": (1, 1),
    "FK check public.jobs": (1, 1),
    # the completion, its trigger's transition check, and its link to the output
    "update jobs_private.jobs_hot": (1, 1),
    "expression reading jobs_private.job_status_transitions": (1, 1),
    "FK check public.images_videos": (1, 1),
}
# job_callbacks of n reports, applied as set statements: its own validation (two reads of the
# elements, the duplicate check), the reported jobs locked in job id order (the one lock order
# of the package), one statement for the whole batch (output rows, video rows, the jobs'
# update) and the answer; per job only what runs per row beneath them: the update trigger's
# transition check and the foreign key checks. Three reports: 18 statements, 133 buffers when
# written (job_callback per report was 30 statements, 143 buffers); ten: 46 statements, 376.
def report_set(n: int) -> dict[str, tuple[int, int]]:
    return {
        "select jsonb_array_elements": (2, 0),
        "select min": (1, 0),
        # the jobs locked, their ids gathered in one row
        "select jobs_private.jobs_hot": (1, 1),
        "insert public.images_videos, insert public.videos, update jobs_private.jobs_hot,"
        " reading public.job_types, jobs_private.settings": (1, 1),
        "select unnest": (1, n),
        "FK check public.images_videos": (n, n),
        "FK check public.jobs": (n, n),
        "FK check public.profiles": (n, n),
        "expression reading jobs_private.job_status_transitions": (n, n),
    }


# job_callback_and_claim completing one job (one image asset) and claiming one: job_callback's
# statements and claim_jobs', and one of its own (`return query` over claim_jobs; the report's
# shape check and the call of job_callback are expressions without a query). 11 statements,
# 66 buffers when written: the two calls apart are 10 statements and two transactions.
REPORT_AND_CLAIM = REPORT | CLAIM | {
    "expression reading jobs_private.job_status_transitions": (2, 2),
    "select public.claim_jobs": (1, 1),
}


# Per job row updated (a claim, a completion): the before-update trigger and the row check;
# the after-update triggers' WHEN clauses keep theirs from firing.
def _updated(n: int) -> dict[str, int]:
    return {"jobs_before_update": n, "jobs_row_is_valid": n}


def test_queue_job_runs_a_fixed_set_of_statements(hot: HotPath) -> None:
    answer, work = hot.queue(1)
    assert len(answer["jobs"]) == 1
    _check(work, QUEUE_JOB, 60, QUEUE_JOB_FUNCTIONS)


def test_queue_job_of_a_set_runs_the_same_statements_with_more_rows(hot: HotPath) -> None:
    answer, work = hot.queue(4)
    assert len(answer["jobs"]) == 4
    _check(work, QUEUE_JOB_SET, 160, QUEUE_JOB_SET_FUNCTIONS)


def test_claim_jobs_runs_a_fixed_set_of_statements(hot: HotPath) -> None:
    claimed, work = hot.claim(1)
    assert len(claimed) == 1
    _check(work, CLAIM, 40, _updated(1))


def test_claim_jobs_floor_step_once_per_64_jobs(hot: HotPath) -> None:
    claimed, work = hot.claim(1, floor_step=True)
    assert len(claimed) == 1
    _check(work, CLAIM_FLOOR_STEP, 60, _updated(1))


def test_claim_jobs_of_ten_runs_the_same_statements_with_more_rows(hot: HotPath) -> None:
    claimed, work = hot.claim(10)
    assert len(claimed) == 10
    _check(work, CLAIM_TEN, 260, _updated(10))


def test_job_callback_completed_runs_a_fixed_set_of_statements(hot: HotPath) -> None:
    claimed, _ = hot.claim(1, counted=False)
    answer, work = hot.report(claimed[0])
    assert answer["result"] == "completed"
    _check(work, REPORT, 60, _updated(1))


def test_job_callbacks_of_three_runs_one_set_statement(hot: HotPath) -> None:
    claimed, _ = hot.claim(3, counted=False)
    answer, work = hot.report_many(claimed)
    assert [a["result"] for a in answer] == ["completed"] * 3
    _check(work, report_set(3), 180, _updated(3))


def test_job_callbacks_of_ten_runs_the_same_statements_with_more_rows(hot: HotPath) -> None:
    claimed, _ = hot.claim(10, counted=False)
    answer, work = hot.report_many(claimed)
    assert [a["result"] for a in answer] == ["completed"] * 10
    _check(work, report_set(10), 500, _updated(10))


def test_job_callback_and_claim_runs_the_report_and_the_claim_and_no_more(hot: HotPath) -> None:
    claimed, _ = hot.claim(1, counted=False)
    rows, work = hot.report_and_claim(claimed[0])
    assert len(rows) == 1 and rows[0]["answer"]["result"] == "completed" and rows[0]["job_id"]
    _check(work, REPORT_AND_CLAIM, 100, _updated(2))
    hot.report(rows[0], counted=False)


def test_a_direct_insert_that_leaves_derived_columns_out_calls_the_insert_trigger(
        hot: HotPath) -> None:
    """The function counts can fail: the service role's insert without worker_pool, format,
    quality, model_type or a group id fires jobs_before_insert_trg, which fills them."""
    seen: dict[str, int] = {}

    def trace(conn: psycopg.Connection[Any]) -> None:
        seen.update(conn.execute(
            "select f.funcname::text, f.calls from pg_catalog.pg_stat_xact_user_functions"
            " as f where f.schemaname = 'jobs_private' and f.funcname = any(%s)",
            (list(TABLE_FUNCTIONS),)).fetchall())  # fmt: skip

    hot.su.execute("select pg_catalog.pg_stat_force_next_flush()")
    with hot.su.transaction(force_rollback=True):
        hot.su.execute("set local role service_role")
        row = hot.su.execute(
            "insert into public.jobs (user_id, job_type) values (%s, %s)"
            " returning worker_pool, quality, metadata ->> 'job_id' = id::text",
            (hot.user, TYPE)).fetchone()
        trace(hot.su)
    assert row == ("sdxl", "fast", True)
    assert seen == {"jobs_before_insert": 1, "jobs_row_is_valid": 1}


def test_one_statement_more_is_counted(hot: HotPath) -> None:
    """The measurement can fail: a trigger that runs one query per job shows in queue_job's
    statements (and would fail its test)."""
    hot.su.execute("""
        create function pg_temp.one_more() returns trigger language plpgsql as $$
        begin
            perform from public.job_types as t where t.job_type = new.job_type;
            return null;
        end $$;
        create trigger one_more after insert on public.jobs
        for each row execute function pg_temp.one_more();
    """)
    try:
        hot.queue(counted=False)  # the trigger's plan made
        _, work = hot.queue(1)
    finally:
        hot.su.execute("drop trigger one_more on public.jobs")
    assert work.statements == QUEUE_JOB | {"select public.job_types": (1, 1)}
