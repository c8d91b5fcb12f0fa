"""`jobsdb doctor`: every finding planted alone on an otherwise healthy project.

The project: a database built from the migrations before 1.0.0 and upgraded to the newest
release (shim, migrations, helpers, `jobsdb migrate`), cloned, with Supabase Realtime's
objects (tests/fixtures/supabase_realtime.sql) and broadcasts on, the metrics rolled up, and a
doctor login (LOGIN, granted jobs_doctor alone, default_transaction_read_only = on). Each plant
runs in a transaction of the owner that is always rolled back; the doctor then runs inside it as
the doctor login's role (`set local role`, read only), so a test costs a fraction of a second
and leaves nothing behind. The command
itself (exit codes, the login's own read-only session, DATABASE_URL) runs as a subprocess a few
times. pg_cron's checks need a cluster that preloads it: test_doctor_pg_cron at the end.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb import doctor, embedded, errors, migrate, package_migrate, queries, releases
from jobsdb.testdb import Template, _psql_file, build_template, drop_realtime_role
from jobsdb.urls import url_for_db

# serial: the doctor's findings name every worker login of the cluster (logins are roles,
# cluster-wide), and other tests create them
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]
REALTIME = (ROOT / "tests" / "fixtures" / "supabase_realtime.sql").read_text()
JOBSDB = [sys.executable, "-m", "jobsdb.cli"]

@dataclass
class Project:
    url: str  # the owner's
    doctor: str  # the doctor login's role name
    realtime: bool

    @property
    def doctor_url(self) -> str:
        return _user_url(self.url, self.doctor)


def _user_url(url: str, user: str) -> str:
    return re.sub(r"://[^@/]*@", f"://{user}@", url)


def roll_up(conn: psycopg.Connection[Any]) -> None:
    """The metrics roll-up, until it has closed hours: a transaction open in the database
    when it first looks makes it wait for that transaction (a later call)."""
    deadline = time.monotonic() + 30
    while True:
        conn.execute("select jobs_private.rollup_job_metrics()")
        if conn.execute("select exists (select from jobs_private.job_metrics_hours)").fetchone()[0]:
            return
        assert time.monotonic() < deadline, "the roll-up closed no hour in 30 s"
        time.sleep(0.2)


def make_doctor_login(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(f"create role {name} login in role jobs_doctor")
    conn.execute(f"alter role {name} set default_transaction_read_only = on")


@pytest.fixture(scope="module")
def history_template(owner_url: str, superuser_url: str | None) -> Iterator[Template]:
    """A project that came the long way: the migration history before 1.0.0 (shim, helpers),
    then `jobsdb migrate` to the newest release, so the history rows the migration checks read
    are there as on such a project."""
    tpl = build_template(owner_url, superuser_url, ROOT, migrations_dir=ROOT / "migrations",
                         helpers=ROOT / "no helpers yet")
    try:
        package_migrate.up(tpl.url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        r = _psql_file(tpl.url, ROOT / "tests" / "helpers.sql")  # they need the release
        assert r.returncode == 0, r.stdout + r.stderr
        yield tpl
    finally:
        tpl.drop()


@pytest.fixture(scope="module")
def project(history_template: Template, superuser_url: str | None) -> Iterator[Project]:
    template_db = history_template
    name = f"doctor_{os.getpid()}_{secrets.token_hex(3)}"
    realtime = False
    try:
        with template_db.clone() as url:
            if superuser_url:
                with psycopg.connect(url_for_db(superuser_url, url.rsplit("/", 1)[1]),
                                     autocommit=True) as su:
                    su.execute(REALTIME)
                realtime = True
            with psycopg.connect(url, autocommit=True) as conn:
                if realtime:
                    assert conn.execute(
                        "select jobs_private.enable_realtime_broadcast()").fetchone()[0]
                roll_up(conn)
                make_doctor_login(conn, name)
                conn.execute(f"grant {name} to current_user")  # to act as it: set local role
            yield Project(url, name, realtime)
    finally:
        with psycopg.connect(template_db.owner_url, autocommit=True) as conn:
            conn.execute(f"drop role if exists {name}")
        if realtime and superuser_url:
            drop_realtime_role(superuser_url)


STAND_IN = (
    "create or replace function jobs_private.installed_release() returns text language sql"
    " set search_path = pg_catalog, pg_temp as $$ select '{version}'::text $$;"
    " grant execute on function jobs_private.installed_release() to jobs_doctor"
)

Plant = str | Callable[[psycopg.Connection[Any]], object]


def diagnose(project: Project, *plants: Plant, latest: str | None = None,
             limits: doctor.Limits | None = None, role: str | None = None) -> doctor.Report:
    """The doctor's report on the project with the plants applied (as the owner), run as the
    doctor's role in a read-only transaction; everything rolled back."""
    with psycopg.connect(project.url) as conn:
        try:
            # the roll-up as pg_cron keeps it, however long ago the module's project was made
            # (the doctor allows its newest minute 10 minutes)
            conn.execute("select jobs_private.rollup_job_metrics()")
            for plant in plants:
                plant(conn) if callable(plant) else conn.execute(plant)
            conn.execute(f"set local role {role or project.doctor}")
            conn.execute("set transaction read only")
            return doctor.check(conn, limits or doctor.Limits(), latest=latest)
        finally:
            conn.rollback()


