"""Every code example of README.md and docs/*.md runs as the page shows it, so none goes stale.

The convention (which blocks run, as whom, what they must answer) is in markdown_examples.py.
Each page's sql, sh and python blocks run in page order on one fresh database of the package;
the TypeScript blocks of all pages are type-checked by one `deno check`. The tests at the end
show the runner fails on a broken example of each kind.
"""

from __future__ import annotations

import os
import socket
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from markdown_examples import (
    PYTHON,
    SHELL,
    SQL,
    TYPESCRIPT,
    ExampleError,
    Page,
    SqlSession,
    check_typescript,
    output_matches,
    parse,
    run_python,
    run_shell,
    shell_env,
)
from psycopg import sql

from jobsdb.embedded import find_bin
from jobsdb.testdb import Template

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DENO = ROOT / ".tools" / "node_modules" / ".bin" / "deno"
# app/deno.json maps the names the pages import (the client as @jobsdb/client, supabase-js, React)
DENO_CONFIG = ROOT / "app"


def _free_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def run_page(page: Page, url: str, root: Path, scratch: Path) -> None:
    """The page's sql, sh and python blocks in page order, against the database at url."""
    sql = SqlSession(url, find_bin("psql"))
    env = shell_env(url, scratch, Path(sys.executable).parent)
    env["JOBSDB_PORT"] = _free_port()  # a block that starts an embedded cluster gets its own
    for ex in page.runnable(SQL | SHELL | PYTHON):
        if ex.lang in SQL:
            sql.run(ex)
        elif ex.lang in SHELL:
            run_shell(ex, root, env)
        else:
            run_python(ex)


def deno_check(root: Path) -> tuple[list[str], dict[str, str]]:
    if not DENO.is_file():
        pytest.fail("Deno is not installed: run `make tools`")
    cmd = [str(DENO), "check", "--frozen", "--config", str(DENO_CONFIG / "deno.json"),
           f"--lock={DENO_CONFIG / 'deno.lock'}"]
    env = {**os.environ, "DENO_DIR": str(ROOT / ".tools" / "deno"), "NO_COLOR": "1",
           "RUST_BACKTRACE": "0"}
    return cmd, env


# ---- the documentation --------------------------------------------------------------------


def test_every_code_block_of_the_docs_is_run_or_says_why() -> None:
    pages = [parse(p, ROOT) for p in PAGES]  # a malformed block or directive raises here
    assert (ROOT / "docs").is_dir() and len(pages) >= 4, [str(p.path) for p in pages]
    counts = {lang: sum(len(p.runnable(lang)) for p in pages)
              for lang in ("sql", "sh", "ts")}
    assert all(counts.values()), f"no example of a kind is run: {counts}"
    skipped = [e for p in pages for e in p.examples if e.skip]
    assert all(len(e.skip or "") >= 10 for e in skipped), [e.where for e in skipped]


def _roles(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as c:
        return {r[0] for r in c.execute("select rolname from pg_roles")}


# serial: the operators' page runs `jobsdb test --url` (its trace check compares the cluster's
# roles) and `jobsdb doctor` (its findings name the cluster's worker logins), and other tests
# create and drop roles
SERIAL_PAGES = {ROOT / "docs" / "operators.md"}


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.serial) if p in SERIAL_PAGES else p for p in PAGES
], ids=lambda p: str(p.relative_to(ROOT)))
def test_the_examples_of_a_page_run_as_shown(
    path: Path, template_db: Template, tmp_path: Path
) -> None:
    page = parse(path, ROOT)
    if not page.runnable(SQL | SHELL | PYTHON):
        pytest.skip(f"{page.path} has no sql, sh or python example")
    before = _roles(template_db.owner_url)
    try:
        with template_db.clone() as url:
            run_page(page, url, ROOT, tmp_path)
    finally:
        # roles belong to the server, not to the page's database: a login an example made
        # (and did not drop because it failed half-way) must not stay behind
        text = path.read_text()
        with psycopg.connect(template_db.owner_url, autocommit=True) as c:
            for role in sorted(_roles(template_db.owner_url) - before):
                if role in text:
                    c.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_the_typescript_examples_type_check() -> None:
    pages = [parse(p, ROOT) for p in PAGES]
    assert any(p.runnable(TYPESCRIPT) for p in pages)
    cmd, env = deno_check(ROOT)
    check_typescript(pages, ROOT, cmd, env)


# ---- the runner fails on a broken example ---------------------------------------------------


@pytest.fixture
def write_page(tmp_path: Path) -> Callable[[str], Page]:
    def write(text: str) -> Page:
        (tmp_path / "docs").mkdir(exist_ok=True)
        path = tmp_path / "docs" / "page.md"
        path.write_text(textwrap.dedent(text))
        return parse(path, tmp_path)

    return write


