"""The embedded cluster and the Supabase shim behave like a hosted Supabase database."""

from __future__ import annotations

import json
import os

import psycopg
import pytest

from jobsdb import embedded
from jobsdb.shim import apply_shim


def one(url: str, sql: str, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()


def test_urls() -> None:
    assert (
        embedded.url_for_db("postgresql://u:p@h:1/a?sslmode=disable", "b")
        == "postgresql://u:p@h:1/b?sslmode=disable"
    )
    if not os.environ.get("DATABASE_URL"):
        assert embedded.owner_url() == f"postgresql://postgres@127.0.0.1:{embedded.port()}/postgres"


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="embedded cluster only")
def test_start_is_idempotent(owner_url: str) -> None:
    assert embedded.is_running()
    assert embedded.start(quiet=True) == owner_url
    assert one(owner_url, "select current_user")[0] == "postgres"


def test_owner_role_is_not_superuser(bare_db: str) -> None:
    row = one(
        bare_db,
        "select rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
        " rolbypassrls from pg_roles where rolname = current_user",
    )
    assert row == (False, True, True, True, True)


def test_api_roles(bare_db: str) -> None:
    rows = dict(
        (r[0], r[1:])
        for r in psycopg.connect(bare_db, autocommit=True).execute(
            "select rolname, rolcanlogin, rolbypassrls, rolinherit,"
            " coalesce(array_to_string(rolconfig, ','), '') from pg_roles"
            " where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')"
        )
    )
    assert rows["anon"] == (False, False, True, "statement_timeout=3s")
    assert rows["authenticated"] == (False, False, True, "statement_timeout=8s")
    assert rows["service_role"][:3] == (False, True, True)
    assert rows["authenticator"] == (
        True, False, False, "statement_timeout=8s,lock_timeout=8s"
    )


def test_owner_can_act_as_api_roles(bare_db: str) -> None:
    with psycopg.connect(bare_db) as conn:
        for role in ("anon", "authenticated", "service_role"):
            conn.execute(f"set local role {role}")
            assert conn.execute("select current_user").fetchone()[0] == role
            conn.execute("reset role")


def test_auth_functions_have_supabase_semantics(bare_db: str) -> None:
    uid = "7b2f3a36-1c37-4d33-9a77-2b1c5c1e0001"
    claims = {"sub": uid, "role": "authenticated", "app_metadata": {"role": "admin"}}
    with psycopg.connect(bare_db) as conn:
        assert conn.execute("select auth.uid(), auth.role(), auth.jwt()").fetchone() == (
            None,
            None,
            None,
        )
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        uid_, role, jwt = conn.execute(
            "select auth.uid()::text, auth.role(), auth.jwt()"
        ).fetchone()
        assert (uid_, role, jwt["app_metadata"]) == (uid, "authenticated", {"role": "admin"})
        # the legacy per-claim setting wins, as in Supabase
        other = "7b2f3a36-1c37-4d33-9a77-2b1c5c1e0002"
        conn.execute("select set_config('request.jwt.claim.sub', %s, true)", (other,))
        assert conn.execute("select auth.uid()::text").fetchone()[0] == other
        vol = conn.execute(
            "select string_agg(distinct provolatile::text, '') from pg_proc"
            " where pronamespace = 'auth'::regnamespace"
        ).fetchone()[0]
        assert vol == "s"


def test_realtime_publication_exists_empty_owned_by_postgres(bare_db: str) -> None:
    row = one(
        bare_db,
        "select pg_get_userbyid(pubowner), (select count(*) from"
        " pg_publication_tables where pubname = p.pubname)"
        " from pg_publication p where pubname = 'supabase_realtime'",
    )
    assert row == ("postgres", 0)


def test_extensions_schema_and_public_ownership(bare_db: str) -> None:
    row = one(
        bare_db,
        "select pg_get_userbyid(n.nspowner), has_schema_privilege('anon',"
        " 'extensions', 'usage') from pg_namespace n where nspname = 'extensions'",
    )
    assert row == ("postgres", True)
    # public is PostgreSQL 15's (owned by pg_database_owner); the owner role owns the database
    assert one(
        bare_db,
        "select pg_get_userbyid(n.nspowner), pg_get_userbyid(d.datdba),"
        " has_schema_privilege('postgres', 'public', 'create')"
        " from pg_namespace n, pg_database d"
        " where n.nspname = 'public' and d.datname = current_database()",
    ) == ("pg_database_owner", "postgres", True)


@pytest.mark.parametrize("auto_grants", [True, False])
def test_automatic_default_grants_both_ways(bare_db_factory, auto_grants: bool) -> None:
    url = bare_db_factory(auto_grants=auto_grants)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table public.probe (id int)")
        conn.execute("create function public.probe_fn() returns int language sql as 'select 1'")
        row = conn.execute(
            "select has_table_privilege('anon', 'public.probe', 'insert'),"
            " has_table_privilege('authenticated', 'public.probe', 'delete')"
        ).fetchone()
    assert row == (auto_grants, auto_grants)


def test_shim_is_idempotent(bare_db: str, superuser_url: str | None) -> None:
    if not superuser_url:
        pytest.skip("needs a superuser URL")
    name = bare_db.rsplit("/", 1)[1]
    assert apply_shim(superuser_url, name, quiet=True)
    assert apply_shim(superuser_url, name, quiet=True)


def test_shim_never_touches_a_real_supabase_db(bare_db_factory, superuser_url) -> None:
    if not superuser_url:
        pytest.skip("needs a superuser URL")
    url = bare_db_factory()
    name = url.rsplit("/", 1)[1]
    su = embedded.url_for_db(superuser_url, name)
    with psycopg.connect(su, autocommit=True) as conn:
        conn.execute("comment on schema auth is 'Auth: stores the users'")  # as GoTrue does
        conn.execute("drop publication supabase_realtime")
    assert apply_shim(superuser_url, name, quiet=True) is False
    assert (
        one(su, "select count(*) from pg_publication where pubname = 'supabase_realtime'")[0] == 0
    )


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="embedded cluster only")
def test_databases_of_killed_runs_are_swept(owner_url: str) -> None:
    name = "jobsdb_t_999999999_leftover"  # no such pid
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute(f"create database {name}")
    assert name in embedded.sweep_stale_databases()
    assert one(owner_url, "select count(*) from pg_database where datname = %s", (name,))[0] == 0