def only(report: doctor.Report, check: str, pattern: str) -> str:
    """The report's one finding, which must be of `check` and match `pattern`."""
    assert report.exit_code == doctor.FINDINGS == 15
    assert len(report.findings) == 1, report.findings
    line = report.findings[0]
    assert line.startswith(f"{check}: "), line
    assert re.search(pattern, line), line
    return line


def job(job_type: str = "image_fast", status: str = "queued", **columns: str) -> Plant:
    """A job of a new user in `status`, with `columns` set to SQL expressions afterwards."""

    def plant(conn: psycopg.Connection[Any]) -> None:
        user = conn.execute("select tests.create_user(%s)",
                            (f"{secrets.token_hex(5)}@example.com",)).fetchone()[0]
        jid = conn.execute("insert into public.jobs (user_id, job_type) values (%s, %s)"
                           " returning id", (user, job_type)).fetchone()[0]
        if status != "queued":
            conn.execute(
                "update public.jobs set status = 'processing', attempts = 1, locked_by = 'w1',"
                " lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute'"
                " where id = %s", (jid,))
        if status in ("completed", "failed"):
            conn.execute("update public.jobs set status = %s where id = %s", (status, jid))
        if columns:
            sets = ", ".join(f"{c} = {expr}" for c, expr in columns.items())
            conn.execute(f"update public.jobs set {sets} where id = %s", (jid,))

    return plant


# ---- healthy ------------------------------------------------------------------------------


def test_a_healthy_project_has_no_finding(project: Project) -> None:
    report = diagnose(project)
    assert report.findings == []
    assert report.exit_code == 0
    assert report.checks == len(doctor.CHECKS)
    notes = [n.split(":")[0] for n in report.notes]
    assert notes == ["pg_cron"] if project.realtime else ["pg_cron", "realtime"]


def test_busy_but_healthy_queue_has_no_finding(project: Project) -> None:
    """Work in every state, inside the thresholds, is no finding."""
    report = diagnose(
        project,
        job(), job(run_at="now() - interval '10 minutes'"),
        job(run_at="now() + interval '2 hours'"),  # a retry waiting: not runnable yet
        job(status="processing", lease_expires_at="now() - interval '1 minute'"),
        job(status="processing", started_at="now() - interval '31 minutes'",
            lease_expires_at="now() + interval '1 minute'"),  # 1 min past its 30 min
        *[job(status="completed") for _ in range(8)], job(status="failed"),
    )
    assert report.findings == []


# ---- the package and the role --------------------------------------------------------------


def test_a_database_without_jobsdb(bare_db: str) -> None:
    with psycopg.connect(bare_db) as conn:
        conn.execute("set transaction read only")
        report = doctor.check(conn)
        conn.rollback()
    assert report.findings == [
        "package: jobsdb is not installed in this database (no jobs_private, no public.jobs):"
        " install it: `jobsdb migrate --url URL` (or `supabase db push`)"
    ]
    assert report.exit_code == 15


def test_a_jobsdb_from_before_the_doctor(project: Project) -> None:
    only(diagnose(project, "drop function jobs_private.queue_health()"), "package",
         r"predates the doctor \(no jobs_private.queue_health\(\)\): apply")


def test_a_role_without_jobs_doctor_is_told_what_to_grant(project: Project) -> None:
    role = f"nodoc_{secrets.token_hex(3)}"
    with pytest.raises(errors.PrivilegeError) as e:
        diagnose(project, f"create role {role} login", f"grant {role} to current_user",
                 role=role)
    assert str(e.value) == (
        f"role {role} may not read the package's health (it lacks usage on schema jobs_private,"
        " execute on function jobs_private.queue_health(), execute on function"
        " jobs_private.maintenance_schedules(), execute on function"
        " jobs_private.migration_history(), select on table jobs_private.worker_logins, select"
        " on table jobs_private.job_metrics_hours, select on table"
        " jobs_private.job_metrics_stale, execute on function"
        f" jobs_private.installed_release()): as the owner, `grant jobs_doctor to {role};`"
    )


# ---- release and migrations ----------------------------------------------------------------

NO_RELEASE = "drop function if exists jobs_private.installed_release()"


def release(version: str) -> str:
    return STAND_IN.format(version=version)


