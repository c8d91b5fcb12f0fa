"""Every way to jobsdb's newest release builds the same database as its install.

The install (releases/jobsdb--R.sql) is the source itself (tests/py/test_releases.py proves it
byte for byte). Here: a database built from migrations/ (the history before 1.0.0) and brought
to the newest release with `jobsdb migrate` must equal a fresh install; each older release's
install upgraded one release must equal the next release's install (so, chained, every older
release upgraded to the newest does); and the newest install taken back release by release
must equal each older release's install where it stops. The comparison is the normalised dump of
jobsdb.schema.dump (tables, columns, defaults, constraints, indexes, triggers, function bodies,
owners, privileges, policies, comments, publication membership, default privileges) with every
row of the package's tables (the seeded job types, state machine and settings). The second half
proves the comparison fails when either side changes alone.
"""

from __future__ import annotations

import difflib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from jobsdb import embedded, migrate, package_migrate, release_build, releases, schema
from jobsdb.shim import apply_shim
from jobsdb.testdb import _janitor

ROOT = Path(__file__).resolve().parents[2]
RDIR, MDIR = ROOT / "releases", ROOT / "migrations"


def dump_url(url: str, superuser_url: str | None) -> str:
    return embedded.url_for_db(superuser_url, url.rsplit("/", 1)[1]) if superuser_url else url


def assert_same(a: str, b: str, a_name: str, b_name: str | None = None) -> None:
    b_name = b_name or f"the install of jobsdb {releases.latest(RDIR)}"
    if a != b:
        diff = "".join(difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True),
            fromfile=a_name, tofile=b_name, n=3,
        ))
        pytest.fail(f"{a_name} and {b_name} differ:\n{diff}")


def _new_db(owner_url: str, superuser_url: str | None, template: str | None = None):
    name = f"jobsdb_drift_{os.getpid()}_{secrets.token_hex(4)}"
    j = _janitor(owner_url, name, template=template)
    j.init()
    if template is None:
        apply_shim(superuser_url or owner_url, name, quiet=True)
    return embedded.url_for_db(owner_url, name), j


def to_newest(url: str) -> None:
    package_migrate.up(url, rdir=RDIR, mdir=MDIR, out=lambda s: None)


def older_releases() -> list[str]:
    tree = release_build.load_tree(ROOT)
    return [r for r in tree.releases[:-1] if tree.install_path(r).is_file()]


def release_after(release: str) -> str:
    ordered = [*older_releases(), releases.latest(RDIR)]
    return ordered[ordered.index(release) + 1]


@pytest.fixture(scope="module")
def built(owner_url: str, superuser_url: str | None) -> Iterator[dict[str, str]]:
    """A database upgraded from the history before 1.0.0 and a fresh install, with dumps."""
    janitors = []
    try:
        a, ja = _new_db(owner_url, superuser_url)
        janitors.append(ja)
        migrate.up(a, MDIR, out=lambda s: None)
        to_newest(a)
        b, jb = _new_db(owner_url, superuser_url)
        janitors.append(jb)
        to_newest(b)
        yield {
            "upgraded": a,
            "install": b,
            "dump:upgraded": schema.dump(dump_url(a, superuser_url), data=True),
            "dump:install": schema.dump(dump_url(b, superuser_url), data=True),
        }
    finally:
        for j in janitors:
            j.drop()


def test_the_history_upgraded_equals_the_install(built) -> None:
    assert_same(built["dump:upgraded"], built["dump:install"],
                "migrations/ upgraded with `jobsdb migrate`")


@pytest.fixture(scope="module")
def installs(owner_url: str, superuser_url: str | None) -> Callable[[str], tuple[str, str]]:
    """The dumps of an older release's own install, and of that install upgraded to the release
    after it: made once per release, for both tests below."""
    made: dict[str, tuple[str, str]] = {}

    def of(release: str) -> tuple[str, str]:
        if release not in made:
            url, j = _new_db(owner_url, superuser_url)
            try:
                package_migrate.up(url, target=release, rdir=RDIR, mdir=MDIR, out=lambda s: None)
                own = schema.dump(dump_url(url, superuser_url), data=True)
                package_migrate.up(url, target=release_after(release), rdir=RDIR, mdir=MDIR,
                                   out=lambda s: None)
                made[release] = own, schema.dump(dump_url(url, superuser_url), data=True)
            finally:
                j.drop()
        return made[release]

    return of