def test_output_matching_with_ellipses() -> None:
    assert output_matches("a\n...\nd\n", "a\nb\nc\nd\n")
    assert output_matches("a\n...\nb\n", "a\nb\n")
    assert output_matches("id: ... done\n", "id: 42 done\n")
    assert not output_matches("a\nd\n", "a\nb\nd\n")
    assert not output_matches("id: ... done\n", "id: 42 failed\n")
    assert not output_matches("a\n", "a\nb\n")


GOOD = """\
    <!-- example: as user alice -->
    ```sql
    select count(*) as queued
    from queue_job(job_type => 'sdxl_image_fast', prompt => 'a fox', num_images => 3) as q;
    ```
    <!-- example: as user bob -->
    ```sql
    select count(*) as visible from jobs;
    ```
    <!-- example: output -->
    ```text
    0
    ```
    <!-- example: as user alice; error 22023 -->
    ```sql
    select queue_job(job_type => 'no_such_type', prompt => 'a fox');
    ```
    <!-- example: output -->
    ```text
    ERROR:  22023: unknown job_type...
    ...
    ```
    ```sh
    psql "$DATABASE_URL" -Atc "select count(*) from jobs"
    ```
    <!-- example: output -->
    ```text
    3
    ```
    <!-- example: not run: it would wait for ever -->
    ```sh
    sleep infinity
    ```
    ```python
    assert 1 + 1 == 2
    ```
    ```text
    an illustration: not run
    ```
"""


def test_a_page_whose_examples_hold_passes(
    write_page: Callable[[str], Page], template_db: Template, tmp_path: Path
) -> None:
    page = write_page(GOOD)
    assert [e.lang for e in page.runnable(SQL | SHELL | PYTHON)] == [
        "sql", "sql", "sql", "sh", "python"]
    with template_db.clone() as url:
        run_page(page, url, tmp_path, tmp_path)


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        ("```sql\nselect queue_jobs('x');\n```\n", "psql failed"),
        ("<!-- example: as user alice; error 22023 -->\n```sql\nselect 1;\n```\n",
         "expected error 22023"),
        ("<!-- example: as user bob -->\n```sql\nselect count(*) from jobs;\n```\n"
         "<!-- example: output -->\n```text\n1\n```\n",
         "output differs"),
        ("```sh\njobsdb migrate status --dir nope\n```\n", "exit 8, the page says 0"),
        ("<!-- example: exit 1 -->\n```sh\ntrue\n```\n", "exit 0, the page says 1"),
        ("```python\nimport no_such_module_here\n```\n", "ModuleNotFoundError"),
    ],
    ids=["sql-error", "sql-no-expected-error", "sql-output", "sh-fails", "sh-exit",
         "python"],
)
def test_a_broken_example_fails_with_its_line(
    write_page: Callable[[str], Page], template_db: Template, tmp_path: Path, broken: str,
    says: str,
) -> None:
    page = write_page("# A page\n\ntext\n\n" + broken)
    with template_db.clone() as url, pytest.raises(ExampleError, match=says) as e:
        run_page(page, url, tmp_path, tmp_path)
    assert str(e.value).startswith("docs/page.md:"), e.value


@pytest.mark.parametrize(
    ("malformed", "says"),
    [
        ("```js\nx()\n```\n", "info string 'js'"),
        ("```\nx\n```\n", "info string ''"),
        ("<!-- example: not run -->\n```sh\nx\n```\n", "needs a reason"),
        ("<!-- example: as root -->\n```sql\nselect 1;\n```\n", "unknown directive"),
        ("<!-- example: as user alice -->\n```sh\ntrue\n```\n", "sql blocks only"),
        ("<!-- example: output -->\n```text\nx\n```\n", "must follow"),
        ("```sql\nselect 1;\n", "never closed"),
    ],
    ids=["unknown-language", "no-language", "no-reason", "unknown-role", "as-on-sh",
         "orphan-output", "unclosed"],
)
def test_a_malformed_page_is_refused(
    write_page: Callable[[str], Page], malformed: str, says: str
) -> None:
    with pytest.raises(ExampleError, match=says):
        write_page("# A page\n\n" + malformed)


def test_a_typescript_example_that_does_not_type_check_fails(
    write_page: Callable[[str], Page], tmp_path: Path
) -> None:
    page = write_page("""\
        <!-- example: prelude -->
        ```ts
        export const answer: number = 42;
        ```

        ```ts
        const wrong: string = answer;
        console.log(wrong);
        ```
    """)
    cmd, env = deno_check(ROOT)
    with pytest.raises(ExampleError, match=r"TS2322") as e:
        check_typescript([page], tmp_path, cmd, env)
    assert "docs/page.md:7:7" in str(e.value), e.value
    assert not list((tmp_path / "docs").glob(".doc-example-*")), "temporary modules left"