def test_release_pending_upgrade(project: Project) -> None:
    only(diagnose(project, release("1.0.0"), latest="1.1.0"), "release",
         r"^release: release 1\.0\.0 is installed and 1\.1\.0 is available: upgrade: `jobsdb")


def test_release_pre_history_database(project: Project) -> None:
    only(diagnose(project, NO_RELEASE, latest="1.0.0"), "release",
         r"migration history from before 1\.0\.0 \(no installed release\): upgrade to release"
         r" 1\.0\.0")


def test_release_newer_than_the_toolkit(project: Project) -> None:
    only(diagnose(project, release("1.2.0"), latest="1.0.0"), "release",
         r"has release 1\.2\.0, newer than 1\.0\.0")


def test_release_current_is_healthy_and_old_files_are_history(project: Project) -> None:
    """At the newest release nothing is pending, even with the pre-release history missing."""
    report = diagnose(project, release("1.0.0"),
                      "delete from supabase_migrations.schema_migrations", latest="1.0.0")
    assert report.findings == []


def test_release_not_executable_by_the_doctor_is_a_privilege_error(project: Project) -> None:
    with pytest.raises(errors.PrivilegeError, match=r"installed_release\(\)"):
        diagnose(project, release("1.0.0"),
                 "revoke execute on function jobs_private.installed_release() from jobs_doctor,"
                 " public", latest="1.0.0")


def test_migrations_pending(project: Project) -> None:
    only(diagnose(project, NO_RELEASE,
                  "delete from supabase_migrations.schema_migrations"
                  " where version = '20261201180503'"),
         "migrations", r"1 migration\(s\) of the package are not applied"
                       r" \(20261201180503_claim_index_swapped_for_the_ascending_one\.sql\)")


def test_migrations_changed(project: Project) -> None:
    only(diagnose(project, "update supabase_migrations.schema_migrations"
                           " set statements = array['select 1'] where version = '20261128140000'"),
         "migrations", r"applied migration 20261128140000_bootstrap_schemas_and_roles\.sql"
                       r" differs from the package's file")


def test_migrations_of_the_app_are_left_alone(project: Project) -> None:
    report = diagnose(project, "insert into supabase_migrations.schema_migrations"
                               " (version, name, statements)"
                               " values ('20261202000000', 'app_tables', array['select 1'])")
    assert report.findings == []


def test_migration_digests_are_the_files_digests(project: Project) -> None:
    """jobs_private.migration_history() and the toolkit digest a migration alike."""
    with psycopg.connect(project.url) as conn:
        history = {v: d for v, _name, d in
                   conn.execute("select * from jobs_private.migration_history()")}
    files = migrate.load_dir(ROOT / "migrations")
    assert {v: d for v, d in history.items() if v <= files[-1].version} == {
        m.version: doctor.statements_md5(m.statements) for m in files}
    # and the upgrades to the newest release (one per step), recorded after them, alike
    upgrades = sorted(v for v in history if v > files[-1].version)
    steps = releases.path(releases.PRE, releases.latest(ROOT / "releases"),
                          releases.carried(ROOT / "releases"))
    assert len(upgrades) == len(steps) >= 1
    assert [history[v] for v in upgrades] == [
        doctor.statements_md5(package_migrate.release_migration(s, v).statements)
        for s, v in zip(steps, upgrades, strict=True)]


# ---- Realtime, roll-up ------------------------------------------------------------------------

needs_realtime = pytest.mark.skipif(
    not embedded.superuser_url(), reason="Supabase Realtime's fixture needs a superuser")


@needs_realtime
@pytest.mark.parametrize("plant, pattern", [
    ("drop trigger jobs_status_broadcast_trg on public.jobs",
     r"broadcasts are off \(no trigger jobs_status_broadcast_trg on jobs\): run `select"
     r" jobs_private.enable_realtime_broadcast\(\);`"),
    ('drop policy "jobsdb: users receive their own job status broadcasts" on realtime.messages',
     r"broadcasts are off \(no policy letting users join their topic\)"),
    ("alter table public.jobs disable trigger jobs_status_broadcast_trg",
     r"jobs_status_broadcast_trg on public.jobs is disabled"),
], ids=["no trigger", "no policy", "trigger disabled"])
def test_realtime(project: Project, plant: str, pattern: str) -> None:
    only(diagnose(project, plant), "realtime", pattern)


