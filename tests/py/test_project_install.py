"""jobsdb inside someone else's Supabase project, end to end.

A Supabase-like project with migrations of its own (its own profiles, with a NOT NULL column
without a default filled by a handle_new_user trigger on auth.users, and its own projects);
`jobsdb install --into` writes jobsdb after them; more migrations of the project's own follow
(a table referencing jobs with its own policies, a job type of its own). Everything is applied
exactly as `supabase db push` applies it (tests/py/test_migrations_under_load.py,
apply_like_supabase_cli; a file older than the last one applied is refused, as the CLI does
without --include-all). Then `jobsdb test --url` (and `jobsdb doctor --url`, where this
checkout has it) pass there, and again where every table of the spec is the project's own; the
project upgrades from that release to the next (a fixture release, tests/py/fixture_release.py)
the same way, and the schema tests pass again; a second install writes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from fixture_release import Fixture, make
from test_doctor import roll_up
from test_migrations_under_load import apply_like_supabase_cli

from jobsdb import migrate, releases
from jobsdb.postgrest import as_user, rpc

# serial: `jobsdb test --url` compares the cluster's roles and memberships before and after
# (its trace check), and other tests create and drop roles (worker logins, Realtime's role)
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
JOBSDB = str(Path(sys.executable).with_name("jobsdb"))

APP_BEFORE = {
    "20261101000000_profiles_and_signup.sql": """
-- The app's own profiles: a username every user must have, filled at sign-up.
create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    username text not null unique,
    plan text not null default 'free',
    created_at timestamptz not null default now()
);
alter table public.profiles enable row level security;
create policy "Profiles are visible to signed-in users"
on public.profiles for select to authenticated using (true);
create policy "Users update their own profile"
on public.profiles for update to authenticated using ((select auth.uid()) = id);

create function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.profiles (id, username)
    values (new.id, coalesce(new.raw_user_meta_data ->> 'username', 'user_' || new.id::text));
    return new;
end;
$$;
revoke all on function public.handle_new_user() from public, anon, authenticated;
create trigger on_auth_user_created
after insert on auth.users
for each row execute function public.handle_new_user();
""",
    "20261102000000_projects.sql": """
