"""The wheel carries what the runtime commands need (the releases, the migrations before 1.0.0,
the Supabase shim, the demo's queries) and nothing test-only, and depends on psycopg alone
outside the [dev] extra."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _setuptools_builds_wheels() -> bool:
    try:
        major, minor = (int(x) for x in version("setuptools").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (70, 1)  # bdist_wheel built in


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # from a copy: an in-tree build reuses build/ and could show files that are gone. Not
    # .tools/ (npm packages and Deno's cache, hundreds of MB, none in the wheel): the other
    # pytest process may be running Deno, whose cache files come and go under the copy.
    src = out / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tools", ".jobsdb*", "build", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis"))
    # the venv's setuptools (the [dev] extra) builds it in seconds; else pip's isolated build
    no_iso = ["--no-build-isolation"] if _setuptools_builds_wheels() else []
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *no_iso,
                        "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("jobsdb-*.whl")
    return zipfile.ZipFile(whl)


def test_wheel_holds_the_packages_sql(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for f in sorted((ROOT / "migrations").glob("*.sql")):
        assert f"jobsdb/migrations/{f.name}" in names
    for f in sorted((ROOT / "jobsdb" / "shim").glob("*.sql")):
        assert f"jobsdb/shim/{f.name}" in names
    for f in sorted((ROOT / "jobsdb" / "sql").glob("*.sql")):
        assert f"jobsdb/sql/{f.name}" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/")) or "audit.sql" in n]
    assert "jobsdb/migrations/20261128140000_bootstrap_schemas_and_roles.sql" in names
    for f in sorted((ROOT / "releases").glob("jobsdb--*.sql")):
        assert f"jobsdb/release_files/{f.name}" in names
    assert not [n for n in names if "release_files/steps" in n or n.endswith("SHA256SUMS")]


def test_runtime_needs_psycopg_alone(wheel: zipfile.ZipFile) -> None:
    (meta_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    meta = Parser().parsestr(wheel.read(meta_name).decode())
    requires = meta.get_all("Requires-Dist") or []
    runtime = [r for r in requires if "extra ==" not in r]
    assert [r.split(">")[0].split("[")[0].strip() for r in runtime] == ["psycopg"]
    dev = " ".join(r for r in requires if 'extra == "dev"' in r)
    for tool in ("pytest", "pytest-postgresql", "tap.py", "hypothesis", "squawk-cli"):
        assert tool in dev
    history = " ".join(r for r in requires if 'extra == "history"' in r)
    assert "duckdb" in history and "boto3" in history
    from jobsdb import __version__

    assert meta["Version"] == __version__
    (ep,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "jobsdb = jobsdb.cli:main" in wheel.read(ep).decode()