@pytest.fixture(scope="module")
def way_back(owner_url: str, superuser_url: str | None) -> Iterator[dict[str, str]]:
    """The newest install taken back one release at a time through every carried way back
    (releases/jobsdb--B--A.sql), dumped at each release it stops at. One chain serves every
    release: the way back to R is the way back to R's successor and then its own step."""
    url, j = _new_db(owner_url, superuser_url)
    try:
        to_newest(url)
        dumps = {}
        for release in reversed(older_releases()):
            package_migrate.up(url, target=release, rdir=RDIR, mdir=MDIR, out=lambda s: None)
            dumps[release] = schema.dump(dump_url(url, superuser_url), data=True)
        yield dumps
    finally:
        j.drop()


@pytest.mark.parametrize("release", older_releases())
def test_each_older_release_upgraded_equals_the_next_install(
        built, installs, release: str) -> None:
    """Each release's install, upgraded one release, equals the install of the release after
    it. Chained, every older release upgraded to the newest equals the newest install: each
    step starts from a database equal to an install, and the whole chain from migrations/ is
    run at once by the first test."""
    after = release_after(release)
    expected = built["dump:install"] if after == releases.latest(RDIR) else installs(after)[0]
    assert_same(installs(release)[1], expected, f"jobsdb {release} upgraded one release",
                f"the install of {after}")


def test_every_carried_step_joins_neighbouring_releases() -> None:
    """The chains above prove every way through the carried steps only while each step joins a
    release to its neighbour: a step that skipped releases would be a way no test here takes."""
    ordered = [*older_releases(), releases.latest(RDIR)]
    steps = [(ordered.index(f.from_), ordered.index(f.to)) for f in releases.carried(RDIR)
             if f.from_ in ordered and f.to in ordered]
    assert sorted(steps) == sorted([(i, i + 1) for i in range(len(ordered) - 1)]
                                   + [(i + 1, i) for i in range(len(ordered) - 1)]), steps


@pytest.mark.parametrize("release", older_releases())
def test_the_way_back_to_each_older_release_equals_its_install(
        installs, way_back, release: str) -> None:
    """The carried way backs, chained from the newest release down to `release`, end where
    that release's own install does (the fixture release's way back is tested in
    test_releases.py; these are the real ones)."""
    assert_same(way_back[release], installs(release)[0],
                f"jobsdb {releases.latest(RDIR)} taken back to {release}",
                f"the install of {release}")


def _first_table(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select format('%%I.%%I', n.nspname, c.relname) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r'"
            " and n.nspname = any(%s) order by 1 limit 1",
            (schema.dumped_schemas(conn),),
        ).fetchone()
    return row[0] if row else None


INJECTIONS = {
    "new table": "create table public.drift_probe (id int)",
    "comment": "comment on table {t} is 'drift probe'",
    "privilege": "grant select on table {t} to anon",
    "index": "create index drift_probe_idx on {t} ((1))",
    "publication": "alter publication supabase_realtime add table {t}",
    "default privilege": "alter default privileges grant select on tables to authenticated",
    # seed data: sql/31_seed_job_types.sql and the upgrade disagreeing on a job type's lease
    "seed row": "update public.job_types set lease_seconds = lease_seconds + 1"
                " where job_type = 'sdxl_image_fast'",
}


@pytest.mark.parametrize("side", ["upgraded", "install"])
@pytest.mark.parametrize("kind", list(INJECTIONS))
def test_drift_is_detected(built, owner_url, superuser_url, side: str, kind: str) -> None:
    """Change one side alone (on a clone of it): the dumps must differ."""
    other = "install" if side == "upgraded" else "upgraded"
    source = built[side].rsplit("/", 1)[1]
    clone, j = _new_db(owner_url, superuser_url, template=source)
    try:
        table = _first_table(clone)
        stmt = INJECTIONS[kind]
        if "{t}" in stmt:
            assert table is not None
            stmt = stmt.format(t=table)
        with psycopg.connect(clone, autocommit=True) as conn:
            if kind == "publication" and _in_pub(conn, table):
                stmt = f"alter publication supabase_realtime drop table {table}"
            conn.execute(stmt)
        changed = schema.dump(dump_url(clone, superuser_url), data=True)
    finally:
        j.drop()
    assert changed != built[f"dump:{other}"], f"injected {kind!r} on the {side} side not detected"
    assert changed != built[f"dump:{side}"]


def _in_pub(conn: psycopg.Connection, table: str | None) -> bool:
    row = conn.execute(
        "select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
        " and format('%%I.%%I', schemaname, tablename) = %s", (table,)
    ).fetchone()
    return bool(row and row[0])