create table public.projects (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    name text not null,
    color text not null default 'blue'
);
create index projects_user_id_idx on public.projects (user_id);
alter table public.projects enable row level security;
create policy "Users see their own projects"
on public.projects for select to authenticated using ((select auth.uid()) = user_id);
""",
}
APP_AFTER = """
-- Favourites of the app's own, referencing jobsdb's jobs, with policies of its own.
create table public.job_favorites (
    user_id uuid not null references public.profiles (id) on delete cascade,
    job_id uuid not null references public.jobs (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (user_id, job_id)
);
create index job_favorites_job_id_idx on public.job_favorites (job_id);
alter table public.job_favorites enable row level security;
create policy "Users manage their own favorites"
on public.job_favorites for all to authenticated
using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
grant select, insert, delete on public.job_favorites to authenticated;

-- A job type of the app's own (docs/operators.md: adding a type is an insert).
insert into public.job_types (
    job_type, worker_pool, media_type, format, quality, model_type, output_bucket, lease_seconds
)
values ('flux_image_fast', 'flux', 'image', 'png', 'fast', 'flux', 'flux_image_fast', 120);
"""


# The rest of the spec's tables as a project might have them, with what jobsdb needs and more.
APP_ALL_TABLES = """
create table public.user_roles (
    user_id uuid not null references public.profiles (id) on delete cascade,
    role text not null,
    primary key (user_id, role)
);
create table public.api_models (
    id uuid primary key default gen_random_uuid(),
    model_key text not null unique,
    provider text not null,
    display_name text,
    is_active boolean not null default true,
    price_cents integer not null default 0
);
create table public.prompt_tests (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    prompt text not null,
    created_by uuid references public.profiles (id) on delete set null
);
create table public.images_videos (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    job_id uuid,
    asset_index integer not null,
    asset_type text not null,
    bucket text not null,
    file_path text not null,
    file_name text not null,
    thumbnail_path text,
    metadata jsonb not null default '{}',
    created_at timestamptz not null default now(),
    title text,
    constraint images_videos_job_asset_key unique (job_id, asset_index)
);
create table public.videos (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references public.profiles (id) on delete cascade,
    asset_id uuid not null unique references public.images_videos (id) on delete cascade,
    file_path text not null,
    thumbnail_path text,
    duration_seconds numeric
);
alter table public.user_roles enable row level security;
alter table public.api_models enable row level security;
alter table public.prompt_tests enable row level security;
alter table public.images_videos enable row level security;
alter table public.videos enable row level security;
create policy "Users see their own outputs"
on public.images_videos for select to authenticated using ((select auth.uid()) = user_id);
"""
UNLESS = "-- jobsdb:unless-app-table "


def expected_skips(own: set[str]) -> int:
    """pgTAP files that check jobsdb's rules for a table the project has of its own."""
    n = 0
    for f in (ROOT / "tests" / "pgtap").glob("**/*.sql"):
        heads = [ln[len(UNLESS):].strip() for ln in f.read_text().splitlines()
                 if ln.startswith(UNLESS)]
        n += any(h in own for h in heads)
    return n


class Project:
    """The project's migrations directory and its database, pushed the way the CLI pushes."""

    def __init__(self, directory: Path, url: str) -> None:
        self.dir, self.url = directory, url

    def write(self, name: str, text: str) -> None:
        (self.dir / name).write_text(text.lstrip("\n"))

    def applied(self) -> list[str]:
        with psycopg.connect(self.url) as conn:
            if migrate.history_exists(conn):
                return [r[0] for r in conn.execute(
                    "select version from supabase_migrations.schema_migrations")]
        return []

    def push(self) -> list[str]:
        """`supabase db push`: the pending files in version order, each as the CLI runs it."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            migrate.ensure_history(conn)
        done = set(self.applied())
        files = [m for m in migrate.load_dir(self.dir) if m.version not in done]
        last = max(done, default="")
        older = [m.filename for m in files if m.version < last]
        assert not older, f"supabase db push would refuse these without --include-all: {older}"
        for m in files:
            apply_like_supabase_cli(self.url, m.path)
        return [m.filename for m in files]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if k not in ("JOBSDB_SHIM_AUTO_GRANTS",)}
    return subprocess.run([JOBSDB, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**e, **(env or {})}, timeout=600)


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    fx = make(tmp_path_factory.mktemp("fixture") / "src", way_back=False)
    shutil.copytree(ROOT / "tests", fx.root / "tests", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return fx


@pytest.fixture(scope="module")
def project(bare_db_factory_module, tmp_path_factory: pytest.TempPathFactory) -> Project:
    d = tmp_path_factory.mktemp("app") / "supabase" / "migrations"
    d.mkdir(parents=True)
    p = Project(d, bare_db_factory_module())
    for name, text in APP_BEFORE.items():
        p.write(name, text)
    assert p.push() == list(APP_BEFORE)
    return p


def failures(r: subprocess.CompletedProcess[str]) -> str:
    """`jobsdb test`'s output without the passing files."""
    return "\n".join(ln for ln in r.stdout.splitlines() if not ln.startswith("ok "))[-8000:] \
        + r.stderr


def test_jobsdb_installs_into_the_project_beside_its_own_tables(project: Project,
                                                                fixture: Fixture) -> None:
    r = run("install", "--into", str(project.dir), "--release", fixture.old, env=fixture.env())
    assert r.returncode == 0, r.stderr
    (written,) = [ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("wrote ")]
    assert Path(written).name > max(APP_BEFORE)
    assert project.push() == [Path(written).name]
    # more of the project's own, after jobsdb: written later, as the project's next migration
    project.write("20991231000000_favorites_and_a_job_type.sql", APP_AFTER)
    assert project.push() == ["20991231000000_favorites_and_a_job_type.sql"]
    with psycopg.connect(project.url) as conn:
        assert releases.installed(conn) == fixture.old
        assert conn.execute("select table_name from jobs_private.app_tables order by 1"
                            ).fetchall() == [("public.profiles",), ("public.projects",)]
        assert conn.execute("select count(*) from jobs_private.app_table_problems()"
                            ).fetchone() == (0,)
        # the project's tables are as it made them: its columns, policies and no jobsdb grants
        cols = conn.execute("select column_name from information_schema.columns where"
                            " table_schema = 'public' and table_name = 'profiles' order by 1")
        assert [c for (c,) in cols] == ["created_at", "id", "plan", "username"]
        pols = conn.execute("select policyname from pg_policies where tablename = 'profiles'"
                            " order by 1").fetchall()
        assert pols == [("Profiles are visible to signed-in users",),
                        ("Users update their own profile",)]
        conn.execute("create extension pgtap with schema extensions")
        conn.commit()
    r = run("migrate", "status", "--url", project.url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 migration(s) of the project's own" in r.stdout and "UNKNOWN" not in r.stdout


def test_a_signed_up_user_queues_and_a_worker_completes_in_the_project(project: Project) -> None:
    with psycopg.connect(project.url, autocommit=True) as conn:
        uid = conn.execute(
            "insert into auth.users (id, email, raw_user_meta_data, created_at)"
            " values (gen_random_uuid(), 'ada@example.com', '{\"username\": \"ada\"}', now())"
            " returning id::text").fetchone()[0]
        assert conn.execute("select username from public.profiles where id = %s",
                            (uid,)).fetchone() == ("ada",)
        res = rpc(conn, "queue_job", {"job_type": "flux_image_fast", "prompt": "a lighthouse"},
                  claims=as_user(uid))
        (claim,) = rpc(conn, "claim_jobs", {"worker_pool": "flux", "worker_id": "w1"},
                       role="jobs_worker")
        assert claim["job_id"] == res["jobs"][0]["id"]
        done = rpc(conn, "job_callback", {"job_id": claim["job_id"], "status": "completed",
                                          "lease_token": claim["lease_token"],
                                          "assets": [f"{uid}/out.png"]}, role="jobs_worker")
        assert done["result"] == "completed"
        conn.execute("insert into public.job_favorites (user_id, job_id) values (%s, %s)",
                     (uid, claim["job_id"]))


N_FILES = len(list((ROOT / "tests" / "pgtap").glob("**/*.sql")))


def test_jobsdb_test_passes_on_the_project(project: Project) -> None:
    r = run("test", "--url", project.url)
    assert r.returncode == 0, failures(r)
    skips = expected_skips({"public.profiles", "public.projects"})
    assert skips >= 3  # the files about jobsdb's own profiles and projects
    assert f"{N_FILES - skips} passed, 0 failed, {skips} skipped" in r.stdout


def test_jobsdb_test_passes_where_every_spec_table_is_the_projects_own(
        bare_db_factory_module, tmp_path: Path) -> None:
    d = tmp_path / "migrations"
    d.mkdir()
    p = Project(d, bare_db_factory_module())
    for name, text in APP_BEFORE.items():
        p.write(name, text)
    p.write("20261103000000_the_other_spec_tables.sql", APP_ALL_TABLES)
    p.push()
    assert run("install", "--into", str(d)).returncode == 0
    p.write("20991231000000_favorites_and_a_job_type.sql", APP_AFTER)
    assert len(p.push()) == 2
    with psycopg.connect(p.url, autocommit=True) as conn:
        assert conn.execute("select count(*) from jobs_private.app_tables").fetchone() == (7,)
        conn.execute("create extension pgtap with schema extensions")
    r = run("test", "--url", p.url)
    assert r.returncode == 0, failures(r)
    skips = expected_skips({f"public.{t}" for t in (
        "profiles", "user_roles", "projects", "api_models", "prompt_tests", "images_videos",
        "videos")})
    assert f"{N_FILES - skips} passed, 0 failed, {skips} skipped" in r.stdout


def test_jobsdb_doctor_is_healthy_on_the_project(project: Project) -> None:
    with psycopg.connect(project.url, autocommit=True) as conn:
        roll_up(conn)  # as the doctor advises
    r = run("doctor", "--url", project.url)
    # job_favorites' key into jobs cascades: deletes, seals and retirement handle its rows
    assert r.returncode == 0 and "healthy" in r.stderr, r.stdout + r.stderr
    # a key that refuses deletes is the one finding (it would hold history in place)
    project.write("20991231000001_job_reports.sql",
                  "create table public.job_reports (id bigint primary key,"
                  " job_id uuid references public.jobs (id));\n"
                  "alter table public.job_reports enable row level security;\n")
    assert project.push() == ["20991231000001_job_reports.sql"]
    r = run("doctor", "--url", project.url)
    assert r.returncode == 15, r.stdout + r.stderr
    assert [ln.split(":")[0] for ln in r.stdout.splitlines()] == ["references"], r.stdout
    assert "table public.job_reports references public.jobs" in r.stdout
    # the project follows its advice in a migration of its own: the job id without a key
    project.write("20991231000002_reports_keep_the_job_id.sql",
                  "alter table public.job_reports drop constraint job_reports_job_id_fkey;\n")
    assert project.push() == ["20991231000002_reports_keep_the_job_id.sql"]
    r = run("doctor", "--url", project.url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "healthy" in r.stderr


def test_the_project_upgrades_to_the_next_release_and_the_tests_pass(
        project: Project, fixture: Fixture) -> None:
    env = fixture.env()
    r = run("install", "--into", str(project.dir), env=env)
    assert r.returncode == 0, r.stderr
    (written,) = [Path(ln.split()[1]).name for ln in r.stdout.splitlines()
                  if ln.startswith("wrote ")]
    assert written > "20991231000000" and "_to_" in written
    assert project.push() == [written]
    with psycopg.connect(project.url) as conn:
        assert releases.installed(conn) == fixture.new
        # the project's own data and type came through
        assert conn.execute("select count(*) from public.job_favorites").fetchone() == (1,)
        assert conn.execute("select worker_pool from public.job_types"
                            " where job_type = 'flux_image_fast'").fetchone() == ("flux",)
    # the suite runs there again (its schema files: the whole suite ran on the release before)
    r = run("test", "--url", project.url, "tests/pgtap/schema", env=env)
    assert r.returncode == 0, failures(r)
    assert " passed, 0 failed" in r.stdout
    # a second install writes nothing
    before = sorted(p.name for p in project.dir.iterdir())
    r = run("install", "--into", str(project.dir), env=env)
    assert r.returncode == 0 and "nothing written" in r.stdout, r.stdout + r.stderr
    assert sorted(p.name for p in project.dir.iterdir()) == before
    assert project.push() == []
