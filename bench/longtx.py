"""The long-transaction row: lifecycle load at 4 clients for jobsdb and the raw
baseline, each without and then with a `repeatable read` transaction held open throughout, in
10-second windows; after each run the dead tuples and sizes of the hot relations."""

from __future__ import annotations

import json
import statistics
import threading
import time
from typing import Any

from bench import pgbench
from bench.progress import Progress
from bench.workloads import BACKLOG, DBS, OWNER, SETCFG, Env, claims, pct, sections, sql_file

CLIENTS = 4
WINDOW = 10  # seconds per window (pgbench --progress)
SETTLE = 30  # the windows that end within the first SETTLE seconds are not part of the goal
PROBE_PERIOD = 0.05  # the probe's lifecycle every 50 ms (about 20 claims/s)
GOAL = 0.5

# design: (database, pgbench script, hot tables whose sizes and dead tuples are reported, the
# read that takes the held transaction's snapshot)
DESIGNS = {
    "jobsdb": ("jobsdb", "pgbench_jobsdb.sql", ("public.jobs", "public.images_videos"),
               "select count(*) from public.jobs"),
    "raw": ("raw", "pgbench_raw.sql", ("public.raw_jobs",), "select count(*) from raw_jobs"),
}

RELATIONS = """
select c.relname, case c.relkind when 'i' then 'index' else 'table' end,
    pg_relation_size(c.oid), s.n_live_tup, s.n_dead_tup, s.autovacuum_count
from pg_class c
join pg_class t on t.oid = any(%s::regclass[])
left join pg_stat_user_tables s on s.relid = c.oid
where c.oid = t.oid
    or c.oid in (select indexrelid from pg_index where indrelid = t.oid)
order by t.relname, c.relkind desc, c.relname
"""


class Probe(threading.Thread):
    """One more client beside pgbench: a lifecycle every PROBE_PERIOD, timing the claim alone."""

    def __init__(self, env: Env, design: str) -> None:
        super().__init__(daemon=True)
        self.conn = env.owner(DBS[DESIGNS[design][0]])
        self.sql = dict(sections("longtx_probe.sql"))[design]
        self.jobsdb = design == "jobsdb"
        self.stop = threading.Event()
        self.samples: list[tuple[float, float]] = []  # (seconds since start, claim seconds)
        self.error: BaseException | None = None
        self.t0 = time.monotonic()

    def _call(self, role: str, sql: str, params: dict[str, Any] | None = None) -> tuple[Any, float]:
        c = self.conn
        if self.jobsdb:
            c.execute("begin isolation level read committed read write")
            who = claims(1 + len(self.samples) % 10000) if role == "authenticated" else \
                json.dumps({"role": "jobs_worker"})
            c.execute(SETCFG, (role, who))
        t = time.perf_counter()
        cur = c.execute(sql, params or {})
        row = cur.fetchone() if cur.description else None
        dt = time.perf_counter() - t
        if self.jobsdb:
            c.execute("commit")
        return row, dt

    def run(self) -> None:
        nxt = self.t0
        try:
            while not self.stop.is_set():
                self._call("authenticated", self.sql["queue"])
                row, dt = self._call("jobs_worker", self.sql["claim"])
                self.samples.append((time.monotonic() - self.t0, dt))
                if row:
                    # jobsdb's claim also answers the owner: outputs go in their folder
                    self._call("jobs_worker", self.sql["complete"],
                               {"job_id": str(row[0]), "token": str(row[1]),
                                "user_id": str(row[2]) if len(row) > 2 else ""})
                nxt += PROBE_PERIOD
                self.stop.wait(max(0.0, nxt - time.monotonic()))
        except BaseException as e:  # reported by finish(); the run's figures are then void
            self.error = e

    def finish(self) -> list[tuple[float, float]]:
        self.stop.set()
        self.join()
        self.conn.close()
        if self.error:
            raise RuntimeError(f"long-transaction probe failed: {self.error}") from self.error
        return self.samples


