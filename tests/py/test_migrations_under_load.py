"""Every migration after BASELINE, and the upgrade to jobsdb's newest release after the last of
them, is safe on a busy `jobs` table, as a tested property.

The database starts at the schema as of BASELINE (the history up to it is immutable and was
not written this way), holding a large `jobs` table (ROWS rows: 100,000 in `make test`,
1,000,000 in `make migration-load`). WORKERS worker connections claim and complete jobs through
the RPCs (PostgREST-shaped, as the `jobs_worker` role) the whole time, while each newer file of
migrations/ is applied the way the Supabase CLI applies it (`db push`): one file is one
transaction with its history row at the end, except the statements PostgreSQL cannot run in a
transaction block (`create index concurrently`, ...), which the CLI sends on their own; no lock
or statement timeout (the CLI sets none).

A sampler reads pg_stat_activity every 10 ms; the longest time any worker statement has been
waiting for a lock is that file's "wait". The budget: no worker statement waits more than
BUDGET_S seconds (0.3 s) for any one migration file, and no worker call fails. The budget
does not grow with the table: a file that holds a lock workers need while it scans or rewrites
`jobs` is over it at 100,000 rows already, and would be over it by minutes in production.

test_unsafe_migrations_are_caught proves the check can fail: a CHECK constraint added without
`not valid` and a plain (non-concurrent) index are over the budget, while their safe forms
(`not valid` then `validate constraint` in a later file; `create index concurrently`) pass.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from jobsdb import migrate, package_migrate, releases, schema, sqlsplit
from jobsdb.package_migrate import next_versions
from jobsdb.postgrest import rpc
from jobsdb.shim import apply_shim
from jobsdb.testdb import Template, _janitor
from jobsdb.urls import url_for_db

# serial: the budget is a time, and another test file on the other core tripled the 1.7.0
# step's longest worker wait (0.09 s alone, 0.31 s in the parallel phase)
pytestmark = [pytest.mark.slow, pytest.mark.serial]

ROOT = Path(__file__).resolve().parents[2]
BASELINE = migrate.SAFE_SINCE  # 20261128171404: the last migration before this test
ROWS = int(os.environ.get("JOBSDB_MIGRATION_ROWS", "100000"))
BUDGET_S = float(os.environ.get("JOBSDB_MIGRATION_WAIT_BUDGET", "0.3"))
WORKERS = 4
SAMPLE_S = 0.01
MIGRATION_TIMEOUT = "10min"  # only so that a hung file cannot hang the suite

# What the Supabase CLI (>= 2.109.0; DROP INDEX CONCURRENTLY since the 2026-08-19 fix) takes
# out of a file's transaction and runs on its own.
NON_TRANSACTIONAL = re.compile(
    r"^(create\s+(unique\s+)?index\s+concurrently|drop\s+index\s+concurrently"
    r"|reindex\b.*\bconcurrently\b|vacuum\b|alter\s+system\b|cluster\b)",
    re.IGNORECASE | re.DOTALL,
)
_LEADING_COMMENTS = re.compile(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*\s*", re.DOTALL)


def new_migrations(directory: Path = ROOT / "migrations") -> list[Path]:
    return [m.path for m in migrate.load_dir(directory) if m.version > BASELINE]


def upgrade_files(dest: Path) -> list[Path]:
    """The release files from the history before 1.0.0 to the newest release, as `jobsdb
    install` writes them into a project (versions after the history's)."""
    files = releases.path(releases.PRE, releases.latest(ROOT / "releases"),
                          releases.carried(ROOT / "releases")) or []
    taken = [m.version for m in migrate.load_dir(ROOT / "migrations")]
    out = []
    for f, v in zip(files, next_versions(taken, len(files)), strict=True):
        out.append(dest / f"{v}_{f.marker.migration_name}.sql")
        out[-1].write_text(f.text)
    return out


def cli_units(path: Path) -> list[tuple[bool, list[str]]]:
    """The file as the CLI runs it: (in_transaction, statements) units, in order."""
    units: list[tuple[bool, list[str]]] = []
    batch: list[str] = []
    for stmt in sqlsplit.split(path.read_text()):
        if sqlsplit.is_comment_only(stmt):
            continue
        if NON_TRANSACTIONAL.match(_LEADING_COMMENTS.sub("", stmt)):
            if batch:
                units.append((True, batch))
                batch = []
            units.append((False, [stmt]))
        else:
            batch.append(stmt)
    units.append((True, batch))  # the history row is written with the last batch
    return units


def apply_like_supabase_cli(url: str, path: Path) -> None:
    mig = migrate.load_file(path)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select set_config('statement_timeout', %s, false)", (MIGRATION_TIMEOUT,))
        units = cli_units(path)
        for i, (in_tx, stmts) in enumerate(units):
            if not in_tx:
                conn.execute(stmts[0].encode())
                continue
            with conn.transaction():
                for stmt in stmts:
                    conn.execute(stmt.encode())
                if i == len(units) - 1:
                    conn.execute(migrate.INSERT_HISTORY, (mig.version, mig.name, mig.statements))


# ---- the busy database ------------------------------------------------------------------

FILL = [
    "set session_replication_role = replica",  # no triggers, no FK checks: rows are consistent
    "set maintenance_work_mem = '256MB'",
    # the plain indexes of jobs are dropped and rebuilt from their own definitions afterwards
    # (faster than maintaining them row by row); the schema ends as it began
    """create temp table rebuild as
       select indexname, indexdef from pg_catalog.pg_indexes as i
       where schemaname = 'public' and tablename = 'jobs'
           and not exists (select from pg_catalog.pg_constraint as c
                           where c.conname = i.indexname)""",
    """do $$ declare r record; begin
           for r in select indexname from rebuild loop
               execute format('drop index public.%I', r.indexname);
           end loop;
       end $$""",
    """insert into auth.users (id, email, created_at)
       select md5('u' || u)::uuid, 'load' || u || '@example.com', now()
       from generate_series(0, %(users)s - 1) as u""",
    "insert into public.profiles (id) select id from auth.users where email like 'load%'",
    """create temp table tt as
       select row_number() over (order by job_type) - 1 as n, * from public.job_types""",
    # history spread over every job type (96% completed, 3% failed, 1% cancelled), then the
    # newest `queued` jobs waiting in pool sdxl for the workers; prompts of realistic length
    """insert into public.jobs (
           id, user_id, job_type, status, attempts, max_attempts, metadata, format, quality,
           model_type, worker_pool, original_prompt, created_at, started_at, completed_at,
           updated_at, run_at, error_message, last_error_at)
       select md5('j' || g.i)::uuid, md5('u' || (g.i %% %(users)s))::uuid, t.job_type,
           s.status, case s.status when 'queued' then 0 when 'cancelled' then 0
               when 'failed' then 3 else 1 end, 3,
           jsonb_build_object('prompt', p.prompt, 'job_id', md5('j' || g.i)::uuid,
               'image_index', 0, 'num_images', 1),
           t.format, t.quality, t.model_type, t.worker_pool, p.prompt, g.at,
           case when s.status in ('completed', 'failed') then g.at + interval '2 s' end,
           case when s.status <> 'queued' then g.at + interval '9 s' end,
           g.at, g.at,
           case when s.status = 'failed' then 'CUDA out of memory' end,
           case when s.status = 'failed' then g.at + interval '9 s' end
       from (select i, now() - make_interval(secs => (%(rows)s - i) * 10.0) as at
             from generate_series(1, %(rows)s) as i) as g
       cross join lateral (select case
           when g.i > %(rows)s - %(queued)s then 'queued'
           when g.i %% 100 < 3 then 'failed' when g.i %% 100 = 3 then 'cancelled'
           else 'completed' end as status) as s
       cross join lateral (select 'a cinematic photo of item ' || g.i
           || repeat(', golden hour, shallow depth of field, 35mm', 1 + g.i %% 6) as prompt) p
       inner join tt as t on t.n = case when s.status = 'queued' then
           (select n from tt where job_type = 'sdxl_image_fast') else g.i %% 14 end""",
    """do $$ declare r record; begin
           for r in select indexdef from rebuild loop execute r.indexdef; end loop;
       end $$""",
    "reset session_replication_role",
    "analyze",
]


@pytest.fixture(scope="module")
def loaded_template(owner_url: str, superuser_url: str | None,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    """A template database: the shim, migrations up to BASELINE, ROWS jobs."""
    if not superuser_url:
        pytest.skip("the bulk load needs a superuser (SUPERUSER_DATABASE_URL)")
    name = f"jobsdb_t_{os.getpid()}_load"
    j = _janitor(owner_url, name, as_template=True)
    j.init()
    tpl = Template(name, owner_url, url_for_db(owner_url, name))
    try:
        apply_shim(superuser_url, name, quiet=True)
        upto = tmp_path_factory.mktemp("baseline")
        for m in migrate.load_dir(ROOT / "migrations"):
            if m.version <= BASELINE:
                shutil.copy(m.path, upto / m.path.name)
        migrate.up(tpl.url, upto, out=lambda s: None)
        queued = max(2000, ROWS // 5)
        t0 = time.monotonic()
        with psycopg.connect(url_for_db(superuser_url, name), autocommit=True) as c:
            params = {"rows": ROWS, "users": max(100, ROWS // 100), "queued": queued}
            for stmt in FILL:
                c.execute(stmt, params if "%(" in stmt else None)
        print(f"\nloaded {ROWS} jobs ({queued} queued) in {time.monotonic() - t0:.1f}s")
        yield tpl
    finally:
        tpl.drop()


@dataclass
class Load:
    """Worker threads claiming and completing jobs, and a lock-wait sampler."""

    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    max_wait: float = 0.0
    max_call: float = 0.0
    calls: list[float] = field(default_factory=list)
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)

    def window(self) -> tuple[float, float, int, int]:
        """(max lock wait, max call, calls, completed) since the last window; reset."""
        with self.lock:
            out = (self.max_wait, self.max_call, len(self.calls), self.completed)
            self.max_wait = self.max_call = 0.0
            self.calls, self.completed = [], 0
        return out

    def worker(self, i: int, ready: threading.Barrier) -> None:
        with psycopg.connect(self.url) as conn:
            with self.lock:
                self.pids.append(conn.info.backend_pid)
            ready.wait()
            while not self.stop.is_set():
                try:
                    t0 = time.monotonic()
                    rows = rpc(conn, "claim_jobs",
                               {"worker_pool": "sdxl", "worker_id": f"load-{i}", "max_jobs": 1},
                               role="jobs_worker")
                    self._timed(time.monotonic() - t0)
                    for r in rows:
                        t0 = time.monotonic()
                        rpc(conn, "job_callback",
                            {"job_id": r["job_id"], "status": "completed",
                             "lease_token": r["lease_token"],
                             # in the owner's folder: valid before and after every migration
                             "assets": [f"{r['user_id']}/out.png"]},
                            role="jobs_worker")
                        self._timed(time.monotonic() - t0, completed=1)
                    if not rows:
                        time.sleep(0.01)
                except psycopg.Error as e:
                    with self.lock:
                        self.errors.append(f"{e.sqlstate}: {e}")
                    time.sleep(0.05)

    def _timed(self, seconds: float, completed: int = 0) -> None:
        with self.lock:
            self.calls.append(seconds)
            self.max_call = max(self.max_call, seconds)
            self.completed += completed

    def sampler(self, ready: threading.Barrier) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            ready.wait()
            while not self.stop.is_set():
                row = conn.execute(
                    "select max(extract(epoch from clock_timestamp() - query_start))"
                    " from pg_stat_activity where pid = any(%s) and wait_event_type = 'Lock'",
                    (self.pids,),
                ).fetchone()
                if row and row[0] is not None:
                    with self.lock:
                        self.max_wait = max(self.max_wait, float(row[0]))
                time.sleep(SAMPLE_S)

    def __enter__(self) -> Load:
        ready = threading.Barrier(WORKERS + 2)
        self.threads = [threading.Thread(target=self.worker, args=(i, ready), daemon=True)
                        for i in range(WORKERS)]
        self.threads.append(threading.Thread(target=self.sampler, args=(ready,), daemon=True))
        for t in self.threads:
            t.start()
        ready.wait(timeout=60)
        time.sleep(0.5)  # warm: plans cached, the queue moving
        self.window()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


@dataclass
class Measured:
    file: str
    seconds: float
    max_wait: float
    max_call: float
    median_call_ms: float
    calls: int
    completed: int

    def line(self) -> str:
        return (f"{self.file}: applied in {self.seconds:.2f}s; longest worker lock wait"
                f" {self.max_wait:.3f}s, longest call {self.max_call:.3f}s, median call"
                f" {self.median_call_ms:.1f}ms, {self.calls} calls, {self.completed} completed")


def apply_under_load(url: str, files: list[Path]) -> tuple[list[Measured], list[str]]:
    results = []
    with Load(url) as load:
        for f in files:
            t0 = time.monotonic()
            apply_like_supabase_cli(url, f)
            seconds = time.monotonic() - t0
            time.sleep(2 * SAMPLE_S)  # a last sample
            with load.lock:
                calls = list(load.calls)
            max_wait, max_call, n, completed = load.window()
            results.append(Measured(f.name, seconds, max_wait, max_call,
                                    1000 * statistics.median(calls) if calls else 0.0,
                                    n, completed))
            print(results[-1].line())
        errors = list(load.errors)
    return results, errors


def test_new_migrations_and_the_upgrade_are_safe_under_load(
        loaded_template: Template, superuser_url: str | None, tmp_path: Path,
        bare_db: str) -> None:
    upgrade = upgrade_files(tmp_path)
    assert upgrade, "no way from the history before 1.0.0 to the newest release"
    files = new_migrations() + upgrade
    with loaded_template.clone() as url:
        results, errors = apply_under_load(url, files)
        assert not errors, f"worker calls failed during the migrations: {errors[:5]}"
        assert sum(r.completed for r in results) > 0
        over = [r.line() for r in results if r.max_wait > BUDGET_S]
        assert not over, (
            f"migration(s) made a worker wait more than {BUDGET_S}s on {ROWS} jobs"
            " (docs/operators.md, \"Making a release\"):\n" + "\n".join(over))
        # the upgraded database, ROWS jobs and all, has the catalog of a fresh install
        with psycopg.connect(url) as conn:
            assert releases.installed(conn) == releases.latest(ROOT / "releases")
        package_migrate.up(bare_db, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        su = superuser_url or ""
        assert schema.dump(url_for_db(su, url.rsplit("/", 1)[1])) == schema.dump(
            url_for_db(su, bare_db.rsplit("/", 1)[1]))


# Each unsafe file then holds its lock a little longer (the file is one transaction), as the
# same statement would on a bigger table or a slower machine: on a quiet machine 100,000 rows
# validate or index in about the budget, and the test must not depend on the machine's load.
HOLD = "select pg_sleep(0.5);\n"
UNSAFE = {
    # what 20261128162507 did (before this test): a CHECK validated under ACCESS EXCLUSIVE
    "20990101000001_check_without_not_valid.sql":
        "alter table public.jobs add constraint jobs_row_check_again"
        " check (jobs_private.jobs_row_is_valid(jobs) and octet_length(metadata::text) < 65536);\n"
        + HOLD,
    # wide entries (the prompt twice), so the build is long enough to see at 100,000 rows
    "20990101000002_plain_index.sql":
        "create index jobs_prompt_idx on public.jobs (metadata, original_prompt);\n" + HOLD,
}
SAFE = {
    "20990101000003_check_not_valid.sql":
        "alter table public.jobs add constraint jobs_prompt_length_check"
        " check (char_length(original_prompt) < 100000) not valid;\n",
    "20990101000004_validate_check.sql":
        "alter table public.jobs validate constraint jobs_prompt_length_check;\n",
    "20990101000005_concurrent_index.sql":
        "create index concurrently jobs_prompt_idx2 on public.jobs (metadata, original_prompt);\n",
    "20990101000006_add_nullable_column.sql":
        "alter table public.jobs add column load_test_note text;\n",
}


def test_unsafe_migrations_are_caught(loaded_template: Template, tmp_path: Path) -> None:
    for name, text in {**UNSAFE, **SAFE}.items():
        (tmp_path / name).write_text(text)
    unsafe = [tmp_path / n for n in UNSAFE]
    safe = [tmp_path / n for n in SAFE]
    with loaded_template.clone() as url:
        bad, errors = apply_under_load(url, unsafe)
        assert not errors, errors[:5]
        assert all(r.max_wait > BUDGET_S for r in bad), [r.line() for r in bad]
        good, errors = apply_under_load(url, safe)
        assert not errors, errors[:5]
        assert all(r.max_wait <= BUDGET_S for r in good), [r.line() for r in good]
        assert sum(r.completed for r in good) > 0  # the workers did work meanwhile


def test_cli_units_split_like_the_supabase_cli(tmp_path: Path) -> None:
    f = tmp_path / "20990101000000_x.sql"
    f.write_text("-- jobsdb:no-transaction\ncreate table a (id int);\n"
                 "-- built without blocking writes\ncreate index concurrently a_i on a (id);\n"
                 "drop index concurrently if exists b_i;\ninsert into a values (1);\n")
    assert [(tx, len(s)) for tx, s in cli_units(f)] == [(True, 1), (False, 1), (False, 1),
                                                       (True, 1)]


def test_squawk_flags_the_unsafe_forms_and_passes_the_safe_ones(tmp_path: Path) -> None:
    from jobsdb import squawk

    try:
        squawk.squawk_bin()
    except Exception:  # noqa: BLE001
        pytest.skip("squawk-cli is not installed (the [dev] extra)")
    config = ROOT / ".squawk.toml"
    for name, text in {**UNSAFE, **SAFE}.items():
        (tmp_path / name).write_text(
            ("-- jobsdb:no-transaction\n" if "concurrently" in text else "") + text)
    found: list[str] = []
    assert squawk.lint([tmp_path / n for n in UNSAFE], config, found.append) == len(UNSAFE)
    text = "\n".join(found)
    assert "constraint-missing-not-valid" in text
    assert "require-concurrent-index-creation" in text
    found.clear()
    assert squawk.lint([tmp_path / n for n in SAFE], config, found.append) == 0, found
    assert squawk.main(ROOT, ROOT / "migrations", found.append) == 0, found
