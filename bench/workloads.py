"""Set up the bench databases and run every workload (bench/README.md says what each measures)."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench import install, pgbench, statements
from bench.cluster import Cluster
from bench.progress import Progress
from jobsdb.shim import apply_cluster_part, apply_shim

SQL = Path(__file__).resolve().parent / "scripts"
OWNER = "postgres"
DBS = {"jobsdb": "bench_jobsdb", "raw": "bench_raw", "procrastinate": "bench_procrastinate",
       "pgq": "bench_pgq", "pgmq": "bench_pgmq", "pgmq_record": "bench_pgmq_record"}
# The growth rows' "no history" side: a copy of bench_jobsdb taken right after its setup.
EMPTY_DB = "bench_jobsdb_empty"
BACKLOG = 2000  # queued jobs standing in every design's queue during the throughput rows
SETCFG = ("select set_config('search_path', 'public, extensions', true),"
          " set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
          " set_config('request.method', 'POST', true)")
ADMIN = 10001


def user_id(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def claims(n: int) -> str:
    return json.dumps({"sub": user_id(n), "role": "authenticated", "aud": "authenticated",
                       "app_metadata": {"provider": "email"}})


def history_job_id(g: int) -> str:
    return str(uuid.UUID(hashlib.md5(f"job{g}".encode()).hexdigest()))


def sql_file(name: str, **params: Any) -> str:
    text = (SQL / name).read_text()
    return text % params if params else text


def sections(name: str) -> list[tuple[str, dict[str, str]]]:
    """Entries of a bench/scripts file: `-- name: X` then `-- key:` blocks of SQL."""
    out: list[tuple[str, dict[str, str]]] = []
    key = None
    for line in (SQL / name).read_text().splitlines():
        s = line.strip()
        if s.startswith("-- name: "):
            out.append((s[9:], {}))
            key = None
        elif out and s.startswith("-- ") and s.endswith(":") and " " not in s[3:-1]:
            key = s[3:-1]
            out[-1][1][key] = ""
        elif s.startswith("--") or not s or key is None:
            continue
        else:
            out[-1][1][key] += line + "\n"
    return [(n, {k: v.strip() for k, v in d.items()}) for n, d in out]


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def figure(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "values": values}


@dataclass
class Env:
    su_url: str
    cluster: Cluster | None
    keep: bool
    meta: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    have: dict[str, bool] = field(default_factory=dict)
    # throw-away changes measured against jobsdb in the same run: label -> SQL file
    variants: dict[str, Path] = field(default_factory=dict)
    # the admin database's connection that resets and reads pg_stat_statements (None: not loaded)
    stats: psycopg.Connection | None = None

    @classmethod
    def create(cls, prog: Progress, keep: bool = False) -> Env:
        url = os.environ.get("BENCH_DATABASE_URL")
        if url:
            prog.done("using BENCH_DATABASE_URL (a superuser connection)")
            return cls(url, None, keep)
        c = Cluster()
        prog.step(f"starting the bench cluster on 127.0.0.1:{c.port}")
        url = c.start()
        prog.done(f"bench cluster started on 127.0.0.1:{c.port} ({c.data})")
        return cls(url, c, keep)

    def url(self, db: str, user: str | None = None) -> str:
        params: dict[str, Any] = {"dbname": db}
        if user:
            params["user"] = user
        return make_conninfo(self.su_url, **params)

    def su(self, db: str) -> psycopg.Connection:
        return psycopg.connect(self.url(db), autocommit=True)

    def owner(self, db: str, prepared: bool = True) -> psycopg.Connection:
        return psycopg.connect(self.url(db, OWNER), autocommit=True,
                               prepare_threshold=0 if prepared else None)

    @property
    def admin_db(self) -> str:
        return conninfo_to_dict(self.su_url).get("dbname") or "postgres"

    def stats_reset(self, db: str) -> None:
        if self.stats is not None:
            statements.reset(self.stats, db)

    def stats_read(self, db: str, steps: tuple[tuple[str, str], ...],
                   jobs: int) -> dict[str, float] | None:
        return None if self.stats is None else statements.per_job(self.stats, db, steps, jobs)

    def designs(self, only: list[str] | None = None) -> list[Design]:
        """The throughput designs this run can measure: installed, asked for (`only`: keys; a
        variant is in when the design it varies is), and per variant its lifecycle, batched and
        raw-on-jobs designs (the last shows what the variant's table changes cost alone)."""
        out = []
        for d in DESIGNS:
            if not self.have.get(d.key.split("_")[0], True):
                continue
            out.append(d)
            if d.key in ("jobsdb", "jobsdb_combined", "jobsdb_batched", "raw_on_jobs"):
                for label in self.variants:
                    out.append(Design(f"{d.key}@{label}", f"{d.name} [{label}]",
                                      f"jobsdb@{label}", d.script, d.per_tx, steps=d.steps,
                                      defines=d.defines))
        return [d for d in out if only is None or d.key.split("@")[0] in only]

    def close(self, prog: Progress) -> None:
        if self.stats is not None:
            self.stats.close()
        if self.cluster and not self.keep:
            self.cluster.remove()
            prog.done("bench cluster stopped and removed")

    # ---- setup -------------------------------------------------------------------------
    def setup(self, prog: Progress) -> None:
        admin_db = self.admin_db
        prog.step("creating the bench databases")
        apply_cluster_part(self.url(admin_db))
        with psycopg.connect(self.url(admin_db), autocommit=True) as c:
            for db in DBS.values():
                c.execute(f"drop database if exists {db} with (force)")
                c.execute(f"create database {db} owner {OWNER}")
            self.meta["server"] = c.execute("select version()").fetchone()[0]
            self.meta["settings"] = dict(c.execute(
                "select name, setting from pg_settings where name in ('shared_buffers',"
                " 'synchronous_commit', 'fsync', 'jit', 'max_connections')").fetchall())
        self.meta["machine"] = f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs"
        self.meta["cpus"] = os.cpu_count()
        stats = psycopg.connect(self.url(admin_db), autocommit=True)
        if statements.available(stats):
            self.stats = stats
        else:
            stats.close()
            self.notes["steps"] = "not measured: pg_stat_statements is not loaded"
        # jobsdb: the package (bench/install.py), bench users and settings.
        install.jobsdb(self.url(admin_db), DBS["jobsdb"], self.url(DBS["jobsdb"], OWNER))
        with self.su(DBS["jobsdb"]) as c:
            c.execute(sql_file("jobsdb_setup.sql"))
            c.execute("create extension if not exists pg_stat_statements")
            c.execute(sql_file("jobsdb_backlog.sql", n=BACKLOG))
        with psycopg.connect(self.url(admin_db), autocommit=True) as c:
            c.execute(f"drop database if exists {EMPTY_DB} with (force)")
            c.execute(f"create database {EMPTY_DB} template {DBS['jobsdb']} owner {OWNER}")
        prog.done(f"jobsdb: {install.HOW} in bench_jobsdb, 10,002 users, backlog;"
                  f" copied to {EMPTY_DB}")
        for label, path in self.variants.items():
            self._setup_variant(prog, label, path)
        with self.owner(DBS["raw"], prepared=False) as c:
            c.execute(sql_file("raw_setup.sql", n=BACKLOG))
        self.have["raw"] = True
        self.have["procrastinate"] = self._setup_procrastinate(prog)
        self.have["pgq"] = self._setup_pgq(prog)
        self.have["pgmq"] = self._setup_pgmq(prog)

    def _setup_variant(self, prog: Progress, label: str, path: Path) -> None:
        """A copy of bench_jobsdb (its setup and backlog included) with the variant's SQL
        applied by the owner, measured beside jobsdb in the same interleaved run."""
        db = f"bench_jobsdb_v_{label}"
        with psycopg.connect(self.url(self.admin_db), autocommit=True) as c:
            c.execute(f"drop database if exists {db} with (force)")
            c.execute(f"create database {db} template {DBS['jobsdb']} owner {OWNER}")
        with self.owner(db, prepared=False) as c:
            c.execute(path.read_text())
        DBS[f"jobsdb@{label}"] = db
        prog.done(f"variant {label}: {path.name} applied by the owner to {db}")

    def _setup_procrastinate(self, prog: Progress) -> bool:
        try:
            mod = importlib.import_module("procrastinate")
        except ImportError:
            prog.step("installing procrastinate into the venv (pip)")
            r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "procrastinate"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                self.notes["procrastinate"] = "skipped: pip install procrastinate failed"
                prog.done(self.notes["procrastinate"])
                return False
            importlib.invalidate_caches()
            mod = importlib.import_module("procrastinate")
        from importlib.metadata import version

        ver = version("procrastinate")
        schema = resources.files(mod).joinpath("sql", "schema.sql").read_text()
        with self.owner(DBS["procrastinate"], prepared=False) as c:
            c.execute(schema)
            c.execute(sql_file("procrastinate_setup.sql", n=BACKLOG))
        self.meta["procrastinate"] = ver
        prog.done(f"procrastinate {ver}: its schema.sql applied to bench_procrastinate")
        return True

    def _setup_pgmq(self, prog: Progress) -> bool:
        """pgmq (Supabase Queues) from the PyPI package `pgmq`, which ships the extension's SQL
        for a SQL-only install (pgmq/sql/pgmq.sql). Installed without its dependencies and
        never imported: only that file is read. Two databases: bench_pgmq (pgmq alone) and
        bench_pgmq_record (pgmq beside the spec's jobs record, under the Supabase shim)."""
        spec = importlib.util.find_spec("pgmq")
        if spec is None:
            prog.step("installing the pgmq package (its SQL only) into the venv (pip)")
            r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                                "pgmq"], capture_output=True, text=True)
            importlib.invalidate_caches()
            spec = importlib.util.find_spec("pgmq") if r.returncode == 0 else None
        locations = list(spec.submodule_search_locations or []) if spec else []
        sql = Path(locations[0]) / "sql" / "pgmq.sql" if locations else None
        if not sql or not sql.is_file():
            self.notes["pgmq"] = "skipped (not installable from the registries)"
            prog.done(f"pgmq: {self.notes['pgmq']}")
            return False
        from importlib.metadata import version

        ver = f"{(sql.parent / 'VERSION').read_text().strip()} (PyPI pgmq {version('pgmq')})"
        with self.owner(DBS["pgmq"], prepared=False) as c:
            c.execute(sql.read_text())
            c.execute(sql_file("pgmq_setup.sql", n=BACKLOG))
        self.meta["pgmq"] = ver
        prog.done(f"pgmq {ver}: its SQL-only install applied to bench_pgmq")
        db = DBS["pgmq_record"]
        apply_shim(self.url(self.admin_db), db, quiet=True)
        with self.owner(db, prepared=False) as c:
            c.execute(sql_file("pgmq_record_schema.sql"))
            c.execute(sql.read_text())
        with self.su(db) as c:
            c.execute(sql_file("pgmq_record_users.sql"))
        with self.owner(db, prepared=False) as c:
            c.execute(sql_file("pgmq_record_queue.sql", n=BACKLOG))
            c.execute("vacuum analyze")
        prog.done("pgmq + the spec's record: the shim, the spec's tables, pgmq and 10,001 users"
                  f" in {db}")
        return True

    def _pgq_available(self) -> bool:
        with self.su(DBS["pgq"]) as c:
            return bool(c.execute(
                "select count(*) from pg_available_extensions where name = 'pgq'").fetchone()[0])

    def _setup_pgq(self, prog: Progress) -> bool:
        if not self._pgq_available():
            if self.cluster and os.geteuid() == 0 and shutil.which("apt-get"):
                prog.step("installing postgresql-15-pgq3 (apt-get)")
                subprocess.run(["apt-get", "install", "-y", "-q", "postgresql-15-pgq3"],
                               capture_output=True, text=True,
                               env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"})
            if not self._pgq_available():
                self.notes["pgq"] = ("skipped: the pgq extension is not installed (as root: "
                                     "apt-get install postgresql-15-pgq3)")
                prog.done(self.notes["pgq"])
                return False
        with self.su(DBS["pgq"]) as c:
            c.execute(sql_file("pgq_setup.sql"))
            ver = c.execute("select extversion from pg_extension where extname = 'pgq'").fetchone()
        self.meta["pgq"] = ver[0]
        prog.done(f"pgq {ver[0]}: extension created in bench_pgq")
        return True


# ---- throughput ----------------------------------------------------------------------------
@dataclass
class Design:
    key: str
    name: str
    db: str
    script: str
    per_tx: int
    user: str | None = OWNER
    options: str = ""  # PGOPTIONS for the pgbench connections
    # (step, regular expression of its statements' text) for the database time per job
    # (bench/statements.py); BEGIN, set_config and COMMIT are the step "framing"
    steps: tuple[tuple[str, str], ...] = ()
    # pgbench -D variables: each client's starting values of variables the script \gsets
    defines: tuple[tuple[str, str], ...] = ()


ASYNC = "-c synchronous_commit=off"
JOBSDB_STEPS = (("queue_job", r"queue_job\("), ("claim_jobs", r"claim_jobs\("),
                ("job_callback", r"job_callbacks?\("))
# pg_stat_statements shows statements with their constants replaced by $n: match their shape.
RAW_STEPS = (("insert", r"^\s*insert"), ("claim", r"skip locked"), ("complete", r"^\s*update"))
PGMQ_STEPS = (("send", r"pgmq\.send"), ("read", r"pgmq\.read"), ("archive", r"pgmq\.archive"))
# the spec's record alone (pgbench_record_floor*.sql), its three statements
FLOOR_STEPS = (("insert job", r"^\s*(insert|with inserted)"), ("set processing", r"^\s*update"),
               ("output + complete", r"^\s*with output"))
RECORD_STEPS = (("insert job + send", r"pgmq\.send|enqueue_job\("),
                ("read + set processing", r"pgmq\.read|start_next_job\("),
                ("output + complete + archive", r"pgmq\.archive|complete_job\("))

DESIGNS = [
    Design("jobsdb", "jobsdb lifecycle (queue_job / claim_jobs / job_callback)", "jobsdb",
           "pgbench_jobsdb.sql", 1, steps=JOBSDB_STEPS),
    Design("jobsdb_combined", "jobsdb lifecycle with job_callback_and_claim (queue_job /"
           " report the last job and claim the next in one call)", "jobsdb",
           "pgbench_jobsdb_combined.sql", 1,
           steps=(("queue_job", r"queue_job\("),
                  ("job_callback_and_claim", r"job_callback_and_claim\(")),
           # a client's first report names no job (answered unknown_job); then its last claim
           defines=(("j0", "00000000-0000-4000-8000-000000000000"),
                    ("t0", "00000000-0000-4000-8000-000000000000"),
                    ("u0", "00000000-0000-4000-8000-000000000000"))),
    Design("jobsdb_unpipelined", "jobsdb lifecycle, 12 round trips per job (PostgREST unpipelined)",
           "jobsdb", "pgbench_jobsdb_unpipelined.sql", 1, steps=JOBSDB_STEPS),
    Design("frame", "PostgREST framing alone: jobsdb's 12 statements per job, no queue work"
           " (the ceiling)", "jobsdb", "pgbench_frame.sql", 1,
           steps=(("queue echo", r"job_type text"), ("claim echo", r"worker_pool text"),
                  ("callback echo", r"lease_token uuid"))),
    Design("raw", "raw baseline (INSERT / UPDATE ... SKIP LOCKED / UPDATE)", "raw",
           "pgbench_raw.sql", 1, steps=RAW_STEPS),
    Design("raw_on_jobs", "raw statements on public.jobs (owner: its check, triggers, FKs and"
           " indexes; no function, no framing)", "jobsdb", "pgbench_raw_on_jobs.sql", 1,
           steps=RAW_STEPS),
    Design("pgmq_record", "pgmq + the spec's record (service role, one RPC per step:"
           " enqueue_job / start_next_job / complete_job)", "pgmq_record",
           "pgbench_pgmq_record.sql", 1, steps=RECORD_STEPS),
    Design("pgmq_record_inline", "pgmq + the spec's record, each RPC's work inlined as one"
           " statement (its ceiling)", "pgmq_record", "pgbench_pgmq_record_inline.sql", 1,
           steps=RECORD_STEPS),
    Design("record_floor", "the spec's record alone (owner, three statements: insert, set"
           " processing by id, output + complete; no function, framing or queue: a ceiling)",
           "pgmq_record", "pgbench_record_floor.sql", 1, steps=FLOOR_STEPS),
    Design("record_floor_framed", "the spec's record alone, framed as PostgREST frames the"
           " service role (three transactions, three round trips; no function or queue: a"
           " ceiling)", "pgmq_record", "pgbench_record_floor_framed.sql", 1, steps=FLOOR_STEPS),
    Design("procrastinate", "Procrastinate (defer / fetch / finish)", "procrastinate",
           "pgbench_procrastinate.sql", 1,
           steps=(("defer", r"defer_jobs"), ("fetch", r"fetch_job"), ("finish", r"finish_job"))),
    Design("pgq", "PgQ (insert_event; 1 consumer: ticker / next_batch / get_batch_events /"
           " finish_batch)", "pgq", "pgbench_pgq_produce.sql", 1, None,
           steps=(("insert_event", r"insert_event"),
                  ("consumer", r"ticker|next_batch|get_batch_events|finish_batch"))),
    Design("pgmq", "pgmq, Supabase Queues (send / read with vt / archive)", "pgmq",
           "pgbench_pgmq.sql", 1, steps=PGMQ_STEPS),
    Design("jobsdb_async", "jobsdb lifecycle, async commit (synchronous_commit = off)", "jobsdb",
           "pgbench_jobsdb.sql", 1, options=ASYNC, steps=JOBSDB_STEPS),
    Design("raw_async", "raw baseline, async commit (synchronous_commit = off)", "raw",
           "pgbench_raw.sql", 1, options=ASYNC, steps=RAW_STEPS),
    Design("jobsdb_batched", "jobsdb batched (queue_job x10 / claim_jobs x10 / 1 job_callbacks)",
           "jobsdb", "pgbench_jobsdb_batched.sql", 10, steps=JOBSDB_STEPS),
    Design("pgmq_batched", "pgmq batched (send_batch of 10 / read of 10 / archive of 10)", "pgmq",
           "pgbench_pgmq_batched.sql", 10, steps=PGMQ_STEPS),
    Design("raw_batched", "raw baseline batched (10 rows per statement)", "raw",
           "pgbench_raw_batched.sql", 10, steps=RAW_STEPS),
    Design("record_floor_batched", "the spec's record alone, batched (10 rows per statement:"
           " a ceiling)", "pgmq_record", "pgbench_record_floor_batched.sql", 10,
           steps=FLOOR_STEPS),
]


def _pgq_drain(env: Env) -> float:
    t = time.monotonic()
    with env.su(DBS["pgq"]) as c:
        while time.monotonic() - t < 120:
            c.execute("select pgq.ticker('bench')")
            b = c.execute("select pgq.next_batch('bench', 'bench_consumer')").fetchone()[0]
            if b is None:
                break
            n = c.execute("select count(*) from pgq.get_batch_events(%s)", (b,)).fetchone()[0]
            c.execute("select pgq.finish_batch(%s)", (b,))
            if n == 0:
                break
    return time.monotonic() - t


@dataclass
class Run:
    rate: float  # jobs/s
    jobs: int  # jobs processed
    steps: dict[str, float] | None  # database time per job and step, microseconds


def measure(env: Env, d: Design, clients: int, secs: float) -> Run:
    """One pgbench run of a design, with its statements' database time per job."""
    db = DBS[d.db]
    ci = env.url(db, d.user)
    env.stats_reset(db)
    if d.key != "pgq":
        p = pgbench.start(ci, d.script, clients, secs, d.options, defines=d.defines)
        tps, n = pgbench.finish(p, d.script)
        return Run(tps * d.per_tx, n * d.per_tx, env.stats_read(db, d.steps, n * d.per_tx))
    consumer = pgbench.start(ci, "pgbench_pgq_consume.sql", 1, secs)
    producer = pgbench.start(ci, d.script, clients, secs)
    _, produced = pgbench.finish(producer, d.script)
    pgbench.finish(consumer, "pgbench_pgq_consume.sql")
    drain = _pgq_drain(env)
    return Run(produced / (secs + drain), produced, env.stats_read(db, d.steps, produced))


def _median_steps(runs: list[dict[str, float] | None]) -> dict[str, float] | None:
    got = [r for r in runs if r is not None]
    if not got:
        return None
    keys = list(dict.fromkeys(k for r in got for k in r))
    return {k: statistics.median(r.get(k, 0.0) for r in got) for k in keys}


def throughput(env: Env, prog: Progress, clients: list[int], secs: float,
               reps: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    designs = env.designs(only)
    for d in designs:
        prog.step(f"warm-up: {d.key} at {max(clients)} clients")
        measure(env, d, max(clients), 2)
        with env.su(DBS[d.db]) as c:
            c.execute("vacuum analyze")
        prog.done(f"warmed up {d.key} (2 s at {max(clients)} clients), vacuum analyze")
    vals: dict[tuple[str, int], list[float]] = {}
    steps: dict[tuple[str, int], list[dict[str, float] | None]] = {}
    for rep in range(reps):
        # Interleaved: every repetition runs each design once, in an order rotated by one
        # design per repetition, so no design always follows the same neighbour.
        k = rep % len(designs)
        order = designs[k:] + designs[:k]
        for n in clients:
            for d in order:
                prog.step(f"rep {rep + 1}/{reps}: {d.key} at {n} clients, {secs:g} s")
                r = measure(env, d, n, secs)
                env.meta.setdefault("load_1min", []).append(round(os.getloadavg()[0], 2))
                vals.setdefault((d.key, n), []).append(r.rate)
                steps.setdefault((d.key, n), []).append(r.steps)
                db_us = f"  db {sum(r.steps.values()):6,.0f} us/job" if r.steps else ""
                prog.done(f"rep {rep + 1}/{reps}: {d.key:15s} {n} clients {r.rate:9.0f} jobs/s"
                          + db_us)
    rows = []
    for d in designs:
        for n in clients:
            rows.append({"group": "throughput", "key": d.key, "name": d.name, "clients": n,
                         "unit": "jobs/s", **figure(vals[(d.key, n)]),
                         "steps": _median_steps(steps[(d.key, n)])})
    for k, note in env.notes.items():
        if k != "steps" and (only is None or k in only):
            rows.append({"group": "throughput", "key": k, "name": k, "skipped": note})
    return rows


# ---- latency -------------------------------------------------------------------------------
def _timed(conn: psycopg.Connection, role: str, claim: str, stmt: str, params: dict[str, Any],
           read_only: bool = False) -> float:
    """One PostgREST-shaped transaction; returns the seconds of the call statement itself."""
    conn.execute("begin isolation level read committed " + ("read only" if read_only
                                                           else "read write"))
    conn.execute(SETCFG, (role, claim))
    t = time.perf_counter()
    conn.execute(stmt, params).fetchall()
    dt = time.perf_counter() - t
    conn.execute("commit")
    return dt


def _series(conn: psycopg.Connection, calls: int, fn: Any,
            budget: float = 4.0) -> tuple[float, float]:
    """p50 and p95 in ms of up to `calls` calls, fewer (at least 5) when they take > budget s."""
    xs: list[float] = []
    t = time.monotonic()
    for i in range(calls):
        xs.append(fn(i))
        if i >= 4 and time.monotonic() - t > budget:
            break
    return pct(xs, 0.5) * 1000, pct(xs, 0.95) * 1000


def _lat_rows(group: str, key: str, name: str, p50s: list[float], p95s: list[float],
              **extra: Any) -> dict[str, Any]:
    return {"group": group, "key": key, "name": name, "unit": "ms", "p50": figure(p50s),
            "p95": figure(p95s), **extra}


def _growth(env: Env, prog: Progress, label: str, reps: int, calls: int,
            group: str = "growth", base: str = "no history",
            keys: tuple[str, ...] = ("claim", "queue_job")) -> list[dict]:
    """claim_jobs and queue_job latency without history (EMPTY_DB) and with it (bench_jobsdb),
    measured in alternation so that both sides see the same machine: the ratio is the target."""
    rpc = dict(sections("rpc.sql"))
    rng = random.Random(1)
    out = []
    sides = ((base, EMPTY_DB), (label, DBS["jobsdb"]))
    conns = {name: env.owner(db) for name, db in sides}
    calls_of = (("claim", "jobs_worker", rpc["claim"]["sql"]),
                ("queue_job", "authenticated", rpc["queue_job"]["sql"]))
    try:
        for key, role, stmt in (x for x in calls_of if x[0] in keys):
            def caller(c: psycopg.Connection, role: str = role, stmt: str = stmt) -> Any:
                def call(_i: int) -> float:
                    who = claims(rng.randint(1, 10000)) if role == "authenticated" else \
                        json.dumps({"role": "jobs_worker"})
                    return _timed(c, role, who, stmt, {})
                return call
            res: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n, _ in sides}
            for name, _ in sides:
                _series(conns[name], 50, caller(conns[name]))  # warm-up: plans, pages
            for _ in range(reps):
                for name, _ in sides:
                    a, b = _series(conns[name], calls, caller(conns[name]))
                    res[name][0].append(a)
                    res[name][1].append(b)
            for name, _ in sides:
                p50s, p95s = res[name]
                out.append(_lat_rows(group, f"{key}@{name}", f"{key}, {name}", p50s, p95s))
                prog.done(f"{group} {key:9s} {name:18s} p50 {statistics.median(p50s):.3f} ms"
                          f"  p95 {statistics.median(p95s):.3f} ms")
    finally:
        for c in conns.values():
            c.close()
    return out


def _load(env: Env, prog: Progress, history: int, db: str = DBS["jobsdb"]) -> None:
    with env.su(db) as c:
        c.execute(sql_file("jobsdb_reset.sql"))
        if history:
            prog.step(f"loading {history:,} finished jobs of history (insert ... select)")
            t = time.monotonic()
            c.execute(sql_file("jobsdb_history.sql", n=history))
            prog.done(f"loaded {history:,} finished jobs + assets in {time.monotonic() - t:.0f} s")
        c.execute(sql_file("jobsdb_backlog.sql", n=5000))
        prog.step("vacuum analyze")
        c.execute("vacuum analyze")
        c.execute("select pg_stat_statements_reset()")


STORM = 10_000  # jobs of the claimed pool waiting out a retry backoff in the retry-storm row


def retry_storm(env: Env, prog: Progress, reps: int) -> list[dict[str, Any]]:
    """claim p50 with STORM jobs of the pool in backoff vs none, both beside the same claimable
    backlog and no history, alternated. The jobs get into backoff the way a worker's failures
    put them there: claimed, then reported failed (retryable) through job_callback."""
    _load(env, prog, 0, EMPTY_DB)
    _load(env, prog, 0, DBS["jobsdb"])
    with env.su(DBS["jobsdb"]) as c:
        prog.step(f"retry storm: {STORM:,} jobs claimed and failed into backoff")
        c.execute("update jobs_private.settings set retry_base_seconds = 3600,"
                  " retry_max_seconds = 86400 where singleton")
        c.execute(sql_file("jobsdb_storm.sql", n=STORM))
        for _ in range(STORM // 100):
            c.execute("""select count(public.job_callback(r.job_id, 'failed', r.lease_token,
                'retry storm')) from public.claim_jobs('sdxl', 'storm-worker', 100) as r""")
        c.execute("vacuum analyze public.jobs")
        waiting = c.execute("select count(*) from public.jobs"
                            " where status = 'queued' and run_at > now()").fetchone()[0]
        prog.done(f"retry storm: {waiting:,} jobs in backoff")
    return _growth(env, prog, f"{STORM:,} in backoff", reps, 300, group="storm",
                   base="none in backoff", keys=("claim",))


RATE_USERS = 100  # users queue_job is called for in the rate-check rows (their buckets warm)


def rate_check(env: Env, prog: Progress, reps: int, calls: int = 300) -> list[dict[str, Any]]:
    """What the per-user rate of new jobs costs queue_job: its latency with the check
    (jobs_per_minute set so high that it never refuses: the bucket row is read and moved on
    every call) and without it (jobs_per_minute null: the statement does not run), alternated
    on one database, for RATE_USERS users whose bucket rows exist after the warm-up."""
    _load(env, prog, 0)
    stmt = dict(sections("rpc.sql"))["queue_job"]["sql"]
    rng = random.Random(3)
    sides = (("rate check on", "100000"), ("rate check off", "null"))
    out = []
    with env.su(DBS["jobsdb"]) as su, env.owner(DBS["jobsdb"]) as c:
        su.execute("update jobs_private.settings set max_queued_per_user = 100000,"
                   " job_burst = 100000 where singleton")

        def side(rate: str) -> None:
            su.execute(f"update jobs_private.settings set jobs_per_minute = {rate}")

        def call(_i: int) -> float:
            return _timed(c, "authenticated", claims(rng.randint(1, RATE_USERS)), stmt, {})

        res: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n, _ in sides}
        try:
            for _, rate in sides:  # warm-up: plans, pages and every user's bucket row
                side(rate)
                _series(c, 2 * RATE_USERS, call)
            for _ in range(reps):
                for name, rate in sides:
                    side(rate)
                    a, b = _series(c, calls, call)
                    res[name][0].append(a)
                    res[name][1].append(b)
        finally:
            # back to the bench database's own settings (scripts/jobsdb_setup.sql)
            su.execute("update jobs_private.settings set max_queued_per_user = 100,"
                       " jobs_per_minute = 100000, job_burst = 100000 where singleton")
    for name, _ in sides:
        p50s, p95s = res[name]
        out.append(_lat_rows("limits", f"queue_job@{name}", f"queue_job, {name}", p50s, p95s))
        prog.done(f"limits queue_job {name:15s} p50 {statistics.median(p50s):.3f} ms"
                  f"  p95 {statistics.median(p95s):.3f} ms")
    return out


def growth_and_reads(env: Env, prog: Progress, history: int, reps: int,
                     groups: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    calls = 300
    _load(env, prog, history)
    label = f"{history:,} history"
    if "growth" in groups:
        _load(env, prog, 0, EMPTY_DB)
        rows += _growth(env, prog, label, reps, calls)
    if "reads" in groups:
        rows += _reads(env, prog, history, reps, 200)
    return rows


def _reads(env: Env, prog: Progress, history: int, reps: int, calls: int) -> list[dict]:
    out = []
    per_user = max(1, history // 10000)
    with env.owner(DBS["jobsdb"]) as c:
        for name, q in sections("reads.sql"):
            owner_sql = q["user"] if q["owner"] == "same" else q["owner"]
            res: dict[str, tuple[list[float], list[float]]] = {"user": ([], []), "owner": ([], [])}
            for rep in range(reps + 1):  # the first round warms up and is not kept
                for path in ("user", "owner"):
                    rng = random.Random(rep)
                    role = "authenticated" if path == "user" else OWNER
                    stmt = q["user"] if path == "user" else owner_sql

                    def call(_i: int, role: str = role, stmt: str = stmt,
                             rng: random.Random = rng) -> float:
                        u = rng.randint(1, 10000)
                        g = (u - 1) + 10000 * rng.randint(1 if u == 1 else 0, per_user - 1)
                        return _timed(c, role, claims(u), stmt,
                                      {"uid": user_id(u), "job_id": history_job_id(g)}, True)
                    a, b = _series(c, calls, call)
                    if rep:
                        res[path][0].append(a)
                        res[path][1].append(b)
            for path in ("user", "owner"):
                out.append(_lat_rows("reads", f"{name}|{path}", name, *res[path], path=path))
            u50 = statistics.median(res["user"][0])
            o50 = statistics.median(res["owner"][0])
            prog.done(f"reads {name:38s} user p50 {u50:.3f} ms  owner p50 {o50:.3f} ms"
                      f"  ratio {u50 / o50:.2f}")
        rpc = dict(sections("rpc.sql"))
        for window in ("1 hour", "7 days"):
            p50s, p95s = [], []
            for rep in range(reps + 1):
                xs = [_timed(c, "authenticated", claims(ADMIN), rpc["system_metrics"]["sql"],
                             {"window": window}, True) for _ in range(10)]
                if rep:
                    p50s.append(pct(xs, 0.5) * 1000)
                    p95s.append(pct(xs, 0.95) * 1000)
            out.append(_lat_rows("metrics", f"system_metrics|{window}",
                                 f"system_metrics(time_window => '{window}') as admin",
                                 p50s, p95s))
            prog.done(f"system_metrics {window}: p50 {statistics.median(p50s):.1f} ms"
                      f"  p95 {statistics.median(p95s):.1f} ms")
    return out
