"""Security audit as a test: the checks of Supabase's Security Advisor over the built database.

Each check is a named query in tests/queries/audit.sql that returns the offending objects (no row =
pass). Every check runs twice over a database holding jobsdb's newest release only (shim + `jobsdb
migrate`, no test helpers): once with Supabase's automatic default grants ON (hosted default) and
once with them OFF (`apply_shim(..., auto_grants=False)`). Every check also has a `*_catches_*`
test that breaks the database on purpose inside a transaction that is rolled back (a table
without RLS, a definer function without search_path, a function left executable by anon, ...)
and asserts the same query reports exactly that object: no check passes vacuously.

The list of RPCs `authenticated` may execute is USER_RPCS below; the app developers' page,
docs/app.md, lists the same functions in its RPC table (rows of a Markdown table with a
`caller` column that contains "user" or "admin"), and test_user_rpcs_constant_matches_the_docs
keeps the two equal.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobsdb import package_migrate, queries
from jobsdb.shim import apply_shim
from jobsdb.testdb import _janitor
from jobsdb.urls import url_for_db

ROOT = Path(__file__).resolve().parents[2]
AUDIT = queries.load_file(Path(__file__).resolve().parents[1] / "queries" / "audit.sql")

# The functions of the API that `authenticated` may execute: user RPCs, and admin RPCs that
# check the admin role inside (42501 for other users).
USER_RPCS = frozenset(
    {
        "queue_job",
        "cancel_job",
        "list_jobs",
        "get_job",
        "asset_info",
        "workspace_groups",
        "library_items",
        "job_changes_since",
        "review_job",
        "retry_job",
        "purge_finished_jobs",
        "system_metrics",
    }
)


def documented_user_rpcs(path: Path = ROOT / "docs" / "app.md") -> frozenset[str] | None:
    """Function names of the page's RPC table rows whose caller mentions user or admin; None
    when the page has no table with a `caller` column."""
    if not path.is_file():
        return None
    found: set[str] = set()
    has_table = False
    caller_col: int | None = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line.startswith("|"):
            caller_col = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if caller_col is None:
            lowered = [c.lower().strip("*` ") for c in cells]
            if "caller" in lowered:
                caller_col = lowered.index("caller")
                has_table = True
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the separator row
        if caller_col < len(cells) and re.search(r"user|admin", cells[caller_col], re.I):
            m = re.match(r"`?(?:public\.)?([a-z_][a-z0-9_]*)", cells[0])
            if m:
                found.add(m.group(1))
    return frozenset(found) if has_table else None


def user_rpcs() -> frozenset[str]:
    return documented_user_rpcs() or USER_RPCS


def findings(conn: psycopg.Connection, check: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(AUDIT[check]).fetchall()]


def objects(conn: psycopg.Connection, check: str) -> set[str]:
    return {o for o, _ in findings(conn, check)}


@pytest.fixture(scope="module", params=["auto_grants_on", "auto_grants_off"])
def built(request, owner_url: str, superuser_url: str | None) -> Iterator[psycopg.Connection]:
    """Owner connection to a database holding the newest release (shim + migrate), autocommit."""
    name = f"jobsdb_audit_{secrets.token_hex(4)}"
    j = _janitor(owner_url, name)
    j.init()
    try:
        apply_shim(
            superuser_url or owner_url,
            name,
            auto_grants=request.param == "auto_grants_on",
            quiet=True,
        )
        url = url_for_db(owner_url, name)
        package_migrate.up(url, rdir=ROOT / "releases", mdir=ROOT / "migrations",
                           out=lambda s: None)
        with psycopg.connect(url, autocommit=True) as conn:
            yield conn
    finally:
        j.drop()


class Broken:
    """`with Broken(conn, ddl...)`: the DDL applied in a transaction that is always rolled back."""

    def __init__(self, conn: psycopg.Connection, *ddl: str) -> None:
        self.conn, self.ddl = conn, ddl

    def __enter__(self) -> psycopg.Connection:
        self.tx = self.conn.transaction(force_rollback=True)
        self.tx.__enter__()
        for stmt in self.ddl:
            self.conn.execute(stmt)
        return self.conn

    def __exit__(self, *exc) -> None:
        self.tx.__exit__(*exc)


def test_every_check_has_a_query() -> None:
    names = {
        "rls_disabled_tables",
        "permissive_write_policies",
        "functions_that_find_callers_objects_first",
        "anon_executable_functions",
        "authenticated_executable_functions",
        "anon_security_definer_function_executable",
        "authenticated_security_definer_function_executable",
        "unindexed_foreign_keys",
        "anon_table_privileges",
        "unwrapped_auth_calls_in_policies",
        "views_without_security_invoker",
        "tables_without_comment",
        "exposed_functions_without_comment",
        "table_fingerprints",
    }
    assert names <= set(AUDIT)


def test_the_database_is_the_package(built: psycopg.Connection) -> None:
    """The audit looks at the real thing: the package's tables and RPCs exist."""
    n = built.execute(
        "select count(*) from pg_proc where pronamespace = 'public'::regnamespace"
    ).fetchone()[0]
    assert n >= 15
    assert built.execute("select to_regclass('public.jobs') is not null").fetchone()[0]


