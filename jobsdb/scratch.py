"""`jobsdb db scratch [NAME]`: a database to try jobsdb in, on a plain PostgreSQL server.

jobsdb needs what every Supabase project has: the auth schema, the API roles and their grants.
A plain PostgreSQL database has none of it, so this creates a new database (on the embedded
cluster, or DATABASE_URL's server, whose role needs CREATEDB) and applies the Supabase shim to
it (jobsdb/shim: the platform's roles, auth schema, grants and default privileges, as
tests/py/test_shim_fidelity.py proves them). It prints the database's URL; nothing else on the
server changes (the roles are created once per cluster, by a superuser when there is one).
"""

from __future__ import annotations

import re
import secrets
import sys

import psycopg
from psycopg import sql

from jobsdb import embedded, urls
from jobsdb.errors import PrivilegeError, UsageError
from jobsdb.shim import apply_shim

NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def create(name: str | None = None) -> str:
    """Create the scratch database; return its owner URL."""
    name = name or f"jobsdb_scratch_{secrets.token_hex(3)}"
    if not NAME_RE.match(name):
        raise UsageError(f"{name!r} is not a database name for `jobsdb db scratch`: use"
                         " lowercase letters, digits and _ (up to 63)")
    server = embedded.owner_url()
    print(f"jobsdb: creating scratch database {name} with the Supabase shim beside"
          f" {urls.describe(server)}", file=sys.stderr)
    with psycopg.connect(server, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege as e:
            raise PrivilegeError(
                "this role may not create databases (CREATEDB), so no scratch database: use"
                " a role that may, or the embedded cluster (`jobsdb db start`)") from e
    apply_shim(embedded.superuser_url() or server, name, quiet=True)
    return urls.url_for_db(server, name)
