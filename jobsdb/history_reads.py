"""Reading the cold history: the Parquet files `jobsdb history export` wrote, with DuckDB, in
the process that asks (no server). Each file is sorted by user_id, so a user's rows sit in one
or two row groups and DuckDB skips the rest of every file by its min/max statistics."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from jobsdb import errors


def _files(directory: Path) -> str:
    if not directory.is_dir():
        raise errors.MissingFileError(f"no directory {directory} (where `jobsdb history export`"
                                      " wrote, or `jobsdb history fetch` copied, the files)")
    if not any(directory.glob("*.parquet")):
        raise errors.MissingFileError(f"no .parquet file in {directory}")
    return str(directory / "*.parquet")


def _query(directory: Path, q: str, params: list[Any]) -> list[dict[str, Any]]:
    from jobsdb.history import need_duckdb

    duckdb = need_duckdb()
    files = _files(directory)
    try:
        with duckdb.connect() as db:
            db.execute("SET TimeZone = 'UTC'")
            db.execute("SET enable_progress_bar = false")
            cur = db.execute(q.replace("{files}", "read_parquet(?, union_by_name = true)"),
                             [files, *params])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    except duckdb.Error as e:
        raise errors.UserError(
            f"cannot read the history in {directory}: {errors.one_line(str(e))[:300]}"
            " (are these files of jobs exported by `jobsdb history export`?)",
            exit_code=errors.DATABASE) from e


def older_jobs(directory: Path, user_id: str, limit: int = 50,
               before: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """A user's jobs from the cold history, newest first: `limit` of them, created before
    `before` when given (the created_at of the last one shown, for the next page). The id is
    cast to a UUID in the query so that DuckDB compares it with the files' statistics."""
    cond = " AND created_at < ?" if before else ""
    return _query(directory,
                  f"SELECT * FROM {{files}} WHERE user_id = CAST(? AS UUID){cond}"
                  " ORDER BY created_at DESC, id DESC LIMIT ?",
                  [user_id, *([before] if before else []), limit])


def jobs_per_day(directory: Path) -> list[dict[str, Any]]:
    """The analytics example: jobs per day (by created_at, UTC) and status."""
    return _query(directory,
                  "SELECT CAST(date_trunc('day', created_at) AS DATE) AS day, status,"
                  " count(*) AS jobs FROM {files} GROUP BY ALL ORDER BY day, status", [])