# ---- RLS on every exposed table ---------------------------------------------------------------


def test_rls_is_enabled_on_every_exposed_table(built: psycopg.Connection) -> None:
    assert findings(built, "rls_disabled_tables") == []


def test_rls_check_catches_a_table_without_rls(built: psycopg.Connection) -> None:
    with Broken(
        built,
        "create table public.audit_no_rls (id int primary key)",
        "alter table public.jobs disable row level security",
    ) as c:
        assert objects(c, "rls_disabled_tables") == {"public.audit_no_rls", "public.jobs"}


# ---- no `true` policy for writes ---------------------------------------------------------------


def test_no_write_policy_is_using_true(built: psycopg.Connection) -> None:
    assert findings(built, "permissive_write_policies") == []


def test_permissive_policy_check_catches_true_write_policies(built: psycopg.Connection) -> None:
    with Broken(
        built,
        'create policy "System can update jobs" on public.jobs for update to authenticated'
        " using (true)",
        'create policy "anyone inserts" on public.images_videos for insert to authenticated'
        " with check (true)",
        'create policy "all" on public.videos to authenticated using (true) with check (true)',
        # a read policy using (true) is fine (catalogue tables have them)
        'create policy "read" on public.videos for select to authenticated using (true)',
    ) as c:
        found = objects(c, "permissive_write_policies")
    assert found == {
        "public.jobs: System can update jobs",
        "public.images_videos: anyone inserts",
        "public.videos: all",
    }


# ---- search_path: pg_catalog before, pg_temp after, nothing a caller writes in between ---------


def test_no_function_finds_a_callers_objects_first(built: psycopg.Connection) -> None:
    assert findings(built, "functions_that_find_callers_objects_first") == []
    # the check looked at the package: its functions, definers among them, all with the setting
    n, definers, pinned = built.execute(
        "select count(*), count(*) filter (where p.prosecdef),"
        " count(*) filter (where p.proconfig @> array['search_path=pg_catalog, pg_temp'])"
        " from pg_proc as p where p.pronamespace in"
        " ('public'::regnamespace, 'jobs_private'::regnamespace, 'jobs_api'::regnamespace)"
    ).fetchone()
    assert n > 40 and definers > 10 and pinned == n, (n, definers, pinned)


def test_search_path_check_catches_every_way_to_find_a_callers_objects_first(
    built: psycopg.Connection,
) -> None:
    body = "returns int language sql as 'select 1'"
    with Broken(
        built,
        # a schema a non-owner role may create in (public is not one on Supabase: PG 15)
        "create schema audit_open",
        "grant usage, create on schema audit_open to authenticated",
        f"create function jobs_private.audit_none() {body}",
        f"create function public.audit_empty() {body} set search_path = ''",
        f"create function jobs_api.audit_public() {body} set search_path = public",
        f"create function public.audit_temp_first() {body} set search_path = pg_temp, pg_catalog",
        "create function public.audit_temp_middle() returns int language sql"
        " set search_path = pg_catalog, pg_temp, public as 'select 1'",
        "create function public.audit_open() returns int language sql"
        " set search_path = pg_catalog, audit_open, pg_temp as 'select 1'",
        "create function public.audit_user() returns int language sql"
        ' set search_path = pg_catalog, "$user", pg_temp as \'select 1\'',
        "create function public.audit_missing() returns int language sql"
        " set search_path = pg_catalog, audit_nowhere, pg_temp as 'select 1'",
        # the platform's facts (supabase/catalog.*.json): dashboard_user may create in
        # extensions; in public only the database owner may (PostgreSQL 15 and Supabase alike)
        "create function public.audit_extensions() returns int language sql"
        " set search_path = extensions, pg_catalog, pg_temp as 'select 1'",
        "create function public.audit_ok4() returns int language sql"
        " set search_path = public, pg_catalog, pg_temp as 'select 1'",
        # a definer outside the package's schemas counts too
        f"create function audit_open.audit_definer() {body} security definer"
        " set search_path = ''",
        # right: pg_catalog (listed or not) before pg_temp, listed last; an owner's schema
        "create function public.audit_ok1() returns int language sql"
        " set search_path = pg_catalog, pg_temp as 'select 1'",
        f"create function public.audit_ok2() {body} set search_path = pg_temp",
        "create function jobs_private.audit_ok3() returns int language sql"
        " set search_path = jobs_private, pg_catalog, pg_temp as 'select 1'",
        # an invoker function outside the package's schemas is the caller's own business
        f"create function audit_open.audit_invoker() {body}",
    ) as c:
        found = dict(findings(c, "functions_that_find_callers_objects_first"))
    assert set(found) == {
        "jobs_private.audit_none()", "audit_empty()", "jobs_api.audit_public()",
        "audit_temp_first()", "audit_temp_middle()", "audit_open()", "audit_user()",
        "audit_missing()", "audit_open.audit_definer()", "audit_extensions()",
    }, found
    assert found["jobs_private.audit_none()"].startswith("no search_path setting")
    assert "does not list pg_temp:" in found["audit_empty()"]
    assert "does not list pg_temp last" in found["audit_temp_first()"]
    assert "lists audit_open, where others" in found["audit_open()"]
    assert "lists $user" in found["audit_user()"]
    assert "lists extensions, where others" in found["audit_extensions()"]


