"""TypeScript types from Supabase's own generator (postgres-meta), for a database built from
jobsdb's newest release: what `supabase gen types typescript --schema public` prints.

`python -m jobsdb.typegen` (what `make types` runs) writes supabase/types/database.ts;
`--check` exits 1 with a diff when the committed file differs (stale types). The generator is
@supabase/postgres-meta from the npm registry, installed by `make tools` into .tools/.
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
from pathlib import Path

from jobsdb import embedded
from jobsdb.paths import repo_root
from jobsdb.pgtap import build_template

TYPES_FILE = Path("supabase/types/database.ts")
GENERATOR = Path(".tools/node_modules/@supabase/postgres-meta/dist/server/server.js")


class TypegenError(RuntimeError):
    pass


def generate(db_url: str, root: Path) -> str:
    """Run postgres-meta's TypeScript generator against db_url (schema public)."""
    server = root / GENERATOR
    if not server.is_file():
        raise TypegenError(f"{GENERATOR} is missing: run `make tools` first")
    env = {
        **os.environ,
        "PG_META_DB_URL": db_url,
        "PG_META_GENERATE_TYPES": "typescript",
        "PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS": "public",
        "PG_META_GENERATE_TYPES_DETECT_ONE_TO_ONE_RELATIONSHIPS": "true",
    }
    r = subprocess.run(["node", str(server)], capture_output=True, text=True, env=env,
                       timeout=120)
    if r.returncode != 0 or "export type Database" not in r.stdout:
        raise TypegenError(f"postgres-meta failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout


def generate_from_migrations(root: Path, migrations_dir: Path | None = None) -> str:
    """Build a scratch database holding jobsdb's newest release (with the Supabase shim), or
    the migrations of `migrations_dir`, generate, drop."""
    tpl = build_template(embedded.owner_url(), embedded.superuser_url(), root,
                         name=f"jobsdb_types_{os.getpid()}", migrations_dir=migrations_dir,
                         helpers=root / "nonexistent", pgtap=False)
    try:
        return generate(tpl.url, root)
    finally:
        tpl.drop()


def stale_diff(committed: str, fresh: str) -> str:
    """'' when equal, else a unified diff (committed -> regenerated)."""
    if committed == fresh:
        return ""
    return "".join(difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True),
                                        str(TYPES_FILE), "regenerated"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m jobsdb.typegen", description=__doc__)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed types are stale")
    args = ap.parse_args(argv)
    root = repo_root()
    if not os.environ.get("DATABASE_URL"):
        embedded.start(quiet=True)
    fresh = generate_from_migrations(root)
    target = root / TYPES_FILE
    if args.check:
        diff = stale_diff(target.read_text() if target.is_file() else "", fresh)
        if diff:
            print(diff, end="")
            print(f"{TYPES_FILE} is stale: run `make types` and commit it", file=sys.stderr)
            return 1
        print(f"{TYPES_FILE} is up to date")
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(fresh)
    print(f"wrote {TYPES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
