"""The Supabase shim is the platform, as far as the package can tell.

A database built with the shim (automatic grants on and off) gives the same catalog facts
(tests/supabase_facts/catalog_facts.sql) as a database built from Supabase's own platform SQL
(tests/supabase_facts/catalog.auto_expose_{true,false}.json), except for the differences listed,
each with its reason, in tests/supabase_facts/known_differences.json. Any other difference fails,
and so does a listed difference that no longer occurs.
"""

from __future__ import annotations

import json
import os
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path

import psycopg
import pytest

from jobsdb.embedded import find_bin, url_for_db
from jobsdb.shim import apply_shim

FACTS = Path(__file__).resolve().parent.parent / "supabase_facts"
MODES = {True: "auto_expose_true", False: "auto_expose_false"}


def catalog_facts(superuser_url: str) -> dict:
    r = subprocess.run(
        [find_bin("psql"), "-AtX", "-v", "hosted_postgres=postgres", "-v", "bootstrap=postgres",
         "-f", str(FACTS / "catalog_facts.sql"), "-d", superuser_url],
        capture_output=True, text=True, check=True,
        # names print unqualified when their schema is on the search_path (supabase_admin's
        # has auth): read them with public only, as the platform's facts were read
        env={**os.environ, "PGOPTIONS": "-c search_path=public"},
    )
    return json.loads(r.stdout)


def flatten(doc: dict) -> dict[str, object]:
    """Path -> value. Lists of names (ACLs, settings, memberships, grants) become one path per
    member; columns are keyed by name (with their position); default ACL entries by
    role/schema/object (the facts report the bootstrap superuser and the owner role both as
    "postgres", so an entry may appear twice; the two are merged)."""
    out: dict[str, object] = {}

    def walk(path: str, v: object) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(f"{path}/{k}" if path else k, x)
        elif isinstance(v, list) and path == "default_acls":
            for e in v:
                walk(f"{path}/{e['for_role']} {e['schema']} {e['object']}", e["grants"] or [])
        elif isinstance(v, list) and path.endswith("/columns"):
            for i, c in enumerate(v):
                walk(f"{path}/{c['name']}", {**c, "name": None, "position": i})
        elif isinstance(v, list):
            for x in v:
                out[f"{path}/{x}"] = True
        elif v is not None or path.rsplit("/", 1)[-1] != "name":
            out[path] = v

    walk("", doc)
    return out


def differences(expected: dict, actual: dict) -> dict[str, tuple[object, object]]:
    e, a = flatten(expected), flatten(actual)
    return {p: (e.get(p), a.get(p)) for p in sorted(e.keys() | a.keys()) if e.get(p) != a.get(p)}


def known() -> list[dict]:
    return json.loads((FACTS / "known_differences.json").read_text())["differences"]


def unexplained(diffs: dict, mode: str) -> tuple[dict, set[str]]:
    """(differences no entry explains, patterns of entries that matched)."""
    entries = [k for k in known() if mode in k.get("modes", list(MODES.values()))]
    used: set[str] = set()
    left = {}
    for path, pair in diffs.items():
        hit = [k["path"] for k in entries if fnmatchcase(path, k["path"])]
        used.update(hit)
        if not hit:
            left[path] = pair
    return left, used


def test_every_known_difference_has_a_reason() -> None:
    for k in known():
        assert k["path"] and len(k["reason"]) > 20, k
        assert set(k.get("modes", MODES.values())) <= set(MODES.values()), k
    outside = json.loads((FACTS / "known_differences.json").read_text())["outside_the_facts"]
    for k in outside:
        assert set(k) == {"what", "reason"} and len(k["what"]) > 20 and len(k["reason"]) > 20, k


@pytest.fixture(scope="module")
def shim_facts(bare_db_factory_module, superuser_url) -> dict[bool, dict]:
    if not superuser_url:
        pytest.skip("the catalog facts are read as a superuser")
    out = {}
    for auto in MODES:
        name = bare_db_factory_module(auto_grants=auto).rsplit("/", 1)[1]
        out[auto] = catalog_facts(url_for_db(superuser_url, name))
    return out


def test_shim_matches_the_platform_in_both_grant_modes(shim_facts) -> None:
    used: set[str] = set()
    report = []
    for auto, mode in MODES.items():
        expected = json.loads((FACTS / f"catalog.{mode}.json").read_text())
        left, hit = unexplained(differences(expected, shim_facts[auto]), mode)
        used |= hit
        report += [f"{mode}: {p}: platform {e!r}, shim {a!r}" for p, (e, a) in left.items()]
    stale = [k["path"] for k in known() if k["path"] not in used]
    assert not report, "differences not listed in known_differences.json:\n" + "\n".join(report)
    assert not stale, f"listed differences that no longer occur (remove them): {stale}"


def test_the_comparison_notices_a_changed_shim(bare_db_factory_module, superuser_url) -> None:
    if not superuser_url:
        pytest.skip("the catalog facts are read as a superuser")
    url = bare_db_factory_module(auto_grants=True)
    su = url_for_db(superuser_url, url.rsplit("/", 1)[1])
    with psycopg.connect(su, autocommit=True) as conn:
        conn.execute("alter table auth.users alter column id set default gen_random_uuid()")
        conn.execute("grant select on auth.users to service_role")
    expected = json.loads((FACTS / "catalog.auto_expose_true.json").read_text())
    left, _ = unexplained(differences(expected, catalog_facts(su)), "auto_expose_true")
    assert left == {
        "auth_tables/auth.users/columns/id/default": (None, "gen_random_uuid()"),
        "auth_tables/auth.users/acl/service_role=SELECT": (None, True),
    }


def test_the_shim_brings_an_older_shim_database_up_to_date(bare_db_factory_module,
                                                            superuser_url) -> None:
    """The embedded cluster's databases persist: re-applying the shim over what an older shim
    left (defaults on auth.users, a grant to service_role, RLS off, a missing column) gives
    the platform's facts again, but for the order of the columns it had to add back."""
    if not superuser_url:
        pytest.skip("the catalog facts are read as a superuser")
    name = bare_db_factory_module(auto_grants=True).rsplit("/", 1)[1]
    su = url_for_db(superuser_url, name)
    with psycopg.connect(su, autocommit=True) as conn:
        conn.execute("alter table auth.users alter column id set default gen_random_uuid(),"
                     " alter column created_at set default now(), drop column is_sso_user,"
                     " disable row level security")
        conn.execute("grant select on auth.users to service_role")
        conn.execute("alter table auth.users owner to postgres")
        conn.execute("alter function auth.uid() owner to postgres")
        conn.execute("alter schema public owner to postgres")
    assert apply_shim(superuser_url, name, auto_grants=True, quiet=True)
    expected = json.loads((FACTS / "catalog.auto_expose_true.json").read_text())
    left, _ = unexplained(differences(expected, catalog_facts(su)), "auto_expose_true")
    assert left and all(p.endswith("/position") for p in left), left
