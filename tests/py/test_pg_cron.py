"""pg_cron enabled after the migrations (as on a hosted project whose owner turns it on later):
`jobs_private.schedule_maintenance()` creates the two cron.job rows (idempotently), and their
commands, run as the job's user in the job's database, do the work.

pg_cron must be preloaded, so the test runs its own throw-away cluster (the embedded one is
shared and has no shared_preload_libraries). The jobs are deactivated right after scheduling
and their commands run by the test: pg_cron 1.4 schedules by the minute, too slow to wait for.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from test_faults import Cluster, free_port  # the fault test's throw-away cluster

from jobsdb import embedded, package_migrate
from jobsdb.shim import apply_shim

ROOT = Path(__file__).resolve().parents[2]
JOB_NAMES = [
    "jobsdb-purge-finished-jobs", "jobsdb-rescue-expired-jobs", "jobsdb-rollup-job-metrics",
]


def _pg_cron_installed() -> bool:
    try:
        lib = embedded.bindir().parent / "lib" / "pg_cron.so"
    except embedded.EmbeddedError:
        return False
    return lib.is_file()


pytestmark = pytest.mark.skipif(
    not _pg_cron_installed(),
    reason="pg_cron is not installed: `make deps` as root installs postgresql-15-cron "
    "(or: sudo apt-get install -y postgresql-15-cron)",
)


@pytest.fixture
def cron_cluster() -> Iterator[Cluster]:
    c = Cluster(Path(tempfile.mkdtemp(prefix="jobsdb-cron-")), free_port())
    try:
        c.init()
        with (c.data / "postgresql.conf").open("a") as f:
            f.write("shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n")
        c.start()
        apply_shim(c.superuser_url, "postgres", quiet=True)
        package_migrate.up(c.owner_url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        yield c
    finally:
        c.destroy()


def enable_pg_cron(superuser_url: str) -> None:
    """What the platform does when the owner enables pg_cron: the extension in pg_catalog, and
    (supautils) the owner role may use schema cron."""
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        conn.execute("create extension pg_cron with schema pg_catalog")
        conn.execute("grant usage on schema cron to postgres with grant option")
        conn.execute("grant all on all tables in schema cron to postgres with grant option")
        conn.execute("grant all on all functions in schema cron to postgres with grant option")


def seed(owner_url: str) -> tuple[str, str]:
    """One job whose lease expired and one failed job finished 40 days ago."""
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("update jobs_private.settings set retry_base_seconds = 0 where singleton")
        uid = conn.execute(
            "insert into auth.users (id, aud, role, email, created_at, updated_at)"
            " values (gen_random_uuid(), 'authenticated', 'authenticated', 'cron@example.com',"
            " now(), now()) returning id"
        ).fetchone()[0]
        conn.execute("insert into public.profiles (id) values (%s)", (uid,))
        expired, old = (
            conn.execute(
                "insert into public.jobs (user_id, job_type) values (%s, 'image_fast')"
                " returning id::text",
                (uid,),
            ).fetchone()[0]
            for _ in range(2)
        )
        conn.execute(
            "update public.jobs set status = 'processing', attempts = 1, locked_by = 'w',"
            " lease_token = gen_random_uuid(), lease_expires_at = now() + interval '1 minute'"
            " where id in (%s, %s)",
            (expired, old),
        )
        conn.execute("update public.jobs set status = 'failed' where id = %s", (old,))
        conn.execute(
            "update public.jobs set started_at = now() - interval '41 days',"
            " completed_at = now() - interval '40 days' where id = %s",
            (old,),
        )
        conn.execute(
            "update public.jobs set lease_expires_at = now() - interval '1 second'"
            " where id = %s",
            (expired,),
        )
    return expired, old


def test_schedules_made_after_the_migrations_exist_and_do_the_work(
    cron_cluster: Cluster,
) -> None:
    owner, su = cron_cluster.owner_url, cron_cluster.superuser_url
    with psycopg.connect(owner, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="pg_cron"):
            conn.execute("select jobs_private.schedule_maintenance()")

    enable_pg_cron(su)
    with psycopg.connect(owner, autocommit=True) as conn:
        first = conn.execute("select jobs_private.schedule_maintenance()").fetchone()[0]
        again = conn.execute("select jobs_private.schedule_maintenance()").fetchone()[0]
        assert first == again == [
            {"jobname": "jobsdb-purge-finished-jobs", "schedule": "*/5 * * * *",
             "command": "select public.purge_finished_jobs()"},
            {"jobname": "jobsdb-rescue-expired-jobs", "schedule": "* * * * *",
             "command": "select public.rescue_expired_jobs()"},
            {"jobname": "jobsdb-rollup-job-metrics", "schedule": "* * * * *",
             "command": "select jobs_private.rollup_job_metrics()"},
        ]
        jobs = conn.execute(
            "select jobid, jobname, username, database, command from cron.job order by jobname"
        ).fetchall()
        assert [(j[1], j[2], j[3]) for j in jobs] == [
            (name, "postgres", "postgres") for name in JOB_NAMES
        ]
        for j in jobs:  # the test runs the commands itself (see the module docstring)
            conn.execute("select cron.alter_job(%s, active := false)", (j[0],))
    commands = {j[1]: j[4] for j in jobs}

    expired, old = seed(owner)
    with psycopg.connect(owner, autocommit=True) as conn:  # as cron would: user, database
        rescued = conn.execute(commands["jobsdb-rescue-expired-jobs"]).fetchone()[0]
        assert rescued["requeued"] == 1, rescued
        assert conn.execute(
            "select status, locked_by from public.jobs where id = %s", (expired,)
        ).fetchone() == ("queued", None)
        purged = conn.execute(commands["jobsdb-purge-finished-jobs"]).fetchone()[0]
        assert purged == 1
        # the roll-up of system_metrics runs as the owner (it owns the roll-up tables)
        assert conn.execute(commands["jobsdb-rollup-job-metrics"]).fetchone()[0] >= 0
        assert conn.execute(
            "select count(*) from public.jobs where id = %s", (old,)
        ).fetchone()[0] == 0


def _migrate(c: Cluster) -> Callable[[str | None], None]:
    """Migrates the cluster's database to a release (None: the newest)."""
    def migrate(target: str | None) -> None:
        package_migrate.up(c.owner_url, target=target, rdir=ROOT / "releases",
                           mdir=ROOT / "migrations", out=lambda s: None)
    return migrate


