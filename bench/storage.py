"""Bytes per processed job: for jobsdb and each peer, the growth of every table of its
database (heap, indexes, TOAST) over one lifecycle run from the backlog alone, divided by the
jobs the run processed."""

from __future__ import annotations

from typing import Any

from bench.progress import Progress
from bench.workloads import BACKLOG, DBS, DESIGNS, Env, measure, sql_file

CLIENTS = 8
KEYS = ("jobsdb", "raw", "procrastinate", "pgq", "pgmq", "pgmq_record")

SIZE = """
select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema')
"""

RESET = {
    "jobsdb": ("jobsdb_reset.sql", "jobsdb_backlog.sql"),
    "raw": ("raw_setup.sql",),
    "procrastinate": ("procrastinate_reset.sql",),
    "pgq": ("pgq_reset.sql", "pgq_setup.sql"),
    "pgmq": ("pgmq_reset.sql", "pgmq_setup.sql"),
    "pgmq_record": ("pgmq_record_reset.sql", "pgmq_record_queue.sql"),
}


def _reset(env: Env, key: str) -> int:
    """The design's queue back to the backlog alone, vacuumed; its database's size in bytes."""
    # pgmq's queue tables belong to the owner, who runs its pgbench clients.
    pgmq = key.startswith("pgmq")
    with env.owner(DBS[key], prepared=False) if pgmq else env.su(DBS[key]) as c:
        for f in RESET[key]:
            c.execute(sql_file(f, n=BACKLOG) if "%(n)s" in sql_file(f) else sql_file(f))
        c.execute("vacuum analyze")
        return c.execute(SIZE).fetchone()[0]


def bytes_per_job(env: Env, prog: Progress, secs: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for d in (d for d in DESIGNS if d.key in KEYS):
        if not env.have.get(d.key.split("_")[0], True):
            rows.append({"group": "bytes", "key": f"bytes|{d.key}", "name": d.name,
                         "skipped": env.notes.get(d.key.split("_")[0], "skipped")})
            continue
        prog.step(f"bytes per job: {d.key}, {secs:g} s at {CLIENTS} clients")
        before = _reset(env, d.key)
        jobs = measure(env, d, CLIENTS, secs).jobs
        with env.su(DBS[d.key]) as c:
            after = c.execute(SIZE).fetchone()[0]
        per = (after - before) / jobs if jobs else 0.0
        prog.done(f"bytes per job: {d.key:13s} {jobs:,} jobs, {before:,} -> {after:,} bytes:"
                  f" {per:,.0f} bytes per job")
        rows.append({"group": "bytes", "key": f"bytes|{d.key}", "name": d.name, "jobs": jobs,
                     "secs": secs, "clients": CLIENTS, "bytes_before": before,
                     "bytes_after": after, "per_job": per})
    return rows