@pytest.mark.parametrize("plant, pattern", [
    ("delete from jobs_private.job_metrics_minutes where minute > now() - interval '20 minutes'",
     r"roll-up lags more than 10min \(minutes rolled up through \d{4}-\d\d-\d\d \d\d:\d\d UTC\)"),
    ("delete from jobs_private.job_metrics_minutes", r"roll-up has never run"),
    ("insert into jobs_private.job_metrics_stale (hour, marked_at)"
     " values (date_trunc('hour', now()) - interval '5 hours', now() - interval '3 hours')",
     r"; an hour marked stale at .* UTC still waits\): run"),
    # a release whose minutes jobs_doctor may not read (1.12.0): its whole hours, allowed 2h more
    ("revoke select on jobs_private.job_metrics_minutes from jobs_doctor;"
     " delete from jobs_private.job_metrics_hours where hour > now() - interval '4 hours'",
     r"roll-up lags more than 10min \+ 2h \(hours rolled up through \d{4}-\d\d-\d\d \d\d:\d\d"
     r" UTC\)"),
], ids=["lag", "never", "stale hour", "hours"])
def test_metrics_rollup(project: Project, plant: str, pattern: str) -> None:
    only(diagnose(project, plant), "metrics", pattern)


def test_metrics_rollup_of_whole_hours_within_their_lag_is_healthy(project: Project) -> None:
    # whole hours lag up to about an hour by nature: up to 2 hours back is within 10min + 2h
    # (deleting 4 hours, above, is not)
    report = diagnose(project, "revoke select on jobs_private.job_metrics_minutes"
                               " from jobs_doctor; delete from jobs_private.job_metrics_hours"
                               " where hour > now() - interval '2 hours'")
    assert report.findings == [], report.findings


# ---- the queue ------------------------------------------------------------------------------


def test_expired_leases_not_rescued(project: Project) -> None:
    plant = job(status="processing", lease_expires_at="now() - interval '12 minutes'",
                started_at="now() - interval '13 minutes'")
    only(diagnose(project, plant), "leases",
         r"^leases: pool wan: 1 job\(s\) hold a lease that expired, the oldest 12 min ago"
         r" \(over 5min\)")
    assert diagnose(project, plant, limits=doctor.Limits(lease_grace="15min")).findings == []


def test_stuck_jobs(project: Project) -> None:
    plant = job("video_fast", status="processing",
                started_at="now() - interval '2 hours 40 minutes'",  # max_run_seconds 7200
                lease_expires_at="now() + interval '1 minute'")
    only(diagnose(project, plant), "stuck",
         r"^stuck: job type video_fast \(pool wan\): 1 job\(s\) still processing past"
         r" max_run_seconds \(7200 s\), the longest by 40 min \(over 15min\)")
    assert diagnose(project, plant, limits=doctor.Limits(max_overrun="1h")).findings == []


def test_oldest_queued_job_per_pool(project: Project) -> None:
    plant = job("sdxl_image_fast", run_at="now() - interval '20 minutes'")
    only(diagnose(project, job(), plant), "queue",
         r"^queue: pool sdxl: its oldest runnable job has waited 20 min \(over 15min; 1 job\(s\)"
         r" queued\)")
    assert diagnose(project, plant, limits=doctor.Limits(max_queue_age="30min")).findings == []


def test_failure_rate_of_the_last_hour(project: Project) -> None:
    plants = [job("rv51_fast", status="failed") for _ in range(4)]
    plants += [job("rv51_fast", status="completed") for _ in range(6)]
    only(diagnose(project, *plants), "failures",
         r"^failures: job type rv51_fast \(pool rv51\): 4 of 10 jobs finished in the last hour"
         r" failed \(40%, over 25%\)")
    assert diagnose(project, *plants, limits=doctor.Limits(max_failure_rate="50")).findings == []
    assert diagnose(project, *plants, limits=doctor.Limits(min_finished="11")).findings == []


# ---- worker logins -------------------------------------------------------------------------


def _name() -> str:
    return f"w_{secrets.token_hex(4)}"


def test_worker_login_whose_role_is_gone(project: Project) -> None:
    n = _name()
    only(diagnose(project, f"insert into jobs_private.worker_logins (login, worker_pools)"
                           f" values ('{n}', '{{sdxl}}')"),
         "workers", rf"scopes login {n}, but role {n} does not exist: delete the row")


def test_worker_login_scoped_to_a_pool_no_job_type_uses(project: Project) -> None:
    n = _name()
    only(diagnose(project, f"create role {n} login in role jobs_worker",
                  f"insert into jobs_private.worker_logins (login, worker_pools)"
                  f" values ('{n}', '{{sdxl,flux}}')"),
         "workers", rf"worker login {n} is scoped to pool\(s\) flux that no job type uses"
                    r" \(pools: rv51, sdxl, wan\)")


def test_worker_login_with_every_pool(project: Project) -> None:
    n = _name()
    only(diagnose(project, f"create role {n} login in role jobs_worker"),
         "workers", rf"worker login {n} may claim jobs of every pool: scope it")


def test_worker_scope_of_a_role_that_is_no_worker_login(project: Project) -> None:
    n = _name()
    only(diagnose(project, f"create role {n} nologin",
                  f"insert into jobs_private.worker_logins (login, worker_pools)"
                  f" values ('{n}', '{{wan}}')"),
         "workers", rf"scopes role {n}, which is not a worker login")


