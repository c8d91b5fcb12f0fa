"""jobsdb's releases: the files are the source, byte for byte; a cut release never changes; the
recipe for the next release and the way back works (a fixture release, tests/py/fixture_release);
the repository's own supabase/migrations is what `jobsdb install` makes of it."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import psycopg
import pytest
from fixture_release import Fixture, copy_source, make, next_minor
from test_cli_errors import jobsdb, one_error_line
from test_migrations_under_load import apply_like_supabase_cli

from jobsdb import (
    embedded,
    errors,
    migrate,
    package_migrate,
    project,
    release_build,
    releases,
    schema,
)
from jobsdb.release_build import BuildError
from jobsdb.testdb import Template

ROOT = Path(__file__).resolve().parents[2]
TICKET = re.compile(r"\bissues?\s*#?\d+|#\d{2,}\b|\bticket\s*\d+", re.IGNORECASE)


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return make(tmp_path_factory.mktemp("fixture") / "src")


def dump(url: str, superuser_url: str | None, data: bool = True) -> str:
    name = url.rsplit("/", 1)[1]
    return schema.dump(embedded.url_for_db(superuser_url, name) if superuser_url else url,
                       data=data)


# ---- the repository's release files --------------------------------------------------------


def test_the_release_files_are_what_the_source_makes() -> None:
    assert release_build.check(release_build.load_tree(ROOT)) == []


def test_the_newest_release_is_what_the_toolkit_and_a_database_say(template_db: Template) -> None:
    newest = release_build.load_tree(ROOT).newest
    assert releases.latest(ROOT / "releases") == newest
    with psycopg.connect(template_db.url) as conn:
        assert conn.execute("select jobs_private.installed_release()").fetchone() == (newest,)
        assert releases.installed(conn) == newest
        # owner only: jobs_private is not for the API roles
        assert conn.execute(
            "select has_function_privilege('authenticated', 'jobs_private.installed_release()',"
            " 'execute')").fetchone() == (False,)


def test_no_ticket_numbers_in_the_source_or_the_catalog(template_db: Template) -> None:
    found = [f"{p.relative_to(ROOT)}:{n}" for d in ("sql", "policies", "functions")
             for p in sorted((ROOT / d).rglob("*.sql"))
             for n, line in enumerate(p.read_text().splitlines(), 1) if TICKET.search(line)]
    assert found == []
    with psycopg.connect(template_db.url) as conn:
        texts = conn.execute(
            "select d.description from pg_description d"
            " union all select p.prosrc from pg_proc p join pg_namespace n"
            " on n.oid = p.pronamespace where n.nspname in ('public', 'jobs_private', 'jobs_api')"
        ).fetchall()
    assert [t for (t,) in texts if t and TICKET.search(t)] == []
    ticket = " ".join(["see", "issue", "14"])
    assert TICKET.search(ticket) and TICKET.search("(#12)")  # the pattern can match


def test_the_repositorys_supabase_migrations_is_the_history_and_the_upgrade(
        bare_db: str, superuser_url: str | None, template_db: Template, tmp_path: Path) -> None:
    d = ROOT / "supabase" / "migrations"
    files = sorted(d.glob("*.sql"))
    targets = {f.name: f.resolve() for f in files}
    history = sorted((ROOT / "migrations").glob("*.sql"))
    assert all(targets.get(h.name) == h.resolve() for h in history), "a history file is missing"
    others = [n for n in targets if n not in {h.name for h in history}]
    assert others and all(targets[n].parent == (ROOT / "releases").resolve() for n in others)
    # it gets a release's step when the release is cut (docs/operators.md, "Making a release"):
    # it ends at the newest cut release, and a release still being made follows from there
    tree = release_build.load_tree(ROOT)
    carried = releases.carried(ROOT / "releases")
    cut = max((f.to for f in carried if release_build.is_cut(tree, f.to)), key=releases.key)
    assert project.read(d).release == cut
    assert project.install(d, target=cut, out=quiet) == []
    # `supabase db push` of the directory to a new project, then the steps of the release
    # being made (none once it is cut), ends at the install's catalog
    with psycopg.connect(bare_db, autocommit=True) as conn:
        migrate.ensure_history(conn)  # the CLI makes its history table first
    for i, s in enumerate(releases.path(cut, tree.newest, carried)):
        files.append(tmp_path / f"2099123100000{i}_{s.marker.migration_name}.sql")
        shutil.copy(s.path, files[-1])
    for f in files:
        apply_like_supabase_cli(bare_db, f)
    with template_db.clone() as installed:
        with psycopg.connect(installed, autocommit=True) as c:
            c.execute("drop schema tests cascade")
            c.execute("drop extension pgtap")
        assert dump(bare_db, superuser_url) == dump(installed, superuser_url)


def test_release_list_and_show_print_the_carried_files() -> None:
    r = jobsdb("release", "list")
    assert r.returncode == 0 and "jobsdb--pre-1.0--1.0.0.sql" in r.stdout, r.stderr
    r = jobsdb("release", "show", "pre-1.0--1.0.0")
    assert r.stdout == (ROOT / "releases" / "jobsdb--pre-1.0--1.0.0.sql").read_text()
    assert "no release file" in one_error_line(jobsdb("release", "show", "0.9.0"),
                                               errors.MISSING_FILE)


# ---- the checks can fail -------------------------------------------------------------------


def test_check_names_a_release_file_that_differs_from_the_source(tmp_path: Path) -> None:
    root = copy_source(tmp_path / "src")
    tree = release_build.load_tree(root)
    if release_build.is_cut(tree, tree.newest):  # the check of a release still being made
        step = release_build.new(tree, next_minor(tree.newest), out=quiet)
    else:  # the release being made: its step from the one before
        (step,) = [p for p in (root / "releases" / "steps").glob(f"*--{tree.newest}.sql")]
    if "functions/private/retry_delay.sql" not in step.read_text():
        step.write_text(step.read_text() + "-- jobsdb:apply functions/private/retry_delay.sql\n")
        # and its way back, if it has one yet, takes the file back from the release before
        before = step.name.split("--")[0]
        for back in (root / "releases" / "steps").glob(f"{tree.newest}--{before}.sql"):
            back.write_text(back.read_text()
                            + f"-- jobsdb:apply functions/private/retry_delay.sql from {before}\n")
        release_build.build(release_build.load_tree(root), out=quiet)
        tree = release_build.load_tree(root)
    install = tree.install_path(tree.newest)
    text = install.read_text()
    install.write_text(text + "-- edited\n")
    assert any("differs from what the source makes" in p for p in release_build.check(tree))
    install.write_text(text)
    fn = root / "functions" / "private" / "retry_delay.sql"
    fn.write_text(fn.read_text().replace("0.75 + random() * 0.5", "0.5 + random()"))
    assert any("differs from what the source makes: run `jobsdb release build`" in p
               for p in release_build.check(tree))
    release_build.build(tree, out=quiet)
    assert release_build.check(tree) == []


def test_a_cut_release_never_changes(fixture: Fixture, tmp_path: Path) -> None:
    root = tmp_path / "fx"
    shutil.copytree(fixture.root, root, symlinks=True)
    tree = release_build.load_tree(root)
    assert release_build.check(tree) == []
    old = tree.install_path(fixture.old)
    old.write_text(old.read_text().replace("jobsdb", "jobsdb ", 1))
    (root / "migrations" / "20991231000000_late_change.sql").write_text("select 1;\n")
    problems = release_build.check(tree)
    assert any(f"{old.relative_to(root)} was cut" in p and "has changed" in p for p in problems)
    assert any("20991231000000_late_change.sql is new" in p for p in problems)
    # the newest release, once cut, refuses a changed source: that is the next release
    root2 = copy_source(tmp_path / "cut")
    tree2 = release_build.load_tree(root2)
    if not release_build.is_cut(tree2, tree2.newest):
        release_build.cut(tree2, out=quiet)
    (root2 / "sql" / "95_schedule.sql").write_text(
        (root2 / "sql" / "95_schedule.sql").read_text() + "-- changed\n")
    with pytest.raises(BuildError, match="is cut and .* would change: start the next release"):
        release_build.build(release_build.load_tree(root2), out=quiet)
    assert any("belongs to the next release" in p
               for p in release_build.check(release_build.load_tree(root2)))


def test_a_step_that_leaves_out_a_changed_function_is_refused(fixture: Fixture,
                                                               tmp_path: Path) -> None:
    root = tmp_path / "fx"
    shutil.copytree(fixture.root, root, symlinks=True)
    step = root / "releases" / "steps" / f"{fixture.old}--{fixture.new}.sql"
    step.write_text(step.read_text().replace("-- jobsdb:apply functions/private/retry_delay.sql",
                                             ""))
    with pytest.raises(BuildError, match="does not apply functions/private/retry_delay.sql"):
        release_build.build(release_build.load_tree(root), out=quiet)
    literal = root / release_build.RELEASE_FUNCTION
    literal.write_text(literal.read_text().replace(fixture.new, "9.9.9"))
    with pytest.raises(BuildError, match="says '9.9.9' but the newest release"):
        release_build.build(release_build.load_tree(root), out=quiet)


# ---- the fixture release in databases ------------------------------------------------------


def test_every_way_to_the_fixture_release_ends_at_its_install(
        fixture: Fixture, bare_db_factory, superuser_url: str | None) -> None:
    rdir, mdir = fixture.root / "releases", fixture.root / "migrations"
    installed = bare_db_factory()
    package_migrate.up(installed, rdir=rdir, mdir=mdir, out=quiet)
    want = dump(installed, superuser_url)
    from_old = bare_db_factory()
    package_migrate.up(from_old, target=fixture.old, rdir=rdir, mdir=mdir, out=quiet)
    applied = package_migrate.up(from_old, rdir=rdir, mdir=mdir, out=quiet)
    assert [m.name for m in applied] == [
        f"jobsdb_{fixture.old.replace('.', '_')}_to_{fixture.new.replace('.', '_')}"]
    assert dump(from_old, superuser_url) == want
    from_history = bare_db_factory()
    migrate.up(from_history, mdir, out=quiet)
    package_migrate.up(from_history, rdir=rdir, mdir=mdir, out=quiet)
    assert dump(from_history, superuser_url) == want


def test_the_way_back_ends_at_the_older_install(
        fixture: Fixture, bare_db_factory, superuser_url: str | None) -> None:
    rdir, mdir = fixture.root / "releases", fixture.root / "migrations"
    older = bare_db_factory()
    package_migrate.up(older, target=fixture.old, rdir=rdir, mdir=mdir, out=quiet)
    back = bare_db_factory()
    package_migrate.up(back, rdir=rdir, mdir=mdir, out=quiet)
    lines: list[str] = []
    package_migrate.up(back, target=fixture.old, rdir=rdir, mdir=mdir, out=lines.append)
    assert any("_to_" in ln and "applied" in ln for ln in lines), lines
    assert dump(back, superuser_url) == dump(older, superuser_url)
    # the way-back step takes the older bodies from the older install, not from a copy
    text = (rdir / f"jobsdb--{fixture.new}--{fixture.old}.sql").read_text()
    assert f"-- jobsdb:source functions/private/retry_delay.sql from {fixture.old}" in text
    # and it names, to be undone by hand, the files the fixture changed and no other (an
    # install's app-table sections lose the blank lines between them: no change)
    step = (fixture.root / "releases" / "steps" / f"{fixture.new}--{fixture.old}.sql").read_text()
    assert (f"-- Files changed since {fixture.old} (undo by hand):"
            " sql/20_jobs.sql, sql/31_seed_job_types.sql.") in step, step


# ---- jobsdb install --into -----------------------------------------------------------------


def names(d: Path) -> list[str]:
    return sorted(p.name for p in d.glob("*.sql"))


def test_install_writes_after_every_file_there_and_a_second_run_nothing(tmp_path: Path) -> None:
    d = tmp_path / "supabase" / "migrations"
    d.mkdir(parents=True)
    (d / "20991231235958_app_tables.sql").write_text("create table public.app_notes (id int);\n")
    r = jobsdb("install", "--into", str(d))
    assert r.returncode == 0, r.stderr
    newest = releases.latest(ROOT / "releases")
    written = f"20991231235959_jobsdb_{newest.replace('.', '_')}.sql"
    assert names(d) == ["20991231235958_app_tables.sql", written]
    assert (d / written).read_text() == (ROOT / "releases" / f"jobsdb--{newest}.sql").read_text()
    r = jobsdb("install", "--into", str(d))
    assert r.returncode == 0 and "nothing written" in r.stdout, r.stdout + r.stderr
    assert len(names(d)) == 2
    (d / written).write_text((d / written).read_text() + "-- my change\n")
    line = one_error_line(jobsdb("install", "--into", str(d)), errors.MIGRATION)
    assert written in line and "differs from the file this toolkit carries" in line
    assert "does not exist" in one_error_line(jobsdb("install", "--into", str(tmp_path / "no")),
                                              errors.MISSING_FILE)


def test_install_upgrades_a_project_that_has_the_history_before_1_0_0(tmp_path: Path) -> None:
    d = tmp_path / "migrations"
    d.mkdir()
    history = sorted((ROOT / "migrations").glob("*.sql"))
    for f in history[:-1]:
        shutil.copy(f, d)
    line = one_error_line(jobsdb("install", "--into", str(d)), errors.MIGRATION)
    assert "only in part" in line and history[-1].name in line
    shutil.copy(history[-1], d)
    (d / "20991231000000_app.sql").write_text("select 1;\n")
    r = jobsdb("install", "--into", str(d))
    assert r.returncode == 0, r.stderr
    new = sorted(set(names(d)) - {f.name for f in history} - {"20991231000000_app.sql"})
    # the upgrade to 1.0.0 first, then one file per later step
    assert new[0].startswith("20991231000001_jobsdb_pre_1_0_to_1_0_0")
    assert len(new) == len(releases.path(releases.PRE, releases.latest(ROOT / "releases"),
                                         releases.carried(ROOT / "releases")))


def test_install_writes_the_upgrade_and_the_way_back(fixture: Fixture, tmp_path: Path) -> None:
    d = tmp_path / "migrations"
    d.mkdir()
    env = fixture.env()
    assert jobsdb("install", "--into", str(d), "--release", fixture.old, env=env).returncode == 0
    assert jobsdb("install", "--into", str(d), env=env).returncode == 0
    assert jobsdb("install", "--into", str(d), "--release", fixture.old, env=env).returncode == 0
    old, new = fixture.old.replace(".", "_"), fixture.new.replace(".", "_")
    assert [n.split("_", 1)[1] for n in names(d)] == [
        f"jobsdb_{old}.sql", f"jobsdb_{old}_to_{new}.sql", f"jobsdb_{new}_to_{old}.sql"]
    assert project.read(d, fixture.root / "releases", fixture.root / "migrations").release \
        == fixture.old


# ---- jobsdb migrate beside a project's own migrations --------------------------------------


def history_rows(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("select version, name from supabase_migrations.schema_migrations"
                            " order by version").fetchall()


def test_migrate_leaves_the_projects_own_migrations_alone(bare_db: str, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "20240101000000_app_tables.sql").write_text("create table public.app_notes (id int);\n")
    assert jobsdb("migrate", "--dir", str(app), "--url", bare_db).returncode == 0
    r = jobsdb("migrate", "--url", bare_db)
    assert r.returncode == 0, r.stderr
    r = jobsdb("migrate", "status", "--url", bare_db)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 migration(s) of the project's own in the history" in r.stdout
    assert "UNKNOWN" not in r.stdout
    # and the project's directory is still applied on its own, jobsdb's rows not in the way
    (app / "20991231000000_more.sql").write_text("create table public.app_more (id int);\n")
    assert jobsdb("migrate", "--dir", str(app), "--url", bare_db).returncode == 0
    # an edited jobsdb file in the history is refused, and named
    with psycopg.connect(bare_db, autocommit=True) as conn:
        conn.execute("update supabase_migrations.schema_migrations"
                     " set statements = statements || '{select 1}'::text[]"
                     " where name like 'jobsdb\\_%'")
    line = one_error_line(jobsdb("migrate", "--url", bare_db), errors.MIGRATION)
    assert "differ from the files this toolkit carries" in line and "_jobsdb_" in line
    assert jobsdb("migrate", "status", "--url", bare_db).returncode == 2


def test_repair_reverted_then_migrate_runs_nothing_again(fixture: Fixture, bare_db: str,
                                                         tmp_path: Path) -> None:
    """The history row of an upgrade removed by hand: both ways of migrating see that the
    database holds the release already (its seed insert would fail with 23505 if run again)."""
    env = fixture.env()
    d = tmp_path / "project"
    d.mkdir()
    assert jobsdb("install", "--into", str(d), "--release", fixture.old, env=env).returncode == 0
    assert jobsdb("install", "--into", str(d), env=env).returncode == 0
    r = jobsdb("migrate", "--dir", str(d), "--url", bare_db, env=env)
    assert r.returncode == 0, r.stderr
    upgrade = names(d)[-1].split("_", 1)[0]
    assert jobsdb("migrate", "repair", upgrade, "--status", "reverted", "--dir", str(d),
                  "--url", bare_db, env=env).returncode == 0
    r = jobsdb("migrate", "--url", bare_db, env=env)
    assert r.returncode == 0, r.stderr
    assert "has no row for it" in r.stdout
    r = jobsdb("migrate", "--dir", str(d), "--url", bare_db, env=env)
    assert r.returncode == 0, r.stderr
    assert f"the database holds jobsdb {fixture.new} already" in r.stdout
    assert upgrade in [v for v, _ in history_rows(bare_db)]


def test_a_busy_table_stops_the_upgrade_with_advice_to_retry(fixture: Fixture,
                                                             bare_db: str) -> None:
    env = fixture.env()
    assert jobsdb("migrate", "--url", bare_db, "--release", fixture.old, env=env).returncode == 0
    with psycopg.connect(bare_db) as reader:
        reader.execute("select count(*) from public.jobs")  # holds a lock the ALTER waits for
        r = jobsdb("migrate", "--url", bare_db, "--lock-timeout", "200ms", env=env)
        reader.rollback()
    line = one_error_line(r, errors.MIGRATION)
    assert "[55P03]" in line and "run it again later" in line and "--lock-timeout" in line
    assert "new migration" not in line
    with psycopg.connect(bare_db) as conn:
        assert releases.installed(conn) == fixture.old
    assert jobsdb("migrate", "--url", bare_db, env=env).returncode == 0


def test_a_database_that_is_not_supabase_is_told_how_to_get_a_scratch_one(
        owner_url: str, superuser_url: str | None) -> None:
    from jobsdb.testdb import _janitor

    name = f"jobsdb_plain_{os.getpid()}"
    j = _janitor(owner_url, name)
    j.init()
    plain = embedded.url_for_db(owner_url, name)
    try:
        line = one_error_line(jobsdb("migrate", "--url", plain), errors.NOT_SUPABASE)
        assert "not a Supabase project" in line and "`jobsdb db scratch`" in line
        # the install file itself says so too, to `supabase db push` or psql
        install = next(f for f in releases.carried(ROOT / "releases")
                       if f.marker.kind == "install" and f.to == releases.latest())
        with psycopg.connect(plain) as conn, pytest.raises(psycopg.Error) as e:
            conn.execute(install.text.encode())
        assert "not a Supabase project" in str(e.value) and "jobsdb db scratch" in str(e.value)
        with psycopg.connect(plain) as conn:
            assert releases.installed(conn) is None
    finally:
        j.drop()
    r = jobsdb("db", "scratch", f"jobsdb_scratch_{os.getpid()}")
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip()
    try:
        assert jobsdb("migrate", "--url", url).returncode == 0
        with psycopg.connect(url) as conn:
            assert releases.installed(conn) == releases.latest()
    finally:
        _janitor(owner_url, url.rsplit("/", 1)[1]).drop()


# ---- the project's own spec tables ---------------------------------------------------------


@pytest.mark.parametrize("app_sql, missing", [
    ("create table public.profiles (id text primary key, nickname text not null)",
     "public.profiles has no column id uuid"),
    ("create table public.images_videos (id uuid primary key, user_id uuid, url text not null)",
     "public.images_videos has no column asset_index integer"),
    ("create table public.projects (id uuid, user_id uuid)",
     "public.projects needs a primary key or unique constraint on (id)"),
])
def test_a_projects_own_table_that_lacks_what_jobsdb_needs_stops_the_install(
        bare_db: str, app_sql: str, missing: str) -> None:
    with psycopg.connect(bare_db, autocommit=True) as conn:
        conn.execute(app_sql)
    line = one_error_line(jobsdb("migrate", "--url", bare_db), errors.MIGRATION)
    assert "[42P16] jobsdb cannot use the project's own tables:" in line and missing in line
    with psycopg.connect(bare_db) as conn:
        assert releases.installed(conn) is None
        assert conn.execute("select to_regnamespace('jobs_private')").fetchone() == (None,)


def test_after_a_cut_migrate_new_points_to_the_next_release(fixture: Fixture) -> None:
    line = one_error_line(jobsdb("migrate", "new", "late_change", env=fixture.env()),
                          errors.USAGE)
    assert "a schema change is a step of the next release" in line
    assert not list((fixture.root / "migrations").glob("*_late_change.sql"))


def test_migrate_finishes_a_partial_history_then_upgrades_it(
        bare_db: str, superuser_url: str | None, template_db: Template, tmp_path: Path) -> None:
    """A database with only part of the migrations before 1.0.0: `jobsdb migrate` applies the
    rest of them (each with its own version) and then the upgrade; a dry run first changes
    nothing."""
    part = tmp_path / "part"
    part.mkdir()
    history = sorted((ROOT / "migrations").glob("*.sql"))
    for f in history[:-3]:
        shutil.copy(f, part)
    migrate.up(bare_db, part, out=quiet)
    r = jobsdb("migrate", "status", "--url", bare_db)
    assert r.returncode == 1 and f"pending  {history[-1].name}" in r.stdout, r.stdout
    r = jobsdb("migrate", "--dry-run", "--url", bare_db)
    assert r.returncode == 0 and "rolled back" in r.stdout, r.stdout + r.stderr
    assert len(history_rows(bare_db)) == len(history) - 3
    assert jobsdb("migrate", "--url", bare_db).returncode == 0
    assert [v for v, _ in history_rows(bare_db)][:len(history)] == [
        f.name.split("_", 1)[0] for f in history]
    with template_db.clone() as installed:
        with psycopg.connect(installed, autocommit=True) as c:
            c.execute("drop schema tests cascade")
            c.execute("drop extension pgtap")
        assert dump(bare_db, superuser_url) == dump(installed, superuser_url)
