"""`jobsdb history seal`: finished history out of the hot leaf into a partition of its own, by
the package's functions (functions/private/seal_prepare.sql says what the seal is), each called
in its own transaction: what an interrupted seal left removed, the copy, its keys, the hot
leaf's new bound, the move under one brief lock, the key checks."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg

from jobsdb import errors

T = TypeVar("T")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
LOCK_TRIES = 200
ROUNDS, ROUND_PAUSE = 3, 5


def interval(text: str) -> str:
    """'7d', '12h', '30m' as a PostgreSQL interval; anything else is a usage error."""
    m = re.fullmatch(r"(\d{1,6})([dhm])", text.strip())
    if not m:
        raise errors.UsageError(
            f"--older-than {text!r}: give a number and a unit, d, h or m (e.g. 7d)")
    return f"{m.group(1)} {UNITS[m.group(2)]}"


def in_rounds(attempt: Callable[[], T], what: str, log: Callable[[str], None]) -> T:
    """attempt() again after a pause when its brief locks could not be had (55P03: it changed
    nothing); the last refusal is the command's."""
    for _ in range(ROUNDS - 1):
        try:
            return attempt()
        except psycopg.errors.LockNotAvailable:
            log(f"{what}: its brief locks were not had; again in {ROUND_PAUSE} s")
            time.sleep(ROUND_PAUSE)
    return attempt()


def bound_created(c: psycopg.Connection, log: Callable[[str], None], tries: int) -> None:
    """Partitions sealed before 1.10.0 get their bounds of created_at and completed_at, a step a
    transaction (functions/private/seal_bound_times.sql), so that the reads of a user's newest
    jobs and system_metrics can leave sealed history out."""
    if c.execute("select to_regprocedure('jobs_private.seal_bound_times(integer)')"
                 ).fetchone()[0] is None:
        return
    while (said := in_rounds(lambda: c.execute(
            "select jobs_private.seal_bound_times(%s)", (tries,)).fetchone()[0],
            "bounding the sealed times", log)) is not None:
        log(said)


def seal(url: str, older_than: str, log: Callable[[str], None], tries: int = LOCK_TRIES) -> str:
    """Run the seal; answers what it did, in one line."""
    with psycopg.connect(url, autocommit=True) as c:
        if c.execute("select to_regprocedure('jobs_private.seal_move(regclass, uuid, bigint,"
                     " integer)')").fetchone()[0] is None:
            raise errors.UserError(
                "this database has no jobs_private.seal_move: bring it to jobsdb 1.8.0 or later"
                " first (jobsdb migrate)", exit_code=errors.PENDING)
        for left in c.execute("select jobs_private.seal_clean(%s)", (tries,)).fetchone()[0]:
            log(f"removed {left}, left by an interrupted seal")
        bound_created(c, log, tries)
        log(f"copying the finished jobs made more than {older_than} ago")
        prep = c.execute("select jobs_private.seal_prepare(%s::interval)",
                         (older_than,)).fetchone()[0]
        if prep is None:
            return (f"nothing to seal: no finished job made more than {older_than} ago below"
                    " the oldest unfinished one")
        log(f"adding the foreign keys of jobs to {prep['copy']}")
        c.execute("select jobs_private.seal_keys(%s::regclass, %s)", (prep["copy"], tries))
        log(f"bounding the hot leaf at {prep['cut']}")
        c.execute("select jobs_private.seal_bound(%s::uuid, %s)", (prep["cut"], tries))
        log(f"moving {prep['copied']} jobs into {prep['copy']}")
        moved = in_rounds(lambda: c.execute(
            "select jobs_private.seal_move(%s::regclass, %s::uuid, %s, %s)",
            (prep["copy"], prep["cut"], prep["copied"], tries)).fetchone()[0], "the move", log)
        log("checking the foreign keys into jobs")
        keys = c.execute("select jobs_private.seal_check_keys()").fetchone()[0]
    return (f"sealed {moved} jobs into {prep['copy']} (ids below {prep['cut']});"
            f" {len(keys)} foreign keys into jobs checked")
