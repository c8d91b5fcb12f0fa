"""supabase/types/database.ts is what Supabase's generator (postgres-meta, pinned in
tools/package.json) makes of a database holding jobsdb's newest release; a change to an RPC
signature without `make types` fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobsdb import migrate, typegen
from jobsdb.pgtap import Template

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = (ROOT / typegen.TYPES_FILE).read_text()

# A migration that changes an RPC's signature (cancel_job gains a `reason` argument).
SIGNATURE_CHANGE = """
create function public.cancel_job(job_id uuid, reason text)
returns jsonb
language sql
as $$ select jsonb_build_object('job_id', job_id, 'reason', reason) $$;
grant execute on function public.cancel_job(uuid, text) to authenticated;
"""


@pytest.fixture(scope="module")
def generator() -> None:
    if not (ROOT / typegen.GENERATOR).is_file():
        pytest.fail("the type generator is not installed: run `make tools`")


def test_committed_types_are_the_generators_output_for_the_newest_release(
    generator: None, template_db: Template
) -> None:
    # the test template holds the newest release (its extra pgtap and test helpers live
    # outside schema public, the only one generated)
    diff = typegen.stale_diff(COMMITTED, typegen.generate(template_db.url, ROOT))
    assert diff == "", f"stale types: run `make types`\n{diff}"


def test_a_migration_changing_an_rpc_signature_makes_the_types_stale(
    generator: None, fresh_db: str, tmp_path: Path
) -> None:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "29991231235959_cancel_job_with_a_reason.sql").write_text(
        SIGNATURE_CHANGE
    )
    migrate.up(fresh_db, tmp_path / "migrations", out=lambda s: None)
    diff = typegen.stale_diff(COMMITTED, typegen.generate(fresh_db, ROOT))
    assert diff != ""
    assert any(ln.startswith("+") and "reason: string" in ln for ln in diff.splitlines()), diff