# ---- function privileges -----------------------------------------------------------------------


def test_no_exposed_function_is_executable_by_anon(built: psycopg.Connection) -> None:
    assert findings(built, "anon_executable_functions") == []


def test_anon_check_catches_a_forgotten_revoke(built: psycopg.Connection) -> None:
    # the trap of SUPABASE.md: revoking from anon alone leaves PUBLIC's EXECUTE
    with Broken(
        built,
        "create function public.audit_open() returns int language sql set search_path = ''"
        " as 'select 1'",
        "revoke execute on function public.audit_open() from anon",
        "create function public.audit_closed() returns int language sql set search_path = ''"
        " as 'select 1'",
        "revoke all on function public.audit_closed() from public, anon, authenticated",
        "grant execute on function public.get_job(uuid) to anon",
    ) as c:
        found = objects(c, "anon_executable_functions")
    assert found == {"audit_open()", "get_job(uuid)"}


def test_authenticated_executes_only_the_user_rpcs(built: psycopg.Connection) -> None:
    rpcs = user_rpcs()
    names = {o for o, _ in findings(built, "authenticated_executable_functions")}
    assert names - rpcs == set(), "executable by authenticated but not a user/admin RPC"
    assert rpcs - names == set(), "listed as a user RPC but not executable by authenticated"


def test_authenticated_check_catches_an_extra_function(built: psycopg.Connection) -> None:
    with Broken(
        built,
        "create function public.audit_extra() returns int language sql set search_path = ''"
        " as 'select 1'",
        "grant execute on function public.claim_jobs(text, text, integer, integer)"
        " to authenticated",
    ) as c:
        names = {o for o, _ in findings(c, "authenticated_executable_functions")}
    assert names - user_rpcs() == {"audit_extra", "claim_jobs"}


# ---- Supabase lints 0028 / 0029: security definer functions in exposed schemas -----------------

SD_LINTS = (
    "anon_security_definer_function_executable",
    "authenticated_security_definer_function_executable",
)


@pytest.mark.parametrize("check", SD_LINTS)
def test_no_exposed_security_definer_function_is_executable(
    built: psycopg.Connection, check: str
) -> None:
    assert findings(built, check) == []
    # the package does have security definer functions (worker functions in public, the
    # bodies in jobs_api): the check had something to look at and left them out rightly
    n = built.execute(
        "select count(*) from pg_proc where prosecdef"
        " and pronamespace in ('public'::regnamespace, 'jobs_api'::regnamespace)"
    ).fetchone()[0]
    assert n >= 10


def test_user_and_admin_entry_points_are_invoker_with_definer_bodies_in_jobs_api(
    built: psycopg.Connection,
) -> None:
    rows = built.execute(
        "select p.proname, n.nspname, p.prosecdef from pg_proc as p"
        " join pg_namespace as n on n.oid = p.pronamespace"
        " where n.nspname in ('public', 'jobs_api') and p.proname = any(%s)"
        " order by 1, 2",
        (list(ENTRY_POINTS),),
    ).fetchall()
    assert rows == [
        (name, schema, schema == "jobs_api")
        for name in sorted(ENTRY_POINTS)
        for schema in ("jobs_api", "public")
    ]
    # jobs_api is not exposed: its functions are no endpoint, and anon cannot even use it
    assert not built.execute("select has_schema_privilege('anon', 'jobs_api', 'usage')").fetchone()[
        0
    ]


