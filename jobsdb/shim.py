"""Apply the Supabase shim (jobsdb/shim/*.sql) to plain PostgreSQL.

Cluster part: the platform's roles, attributes, settings and memberships. Database part: the
platform's schemas, auth tables and functions, extensions, publication, grants and default
privileges, with Supabase's automatic grants on or (JOBSDB_SHIM_AUTO_GRANTS=off) off. Both
are idempotent and bring what an older shim left up to date. tests/py/test_shim_fidelity.py
proves the result equal to the platform's catalog facts (tests/supabase_facts/).
The comment on schema auth (MARK) tells the shim from a real project: where auth.users exists
without it, nothing is done.
"""

from __future__ import annotations

import os
import sys
from importlib import resources

import psycopg

from jobsdb.urls import url_for_db

MARK = "jobsdb supabase shim"


def _sql(name: str) -> str:
    return resources.files("jobsdb").joinpath("shim", name).read_text()


def auto_grants_default() -> bool:
    return os.environ.get("JOBSDB_SHIM_AUTO_GRANTS", "on").strip().lower() not in (
        "off", "0", "false", "no",
    )


def is_real_supabase(conn: psycopg.Connection) -> bool:
    row = conn.execute(
        "select to_regclass('auth.users') is not null,"
        " coalesce(obj_description(to_regnamespace('auth')::oid, 'pg_namespace'), '')"
    ).fetchone()
    assert row is not None
    return bool(row[0]) and row[1] != MARK


def _is_superuser(conn: psycopg.Connection) -> bool:
    row = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
    return bool(row and row[0])


def apply_cluster_part(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_sql("cluster.sql"))


def apply_database_part(url: str, auto_grants: bool | None = None) -> None:
    if auto_grants is None:
        auto_grants = auto_grants_default()
    with psycopg.connect(url) as conn:
        conn.execute(_sql("database.sql"))
        conn.execute(_sql("auto_grants_on.sql" if auto_grants else "auto_grants_off.sql"))


def apply_shim(
    superuser_url: str, dbname: str, auto_grants: bool | None = None, quiet: bool = False
) -> bool:
    """Apply the shim to database `dbname`. Returns False (and does nothing) on real Supabase.

    `superuser_url` should be a superuser's; with a non-superuser (e.g. the owner role on a
    server we do not administer) only the database part is attempted.
    auto_grants None means: from $JOBSDB_SHIM_AUTO_GRANTS (default on).
    """
    url = url_for_db(superuser_url, dbname)
    with psycopg.connect(url, autocommit=True) as conn:
        if is_real_supabase(conn):
            if not quiet:
                print(
                    f"note: {dbname} looks like a real Supabase database (auth.users exists,"
                    " without the shim's marker); the Supabase shim is not applied",
                    file=sys.stderr,
                )
            return False
        superuser = _is_superuser(conn)
    # Callers in parallel (pytest -n) take turns: the same ALTER ROLE or GRANT run twice at once
    # fails with "tuple concurrently updated". The lock is taken in superuser_url's database,
    # the same for every caller (advisory locks are per database).
    with psycopg.connect(superuser_url, autocommit=True) as lock:
        lock.execute("select pg_advisory_lock(hashtext('jobsdb shim'))")
        if superuser:
            apply_cluster_part(url)
        apply_database_part(url, auto_grants)
    return True
