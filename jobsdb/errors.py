"""User errors of the `jobsdb` command: one line each, saying what was wrong and what to do,
with an exit code per kind (docs/operators.md, "Exit codes"). A traceback only with `--debug`.

`classify` turns what the libraries raise (psycopg, the file system) into these; whatever it does
not recognise is an internal error (exit 70) whose traceback `--debug` shows.
"""

from __future__ import annotations

import re

# Exit codes. 0 ok; 1 a check failed (tests, lint) or `migrate status` has pending files;
# `migrate status` also answers 2 for changed/unknown applied migrations.
OK = 0
FAILED = 1
USAGE = 2  # a bad command line: unknown option, bad option value, bad JOBSDB_PORT
NOT_RUNNING = 3  # the embedded database is not running (read-only commands never start it)
MIGRATION = 4  # a migration was refused or failed (nothing of that file stays applied)
CONNECT = 5  # cannot reach or log in to the server (wrong port, host, database, password)
BAD_URL = 6  # DATABASE_URL / --url is not a PostgreSQL connection URL
PRIVILEGE = 7  # the role lacks a privilege, or does not exist
MISSING_FILE = 8  # a named file or directory does not exist
PORT_IN_USE = 9  # the embedded database's port is taken by another program
SETUP = 10  # something to install: PostgreSQL binaries, the [dev] extra
DATABASE = 11  # any other error the database reported
NOT_SUPABASE = 12  # `jobsdb test --url`: the database is not a Supabase database
PENDING = 13  # `jobsdb test --url`: migrations pending, or applied ones differ from the files
TRACE_LEFT = 14  # `jobsdb test --url`: the run left a trace in the database
DOCTOR_FINDINGS = 15  # `jobsdb doctor`: the database is not healthy (one line per finding)
VERIFY = 16  # `jobsdb history`: the Parquet does not match the table (or its manifest)
STORAGE = 17  # `jobsdb history`: the object store refused the request or cannot be reached
INTERNAL = 70  # a bug: rerun with --debug and report the traceback
INTERRUPTED = 130


class UserError(Exception):
    """An error the user can fix. `str()` is the one line; `detail` is shown with --debug."""

    exit_code = FAILED

    def __init__(self, message: str, *, exit_code: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
        self.detail = detail


class UsageError(UserError):
    exit_code = USAGE


class NotRunningError(UserError):
    exit_code = NOT_RUNNING


class ConnectError(UserError):
    exit_code = CONNECT


class BadUrlError(UserError):
    exit_code = BAD_URL


class PrivilegeError(UserError):
    exit_code = PRIVILEGE


class MissingFileError(UserError):
    exit_code = MISSING_FILE


class PortInUseError(UserError):
    exit_code = PORT_IN_USE


class SetupError(UserError):
    exit_code = SETUP


def one_line(text: str) -> str:
    """The text on one line: libpq's multi-line messages joined, whitespace collapsed."""
    return re.sub(r"\s+", " ", str(text)).strip()


_ROLE_MISSING = re.compile(r'role "([^"]+)" does not exist')
_DB_MISSING = re.compile(r'database "([^"]+)" does not exist')


def _from_psycopg(e: Exception) -> UserError | None:
    import psycopg
    from psycopg import errors as pe

    if not isinstance(e, psycopg.Error):
        return None
    msg = one_line(str(e).splitlines()[0] if str(e) else e.__class__.__name__)
    full = one_line(str(e))
    if isinstance(e, pe.InsufficientPrivilege):
        return PrivilegeError(
            f"{msg}: the role lacks a privilege this needs; run it as the database's owner role"
            " (postgres on Supabase), or grant the privilege",
        )
    if isinstance(e, psycopg.OperationalError) and _is_connect_failure(e.sqlstate):
        m = _ROLE_MISSING.search(full)
        if m:
            return PrivilegeError(
                f"role {m.group(1)!r} does not exist on the server: create it, or put an"
                " existing role in the connection URL"
            )
        m = _DB_MISSING.search(full)
        if m:
            return ConnectError(
                f"database {m.group(1)!r} does not exist on the server: create it, or fix the"
                " database name in the connection URL"
            )
        return ConnectError(
            f"cannot connect to the database: {_connect_reason(full)}; check the host and port"
            " in DATABASE_URL (or start the embedded one with `jobsdb db start`)"
        )
    if isinstance(e, psycopg.ProgrammingError) and e.sqlstate is None:
        return BadUrlError(f"invalid connection string: {msg}")
    code = f" [{e.sqlstate}]" if e.sqlstate else ""
    return UserError(f"database error{code}: {msg}", exit_code=DATABASE)


def _is_connect_failure(sqlstate: str | None) -> bool:
    """psycopg raises OperationalError for a failed connection (no SQLSTATE, class 08, a
    refused login: 28, too many connections, the server starting up or shutting down) and also
    for errors of a running statement (55P03 lock timeout, 57014 statement timeout, class 53
    out of memory or disk): those are the database's answer, not a connection problem."""
    return (sqlstate is None or sqlstate[:2] in ("08", "28")
            or sqlstate in ("53300", "57P01", "57P02", "57P03"))


def _connect_reason(full: str) -> str:
    # 'connection failed: connection to server at "127.0.0.1", port 5999 failed: Connection
    # refused Is the server running ...' -> 'server at "127.0.0.1", port 5999: Connection refused'
    m = re.search(r'connection to server (at|on) (.+?) failed: (.+?)(?: Is the server|$)', full)
    if m:
        return f"server {m.group(1)} {m.group(2)}: {m.group(3).rstrip('. ')}"
    return full.removeprefix("connection failed: ")


def classify(e: BaseException) -> UserError:
    """The one-line user error for `e` (an internal error when it is not a known kind)."""
    if isinstance(e, UserError):
        return e
    pe_ = _from_psycopg(e) if isinstance(e, Exception) else None
    if pe_ is not None:
        return pe_
    if isinstance(e, FileNotFoundError):
        name = e.filename or one_line(str(e))
        return MissingFileError(f"no such file or directory: {name}")
    if isinstance(e, PermissionError):
        return UserError(f"permission denied: {e.filename or e}", exit_code=PRIVILEGE)
    return UserError(
        f"internal error: {e.__class__.__name__}: {one_line(str(e))} (rerun with --debug for"
        " the traceback, and please report it)",
        exit_code=INTERNAL,
    )