def test_worker_login_with_more_than_jobs_worker(project: Project) -> None:
    n = _name()
    only(diagnose(project, f"create role {n} login createdb in role jobs_worker, service_role",
                  f"insert into jobs_private.worker_logins (login, worker_pools)"
                  f" values ('{n}', '{{wan}}')"),
         "workers", rf"worker login {n} also holds service_role, CREATEDB")


def test_scoped_worker_logins_are_healthy(project: Project) -> None:
    n = _name()
    assert diagnose(project, f"create role {n} login in role jobs_worker",
                    f"insert into jobs_private.worker_logins (login, worker_pools)"
                    f" values ('{n}', '{{sdxl}}')").findings == []


# ---- the Security Advisor's lints and the stricter rule ------------------------------------


@pytest.mark.parametrize("plant, pattern", [
    ("grant execute on function public.claim_jobs(text, text, integer, integer) to anon",
     r"public.claim_jobs\(text,text,integer,integer\) is security definer and executable by"
     r" anon in exposed schema public.*\(Security Advisor 0028\)"),
    ("grant execute on function public.rescue_expired_jobs(integer) to authenticated",
     r"public.rescue_expired_jobs\(integer\) is security definer and executable by"
     r" authenticated .*\(Security Advisor 0029\)"),
    ("grant execute on function public.get_job(uuid) to anon",
     r"public.get_job\(uuid\) may be executed by anon"),
    ("alter function jobs_private.retry_delay(integer) reset search_path",
     r"jobs_private.retry_delay\(integer\) has no search_path setting.*Security Advisor 0011"),
    ("alter function public.claim_jobs(text, text, integer, integer) set search_path = ''",
     r"public.claim_jobs\(text,text,integer,integer\) runs with other rights than its caller's"
     r" \(security definer\) and its search_path \(\"\"\) does not put pg_temp last"),
    ("alter function jobs_private.touch_updated_at() set search_path = public",
     r"touch_updated_at\(\) runs with other rights than its caller's \(a trigger function\)"),
    ("alter function jobs_private.lease_digest(uuid) set search_path = pg_temp, pg_catalog",
     r"lease_digest\(uuid\) runs with other rights than its caller's \(reached from"),
    ("alter table public.jobs disable row level security",
     r"table public.jobs has row level security off and authenticated may read it.*0013"),
    ("create policy doctor_test on jobs_private.settings for select to service_role"
     " using (true)",
     r"table jobs_private.settings has policies \(doctor_test\) but row level security is off"
     r", so they do nothing \(Security Advisor 0007\)"),
    ('drop policy "Signed-in users can view api models" on public.api_models',
     r"table public.api_models has row level security on but no policy.*0008"),
    ('create policy "System can update jobs" on public.jobs for update to authenticated'
     " using (true)",
     r"policy \"System can update jobs\" on public.jobs lets authenticated update any row \(its"
     r" using is always true; Security Advisor 0024\)"),
    ('create policy "anyone adds outputs" on public.images_videos for insert with check (true)',
     r"on public.images_videos lets everyone insert any row \(its with check is always true"),
    ('create policy "admins by metadata" on public.jobs for select to authenticated using'
     " (((select auth.jwt()) -> 'user_metadata' ->> 'is_admin') = 'true')",
     r"policy \"admins by metadata\" on public.jobs reads user_metadata.*0015"),
    ("grant select on public.job_types to anon",
     r"anon may read public.job_types.*0026"),
    ("create view public.doctor_all_jobs as select id, status from public.jobs;"
     " grant select on public.doctor_all_jobs to authenticated",
     r"view public.doctor_all_jobs reads public.jobs with its owner's rights.*0010"),
    ("create materialized view public.doctor_job_counts as"
     " select status, count(*) from public.jobs group by status;"
     " grant select on public.doctor_job_counts to authenticated",
     r"materialized view public.doctor_job_counts copies public.jobs.*0016"),
], ids=["0028", "0029", "anon invoker", "0011", "pg_temp definer", "pg_temp trigger",
        "pg_temp first", "0013", "0007", "0008", "0024 update", "0024 insert", "0015", "0026",
        "0010", "0016"])
def test_security(project: Project, plant: str, pattern: str) -> None:
    only(diagnose(project, plant), "security", pattern)


def test_security_views_with_security_invoker_are_fine(project: Project) -> None:
    assert diagnose(
        project,
        "create view public.doctor_my_jobs with (security_invoker = on) as"
        " select id, status from public.jobs;"
        " grant select on public.doctor_my_jobs to authenticated",
    ).findings == []


