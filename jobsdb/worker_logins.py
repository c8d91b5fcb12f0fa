"""Worker login roles: LOGIN members of jobs_worker, optionally scoped to pools.

The password is generated here, printed once by the command and never stored: the role gets
a SCRAM-SHA-256 verifier computed on this side, so the clear password never reaches the
server (nor its statement log). Pool scopes live in jobs_private.worker_logins (login,
worker_pools, created_at, comment), which claim_jobs reads by session_user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any

import psycopg
from psycopg import sql

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
POOL = re.compile(r"^[a-z0-9_]{1,63}$")
SCRAM_ITERATIONS = 4096


class LoginError(Exception):
    """A worker-login command that cannot be done, in one line."""


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL stores for `password` (RFC 5802/7677)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt).decode()}"
            f"${b64(stored_key).decode()}:{b64(server_key).decode()}")


def _has_table(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select to_regclass('jobs_private.worker_logins') is not null").fetchone()
    return bool(row and row[0])


def create(url: str, name: str, pools: list[str] | None, comment: str | None = None) -> str:
    if not NAME.match(name):
        raise LoginError(f"{name!r}: a role name is lower-case letters, digits and _, "
                         "starting with a letter or _, at most 63 characters")
    if pools is not None and (not pools or not all(POOL.match(p) for p in pools)):
        raise LoginError("--pools: comma-separated pool names (lower-case letters, digits, _)")
    password = secrets.token_urlsafe(32)
    with psycopg.connect(url) as conn:
        if conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone():
            raise LoginError(f"role {name} already exists")
        if pools is not None:
            rows = conn.execute("select distinct worker_pool from public.job_types")
            known = {r[0] for r in rows}
            unknown = sorted(set(pools) - known)
            if unknown:
                raise LoginError(f"unknown pool(s) {', '.join(unknown)}; pools: "
                                 f"{', '.join(sorted(known))}")
        table = _has_table(conn)
        if pools is not None and not table:
            raise LoginError("this database has no jobs_private.worker_logins (pool-scoped "
                             "logins need a newer jobsdb migration): omit --pools")
        try:
            conn.execute(sql.SQL("create role {} login password {} in role jobs_worker").format(
                sql.Identifier(name), sql.Literal(scram_verifier(password))))
            if table:
                conn.execute(
                    "insert into jobs_private.worker_logins (login, worker_pools, comment)"
                    " values (%s, %s, %s)", (name, pools, comment))
        except psycopg.errors.InsufficientPrivilege as e:
            raise LoginError(f"not allowed to create roles here: {e}".strip()) from e
    return password


def list_logins(url: str) -> list[tuple[str, list[str] | None, Any]]:
    with psycopg.connect(url) as conn:
        scope = ("left join jobs_private.worker_logins as w on w.login = r.rolname"
                 if _has_table(conn) else
                 "left join (select null::name as login, null::text[] as worker_pools,"
                 " null::timestamptz as created_at) as w on false")
        # A worker login: may log in, is a member of jobs_worker and of nothing else, and has
        # no power of its own (the owner role, also a member of jobs_worker, is not one).
        return conn.execute(  # type: ignore[return-value]
            "select r.rolname::text, w.worker_pools, w.created_at"
            " from pg_roles as r"
            f" {scope}"
            " where r.rolcanlogin and not (r.rolsuper or r.rolcreaterole or r.rolcreatedb"
            "  or r.rolreplication or r.rolbypassrls)"
            " and array(select m.roleid::regrole::text from pg_auth_members as m"
            "  where m.member = r.oid) = array['jobs_worker']"
            " order by 1"
        ).fetchall()


def revoke(url: str, name: str) -> None:
    if not NAME.match(name):
        raise LoginError(f"{name!r} is not a worker login name")
    with psycopg.connect(url, autocommit=True) as conn:
        if name not in {r[0] for r in list_logins(url)}:
            raise LoginError(f"{name} is not a login member of jobs_worker: nothing revoked")
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("alter role {} nologin").format(ident))
        try:
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                         " where usename = %s", (name,))
        except psycopg.errors.InsufficientPrivilege:
            pass  # its open sessions end at their next reconnect: it cannot log in again
        with conn.transaction():
            if _has_table(conn):
                conn.execute("delete from jobs_private.worker_logins where login = %s", (name,))
            conn.execute(sql.SQL("drop role {}").format(ident))
