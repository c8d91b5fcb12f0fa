"""The error table of docs/app.md and the functions agree.

- Every SQLSTATE a function of the package raises where a client can reach it is in the
  table, and every code of the package's own (PTnnn) that the table lists is raised by some
  function.
- Every code a function's COMMENT lists under "Errors:" is in the table.
- The status the table gives each code through `supabase.rpc` is PostgREST's for it
  (SUPABASE.md), and the edge functions answer the same.
Codes read from the files, not written here; the few operator-only functions are checked to be
out of every client's reach.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = (ROOT / "docs" / "app.md").read_text()
FUNCTIONS = sorted((ROOT / "functions").rglob("*.sql"))
# Functions no client role can execute and no other function calls: their errors are the
# operator's (docs/operators.md), not the API's.
OPERATOR_ONLY = {
    "jobs_private.schedule_maintenance", "jobs_private.rollup_job_metrics",
    # the seal of job history (jobsdb history seal)
    "jobs_private.seal_clean", "jobs_private.seal_prepare", "jobs_private.seal_bound",
    "jobs_private.seal_keys",
    "jobs_private.seal_move",
    "jobs_private.seal_check_keys", "jobs_private.seal_low_bound", "jobs_private.seal_step",
    "jobs_private.lock_tables_briefly", "jobs_private.jobs_ddl_locks",
    "jobs_private.seal_bound_times", "jobs_private.history_split_refresh",
    "jobs_private.seal_check_publications", "jobs_private.seal_copies",
    "jobs_private.sealed_partitions",
    # retention by whole partitions (jobsdb history retire)
    "jobs_private.retire_partition", "jobs_private.retire_detach",
}
CLIENT_ROLES = ("anon", "authenticated", "service_role", "jobs_worker")
CODE = re.compile(r"`([0-9A-Z]{5})`")
RAISED = re.compile(r"errcode\s*=\s*'([0-9A-Z]{5})'")


def table(column: str = "http through") -> dict[str, str]:
    """code -> its cell in `column` of the first table of the page's Errors section."""
    start = APP.index("\n## Errors\n")
    rows = []
    for line in APP[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    header = [c.lower() for c in rows[0]]
    status = next(i for i, c in enumerate(header) if c.startswith(column))
    out: dict[str, str] = {}
    for cells in rows[2:]:
        if not cells[0].startswith("`"):
            continue  # a class of codes ("other codes of ...", "any other code")
        for code in CODE.findall(cells[0]):
            out[code] = cells[status]
    return out


def defined(path: Path) -> str:
    m = re.search(r"^create (?:or replace )?function ([a-z_]+\.[a-z_]+)\(", path.read_text(), re.M)
    assert m, path
    return m.group(1)


def raised_by_clients() -> dict[str, set[str]]:
    """code -> the functions raising it, but for the operator-only ones."""
    out: dict[str, set[str]] = {}
    for path in FUNCTIONS:
        name = defined(path)
        if name in OPERATOR_ONLY:
            continue
        for code in RAISED.findall(path.read_text()):
            out.setdefault(code, set()).add(name)
    return out


def test_every_error_a_client_can_get_from_the_package_is_documented() -> None:
    documented = table()
    raised = raised_by_clients()
    assert {"22023", "42501", "PT404", "PT409", "PT429"} <= set(raised)  # it read the bodies
    undocumented = {c: raised[c] for c in set(raised) - set(documented)}
    assert undocumented == {}
    ours = {c for c in documented if c.startswith("PT")}
    assert ours - set(raised) == set(), "documented but raised by no function"


def test_every_error_a_function_comment_names_is_documented() -> None:
    documented = table()
    named: dict[str, set[str]] = {}
    for path in FUNCTIONS:
        for errors in re.findall(r"Errors: ([^']*)", path.read_text()):
            for code in re.findall(r"\b(?:[0-9]{2}[0-9A-Z]{3}|PT[0-9]{3})\b", errors):
                named.setdefault(code, set()).add(defined(path))
    assert len(named) >= 4, named
    assert set(named) - set(documented) == set(), named


def postgrest_status(code: str) -> str:
    """SUPABASE.md: SQLSTATE -> HTTP status through PostgREST."""
    if code.startswith("PT"):
        return code[2:]
    return {"42501": "403", "42883": "404", "23503": "409", "23505": "409", "25006": "405",
            }.get(code, "400" if code[:2] in ("22", "23") or code == "P0001" else "500")


def test_each_status_is_postgrests_and_the_edge_functions_agree() -> None:
    rpc, edge = table(), table("through the edge")
    assert {"22023", "42501", "PT404", "PT409", "PT429"} <= set(rpc)
    for code, cell in rpc.items():
        statuses = set(re.findall(r"\b\d{3}\b", cell))
        assert postgrest_status(code) in statuses, (code, cell)
        # the edge functions answer the same, or never pass the call on
        reached = set(re.findall(r"\b\d{3}\b", edge[code]))
        assert reached == statuses or edge[code].startswith("not reached"), (code, edge[code])


@pytest.mark.parametrize("function", sorted(OPERATOR_ONLY))
def test_an_operator_only_function_is_out_of_every_clients_reach(
    template_db, function: str,
) -> None:
    with psycopg.connect(template_db.url) as conn:
        for role in CLIENT_ROLES:
            can = conn.execute(
                "select bool_or(has_function_privilege(%s, p.oid, 'execute'))"
                " from pg_proc as p where p.oid::regproc::text = %s",
                (role, function)).fetchone()[0]  # fmt: skip
            assert can is False, (role, function)
    # called (not merely mentioned in a comment) only by another operator-only function
    callers = {defined(p) for p in FUNCTIONS
               if f"{function}(" in re.sub(r"--[^\n]*", "", p.read_text())}  # fmt: skip
    assert callers - {function} <= OPERATOR_ONLY, callers