def test_security_looks_at_the_schemas_postgrest_exposes(project: Project) -> None:
    """jobs_api's definer bodies are executable by authenticated by design, because PostgREST
    does not expose jobs_api; a project that exposes it is told."""
    report = diagnose(project, limits=doctor.Limits(
        exposed_schemas="public, graphql_public, jobs_api"))
    assert any(f.startswith("security: jobs_api.queue_job(") for f in report.findings)
    assert all("(Security Advisor 0029)" in f for f in report.findings), report.findings


def test_security_scope_lists_are_the_package_objects(project: Project) -> None:
    """The package's tables and functions in public, as the doctor lists them, are exactly what
    the migrations put there (a new RPC or table must be added to jobsdb/sql/doctor.sql)."""
    with psycopg.connect(project.url) as conn:
        conn.execute(queries.load("doctor.sql")["settings"])
        tables, functions = conn.execute(
            "select string_to_array(current_setting('jobsdb_doctor.public_tables'), ','),"
            " string_to_array(current_setting('jobsdb_doctor.public_functions'), ',')"
        ).fetchone()
        made_tables = [r[0] for r in conn.execute(
            "select relname from pg_class where relnamespace = 'public'::regnamespace"
            " and relkind in ('r', 'p', 'v', 'm') order by 1")]
        made_functions = [r[0] for r in conn.execute(
            "select distinct proname from pg_proc where pronamespace = 'public'::regnamespace"
            " order by 1")]
        conn.rollback()
    assert sorted(tables) == made_tables
    assert sorted(functions) == made_functions


# ---- app tables referencing jobs -----------------------------------------------------------


def test_app_table_referencing_jobs(project: Project) -> None:
    only(diagnose(project, "create table public.doctor_notes (id bigint primary key,"
                           " job_id uuid references public.jobs (id))"),
         "references",
         r"table public.doctor_notes references public.jobs \(foreign key"
         r" doctor_notes_job_id_fkey, on delete no action\): deleting a referenced job fails"
         r" .*jobsdb history retire")


def test_app_table_referencing_jobs_with_cascade_is_no_finding(project: Project) -> None:
    # deletes, the seal and retirement handle its rows as the key says
    report = diagnose(project, "create table public.doctor_likes (id bigint primary key,"
                               " job_id uuid references public.jobs (id) on delete cascade);"
                               " create index on public.doctor_likes (job_id, id)")
    assert report.findings == [] and report.exit_code == 0, report.findings


def test_app_table_referencing_jobs_without_an_index_on_its_key(project: Project) -> None:
    # the retirement's detach would read it whole under its lock; an index led by another
    # column does not help
    only(diagnose(project, "create table public.doctor_likes (id bigint primary key,"
                           " job_id uuid references public.jobs (id) on delete cascade);"
                           " create index on public.doctor_likes (id, job_id)"),
         "references", r"on delete cascade\): no index leads with job_id: `jobsdb history"
         r" retire` reads the table whole .* create index on public.doctor_likes \(job_id\)")


def test_partitioned_app_table_referencing_jobs(project: Project) -> None:
    only(diagnose(project, "create table public.doctor_marks (id bigint, job_id uuid"
                           " references public.jobs (id) on delete cascade,"
                           " primary key (id, job_id)) partition by hash (job_id)"),
         "references", r"on delete cascade\): a partitioned table's key stops `jobsdb history"
         r" seal`")


# ---- sealed history -------------------------------------------------------------------------


def sealed_partitions(n: int) -> Plant:
    """`n` empty partitions of jobs below the queue's, as seals leave them, made by DDL (the
    doctor reads the catalog only): in the id space no job id takes (below sequence number 1),
    the keys into jobs dropped around the detach and added back valid."""

    def plant(conn: psycopg.Connection[Any]) -> None:
        def bound(i: int) -> str:
            return f"'00000000-0000-{i:04x}-0000-000000000000'"

        keys = conn.execute(
            "select conname, conrelid::regclass::text, pg_get_constraintdef(oid)"
            " from pg_constraint where confrelid = 'public.jobs'::regclass and contype = 'f'"
            " and conparentid = 0").fetchall()
        for name, table, _ in keys:
            conn.execute(f"alter table {table} drop constraint {name}")
        conn.execute("alter table public.jobs detach partition jobs_private.jobs_hot")
        conn.execute("alter table public.jobs attach partition jobs_private.jobs_hot"
                     f" for values from ({bound(n)}) to (maxvalue)")
        for i in range(1, n + 1):
            low = "minvalue" if i == 1 else bound(i - 1)
            conn.execute(f"create table jobs_private.jobs_upto_{i:02d} partition of public.jobs"
                         f" for values from ({low}) to ({bound(i)})")
        for name, table, definition in keys:
            conn.execute(f"alter table {table} add constraint {name} {definition}")

    return plant