ENTRY_POINTS = frozenset(
    {"queue_job", "cancel_job", "retry_job", "review_job", "purge_finished_jobs", "system_metrics"}
)


def test_sd_lints_catch_definer_functions_in_exposed_schemas(
    built: psycopg.Connection, superuser_url: str | None
) -> None:
    """Each lint reports exactly the broken functions: a definer left executable through PUBLIC
    (the default), one granted to one role only, one in graphql_public, and an entry point
    switched back to security definer; not a definer outside the exposed schemas, an invoker,
    or a definer nobody of the two may execute."""
    # graphql_public belongs to supabase_admin on the platform (and in the shim): the owner
    # cannot create in it, so the superuser plants that one function, dropped afterwards
    planted = "graphql_public.audit_sd_anon()"
    su = psycopg.connect(
        url_for_db(superuser_url or built.info.dsn, built.info.dbname), autocommit=True
    )
    su.execute(
        f"create function {planted} returns int language sql"
        " security definer set search_path = '' as 'select 1';"
        f" revoke all on function {planted} from public, anon, authenticated;"
        f" grant execute on function {planted} to anon"
    )
    try:
        anon, auth = _sd_findings(built)
    finally:
        su.execute(f"drop function {planted}")
        su.close()
    assert anon == {"audit_sd_open()", planted}
    assert auth == {"audit_sd_open()", "audit_sd_auth()", "cancel_job(uuid)"}


def _sd_findings(built: psycopg.Connection) -> tuple[set[str], set[str]]:
    with Broken(
        built,
        # executable by everyone through PUBLIC (Postgres' default for a new function)
        "create function public.audit_sd_open() returns int language sql security definer"
        " set search_path = '' as 'select 1'",
        # granted to authenticated only
        "create function public.audit_sd_auth() returns int language sql security definer"
        " set search_path = '' as 'select 1'",
        "revoke all on function public.audit_sd_auth() from public, anon, authenticated",
        "grant execute on function public.audit_sd_auth() to authenticated",
        # an entry point switched back to security definer
        "alter function public.cancel_job(uuid) security definer",
        # not findings: a closed definer, an invoker, a definer outside the exposed schemas
        "create function public.audit_sd_closed() returns int language sql security definer"
        " set search_path = '' as 'select 1'",
        "revoke all on function public.audit_sd_closed() from public, anon, authenticated",
        "create function public.audit_invoker() returns int language sql"
        " set search_path = '' as 'select 1'",
        "create function jobs_private.audit_sd_private() returns int language sql"
        " security definer set search_path = '' as 'select 1'",
        "grant execute on function jobs_private.audit_sd_private() to anon, authenticated",
    ) as c:
        return (
            objects(c, "anon_security_definer_function_executable"),
            objects(c, "authenticated_security_definer_function_executable"),
        )


def test_user_rpcs_constant_matches_the_docs() -> None:
    documented = documented_user_rpcs()
    assert documented is not None, "docs/app.md has no RPC table with a caller column"
    assert documented == USER_RPCS


def test_docs_parser_reads_a_caller_table(tmp_path: Path) -> None:
    md = tmp_path / "app.md"
    md.write_text(
        "# x\n\n| function | caller | does |\n| --- | --- | --- |\n"
        "| `queue_job(job_type, ...)` | authenticated user | queues |\n"
        "| `claim_jobs(...)` | worker | claims |\n"
        "| `system_metrics()` | admin | metrics |\n"
        "| `cancel_job(job_id)` | owner or admin | cancels |\n\ntext\n"
    )
    assert documented_user_rpcs(md) == {"queue_job", "system_metrics", "cancel_job"}
    md.write_text("# no table\n")
    assert documented_user_rpcs(md) is None


# ---- foreign keys indexed ---------------------------------------------------------------------


def test_every_foreign_key_is_indexed(built: psycopg.Connection) -> None:
    assert findings(built, "unindexed_foreign_keys") == []
    n = built.execute("select count(*) from pg_constraint where contype = 'f'").fetchone()[0]
    assert n >= 10