def _schedules(c: Cluster) -> Callable[[], dict[str, tuple[str, bool]]]:
    """The pg_cron jobs' schedules and whether they are active, by name."""
    def schedules() -> dict[str, tuple[str, bool]]:
        with psycopg.connect(c.owner_url, autocommit=True) as conn:
            return {r[0]: (r[1], r[2]) for r in conn.execute(
                "select jobname, schedule, active from cron.job").fetchall()}
    return schedules


def test_the_upgrade_to_1_12_0_runs_a_scheduled_roll_up_every_minute_and_the_way_back_undoes_it(
    cron_cluster: Cluster,
) -> None:
    # 1.12.0's roll-up closes minutes: scheduled every five minutes (1.11.0), a window would
    # read up to six minutes of jobs from jobs. The step moves the owner's schedule, keeping
    # whether it is active; the way back puts 1.11.0's back.
    c = cron_cluster
    migrate, schedules = _migrate(c), _schedules(c)

    migrate("1.11.0")
    enable_pg_cron(c.superuser_url)
    with psycopg.connect(c.owner_url, autocommit=True) as conn:
        conn.execute("select jobs_private.schedule_maintenance()")
        conn.execute("select cron.alter_job(jobid, active := false) from cron.job"
                     " where jobname = 'jobsdb-purge-finished-jobs'")
    before = schedules()
    assert before["jobsdb-rollup-job-metrics"] == ("2-59/5 * * * *", True)
    migrate("1.12.0")
    assert schedules() == {**before, "jobsdb-rollup-job-metrics": ("* * * * *", True)}
    with psycopg.connect(c.owner_url, autocommit=True) as conn:
        conn.execute("select cron.alter_job(jobid, active := false) from cron.job"
                     " where jobname = 'jobsdb-rollup-job-metrics'")
    migrate("1.11.0")
    assert schedules() == {**before, "jobsdb-rollup-job-metrics": ("2-59/5 * * * *", False)}


def test_the_upgrade_to_1_16_0_keeps_the_roll_up_every_minute_on_pg_cron_1_4(
    cron_cluster: Cluster,
) -> None:
    # The step (and its way back) set the roll-up's schedule for the pg_cron it finds; 1.4.2
    # has no seconds schedules, so it stays every minute, and a job the owner deactivated stays
    # inactive
    c = cron_cluster
    migrate, schedules = _migrate(c), _schedules(c)

    migrate("1.15.0")
    enable_pg_cron(c.superuser_url)
    with psycopg.connect(c.owner_url, autocommit=True) as conn:
        conn.execute("select jobs_private.schedule_maintenance()")
        conn.execute("select cron.alter_job(jobid, active := false) from cron.job"
                     " where jobname = 'jobsdb-rollup-job-metrics'")
    before = schedules()
    assert before["jobsdb-rollup-job-metrics"] == ("* * * * *", False)
    migrate("1.16.0")
    assert schedules() == before
    migrate("1.15.0")
    assert schedules() == before


def test_the_roll_up_runs_every_15_seconds_where_pg_cron_has_seconds_schedules(
    cron_cluster: Cluster,
) -> None:
    # pg_cron 1.5 added schedules of 1-59 seconds (Supabase ships 1.6; this cluster's Debian
    # package is 1.4.2, which refuses them): the roll-up then runs every 15 seconds, so the
    # partial minute it rolls up trails the clock by at most 17 s
    _migrate(cron_cluster)(None)
    with psycopg.connect(cron_cluster.owner_url, autocommit=True) as conn:
        got = {v: conn.execute("select jobs_private.job_metrics_rollup_schedule(%s)",
                               [v]).fetchone()[0]  # fmt: skip
               for v in ("1.4", "1.4.2", "1.5", "1.5.2", "1.6", "1.10", "2.0")}
    every_minute, every_15_s = "* * * * *", "15 seconds"
    assert got == {"1.4": every_minute, "1.4.2": every_minute, "1.5": every_15_s,
                   "1.5.2": every_15_s, "1.6": every_15_s, "1.10": every_15_s,
                   "2.0": every_15_s}
