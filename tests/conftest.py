"""pytest entry point: database fixtures and one test item per tests/pgtap/**/*.sql file.

With no DATABASE_URL the embedded cluster is started (idempotent). One template database is
built per pytest process (migrations, pgtap, tests/helpers.sql) and dropped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from jobsdb import embedded
from jobsdb.pgtap import FileResult, run_file
from jobsdb.shim import apply_shim
from jobsdb.testdb import Template, _janitor, build_template, drop_realtime_role

ROOT = Path(__file__).resolve().parent.parent
PGTAP_DIR = ROOT / "tests" / "pgtap"


class _State:
    started = False
    template: Template | None = None
    clone_url: str | None = None
    stack = ExitStack()


def ensure_server() -> None:
    if not _State.started:
        if not os.environ.get("DATABASE_URL"):
            embedded.start(quiet=True)
        _State.started = True


def get_template() -> Template:
    if _State.template is None:
        ensure_server()
        _State.template = build_template(embedded.owner_url(), embedded.superuser_url(), ROOT)
        _State.stack.callback(_State.template.drop)
    return _State.template


def get_pgtap_clone() -> str:
    """One clone of the template per pytest process for the pgTAP files (each rolls back)."""
    if _State.clone_url is None:
        tpl = get_template()
        _State.clone_url = _State.stack.enter_context(tpl.clone(f"{tpl.name}_pgtap"))
    return _State.clone_url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _State.stack.close()


# ---- pgTAP files as test items ---------------------------------------------------------


class PgTapFailure(Exception):
    def __init__(self, result: FileResult) -> None:
        super().__init__(result.summary())
        self.result = result


class PgTapItem(pytest.Item):
    def runtest(self) -> None:
        res = run_file(get_pgtap_clone(), self.path, str(self.path.relative_to(ROOT)))
        if not res.passed:
            raise PgTapFailure(res)

    def repr_failure(self, excinfo, style=None):  # type: ignore[override]
        if isinstance(excinfo.value, PgTapFailure):
            r = excinfo.value.result
            return f"{r.summary()}\n{r.details()}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"pgtap: {self.name}"


class PgTapFile(pytest.File):
    def collect(self):
        yield PgTapItem.from_parent(self, name=self.path.name)


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    if file_path.suffix == ".sql" and file_path.is_relative_to(PGTAP_DIR):
        return PgTapFile.from_parent(parent, path=file_path)
    return None


# ---- fixtures for Python tests ---------------------------------------------------------


@pytest.fixture(scope="session")
def owner_url() -> str:
    ensure_server()
    return embedded.owner_url()


@pytest.fixture(scope="session")
def superuser_url(owner_url: str) -> str | None:
    return embedded.superuser_url()


@pytest.fixture(scope="session")
def template_db(owner_url: str) -> Template:
    return get_template()


@pytest.fixture
def fresh_db(template_db: Template) -> Iterator[str]:
    """Owner URL of a new clone of the template, dropped after the test."""
    with template_db.clone() as url:
        yield url


def make_bare_db(owner_url: str, superuser_url: str | None, auto_grants: bool | None = None):
    """A new empty database with the shim's database part; returns (url, janitor)."""
    name = f"jobsdb_t_{os.getpid()}_{secrets.token_hex(4)}"
    j = _janitor(owner_url, name)
    j.init()
    try:
        apply_shim(superuser_url or owner_url, name, auto_grants=auto_grants, quiet=True)
    except BaseException:
        j.drop()
        raise
    return embedded.url_for_db(owner_url, name), j


@pytest.fixture
def bare_db(owner_url: str, superuser_url: str | None) -> Iterator[str]:
    """Owner URL of a new database with only the Supabase shim (no migrations), dropped after."""
    url, j = make_bare_db(owner_url, superuser_url)
    try:
        yield url
    finally:
        j.drop()


@pytest.fixture
def bare_db_factory(owner_url: str, superuser_url: str | None):
    """Make more bare databases: factory(auto_grants=None) -> owner URL; all dropped after."""
    janitors = []

    def make(auto_grants: bool | None = None) -> str:
        url, j = make_bare_db(owner_url, superuser_url, auto_grants)
        janitors.append(j)
        return url

    try:
        yield make
    finally:
        for j in janitors:
            j.drop()


@pytest.fixture(scope="module")
def bare_db_factory_module(owner_url: str, superuser_url: str | None):
    """bare_db_factory shared by the tests of one module."""
    janitors = []

    def make(auto_grants: bool | None = None) -> str:
        url, j = make_bare_db(owner_url, superuser_url, auto_grants)
        janitors.append(j)
        return url

    try:
        yield make
    finally:
        for j in janitors:
            j.drop()


@pytest.fixture(scope="module")
def drop_realtime_role_after() -> Iterator[None]:
    """Once a module's databases are gone, Supabase Realtime's role too (drop_realtime_role).
    Use it before the database fixtures."""
    yield
    su = embedded.superuser_url()
    if su:
        drop_realtime_role(su)