def _reset(env: Env, design: str) -> None:
    """The same starting state for every run: the backlog only, vacuumed, checkpointed."""
    db = DBS[DESIGNS[design][0]]
    with env.su(db) as c:
        if design == "jobsdb":
            c.execute(sql_file("jobsdb_reset.sql"))
            c.execute(sql_file("jobsdb_backlog.sql", n=BACKLOG))
        else:
            c.execute(sql_file("raw_setup.sql", n=BACKLOG))
        c.execute("vacuum analyze")
        c.execute("checkpoint")


def _relations(env: Env, design: str) -> list[dict[str, Any]]:
    time.sleep(1.0)  # backends report their statistics at most once a second
    with env.su(DBS[DESIGNS[design][0]]) as c:
        rows = c.execute(RELATIONS, (list(DESIGNS[design][2]),)).fetchall()
    return [{"relation": r[0], "kind": r[1], "bytes": r[2], "live": r[3], "dead": r[4],
             "autovacuums": r[5]} for r in rows]


def _one(env: Env, prog: Progress, design: str, held: bool, secs: float) -> dict[str, Any]:
    db, script, _, snapshot_read = DESIGNS[design]
    _reset(env, design)
    holder = None
    if held:
        holder = env.su(DBS[db])
        holder.execute("begin isolation level repeatable read")
        holder.execute(snapshot_read).fetchone()  # the snapshot is taken; now idle in transaction
    label = f"{design}, {'with' if held else 'without'} an open repeatable read transaction"
    prog.step(f"longtx: {label}, {secs:g} s at {CLIENTS} clients")
    probe = Probe(env, design)
    try:
        p = pgbench.start(env.url(DBS[db], OWNER), script, CLIENTS, secs, progress=WINDOW)
        probe.start()
        tps, jobs, windows = pgbench.finish_windows(p, script)
        samples = probe.finish()
        rels = _relations(env, design)
    finally:
        probe.stop.set()
        if holder:
            holder.execute("rollback")
            holder.close()
    out = []
    for t, rate, lat in windows:
        xs = [dt for s, dt in samples if t - WINDOW <= s < t]
        out.append({"t": t, "jobs_s": rate, "lat_ms": lat, "claims": len(xs),
                    "claim_p50_ms": pct(xs, 0.5) * 1000 if xs else None,
                    "claim_p99_ms": pct(xs, 0.99) * 1000 if xs else None})
    dead = sum(r["dead"] or 0 for r in rels if r["kind"] == "table")
    rates = ", ".join(f"{w['jobs_s']:.0f}" for w in out)
    prog.done(f"longtx {design:6s} {'with' if held else 'no':4s} tx: {tps:7.0f} jobs/s overall,"
              f" windows {rates}; dead tuples {dead:,}")
    return {"group": "longtx", "key": f"{design}|{'with' if held else 'without'}",
            "design": design, "held": held, "secs": secs, "clients": CLIENTS, "jobs_s": tps,
            "jobs": jobs, "windows": out, "relations": rels}


def settled(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The windows that count for the goal: full windows ending after the first SETTLE s."""
    return [w for w in run["windows"] if SETTLE < w["t"] - WINDOW + 1e-6 and
            w["t"] <= run["secs"] + 1e-6] or run["windows"][-1:]


def goal(without: dict[str, Any], with_tx: dict[str, Any]) -> dict[str, Any]:
    """min over the settled windows of the run with the transaction / the median settled window
    rate of the run without it."""
    base = statistics.median(w["jobs_s"] for w in settled(without))
    worst = min(settled(with_tx), key=lambda w: w["jobs_s"])
    r = worst["jobs_s"] / base if base else 0.0
    return {"ratio": round(r, 3), "status": "met" if r >= GOAL else "missed", "base": base,
            "worst_t": worst["t"], "worst": worst["jobs_s"]}


def longtx(env: Env, prog: Progress, secs: float) -> list[dict[str, Any]]:
    rows = []
    for design in DESIGNS:
        runs = [_one(env, prog, design, held, secs) for held in (False, True)]
        g = goal(*runs)
        prog.done(f"longtx {design}: worst settled window {g['worst']:.0f} jobs/s at"
                  f" {g['worst_t']:g} s = {g['ratio']:.2f} x the rate without"
                  f" ({g['base']:.0f}): {g['status']}")
        rows += runs
    return rows
