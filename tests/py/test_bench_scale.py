"""`make bench-scale` at a tiny size, so its code cannot rot: the loader (bench/scale.py and
bench/scripts/scale_history.sql) into a clone of the template, the measurements against a
second clone, and the table's shape. The figures mean nothing at this size and are not
checked; the load is: the user the reads act as has exactly 10,000 jobs. The history is then
sealed into partitions as `--seal` does (bench/scale_seal.py), and measured so."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from jobsdb.urls import url_for_db

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench/ is not an installed package
from bench import scale, scale_seal  # noqa: E402
from bench.progress import Progress  # noqa: E402
from bench.workloads import sql_file  # noqa: E402

JOBS = 20_000


@pytest.fixture
def two_clones(template_db: Any, superuser_url: str | None) -> Any:
    if superuser_url is None:
        pytest.skip("the bulk load needs a superuser (session_replication_role = replica)")
    with template_db.clone() as big, template_db.clone() as empty:
        names = [str(psycopg.conninfo.conninfo_to_dict(u)["dbname"]) for u in (big, empty)]
        for name in names:
            with psycopg.connect(url_for_db(superuser_url, name), autocommit=True) as c:
                c.execute(sql_file("jobsdb_setup.sql"))
        yield names


def test_the_scale_bench_loads_measures_and_tabulates(two_clones: list[str],
                                                      superuser_url: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    scale.use_databases(*two_clones, caller=None)
    try:
        prog = Progress()
        facts = scale.load(superuser_url, JOBS, prog)
        big = url_for_db(superuser_url, two_clones[0])
        sealed = scale_seal.seal_periods(big, 45, 7, prog)
        rows = scale.measure(superuser_url, prog, reps=1, calls=3, label="tiny")
    finally:
        scale.use_databases("scale_jobsdb", "scale_empty", scale.OWNER)
    assert facts["jobs"] == JOBS and facts["database MB"] > 0
    assert facts["bytes per job (jobs heap)"] > 500  # prompts and metadata of realistic size
    assert set(facts["jobs index MB"]) >= {"jobs_pkey", "jobs_user_created_idx", "jobs_claim_idx"}
    with psycopg.connect(url_for_db(superuser_url, two_clones[0])) as c:
        by_status = dict(c.execute(
            "select status, count(*) from public.jobs"
            " where user_id > '00000000-0000-4000-8000-000000010001' group by status"
        ).fetchall())
    assert sum(by_status.values()) == JOBS and by_status["completed"] > 0.9 * JOBS
    assert set(by_status) == {"completed", "failed", "cancelled"}
    # 180 days of history: sealed 45 days at a time while more than 7 stay in the hot leaf
    assert sealed["seals"] == 3 and sealed["sealed partitions"] == 3, sealed
    with psycopg.connect(big) as c:
        parts = c.execute("select count(*) from pg_inherits"
                          " where inhparent = 'public.jobs'::regclass").fetchone()[0]
        oldest_hot = c.execute("select now() - min(created_at) from jobs_private.jobs_hot"
                               " where status <> 'queued'").fetchone()[0]
    assert parts == 4 and 7 <= oldest_hot.days < 7 + 45, (parts, oldest_hot)

    groups = [r["group"] for r in rows]
    assert groups.count("claim") == 3 and groups.count("metrics") == len(scale.WINDOWS)
    read_fns = {r["what"].split("(")[0] for r in rows if r["group"] == "reads"}
    assert read_fns == {"list_jobs", "get_job", "asset_info", "library_items",
                        "workspace_groups", "job_changes_since"}
    assert all(r["value"] > 0 for r in rows)
    assert all(isinstance(r["ok"], bool) for r in rows if r["goal"])

    text = scale.table(rows)
    lines = text.splitlines()
    assert lines[0] == "| group | what | tiny | goal |"
    assert len(lines) == 2 + len(rows)
    assert all(line.count("|") == 5 for line in lines)
    assert all((" pass" in line) != (" MISS" in line) for line in lines[2:] if "<" in line)
