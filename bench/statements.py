"""Database time per job and step, from pg_stat_statements: the statements a design's clients sent
(top level), their execution time summed per step (a regular expression of the design matched
against the statement's text) and divided by the jobs the run processed. BEGIN, set_config and
COMMIT are one step, "framing". Not in it: network and client time, and the WAL flush of a
commit (PostgreSQL flushes after the COMMIT statement's execution has been timed)."""

from __future__ import annotations

import re
from typing import Any

import psycopg

FRAMING = "framing"
OTHER = "other"
_FRAME = re.compile(r"^\s*(begin|commit|start transaction)\b|set_config\(", re.I)

READ = """
select s.query, s.calls, s.total_exec_time
from pg_stat_statements as s
where s.dbid = (select d.oid from pg_database as d where d.datname = %s) and s.toplevel
"""
RESET = "select pg_stat_statements_reset(0, (select oid from pg_database where datname = %s), 0)"


def available(conn: psycopg.Connection) -> bool:
    """pg_stat_statements is loaded (shared_preload_libraries); its view is made in the database
    of `conn` (the bench's admin database), from which every bench database is read."""
    try:
        conn.execute("create extension if not exists pg_stat_statements")
        conn.execute("select from pg_stat_statements limit 0")
        return True
    except psycopg.Error:
        return False


def reset(conn: psycopg.Connection, db: str) -> None:
    conn.execute(RESET, (db,))


def classify(query: str, steps: tuple[tuple[str, str], ...]) -> str:
    for name, pattern in steps:
        if re.search(pattern, query, re.I | re.S):
            return name
    return FRAMING if _FRAME.search(query) else OTHER


def per_job(conn: psycopg.Connection, db: str, steps: tuple[tuple[str, str], ...],
            jobs: int) -> dict[str, float]:
    """Microseconds of database time per job, per step, since the last reset of `db`."""
    out: dict[str, float] = {name: 0.0 for name, _ in steps}
    for query, _calls, ms in conn.execute(READ, (db,)).fetchall():
        step = classify(query, steps)
        out[step] = out.get(step, 0.0) + ms * 1000 / max(jobs, 1)
    return out


def summary(steps: dict[str, Any]) -> str:
    """'queue_job 410 + claim_jobs 250 + ... = 1,180': medians in microseconds per job."""
    parts = [f"{k} {v:,.0f}" for k, v in steps.items() if k != "total" and v >= 0.5]
    return " + ".join(parts) + f" = {sum(v for k, v in steps.items() if k != 'total'):,.0f}"
