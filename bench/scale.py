"""python -m bench.scale [--jobs N] [--release R] [--upgrade-to R] [--reps N] [--calls N]
[--seal DAYS [--keep-hot DAYS]] [--retire K] [--keep] [--reuse]

`make bench-scale`: the history at scale (bench/README.md, "The history at scale"). A
throw-away cluster (bench/cluster.py) with two copies of jobsdb: scale_empty (users, a backlog,
no history) and scale_jobsdb (the same plus N finished jobs of history, loaded the fast way,
bench/scripts/scale_history.sql). Measured, alternating between the two where they compare:
claim p50 with the history against the empty queue's; every read RPC as the user with exactly
10,000 jobs, the way PostgREST calls it (role authenticated + request.jwt.claims); and
system_metrics as an admin for windows from a minute to 31 days. With --upgrade-to, both
databases are then upgraded by `jobsdb migrate` (timed: what the step costs on that table) and
measured again, so one load gives the figures before and after a release. With --seal the
history is first sealed into partitions (bench/scale_seal.py), and with --retire the oldest of
them are then retired under the lifecycle."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import scale_seal, workloads
from bench.cluster import Cluster
from bench.progress import Progress
from bench.workloads import OWNER, claims, pct, sql_file, user_id
from jobsdb import package_migrate
from jobsdb.paths import repo_root
from jobsdb.postgrest import _query, _signature
from jobsdb.shim import apply_cluster_part, apply_shim

DB = "scale_jobsdb"
EMPTY = "scale_empty"


# The role measure() connects as before it sets role authenticated or jobs_worker (None: the
# superuser URL's own).
CALLER: str | None = OWNER


def use_databases(big: str, empty: str, caller: str | None = None) -> None:
    """Other databases to load and measure (a test runs the bench inside the test server, on
    clones of its template, connected as its superuser)."""
    global DB, EMPTY, CALLER
    DB, EMPTY, CALLER = big, empty, caller
TARGET = 10002  # the user with exactly 10,000 jobs (bench/scripts/scale_history.sql)
TARGET_JOBS = 10_000
ADMIN = 10001
WINDOWS = ("1 minute", "1 hour", "24 hours", "7 days", "30 days", "31 days")
CLAIM_RATIO_GOAL = 1.1
READ_P95_GOAL_MS = 5.0
METRICS_GOAL_MS = 100.0


def _url(su_url: str, db: str, user: str | None = None) -> str:
    params: dict[str, Any] = {"dbname": db}
    if user:
        params["user"] = user
    return psycopg.conninfo.make_conninfo(su_url, **params)


def _run_sections(conn: psycopg.Connection[Any], prog: Progress, params: dict[str, Any],
                  facts: dict[str, Any]) -> None:
    for name, q in workloads.sections("scale_history.sql"):
        prog.step(f"load: {name}")
        t = time.monotonic()
        conn.execute(q["sql"] % params)
        facts[f"load {name} s"] = round(time.monotonic() - t, 1)
        prog.done(f"load: {name} in {facts[f'load {name} s']:.1f} s")


def install(su_url: str, release: str | None, prog: Progress) -> None:
    """scale_jobsdb with jobsdb `release` (default: the newest carried), users and settings as
    the bench's own (jobsdb_setup.sql); scale_empty a copy of it."""
    admin = _url(su_url, "postgres")
    apply_cluster_part(admin)
    with psycopg.connect(admin, autocommit=True) as c:
        for db in (DB, EMPTY):
            c.execute(f"drop database if exists {db} with (force)")
        c.execute(f"create database {DB} owner {OWNER}")
    apply_shim(admin, DB, quiet=True)
    package_migrate.up(_url(su_url, DB, OWNER), target=release,
                       rdir=repo_root() / "releases", mdir=repo_root() / "migrations",
                       out=lambda s: None)
    with psycopg.connect(_url(su_url, DB), autocommit=True) as c:
        c.execute(sql_file("jobsdb_setup.sql"))
        got = c.execute("select jobs_private.installed_release()").fetchone()[0]
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f"create database {EMPTY} template {DB} owner {OWNER}")
    prog.done(f"jobsdb {got} installed in {DB}, copied to {EMPTY}")