def test_fk_index_check_catches_unindexed_and_wrongly_led(built: psycopg.Connection) -> None:
    with Broken(
        built,
        "create table public.audit_child (id int primary key, other int,"
        " job_id uuid references public.jobs (id), user_id uuid references public.profiles (id))",
        # an index on (other, user_id) does not lead with user_id
        "create index on public.audit_child (other, user_id)",
        "drop index public.videos_user_id_idx",
    ) as c:
        found = objects(c, "unindexed_foreign_keys")
    assert found == {
        "audit_child: audit_child_job_id_fkey",
        "audit_child: audit_child_user_id_fkey",
        "videos: videos_user_id_fkey",
    }


# ---- no table privilege to anon ----------------------------------------------------------------


def test_anon_has_no_table_privilege(built: psycopg.Connection) -> None:
    assert findings(built, "anon_table_privileges") == []


@pytest.mark.parametrize(
    "privilege", ["select", "insert", "update", "delete", "truncate", "references", "trigger"]
)
def test_anon_table_check_catches_each_privilege(built: psycopg.Connection, privilege) -> None:
    with Broken(built, f"grant {privilege} on table public.jobs to anon") as c:
        assert findings(c, "anon_table_privileges") == [
            ("public.jobs", f"anon has {privilege.upper()}")
        ]
    with Broken(built, f"grant {privilege} on table jobs_private.settings to public") as c:
        assert objects(c, "anon_table_privileges") == {"jobs_private.settings"}


# ---- auth.uid() wrapped in (select ...) --------------------------------------------------------


def test_policies_call_auth_functions_once_per_statement(built: psycopg.Connection) -> None:
    assert findings(built, "unwrapped_auth_calls_in_policies") == []
    n = built.execute(
        "select count(*) from pg_policies where qual ~ 'auth\\.uid' or with_check ~ 'auth\\.uid'"
    ).fetchone()[0]
    assert n >= 5  # the check looked at policies that do call auth.uid()


def test_auth_wrap_check_catches_bare_calls(built: psycopg.Connection) -> None:
    with Broken(
        built,
        'create policy "bare uid" on public.jobs for select to authenticated'
        " using (auth.uid() = user_id)",
        'create policy "half wrapped" on public.videos for select to authenticated'
        " using ((select auth.uid()) = user_id or auth.role() = 'service_role')",
        'create policy "bare jwt" on public.images_videos for insert to authenticated'
        " with check ((auth.jwt() ->> 'sub')::uuid = user_id)",
        'create policy "wrapped" on public.profiles for select to authenticated'
        " using ((select auth.uid()) = id and (select auth.role()) = 'authenticated')",
    ) as c:
        found = objects(c, "unwrapped_auth_calls_in_policies")
    assert found == {
        "public.jobs: bare uid",
        "public.videos: half wrapped",
        "public.images_videos: bare jwt",
    }


# ---- views are security_invoker ----------------------------------------------------------------


def test_exposed_views_are_security_invoker(built: psycopg.Connection) -> None:
    assert findings(built, "views_without_security_invoker") == []  # none exist yet: vacuous


def test_view_check_catches_a_definer_view(built: psycopg.Connection) -> None:
    with Broken(
        built,
        "create view public.audit_v1 as select id from public.jobs",
        "create view public.audit_v2 with (security_invoker = false) as select id from public.jobs",
        "create view public.audit_v3 with (security_invoker = true) as select id from public.jobs",
        "create view public.audit_v4 with (security_invoker) as select id from public.jobs",
    ) as c:
        found = objects(c, "views_without_security_invoker")
    assert found == {"public.audit_v1", "public.audit_v2"}


# ---- comments ----------------------------------------------------------------------------------


def test_every_public_table_has_a_comment(built: psycopg.Connection) -> None:
    assert findings(built, "tables_without_comment") == []


def test_table_comment_check_catches_an_uncommented_table(built: psycopg.Connection) -> None:
    with Broken(
        built,
        "create table public.audit_nocomment (id int)",
        "comment on table public.jobs is null",
    ) as c:
        assert objects(c, "tables_without_comment") == {"public.audit_nocomment", "public.jobs"}


def test_every_exposed_function_has_a_comment(built: psycopg.Connection) -> None:
    assert findings(built, "exposed_functions_without_comment") == []


def test_function_comment_check_catches_an_uncommented_function(built: psycopg.Connection) -> None:
    with Broken(
        built,
        "create function public.audit_nc() returns int language sql set search_path = ''"
        " as 'select 1'",
        "comment on function public.get_job(uuid) is null",
    ) as c:
        found = objects(c, "exposed_functions_without_comment")
    assert found == {"audit_nc()", "get_job(uuid)"}