def test_sealed_partitions_past_the_limit(project: Project) -> None:
    at_limit = diagnose(project, sealed_partitions(3),
                        limits=doctor.Limits(max_sealed_partitions="3"))
    assert at_limit.findings == [], at_limit.findings
    only(diagnose(project, sealed_partitions(4), limits=doctor.Limits(max_sealed_partitions="3")),
         "history", r"public.jobs has 4 sealed partitions \(more than 3\): .* idempotency key:"
         r" retire the oldest \(`jobsdb history retire`\), and seal longer periods")


def test_a_key_into_jobs_left_not_valid(project: Project) -> None:
    only(diagnose(project, "alter table public.images_videos drop constraint"
                           " images_videos_job_id_fkey;"
                           " alter table public.images_videos add constraint"
                           " images_videos_job_id_fkey foreign key (job_id)"
                           " references public.jobs (id) on delete set null not valid"),
         "history", r"the foreign key images_videos_job_id_fkey of public.images_videos into"
         r" public.jobs is NOT VALID .* `select jobs_private.seal_check_keys\(\);`")


# ---- functions safe against the caller's temporary objects ---------------------------------

TRAPS = """
create function pg_temp.trap() returns boolean language plpgsql as
$$ begin raise exception 'taken over by a temporary object' using errcode = 'P0099'; end $$;
create domain pg_temp.text as pg_catalog.text check (pg_temp.trap());
create domain pg_temp.regclass as pg_catalog.regclass check (pg_temp.trap());
create domain pg_temp.timestamptz as pg_catalog.timestamptz check (pg_temp.trap());
create table pg_temp.pg_extension (extname pg_catalog.text);
create table pg_temp.jobs (id int);
"""


def test_doctor_functions_ignore_the_callers_temporary_objects(project: Project) -> None:
    """Names and types a caller plants in pg_temp do not reach the doctor's functions; the same
    function with search_path = '' (pg_temp searched first) is taken over."""
    with psycopg.connect(project.url) as conn:
        try:
            conn.execute(TRAPS)
            for f in ("queue_health", "maintenance_schedules", "migration_history"):
                conn.execute(f"select * from jobs_private.{f}()").fetchall()
            conn.execute("alter function jobs_private.migration_history() set search_path = ''")
            with pytest.raises(psycopg.Error, match="taken over") as e:
                conn.execute("select * from jobs_private.migration_history()").fetchall()
            assert e.value.sqlstate == "P0099"
        finally:
            conn.rollback()


# ---- the command ----------------------------------------------------------------------------


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*JOBSDB, "doctor", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=60)


def test_command_healthy_as_the_read_only_login(project: Project) -> None:
    with psycopg.connect(project.doctor_url) as conn:
        assert conn.execute("show transaction_read_only").fetchone()[0] == "on"
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user"
                            ).fetchone()[0] is False
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("create temp table doctor_scratch (id int)")
    r = run("--url", project.doctor_url)
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    assert "healthy: 13 checks, no finding" in r.stderr
    assert f"as role {project.doctor}, read-only" in r.stderr


def test_command_uses_database_url_without_url(project: Project) -> None:
    r = run(env={"DATABASE_URL": project.doctor_url})
    assert (r.returncode, r.stdout) == (0, ""), r.stderr


def test_command_finding_is_one_line_and_exit_15(project: Project) -> None:
    n = _name()
    with psycopg.connect(project.url, autocommit=True) as conn:
        conn.execute("insert into jobs_private.worker_logins (login, worker_pools)"
                     " values (%s, '{sdxl}')", (n,))
        try:
            r = run("--url", project.doctor_url)
        finally:
            conn.execute("delete from jobs_private.worker_logins where login = %s", (n,))
    assert r.returncode == 15, r.stderr
    assert r.stdout.splitlines() == [
        f"workers: jobs_private.worker_logins scopes login {n}, but role {n} does not exist:"
        f" delete the row (`delete from jobs_private.worker_logins where login = '{n}';` as the"
        " owner), or a role made later under that name gets its pools"
    ]
    assert "1 finding(s) in 13 check(s)" in r.stderr


def test_command_role_without_jobs_doctor_exit_7(project: Project) -> None:
    role = f"nodoc_{secrets.token_hex(3)}"
    with psycopg.connect(project.url, autocommit=True) as conn:
        conn.execute(f"create role {role} login")
        try:
            r = run("--url", _user_url(project.url, role))
        finally:
            conn.execute(f"drop role {role}")
    assert r.returncode == 7, r.stderr
    assert r.stdout == ""
    assert r.stderr.splitlines()[-1].startswith(f"error: role {role} may not read the package's")


