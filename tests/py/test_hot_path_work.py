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
stay under a bound, so a plan that starts reading a table fails too.

Timings are `make bench`'s (bench/README.md: database time per job and step). Skipped where the
server does not load pg_stat_statements (shared_preload_libraries; the embedded cluster does).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from jobsdb.postgrest import as_user, rpc
from jobsdb.testdb import Template
from jobsdb.urls import url_for_db

WORKER = {"role": "jobs_worker"}
TYPE = "sdxl_image_fast"  # pool sdxl
BACKLOG_USERS = 20  # other users' queued jobs, 5 each: the pool's queue is never empty

_RI = re.compile(r'^select 1 from only "?(\w+)"?\."?(\w+)"? x where', re.I)
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


class Work:
    """One call's nested statements {label: (calls, rows)} and its shared buffers."""

    def __init__(self, statements: dict[str, tuple[int, int]], buffers: int) -> None:
        self.statements = statements
        self.buffers = buffers

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
        answer = rpc(self.su, name, args, role=role, claims=claims)
        return answer, _measure(self.su, name) if counted else None

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


def _check(work: Work, expected: dict[str, tuple[int, int]], most_buffers: int) -> None:
    print(f"\n{work.total[0]} statements, {work.total[1]} rows, {work.buffers} buffers:")
    for k, v in work.statements.items():
        print(f"    {k!r}: {v},")
    assert work.statements == expected, (
        "the statements a call runs changed (label: (calls, rows)); if on purpose, update the"
        f" figures:\n  got      {work.statements}\n  expected {expected}"
    )
    assert 0 < work.buffers <= most_buffers, f"{work.buffers} shared buffers > {most_buffers}"


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
    "select public.profiles, public.jobs": (1, 1),
    # the user's rate of new jobs: the tokens taken from their bucket row (a plain update; the
    # upsert runs only for a user without a row, or to refuse)
    "update jobs_private.job_rates": (1, 1),
    # the job row and the answer built from its returning rows: the before-insert trigger and
    # the row check run no statement
    "insert public.jobs": (1, 1),
    "FK check public.profiles": (1, 1),
    "FK check public.job_types": (1, 1),
}
# A set of four: the same statements; one insert of four rows, a foreign key check per row.
QUEUE_JOB_SET = QUEUE_JOB | {"FK check public.profiles": (4, 4),
                             "FK check public.job_types": (4, 4)}

# claim_jobs of one job, the floor step not due (63 claims in 64): 2 statements, 24 buffers
# (the loop's exit reads the claim floors only when nothing was claimed: no statement here).
CLAIM = {
    # the claim: floor, head of the pool's queue, lease, for update skip locked
    "update public.jobs, reading jobs_private.claim_floors, jobs_private.worker_logins": (1, 1),
    # the before-update trigger's check of the status transition
    "expression reading jobs_private.job_status_transitions": (1, 1),
}
# Once per 64 jobs claimed: the floor read, the head read, due retries ranked (none here), the
# floor moved. 6 statements, 36 buffers.
CLAIM_FLOOR_STEP = CLAIM | {
    "select jobs_private.claim_floors": (1, 1),
    "select public.jobs": (1, 1),
    "update public.jobs": (1, 0),
    "update jobs_private.claim_floors": (1, 1),
}
# Ten jobs in one claim: one claim statement of ten rows, a transition check per row. 11
# statements, 183 buffers.
CLAIM_TEN = CLAIM | {
    "update public.jobs, reading jobs_private.claim_floors, jobs_private.worker_logins": (1, 10),
    "expression reading jobs_private.job_status_transitions": (10, 10),
}

# job_callback completed with one image asset: 8 statements, 42 buffers.
REPORT = {
    # the assets' validation (an `exists` over their elements: a query)
    "expression jsonb_typeof": (1, 1),
    # the job, its type and the asset bounds (settings), for update
    "select public.jobs, public.job_types, jobs_private.settings": (1, 1),
    # the output row
    "insert public.images_videos": (1, 1),
    "FK check public.profiles": (1, 1),
    "FK check public.jobs": (1, 1),
    # the completion, its trigger's transition check, and its link to the output
    "update public.jobs": (1, 1),
    "expression reading jobs_private.job_status_transitions": (1, 1),
    "FK check public.images_videos": (1, 1),
}
# job_callbacks of three reports: job_callback's statements three times, plus its own
# validation (two reads of the elements), duplicate check, lock in id order, loop and answer:
# 30 statements, 143 buffers.
REPORT_THREE = {k: (3 * c, 3 * r) for k, (c, r) in REPORT.items()} | {
    "select jsonb_array_elements": (3, 0),
    "select min": (1, 0),
    # the reported jobs locked first, in job id order (the one lock order of the package)
    "select public.jobs": (1, 3),
    "select unnest": (1, 3),
}

# job_callback_and_claim completing one job (one image asset) and claiming one: job_callback's
# statements and claim_jobs', and one of its own (`return query` over claim_jobs; the report's
# shape check and the call of job_callback are expressions without a query). 11 statements,
# 66 buffers when written: the two calls apart are 10 statements and two transactions.
REPORT_AND_CLAIM = REPORT | CLAIM | {
    "expression reading jobs_private.job_status_transitions": (2, 2),
    "select public.claim_jobs": (1, 1),
}


def test_queue_job_runs_a_fixed_set_of_statements(hot: HotPath) -> None:
    answer, work = hot.queue(1)
    assert len(answer["jobs"]) == 1
    _check(work, QUEUE_JOB, 60)


def test_queue_job_of_a_set_runs_the_same_statements_with_more_rows(hot: HotPath) -> None:
    answer, work = hot.queue(4)
    assert len(answer["jobs"]) == 4
    _check(work, QUEUE_JOB_SET, 160)


def test_claim_jobs_runs_a_fixed_set_of_statements(hot: HotPath) -> None:
    claimed, work = hot.claim(1)
    assert len(claimed) == 1
    _check(work, CLAIM, 40)


def test_claim_jobs_floor_step_once_per_64_jobs(hot: HotPath) -> None:
    claimed, work = hot.claim(1, floor_step=True)
    assert len(claimed) == 1
    _check(work, CLAIM_FLOOR_STEP, 60)


def test_claim_jobs_of_ten_runs_the_same_statements_with_more_rows(hot: HotPath) -> None:
    claimed, work = hot.claim(10)
    assert len(claimed) == 10
    _check(work, CLAIM_TEN, 260)


def test_job_callback_completed_runs_a_fixed_set_of_statements(hot: HotPath) -> None:
    claimed, _ = hot.claim(1, counted=False)
    answer, work = hot.report(claimed[0])
    assert answer["result"] == "completed"
    _check(work, REPORT, 60)


def test_job_callbacks_of_three_runs_job_callbacks_statements_three_times(hot: HotPath) -> None:
    claimed, _ = hot.claim(3, counted=False)
    answer, work = hot.report_many(claimed)
    assert [a["result"] for a in answer] == ["completed"] * 3
    _check(work, REPORT_THREE, 180)


def test_job_callback_and_claim_runs_the_report_and_the_claim_and_no_more(hot: HotPath) -> None:
    claimed, _ = hot.claim(1, counted=False)
    rows, work = hot.report_and_claim(claimed[0])
    assert len(rows) == 1 and rows[0]["answer"]["result"] == "completed" and rows[0]["job_id"]
    _check(work, REPORT_AND_CLAIM, 100)
    hot.report(rows[0], counted=False)


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
