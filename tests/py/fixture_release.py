"""A test-only next release, made the way docs/operators.md ("Making a release") says a
developer makes one, in a copy of the source: the newest release is cut, `jobsdb release new`
starts the next, the source changes (a column on jobs, a function's body, a job type), the step
file says what a live database needs, `jobsdb release build` writes the files; then `jobsdb
release way-back` starts the way back, completed by hand.

The copy is a checkout as far as the toolkit cares: run `jobsdb` with JOBSDB_ROOT=<copy> and it
carries the fixture's releases.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from jobsdb import release_build as rb
from jobsdb import releases

ROOT = Path(__file__).resolve().parents[2]

# What the fixture release changes, in the source and in its step file.
COLUMN = "    written_xid xid8 default pg_current_xact_id()\n"
STEP_DDL = """\
-- A nullable column without a default: no rewrite, a moment's lock (lock_timeout bounds it).
alter table public.jobs add column fixture_note text;
comment on column public.jobs.fixture_note is 'A note the fixture release adds.';
insert into public.job_types (
    job_type, worker_pool, media_type, format, quality, model_type, output_bucket, lease_seconds
)
values ('fixture_fast', 'sdxl', 'image', 'png', 'fast', 'sdxl', 'fixture_fast', 120)
on conflict (job_type) do nothing;
-- jobsdb:apply functions/private/retry_delay.sql
"""
WAY_BACK_DDL = """\
alter table public.jobs drop column fixture_note;
delete from public.job_types as t
where t.job_type = 'fixture_fast'
    and not exists (select from public.jobs as j where j.job_type = t.job_type);
"""


@dataclass
class Fixture:
    root: Path
    old: str  # the repository's newest release
    new: str  # the fixture's

    def env(self) -> dict[str, str]:
        return {"JOBSDB_ROOT": str(self.root)}


def next_minor(version: str) -> str:
    major, minor, _ = releases.key(version)
    return f"{major}.{minor + 1}.0"


def copy_source(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for d in ("sql", "policies", "functions", "releases", "migrations"):
        shutil.copytree(ROOT / d, dest / d, symlinks=True)
    return dest


def quiet(_: str) -> None:
    pass


def make(dest: Path, way_back: bool = True) -> Fixture:
    """The repository's source with its newest release cut and a fixture release after it."""
    root = copy_source(dest)
    tree = rb.load_tree(root)
    old = tree.newest
    if not rb.is_cut(tree, old):
        rb.cut(tree, out=quiet)  # as the lead will at the cut
    new = next_minor(old)
    step = rb.new(rb.load_tree(root), new, out=quiet)
    # the source: the current state of the fixture release
    jobs = root / "sql" / "20_jobs.sql"
    text = jobs.read_text()
    assert COLUMN in text, "sql/20_jobs.sql changed shape: adapt tests/py/fixture_release.py"
    text = text.replace(COLUMN, COLUMN.rstrip("\n") + ",\n    fixture_note text\n", 1)
    text += "comment on column public.jobs.fixture_note is 'A note the fixture release adds.';\n"
    jobs.write_text(text)
    seed = root / "sql" / "31_seed_job_types.sql"
    seed.write_text(seed.read_text() + (
        "insert into public.job_types (\n    job_type, worker_pool, media_type, format, quality,"
        " model_type, output_bucket, lease_seconds\n)\nvalues ('fixture_fast', 'sdxl', 'image',"
        " 'png', 'fast', 'sdxl', 'fixture_fast', 120);\n"))
    fn = root / "functions" / "private" / "retry_delay.sql"
    body = fn.read_text()
    assert re.search(r"(?m)^as \$\$$", body)
    fn.write_text(re.sub(r"(?m)^as \$\$$", "as $$\n    -- the fixture release's version of it",
                         body, count=1))
    step.write_text(step.read_text() + STEP_DDL)
    rb.build(rb.load_tree(root), out=quiet)
    if way_back:
        back = rb.way_back(rb.load_tree(root), old, out=quiet)
        back.write_text(back.read_text().replace(
            "\n-- jobsdb:apply", "\n" + WAY_BACK_DDL + "-- jobsdb:apply", 1))
        rb.build(rb.load_tree(root), out=quiet)
    return Fixture(root, old, new)
