"""The JSON rule, as a property: whatever queue_job accepts as metadata, Python's json.loads and
JavaScript's JSON.parse (Deno) both read back, every number finite; whatever it refuses, it
refuses with 22023 for the reason the rule states, and a rule-abiding document is never
refused. The rule (jobs_private.json_violation): at most 32 levels of arrays and objects, and
every number of absolute value below 1e308.

Documents are written as JSON text, not Python values, so that they can hold what Python cannot
(1e5000, 4,301-digit integers, -1e400, 1e-400); they are sent as the request body PostgREST
receives (jobsdb.postgrest.rpc(body=...)) and read back as the text the database stores, which
is what a worker's claim or an app's read decodes. The oracle computes depth and the largest
magnitude from the same tree, with Python's Decimal.

Examples: JSON_RULE_EXAMPLES (150) in `make test`; JOBSDB_FUZZ_EXAMPLES overrides it.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jobsdb.postgrest import as_user, rpc

ROOT = Path(__file__).resolve().parents[2]
DENO = ROOT / ".tools" / "node_modules" / ".bin" / "deno"
JSON_RULE_EXAMPLES = 150
MAX_DEPTH = 32
BOUND = Decimal("1e308")


@dataclass(frozen=True)
class Num:
    """A number as its JSON literal."""

    text: str


def _text(v: Any) -> str:
    if isinstance(v, Num):
        return v.text
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_text(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    return json.dumps(v)


def _depth(v: Any) -> int:
    if isinstance(v, dict | list):
        children = v.values() if isinstance(v, dict) else v
        return 1 + max((_depth(x) for x in children), default=0)
    return 0


def _largest(v: Any) -> Decimal:
    if isinstance(v, Num):
        return Decimal(v.text).copy_abs()  # exact (abs() rounds to 28 digits)
    if isinstance(v, dict | list):
        children = v.values() if isinstance(v, dict) else v
        return max((_largest(x) for x in children), default=Decimal(0))
    return Decimal(0)


EDGES = [
    "0", "-0", "1", "-1", "0.5", "1e-400", "-1e-400", "1e307", "-1e307", "9.99e307",
    "9.999999999999999e307", "1e308", "-1e308", "1.0000000000000001e308",
    "1.7976931348623157e308", "1.8e308", "1e309", "-1e400", "1e5000", "-1e5000",
    "9" * 308, "-" + "9" * 308, "1" + "0" * 308, "1" + "0" * 4300, "0." + "0" * 500 + "1",
    "123456789012345678901234567890", "2e-5000",
]


def numbers() -> st.SearchStrategy[Num]:
    literal = st.builds(
        lambda sign, digits, frac, exp: Num(f"{sign}{digits}{'.' + frac if frac else ''}e{exp}"),
        st.sampled_from(["", "-"]), st.integers(1, 99999).map(str),
        st.text("0123456789", max_size=6), st.integers(-400, 400),
    )
    return st.one_of(st.sampled_from(EDGES).map(Num), literal,
                     st.integers(-(2**70), 2**70).map(lambda i: Num(str(i))))


# NUL cannot be stored in jsonb (22P05 while the body is read: tests/py/test_fuzz_rpcs.py)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=8)  # lone surrogates are no text: no JSON reader takes them


def leaves() -> st.SearchStrategy[Any]:
    return st.one_of(numbers(), st.none(), st.booleans(), TEXT,
                     st.sampled_from(["1e5000", "Infinity", "NaN"]))


def nest(leaf: Any, depth: int, kinds: list[bool]) -> Any:
    """leaf inside `depth` containers (True: a list, False: an object)."""
    for is_list in reversed(kinds[:depth]):
        leaf = [leaf] if is_list else {"k": leaf}
    return leaf


@st.composite
def documents(draw: Any) -> dict[str, Any]:
    """A metadata object (depth 1) holding a random small tree and a chain whose depth lies
    around the bound, ending in a leaf, an empty list or an empty object."""
    tree = draw(st.recursive(leaves(), lambda kids: st.one_of(
        st.lists(kids, max_size=3), st.dictionaries(TEXT, kids, max_size=3)),
        max_leaves=6))
    depth = draw(st.integers(0, MAX_DEPTH + 3))
    kinds = draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    end = draw(st.one_of(leaves(), st.just([]), st.just({})))
    return {"tree": tree, "chain": nest(end, depth, kinds), "prompt": "p"}


def _finite_in_python(v: Any) -> bool:
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return math.isfinite(float(v))
    if isinstance(v, dict | list):
        return all(_finite_in_python(x) for x in (v.values() if isinstance(v, dict) else v))
    return True


def _finite_in_javascript(texts: list[str]) -> list[tuple[int, str]]:
    """Indexes (and why) of the texts JSON.parse cannot read to finite numbers, by Deno."""
    if not DENO.exists():
        pytest.fail("Deno is not installed: run `make tools`")
    script = (
        "const lines = (await Deno.readTextFile(Deno.args[0])).split('\\n');\n"
        "const bad = [];\n"
        "lines.forEach((t, i) => {\n"
        "  if (!t) return;\n"
        "  let v;\n"
        "  try { v = JSON.parse(t); } catch (e) { bad.push([i, String(e)]); return; }\n"
        "  const stack = [v];\n"
        "  while (stack.length) {\n"
        "    const x = stack.pop();\n"
        "    if (typeof x === 'number' && !Number.isFinite(x)) {\n"
        "      bad.push([i, String(x)]);\n"
        "      break;\n"
        "    }\n"
        "    if (x !== null && typeof x === 'object') stack.push(...Object.values(x));\n"
        "  }\n"
        "});\n"
        "console.log(JSON.stringify({ read: lines.filter(Boolean).length, bad }));\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        data, code = Path(tmp) / "docs.jsonl", Path(tmp) / "check.ts"
        data.write_text("\n".join(texts) + "\n")
        code.write_text(script)
        r = subprocess.run(
            [str(DENO), "run", "--quiet", "--no-prompt", f"--allow-read={tmp}", str(code),
             str(data)],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "DENO_DIR": str(ROOT / ".tools" / "deno"), "NO_COLOR": "1"},
        )
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["read"] == len(texts)
    return [tuple(b) for b in out["bad"]]


def test_what_queue_job_accepts_every_reader_reads_and_what_it_refuses_breaks_the_rule(
    template_db: Any,
) -> None:
    n = int(os.environ.get("JOBSDB_FUZZ_EXAMPLES") or JSON_RULE_EXAMPLES)
    accepted: list[str] = []
    tally = {"accepted": 0, "too deep": 0, "number": 0}
    with (
        template_db.clone() as url,
        psycopg.connect(url, autocommit=True, options="-c statement_timeout=8s") as conn,
    ):
        user = str(conn.execute("select tests.create_user('json@example.com')").fetchone()[0])
        # one user makes every call: neither the queued cap nor the rate is this test's
        conn.execute("update jobs_private.settings set max_queued_per_user = 100000,"
                     " jobs_per_minute = null")
        args = {"job_type": None, "metadata": None}

        @settings(max_examples=n, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(doc=documents())
        # every outcome each run, whatever the random documents reach
        @example(doc={"prompt": "p", "deep": nest(Num("1"), MAX_DEPTH + 1, [True] * 40)})
        @example(doc={"prompt": "p", "n": Num("1e5000")})
        @example(doc={"prompt": "p", "n": Num("1")})
        def run(doc: dict[str, Any]) -> None:
            text = _text(doc)
            depth, largest = _depth(doc), _largest(doc)
            body = f'{{"job_type": "sdxl_image_fast", "metadata": {text}}}'
            try:
                res = rpc(conn, "queue_job", args, claims=as_user(user), body=body)
            except psycopg.Error as e:
                assert e.sqlstate == "22023", (e.sqlstate, str(e), text[:300])
                msg = str(e)
                if depth > MAX_DEPTH:
                    assert "nested deeper than 32 levels" in msg, (msg, depth)
                    tally["too deep"] += 1
                else:
                    assert largest >= BOUND, (msg, depth, largest)
                    assert "absolute value is 1e308 or more" in msg, msg
                    tally["number"] += 1
                return
            assert depth <= MAX_DEPTH and largest < BOUND, (depth, largest, text[:300])
            stored = conn.execute("select metadata::text from public.jobs where id = %s",
                                  (res["jobs"][0]["id"],)).fetchone()[0]
            assert _finite_in_python(json.loads(stored)), stored[:300]
            accepted.append(stored)
            tally["accepted"] += 1

        run()
    print(f"json rule: {tally}")
    # the strategy reached every outcome (else the property proves little)
    assert all(v > 0 for v in tally.values()), tally
    assert _finite_in_javascript(accepted) == []


def test_the_checks_can_fail() -> None:
    """Self-test: both readers' checks flag what the rule keeps out."""
    assert _finite_in_javascript(["[1, {\"a\": 2}]", "[1e400]", "{\"n\": -1e309}"]) == [
        (1, "Infinity"), (2, "-Infinity")]
    assert not _finite_in_python(json.loads("[1e400]"))
    with pytest.raises(ValueError, match="4300 digits"):
        json.loads("1" + "0" * 5000)
    limit = sys.getrecursionlimit()  # other modules of the run raise it (test_fuzz_rpcs)
    sys.setrecursionlimit(1000)  # Python's default, as in a worker
    try:
        with pytest.raises(RecursionError):
            json.loads("[" * 2000 + "]" * 2000)
    finally:
        sys.setrecursionlimit(limit)
