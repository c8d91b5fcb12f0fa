"""Test databases: a template built once (shim, jobsdb's newest release, pgTAP,
tests/helpers.sql) and clones of it, created and dropped through pytest-postgresql's janitor.
Used by the pgTAP runner (jobsdb.pgtap), plpgsql_check (jobsdb.lint) and the pytest fixtures
(tests/conftest.py)."""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict
from pytest_postgresql.janitor import DatabaseJanitor

from jobsdb import migrate, package_migrate
from jobsdb.embedded import find_bin
from jobsdb.shim import apply_shim
from jobsdb.urls import url_for_db


class Janitor(DatabaseJanitor):
    """pytest-postgresql's janitor, run as the (non-superuser) owner role: it terminates only
    the client sessions it may (not superusers', not autovacuum workers, which a non-superuser
    may not signal); DROP/CREATE DATABASE itself stops autovacuum and waits up to 5 s for
    closing sessions."""

    @staticmethod
    def _terminate_connection(cur, dbname: str) -> None:
        cur.execute(
            "select pg_terminate_backend(a.pid) from pg_stat_activity a"
            " join pg_roles r on r.oid = a.usesysid"
            " where a.datname = %s and a.pid <> pg_backend_pid()"
            " and a.backend_type = 'client backend'"
            " and (not r.rolsuper"
            "      or (select rolsuper from pg_roles where rolname = current_user))",
            (dbname,),
        )


def _janitor(url: str, dbname: str, template: str | None = None, as_template: bool = False):
    p = conninfo_to_dict(url)
    return Janitor(
        user=p.get("user") or os.environ.get("PGUSER", "postgres"),
        host=p.get("host") or "127.0.0.1",
        port=p.get("port") or 5432,
        password=p.get("password"),
        dbname=dbname,
        template_dbname=template,
        maintenance_dbname=p.get("dbname") or "postgres",
        as_template=as_template,
    )


@dataclass
class Template:
    name: str
    owner_url: str  # the server's owner URL (maintenance db)
    url: str  # owner URL of the template database

    def drop(self) -> None:
        _janitor(self.owner_url, self.name, as_template=True).drop()

    @contextmanager
    def clone(self, name: str | None = None) -> Iterator[str]:
        """A fresh database cloned from the template; yields its owner URL, drops it after."""
        name = name or f"{self.name}_c{secrets.token_hex(3)}"
        j = _janitor(self.owner_url, name, template=self.name)
        j.init()
        try:
            yield url_for_db(self.owner_url, name)
        finally:
            j.drop()


def _psql_file(url: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [find_bin("psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url,
         "-f", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PGOPTIONS": os.environ.get("PGOPTIONS", "")},
    )


def build_template(
    owner_url: str,
    superuser_url: str | None,
    root: Path,
    *,
    name: str | None = None,
    migrations_dir: Path | None = None,
    helpers: Path | None = None,
    auto_grants: bool | None = None,
    pgtap: bool = True,
    quiet: bool = True,
) -> Template:
    """Create a template database: shim (database part), jobsdb's newest release (as owner;
    or, with `migrations_dir`, that directory's migrations), pgtap in schema extensions (as
    owner) and tests/helpers.sql (as owner)."""
    name = name or f"jobsdb_tpl_{os.getpid()}_{secrets.token_hex(3)}"
    helpers = helpers if helpers is not None else root / "tests" / "helpers.sql"
    _janitor(owner_url, name, as_template=True).init()
    tpl = Template(name, owner_url, url_for_db(owner_url, name))
    try:
        apply_shim(superuser_url or owner_url, name, auto_grants=auto_grants, quiet=quiet)
        say = (lambda s: None) if quiet else print
        if migrations_dir is None:
            package_migrate.up(tpl.url, rdir=root / "releases", mdir=root / "migrations",
                               out=say)
        elif migrations_dir.is_dir():
            migrate.up(tpl.url, migrations_dir, out=say)
        if pgtap:
            with psycopg.connect(tpl.url, autocommit=True) as conn:
                conn.execute("create extension if not exists pgtap with schema extensions")
        if helpers.is_file():
            r = _psql_file(tpl.url, helpers)
            if r.returncode != 0:
                raise RuntimeError(f"loading {helpers} failed:\n{r.stdout}{r.stderr}")
    except BaseException:
        tpl.drop()
        raise
    return tpl


def drop_realtime_role(superuser_url: str) -> None:
    """Drop Supabase Realtime's role (tests/fixtures/supabase_realtime.sql), which is
    cluster-wide, once the caller's databases that have it are gone, so that the cluster's roles
    are the platform's again. While another database still uses it (another test process's) it
    stays: the last user to go drops it."""
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        try:
            conn.execute("drop role if exists supabase_realtime_admin")
        except psycopg.errors.DependentObjectsStillExist:
            pass