@pytest.mark.parametrize("args, exit_code, message", [
    (["--lease-grace", "5"], 2, "'5' is not a duration: use e.g. 90s, 5min, 2h, 1d"),
    (["--max-failure-rate", "250"], 2, "'250' is not a percentage"),
    (["--max-sealed-partitions", "-1"], 2, "'-1' is not a whole number of 0 or more"),
    (["--url", "postgresql://nobody@127.0.0.1:1/postgres"], 5, "cannot connect"),
])
def test_command_errors(args: list[str], exit_code: int, message: str) -> None:
    r = run(*args)
    assert r.returncode == exit_code, r.stderr
    assert message in r.stderr


# ---- the operators' page -------------------------------------------------------------------


def test_operators_page_example_runs(template_db: Template) -> None:
    """docs/operators.md, "Checking a live project": its SQL runs as the owner and its shell
    blocks as written (DOCTOR_URL set), in order, on a database whose migrations just ran; each
    shell block prints the text block after it (the first line's server aside) and exits as
    the page says (15 with the finding, 0 once it is fixed)."""
    page = (ROOT / "docs" / "operators.md").read_text()
    section = page.split("## Checking a live project: jobsdb doctor\n", 1)[1].split("\n## ")[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    assert [kind for kind, _ in blocks] == ["sql", "sh", "text", "sql", "sh", "text"]
    exit_codes = iter([15, 0])
    login = f"doctor_doc_{secrets.token_hex(3)}"
    header = re.compile(r'database "[^"]*" on \S+ as role ')
    with template_db.clone() as url:
        try:
            shell = None
            for kind, body in blocks:
                body = body.replace("jobsdb_doctor", login)
                if kind == "sql":
                    with psycopg.connect(url, autocommit=True) as conn:
                        conn.execute(body)
                elif kind == "sh":
                    shell = subprocess.run(
                        ["bash", "-eu", "-c", body], capture_output=True, text=True, cwd=ROOT,
                        timeout=60, env={**os.environ, "DOCTOR_URL": _user_url(url, login),
                                         "PATH": f"{Path(sys.executable).parent}:"
                                                 f"{os.environ['PATH']}"})
                else:
                    assert shell is not None and shell.returncode == next(exit_codes)
                    err = shell.stderr.splitlines()
                    printed = [header.sub("", err[0]), *shell.stdout.splitlines(), *err[1:]]
                    lines = body.splitlines()
                    assert printed == [header.sub("", lines[0]), *lines[1:]]
        finally:
            with psycopg.connect(template_db.owner_url, autocommit=True) as conn:
                conn.execute(f"drop role if exists {login}")


# ---- pg_cron (a cluster that preloads it) ---------------------------------------------------


def test_doctor_pg_cron(request: pytest.FixtureRequest) -> None:
    """The package's pg_cron jobs scheduled and active: no finding and no note; a job missing,
    inactive or whose last run failed: its line."""
    from test_pg_cron import _pg_cron_installed, enable_pg_cron

    if not _pg_cron_installed():
        pytest.skip("pg_cron is not installed (`make deps` as root installs postgresql-15-cron)")
    cluster = request.getfixturevalue("cron_cluster")
    enable_pg_cron(cluster.superuser_url)
    name = f"doctor_{secrets.token_hex(3)}"
    with psycopg.connect(cluster.owner_url, autocommit=True) as conn:
        conn.execute("select jobs_private.schedule_maintenance()")
        roll_up(conn)
        make_doctor_login(conn, name)
        conn.execute(f"grant {name} to current_user")
    p = Project(cluster.owner_url, name, realtime=False)

    report = diagnose(p)
    assert report.findings == []
    assert not [n for n in report.notes if n.startswith("pg_cron")], report.notes

    only(diagnose(p, "select cron.unschedule('jobsdb-purge-finished-jobs')"), "pg_cron",
         r"^pg_cron: pg_cron job jobsdb-purge-finished-jobs \(it purges .*\) is not scheduled")
    only(diagnose(p, "update cron.job set active = false"
                     " where jobname = 'jobsdb-rescue-expired-jobs'"), "pg_cron",
         r"job jobsdb-rescue-expired-jobs is inactive: activate it")
    # The scheduler may already have logged real runs, so the planted one takes a runid far
    # beyond them (its sequence is not ours to use).
    only(diagnose(p, "insert into cron.job_run_details (jobid, runid, job_pid, database,"
                     " username, command, status, return_message, start_time, end_time)"
                     " select jobid, (select coalesce(max(runid), 0) + 1000000"
                     " from cron.job_run_details), 1, 'postgres', 'postgres', command, 'failed',"
                     " 'ERROR:  boom', now() + interval '1 day', now() + interval '1 day'"
                     " from cron.job where jobname = 'jobsdb-rollup-job-metrics'"), "pg_cron",
         r"job jobsdb-rollup-job-metrics failed on its last run \(.* UTC\): ERROR: boom: fix")


from test_pg_cron import cron_cluster  # noqa: E402, F401 - the fixture, for test_doctor_pg_cron