def load(su_url: str, n: int, prog: Progress) -> dict[str, Any]:
    """N jobs of history in scale_jobsdb; what it took and what it weighs."""
    users = max(1000, n // 100)
    step = n // TARGET_JOBS
    if step < 2:
        raise ValueError(f"--jobs {n}: at least {2 * TARGET_JOBS} (one user has {TARGET_JOBS})")
    facts: dict[str, Any] = {"jobs": n, "spread users": users}
    t0 = time.monotonic()
    with psycopg.connect(_url(su_url, DB), autocommit=True) as c:
        _run_sections(c, prog, {"n": n, "users": users, "step": step}, facts)
        prog.step("vacuum analyze")
        t = time.monotonic()
        c.execute("vacuum analyze")
        facts["load vacuum analyze s"] = round(time.monotonic() - t, 1)
        t = time.monotonic()
        c.execute("select jobs_private.rollup_job_metrics()")
        facts["load roll-up s"] = round(time.monotonic() - t, 1)
        facts["load total s"] = round(time.monotonic() - t0, 1)
        got = c.execute("select count(*) from public.jobs where user_id = %s",
                        (user_id(TARGET),)).fetchone()[0]
        if got != TARGET_JOBS:
            raise RuntimeError(f"user {TARGET} has {got} jobs, not {TARGET_JOBS}")
        facts |= sizes(c)
    prog.done(f"loaded {n:,} jobs in {facts['load total s']:.0f} s:"
               f" database {facts['database MB']:,} MB")
    return facts


def sizes(c: psycopg.Connection[Any]) -> dict[str, Any]:
    """Sizes in MB: the database, jobs (heap, TOAST, each index), images_videos."""
    out: dict[str, Any] = {}
    mb = 1024 * 1024
    # since 1.7.0 jobs is partitioned and its rows are its partition's (jobs_private.jobs_hot)
    heap = c.execute(
        "select coalesce(to_regclass('jobs_private.jobs_hot'), 'public.jobs'::regclass)::text"
    ).fetchone()[0]
    row = c.execute(
        "select pg_database_size(current_database()), pg_relation_size(%(t)s),"
        " pg_table_size(%(t)s), pg_indexes_size(%(t)s),"
        " pg_total_relation_size('public.images_videos'), (select count(*) from public.jobs)",
        {"t": heap},
    ).fetchone()
    out["database MB"] = row[0] // mb
    out["jobs heap MB"] = row[1] // mb
    out["jobs toast+fsm+vm MB"] = (row[2] - row[1]) // mb
    out["jobs indexes MB"] = row[3] // mb
    out["images_videos MB"] = row[4] // mb
    out["bytes per job (database)"] = row[0] // max(row[5], 1)
    out["bytes per job (jobs heap)"] = row[1] // max(row[5], 1)
    out["jobs index MB"] = dict(c.execute(
        # each index of jobs with its partitions' parts, and those of the partition's own
        # (pg_partition_tree has no row for an index outside a tree, as the partition's own)
        "select i.indexrelid::regclass::text, round(coalesce((select sum(pg_relation_size("
        "t.relid)) from pg_partition_tree(i.indexrelid) as t), pg_relation_size(i.indexrelid))"
        " / 1048576.0, 1)::float8 from pg_index as i"
        " where i.indrelid = 'public.jobs'::regclass or i.indrelid = %s::regclass"
        " and not exists (select from pg_inherits as h where h.inhrelid = i.indexrelid)"
        " order by 2 desc", (heap,)
    ).fetchall())
    return out


def backlog(su_url: str, db: str, need: int) -> None:
    """At least `need` claimable jobs (users 1..10000, as the bench's backlog), vacuumed."""
    with psycopg.connect(_url(su_url, db), autocommit=True) as c:
        have = c.execute("select count(*) from public.jobs where status = 'queued'"
                         " and worker_pool = 'sdxl'").fetchone()[0]
        if have < need:
            c.execute(sql_file("jobsdb_backlog.sql", n=need - have))
        c.execute("vacuum analyze public.jobs")


# ---- measuring ------------------------------------------------------------------------------
def _call(conn: psycopg.Connection[Any], fn: str, args: dict[str, Any]) -> tuple[str, dict]:
    """The call as jobsdb.postgrest sends it, its JSON answer as text: the client times the
    database and the bytes, not Python parsing 100 kB of JSON (PostgREST passes text on)."""
    q = _query(fn, args, _signature(conn, fn)).as_string(conn)
    return f"select a::text from ({q}) as c (a)", {"body": json.dumps(args, default=str)}


def read_cases(conn: psycopg.Connection[Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """Every read RPC of functions/api as the target user: (label, function, argument sets the
    calls rotate through). Cursors and ids come from the functions' own answers."""
    uid = user_id(TARGET)

    def answer(fn: str, args: dict[str, Any]) -> Any:
        stmt, p = _call(conn, fn, args)
        conn.execute("begin")
        conn.execute(workloads.SETCFG, ("authenticated", claims(TARGET)))
        got = conn.execute(stmt, p).fetchone()[0]
        conn.execute("commit")
        return json.loads(got)

    page = answer("list_jobs", {})
    lib = answer("library_items", {})
    ws = answer("workspace_groups", {})
    cursor = answer("job_changes_since", {"cursor": None})["cursor"]
    # jobs and assets spread over the user's whole history, newest to oldest
    picks = conn.execute(
        "select j.id::text, j.image_id::text from public.jobs as j where j.user_id = %s"
        " and j.image_id is not null and j.fair_rank %% 50 = 0 order by j.created_at desc"
        " limit 200", (uid,)).fetchall()
    if not (page and lib["items"] and lib["next"] and ws["groups"] and picks):
        raise RuntimeError("the target user's reads answered nothing: the load is wrong")
    cases = [
        ("list_jobs()", "list_jobs", [{}]),
        ("list_jobs() page 2", "list_jobs",
         [{"before": page[-1]["created_at"], "before_id": page[-1]["id"]}]),
        *[(f"list_jobs(status => '{s}')", "list_jobs", [{"status": s}])
          for s in ("queued", "processing", "completed", "failed", "cancelled")],
        ("get_job(job_id) [200 jobs, all ages]", "get_job", [{"job_id": j} for j, _ in picks]),
        ("asset_info(asset_id) [200 assets]", "asset_info",
         [{"asset_id": a} for _, a in picks]),
        ("library_items()", "library_items", [{}]),
        ("library_items() page 2", "library_items", [dict(lib["next"])]),
        ("workspace_groups()", "workspace_groups", [{}]),
        ("workspace_groups() page 2", "workspace_groups", [dict(ws["next"])]),
        ("job_changes_since(null)", "job_changes_since", [{"cursor": None}]),
        ("job_changes_since(cursor)", "job_changes_since", [{"cursor": cursor}]),
    ]
    # --before: a read function's earlier body as public.<name>_before, measured in the same
    # rounds as the current one (machine load moves figures 2x between runs, not within one)
    before = {r[0] for r in conn.execute(
        "select p.proname from pg_proc as p where p.pronamespace = 'public'::regnamespace"
        " and p.proname like '%%\\_before'").fetchall()}
    return [x for c in cases for x in (
        [c, (f"{c[0]} [before]", f"{c[1]}_before", c[2])] if f"{c[1]}_before" in before
        else [c])]


def _p(xs: list[float]) -> tuple[float, float]:
    return pct(xs, 0.5) * 1000, pct(xs, 0.95) * 1000


def measure(su_url: str, prog: Progress, reps: int, calls: int, label: str) -> list[dict]:
    """The goals' figures: claim (history vs empty, alternated), every read RPC as the target
    user, system_metrics per window as the admin. Each figure is the median over `reps` rounds
    (a first round warms up: plans, caches) of that round's p50 / p95 of `calls` calls."""
    rows: list[dict] = []
    rpc = dict(workloads.sections("rpc.sql"))
    need = (reps + 1) * calls + 10
    for db in (DB, EMPTY):
        backlog(su_url, db, need)
    worker = json.dumps({"role": "jobs_worker"})
    with (psycopg.connect(_url(su_url, DB, CALLER), autocommit=True) as big,
          psycopg.connect(_url(su_url, EMPTY, CALLER), autocommit=True) as empty):
        # claim_jobs as a worker, alternating between the empty queue and the history
        res: dict[str, list[float]] = {"empty": [], "history": []}
        for rep in range(reps + 1):
            for side, conn in (("empty", empty), ("history", big)):
                xs = [workloads._timed(conn, "jobs_worker", worker, rpc["claim"]["sql"], {})
                      for _ in range(calls)]
                if rep:
                    res[side].append(_p(xs)[0])
        e, h = statistics.median(res["empty"]), statistics.median(res["history"])
        rows.append(_row(label, "claim", "claim_jobs p50, empty queue", e, "ms", ""))
        rows.append(_row(label, "claim", "claim_jobs p50, with the history", h, "ms", ""))
        rows.append(_row(label, "claim", "claim p50 ratio history / empty", h / e, "x",
                         f"<= {CLAIM_RATIO_GOAL}", h / e <= CLAIM_RATIO_GOAL))
        prog.done(f"[{label}] claim p50 empty {e:.3f} ms, history {h:.3f} ms ({h / e:.2f}x)")

        cases = read_cases(big)
        per: dict[str, tuple[list[float], list[float]]] = {c[0]: ([], []) for c in cases}
        for rep in range(reps + 1):
            for name, fn, argsets in cases:
                stmts = [_call(big, fn, a) for a in argsets]
                xs = [workloads._timed(big, "authenticated", claims(TARGET), *stmts[i % len(stmts)],
                                       True) for i in range(calls)]
                if rep:
                    a, b = _p(xs)
                    per[name][0].append(a)
                    per[name][1].append(b)
        for name, _, _ in cases:
            p50, p95 = (statistics.median(v) for v in per[name])
            rows.append(_row(label, "reads", f"{name} p95 (p50 {p50:.2f})", p95, "ms",
                             f"< {READ_P95_GOAL_MS:g}", p95 < READ_P95_GOAL_MS))
            prog.done(f"[{label}] {name:40s} p50 {p50:8.2f} ms  p95 {p95:8.2f} ms")

        # not a goal, the design's limit: job_changes_since reads every job of the user
        heavy = 10003
        conn = big
        conn.execute("begin")
        conn.execute(workloads.SETCFG, ("authenticated", claims(heavy)))
        cur = json.loads(
            conn.execute(*_call(conn, "job_changes_since", {"cursor": None})).fetchone()[0])
        conn.execute("commit")
        n_heavy = big.execute("select count(*) from public.jobs where user_id = %s",
                              (user_id(heavy),)).fetchone()[0]
        stmt, p = _call(big, "job_changes_since", {"cursor": cur["cursor"]})
        xs = [workloads._timed(big, "authenticated", claims(heavy), stmt, p, True)
              for _ in range(max(3, calls // 20))]
        p50 = _p(xs)[0]
        rows.append(_row(label, "reads", f"job_changes_since(cursor), a user with {n_heavy:,}"
                         " jobs: p50", p50, "ms", ""))
        prog.done(f"[{label}] job_changes_since, {n_heavy:,} jobs: p50 {p50:.1f} ms")

        stmts = {"": rpc["system_metrics"]["sql"]}
        if big.execute("select to_regprocedure('public.system_metrics_before(interval)')"
                       ).fetchone()[0]:  # fmt: skip
            stmts[" [before]"] = stmts[""].replace("system_metrics(", "system_metrics_before(")
        for w in WINDOWS:
            got: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in stmts}
            for rep in range(reps + 1):
                for side, stmt in stmts.items():
                    xs = [workloads._timed(big, "authenticated", claims(ADMIN), stmt,
                                           {"window": w}, True)
                          for _ in range(max(5, calls // 20))]
                    if rep:
                        a, b = _p(xs)
                        got[side][0].append(a)
                        got[side][1].append(b)
            for side, (p50s, p95s) in got.items():
                p50, p95 = statistics.median(p50s), statistics.median(p95s)
                rows.append(_row(label, "metrics",
                                 f"system_metrics('{w}'){side} p95 (p50 {p50:.1f})", p95, "ms",
                                 f"< {METRICS_GOAL_MS:g}", p95 < METRICS_GOAL_MS))
                prog.done(f"[{label}] system_metrics{side} {w:9s} p50 {p50:8.1f} ms"
                          f"  p95 {p95:8.1f} ms")
    return rows


def _row(label: str, group: str, what: str, value: float, unit: str, goal: str,
         ok: bool | None = None) -> dict[str, Any]:
    return {"label": label, "group": group, "what": what, "value": value, "unit": unit,
            "goal": goal, "ok": ok}


def upgrade(su_url: str, release: str, prog: Progress) -> dict[str, Any]:
    """Both databases to `release` through `jobsdb migrate` (the step as a live database runs
    it), timed on the one with the history."""
    out = {}
    for db in (DB, EMPTY):
        t = time.monotonic()
        package_migrate.up(_url(su_url, db, OWNER), target=release,
                           rdir=repo_root() / "releases", mdir=repo_root() / "migrations",
                           out=lambda s: None)
        out[f"upgrade {db} s"] = round(time.monotonic() - t, 1)
        with psycopg.connect(_url(su_url, db), autocommit=True) as c:
            c.execute("analyze public.jobs")
    prog.done(f"upgraded both to {release}: {out}")
    return out


def vacuum_times(su_url: str, prog: Progress) -> dict[str, Any]:
    """What vacuum of jobs costs at this size: after 10,000 dead rows (old finished jobs of the
    heavy users, rewritten with triggers off), every index of jobs is scanned whole."""
    with psycopg.connect(_url(su_url, DB), autocommit=True) as c:
        c.execute("set session_replication_role = replica")
        c.execute("update public.jobs set review_notes = 'scale' where id in (select id from"
                  " public.jobs where user_id = %s order by created_at limit 10000)",
                  (user_id(10003),))
        c.execute("reset session_replication_role")
        t = time.monotonic()
        c.execute("vacuum (index_cleanup on) public.jobs")
        s = round(time.monotonic() - t, 1)
    prog.done(f"vacuum of jobs after 10,000 dead rows: {s} s")
    return {"vacuum jobs after 10,000 dead rows s": s}


def table(rows: list[dict[str, Any]]) -> str:
    labels = list(dict.fromkeys(r["label"] for r in rows))
    whats = list(dict.fromkeys((r["group"], r["what"].split(" (p50")[0]) for r in rows))
    head = "| group | what | " + " | ".join(labels) + " | goal |"
    out = [head, "|" + "---|" * (3 + len(labels))]
    for group, what in whats:
        cells, goal = [], ""
        for lab in labels:
            r = next((r for r in rows if r["label"] == lab and r["group"] == group
                      and r["what"].split(" (p50")[0] == what), None)
            if r is None:
                cells.append("")
                continue
            goal = r["goal"] or goal
            p50 = r["what"][len(what):].strip(" ()")
            mark = "" if r["ok"] is None else (" pass" if r["ok"] else " MISS")
            cells.append(f"{r['value']:.2f} {r['unit']}{mark}" + (f" ({p50})" if p50 else ""))
        out.append(f"| {group} | {what} | " + " | ".join(cells) + f" | {goal} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("SCALE_JOBS", 10_000_000)),
                    help="jobs of history (default 10000000; at least 20000)")
    ap.add_argument("--release", default=None,
                    help="the jobsdb release to install (default: the newest carried)")
    ap.add_argument("--upgrade-to", default=None,
                    help="after measuring, upgrade to this release and measure again")
    ap.add_argument("--reps", type=int, default=5, help="measured rounds (default 5)")
    ap.add_argument("--calls", type=int, default=100, help="calls per figure and round")
    ap.add_argument("--before", type=Path, default=None, metavar="FILE.sql",
                    help="applied by the superuser to the history database first: read functions"
                    " as public.<name>_before, each measured beside <name> in the same rounds")
    ap.add_argument("--label", default=None,
                    help="the first measurement's column (default: the installed release)")
    ap.add_argument("--seal", type=int, default=None, metavar="DAYS",
                    help="first seal the history into a partition per DAYS days, oldest first"
                    " (jobsdb history seal), keeping --keep-hot days in the hot leaf")
    ap.add_argument("--keep-hot", type=int, default=7, metavar="DAYS",
                    help="with --seal: days of history left in the hot leaf (default 7)")
    ap.add_argument("--retire", type=int, default=0, metavar="K",
                    help="after measuring, retire the K oldest sealed partitions (jobsdb history"
                    " retire) under the lifecycle")
    ap.add_argument("--keep", action="store_true", help="leave the cluster and its data")
    ap.add_argument("--reuse", action="store_true",
                    help="measure the databases a --keep run left (no install, no load)")
    ap.add_argument("--load-only", action="store_true",
                    help="install and load, then stop (implies --keep; measure with --reuse)")
    a = ap.parse_args(argv)
    a.keep = a.keep or a.load_only
    prog = Progress()
    cluster = Cluster()
    facts: dict[str, Any] = {}
    rows: list[dict] = []
    try:
        if a.reuse:
            su_url = cluster.superuser_url
        else:
            prog.step(f"starting the bench cluster on 127.0.0.1:{cluster.port}")
            su_url = cluster.start()
            prog.done(f"bench cluster on 127.0.0.1:{cluster.port} ({cluster.data})")
            install(su_url, a.release, prog)
            facts |= load(su_url, a.jobs, prog)
        if a.load_only:
            a.reps = -1
        with psycopg.connect(_url(su_url, DB), autocommit=True) as c:
            before = c.execute("select jobs_private.installed_release()").fetchone()[0]
        if a.before:
            with psycopg.connect(_url(su_url, DB), autocommit=True) as c:
                c.execute(a.before.read_text())
        owner = _url(su_url, DB, OWNER)
        if a.seal:
            facts |= scale_seal.seal_periods(owner, a.seal, a.keep_hot, prog)
        facts["load average before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        if a.reps >= 0:
            rows += measure(su_url, prog, a.reps, a.calls, a.label or before)
        if a.upgrade_to:
            facts |= upgrade(su_url, a.upgrade_to, prog)
            rows += measure(su_url, prog, a.reps, a.calls, a.upgrade_to)
        if a.retire:
            # the lifecycle claims what it queues, or a job of the backlog when another client
            # took its own: with the queue empty (no measuring ran) a claim found nothing and
            # pgbench's client aborted on the empty job id
            backlog(su_url, DB, 1000)
            facts |= scale_seal.retire_oldest(owner, a.retire, 2, prog)
        if a.reps >= 0:
            facts["load average after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
            facts |= vacuum_times(su_url, prog)
        du = sum(f.stat().st_size for f in Path(cluster.data).rglob("*") if f.is_file()) \
            if cluster.data.exists() else 0
        facts["data directory MB"] = du // (1024 * 1024)
    finally:
        if not a.keep:
            cluster.remove()
            prog.done("bench cluster stopped and removed")
    print()
    for k, v in facts.items():
        print(f"- {k}: {v:,}" if isinstance(v, int | float) else f"- {k}: {v}")
    if rows:
        print()
        print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
