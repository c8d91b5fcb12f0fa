"""The migration runner, against real databases and temp migration directories."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from jobsdb import migrate, sqlsplit
from jobsdb.errors import UsageError
from jobsdb.migrate import MigrateError

ROOT = Path(__file__).resolve().parents[2]


def write(d: Path, name: str, text: str) -> Path:
    p = d / name
    p.write_text(text)
    return p


def q(url: str, sql: str, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def history(url: str) -> list[tuple]:
    return q(
        url,
        "select version, name, statements from supabase_migrations.schema_migrations"
        " order by version",
    )


def exists(url: str, rel: str) -> bool:
    return q(url, "select to_regclass(%s) is not null", (rel,))[0][0]


def quiet(_: str) -> None:
    pass


@pytest.fixture
def mdir(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    d.mkdir()
    return d


# ---- statement splitting (the Supabase CLI's format) -----------------------------------


def test_split_like_supabase_cli() -> None:
    text = (
        "-- header comment\n"
        "create table t (a text default ';', \"b;c\" int);\n"
        "create function f() returns int language plpgsql as $fn$\n"
        "begin\n  return 1; -- ; in body\nend\n$fn$;\n"
        "/* block ; /* nested ; */ */ insert into t (a) values ('it''s;');\n"
        "create function g() returns int language sql begin atomic select 1; select 2; end;\n"
        "\n-- trailing comment\n"
    )
    assert sqlsplit.split(text) == [
        "-- header comment\ncreate table t (a text default ';', \"b;c\" int)",
        "create function f() returns int language plpgsql as $fn$\n"
        "begin\n  return 1; -- ; in body\nend\n$fn$",
        "/* block ; /* nested ; */ */ insert into t (a) values ('it''s;')",
        "create function g() returns int language sql begin atomic select 1; select 2; end",
        "-- trailing comment",
    ]


# ---- up / status / dry run -------------------------------------------------------------


def test_up_applies_in_order_and_records_cli_format(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_first.sql", "create table a (id int);\n")
    write(
        mdir, "20240102000000_second_one.sql", "create table b (id int);\ninsert into b values (1);"
    )
    applied = migrate.up(bare_db, mdir, out=quiet)
    assert [m.version for m in applied] == ["20240101000000", "20240102000000"]
    assert history(bare_db) == [
        ("20240101000000", "first", ["create table a (id int)"]),
        ("20240102000000", "second_one", ["create table b (id int)", "insert into b values (1)"]),
    ]
    cols = q(
        bare_db,
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'supabase_migrations' and table_name = 'schema_migrations'"
        " order by ordinal_position",
    )
    assert cols == [("version", "text"), ("statements", "ARRAY"), ("name", "text")]
    assert migrate.up(bare_db, mdir, out=quiet) == []
    assert migrate.status(bare_db, mdir, out=quiet) == 0


def test_cli_written_history_row_is_read_as_applied(bare_db: str, mdir: Path) -> None:
    """A row exactly as `supabase db push` writes it counts as applied (and is not re-run)."""
    write(
        mdir,
        "20240101000000_init.sql",
        "-- init\ncreate table a (id int);\n\ncreate index on a (id);\n",
    )
    with psycopg.connect(bare_db, autocommit=True) as conn:
        for stmt in migrate.HISTORY_DDL:
            conn.execute(stmt)
        conn.execute("create table a (id int)")
        conn.execute("create index on a (id)")
        conn.execute(
            "INSERT INTO supabase_migrations.schema_migrations(version, name, statements)"
            " VALUES($1, $2, $3)".replace("$1", "%s")
            .replace("$2", "%s")
            .replace("$3", "%s"),
            (
                "20240101000000",
                "init",
                ["-- init\ncreate table a (id int)", "create index on a (id)"],
            ),
        )
    assert migrate.status(bare_db, mdir, out=quiet) == 0
    assert migrate.up(bare_db, mdir, out=quiet) == []


def test_dry_run_changes_nothing(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    lines: list[str] = []
    pending = migrate.up(bare_db, mdir, dry_run=True, out=lines.append)
    assert [m.name for m in pending] == ["a"]
    assert any("20240101000000_a.sql" in ln for ln in lines)
    assert not exists(bare_db, "public.a")
    assert not exists(bare_db, "supabase_migrations.schema_migrations")


def test_dry_run_executes_and_rolls_back_so_a_broken_file_fails_before_the_real_run(
    bare_db: str, mdir: Path
) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);\ninsert into a values (1);")
    write(mdir, "20240102000000_b.sql", "alter table a add column b int not null;\n")
    write(mdir, "20240103000000_idx.sql",
          "-- jobsdb:no-transaction\ncreate index concurrently a_id on a (id);\n")
    lines: list[str] = []
    with pytest.raises(MigrateError, match=r"dry run: 20240102000000_b.sql: statement 1 \(line 1\)"
                       r" failed: \[23502\]") as e:
        migrate.up(bare_db, mdir, dry_run=True, out=lines.append)
    assert "\n" not in str(e.value)  # one line; the statement is in .detail (--debug)
    assert "alter table a add column b" in e.value.detail
    assert lines and lines[0].startswith("dry run: ok 20240101000000_a.sql")
    assert not exists(bare_db, "public.a")  # the first file ran, and was rolled back
    (mdir / "20240102000000_b.sql").write_text("alter table a add column b int;\n")
    lines.clear()
    assert len(migrate.up(bare_db, mdir, dry_run=True, out=lines.append)) == 3
    assert any(ln.startswith("dry run: NOT CHECKED 20240103000000_idx.sql") for ln in lines)
    assert not exists(bare_db, "public.a")
    assert not exists(bare_db, "supabase_migrations.schema_migrations")
    # a file after a no-transaction one builds on its changes: not checked either (this one
    # fails without the index, as a release step's guard fails without the release before)
    write(mdir, "20240104000000_c.sql", "comment on index a_id is 'needs the index';\n")
    lines.clear()
    assert len(migrate.up(bare_db, mdir, dry_run=True, out=lines.append)) == 4
    assert lines[-2] == ("dry run: NOT CHECKED 20240104000000_c.sql: it runs after"
                         " 20240103000000_idx.sql, whose changes the dry run cannot make"), lines
    assert lines[-1].startswith("dry run: 2 pending migration(s) checked and rolled back,"
                                " 2 not checked"), lines


def test_dry_run_gives_up_on_a_busy_table_instead_of_queueing(bare_db: str, mdir: Path) -> None:
    """A reader holds a lock on the table: the dry run's ALTER must not wait behind it (and so
    must not make every later statement on the table queue behind its own request)."""
    q(bare_db, "create table busy (id int)")
    write(mdir, "20240101000000_a.sql", "alter table busy add column b int;")
    with psycopg.connect(bare_db) as reader:
        reader.execute("select * from busy")  # holds ACCESS SHARE until rollback
        t0 = time.monotonic()
        with pytest.raises(MigrateError, match=r"\[55P03\] canceling statement due to lock"):
            migrate.up(bare_db, mdir, dry_run=True, out=quiet)
        assert time.monotonic() - t0 < 3  # the dry run's 500ms lock timeout, not 5s
        reader.rollback()
    assert q(bare_db, "select count(*) from pg_attribute where attrelid = 'busy'::regclass"
             " and attname = 'b'") == [(0,)]


def test_repair_accepts_only_known_versions(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    with pytest.raises(UsageError, match="not a migration version"):
        migrate.repair(bare_db, mdir, "latest", "applied", out=quiet)
    with pytest.raises(UsageError, match="neither a file in .* nor in the database's"):
        migrate.repair(bare_db, mdir, "20990101000000", "applied", out=quiet)
    assert not exists(bare_db, "supabase_migrations.schema_migrations")
    migrate.repair(bare_db, mdir, "20240101000000", "applied", out=quiet)
    assert [r[:2] for r in history(bare_db)] == [("20240101000000", "a")]
    (mdir / "20240101000000_a.sql").unlink()  # in the history only: may be reverted
    migrate.repair(bare_db, mdir, "20240101000000", "reverted", out=quiet)
    assert history(bare_db) == []


def test_status_exit_codes(bare_db: str, mdir: Path) -> None:
    f = write(mdir, "20240101000000_a.sql", "create table a (id int);")
    assert migrate.status(bare_db, mdir, out=quiet) == 1  # pending (no history table yet)
    migrate.up(bare_db, mdir, out=quiet)
    assert migrate.status(bare_db, mdir, out=quiet) == 0
    f.write_text("create table a (id bigint);")
    assert migrate.status(bare_db, mdir, out=quiet) == 2  # changed
    f.write_text("create table a (id int);")
    q(
        bare_db,
        "insert into supabase_migrations.schema_migrations (version, name)"
        " values ('20230101000000', 'gone')",
    )
    assert migrate.status(bare_db, mdir, out=quiet) == 2  # unknown applied


def test_cli_status_exit_code(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    cmd = [
        sys.executable,
        "-m",
        "jobsdb.cli",
        "migrate",
        "status",
        "--dir",
        str(mdir),
        "--url",
        bare_db,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    r = subprocess.run(
        [*cmd[:4], "up", "--dir", str(mdir), "--url", bare_db],
        capture_output=True,
        text=True,
        env=env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- refusals --------------------------------------------------------------------------


def test_edited_applied_migration_is_refused_and_named(bare_db: str, mdir: Path) -> None:
    f = write(mdir, "20240101000000_create_a.sql", "create table a (id int);")
    migrate.up(bare_db, mdir, out=quiet)
    f.write_text("create table a (id int, extra text);")
    write(mdir, "20240102000000_b.sql", "create table b (id int);")
    with pytest.raises(MigrateError, match="20240101000000_create_a.sql"):
        migrate.up(bare_db, mdir, out=quiet)
    assert not exists(bare_db, "public.b")


def test_repaired_row_without_statements_is_not_checked(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    q(bare_db, "create table a (id int)")
    migrate.repair(bare_db, mdir, "20240101000000", "applied", out=quiet)
    assert history(bare_db) == [("20240101000000", "a", None)]
    assert migrate.status(bare_db, mdir, out=quiet) == 0
    migrate.repair(bare_db, mdir, "20240101000000", "reverted", out=quiet)
    assert history(bare_db) == []


def test_baseline_records_without_running(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    write(mdir, "20240102000000_b.sql", "create table b (id int);")
    migrate.baseline(bare_db, mdir, "20240101000000", out=quiet)
    assert not exists(bare_db, "public.a")
    assert [r[0] for r in history(bare_db)] == ["20240101000000"]
    migrate.up(bare_db, mdir, out=quiet)
    assert exists(bare_db, "public.b") and not exists(bare_db, "public.a")


def test_out_of_order_refused_unless_allowed(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240102000000_b.sql", "create table b (id int);")
    migrate.up(bare_db, mdir, out=quiet)
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    with pytest.raises(MigrateError, match="20240101000000_a.sql"):
        migrate.up(bare_db, mdir, out=quiet)
    assert not exists(bare_db, "public.a")
    migrate.up(bare_db, mdir, allow_out_of_order=True, out=quiet)
    assert exists(bare_db, "public.a")


def test_failing_migration_leaves_no_trace(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_ok.sql", "create table ok (id int);")
    write(
        mdir,
        "20240102000000_bad.sql",
        "create table half (id int);\ninsert into half values (1);\nselect 1 / 0;\n",
    )
    with pytest.raises(MigrateError, match="20240102000000_bad.sql"):
        migrate.up(bare_db, mdir, out=quiet)
    assert exists(bare_db, "public.ok")
    assert not exists(bare_db, "public.half")
    assert [r[0] for r in history(bare_db)] == ["20240101000000"]


def test_lock_and_statement_timeouts_apply(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_slow.sql", "select pg_sleep(2);")
    with pytest.raises(MigrateError, match="statement timeout"):
        migrate.up(bare_db, mdir, statement_timeout="200ms", out=quiet)
    assert history(bare_db) == []


def test_lock_held_elsewhere_times_out_clearly(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_a.sql", "create table a (id int);")
    with psycopg.connect(bare_db, autocommit=True) as other:
        other.execute("select pg_advisory_lock(%s)", (migrate.LOCK_KEY,))
        with pytest.raises(MigrateError, match="holds the migration lock"):
            migrate.up(bare_db, mdir, wait=0.3, out=quiet)
    assert not exists(bare_db, "public.a")


# ---- concurrency -----------------------------------------------------------------------


def test_concurrent_runs_apply_each_migration_once(bare_db: str, mdir: Path) -> None:
    for i in range(4):
        # not idempotent on purpose: a second application would fail
        write(
            mdir,
            f"2024010100000{i}_m{i}.sql",
            f"create table t{i} (id int);\nselect pg_sleep(0.2);\n",
        )
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            barrier.wait()
            applied = migrate.up(bare_db, mdir, wait=30, out=quiet)
            results.append([m.version for m in applied])
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    all_applied = sorted(v for r in results for v in r)
    assert all_applied == [f"2024010100000{i}" for i in range(4)]
    assert len(history(bare_db)) == 4


# ---- no-transaction files --------------------------------------------------------------


def test_no_transaction_file_runs_create_index_concurrently(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_t.sql", "create table t (id int);\ninsert into t values (1), (2);")
    write(
        mdir,
        "20240102000000_t_idx.sql",
        "-- jobsdb:no-transaction\n-- built online: no long lock on t\n"
        "create index concurrently t_id_idx on t (id);\n",
    )
    migrate.up(bare_db, mdir, out=quiet)
    assert exists(bare_db, "public.t_id_idx")
    assert q(
        bare_db, "select indisvalid from pg_index where indexrelid = 't_id_idx'::regclass"
    ) == [(True,)]
    assert history(bare_db)[1][:2] == ("20240102000000", "t_idx")


def test_no_transaction_file_fails_on_invalid_index(bare_db: str, mdir: Path) -> None:
    write(mdir, "20240101000000_t.sql", "create table t (id int);\ninsert into t values (1), (1);")
    write(
        mdir,
        "20240102000000_t_idx.sql",
        "-- jobsdb:no-transaction\ncreate unique index concurrently t_id_key on t (id);\n",
    )
    with pytest.raises(MigrateError, match="20240102000000_t_idx.sql"):
        migrate.up(bare_db, mdir, out=quiet)
    assert [r[0] for r in history(bare_db)] == ["20240101000000"]


def test_new_creates_timestamped_file(mdir: Path) -> None:
    p = migrate.new(mdir, "add_things")
    assert migrate.FILE_RE.match(p.name)
    with pytest.raises(MigrateError):
        migrate.new(mdir, "Bad Name")


def test_a_file_that_loses_a_deadlock_is_run_again(bare_db: str, mdir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The file locks a then b; another transaction holds b and then asks for a. The file waits
    first, so its deadlock check runs first and it is the one cancelled (40P01); run again once
    the other transaction has ended, it applies. With one try it fails, saying so."""
    q(bare_db, "create table a (id int); create table b (id int)")
    write(mdir, "20240101000000_ab.sql", "lock table a;\nlock table b;\ncreate table c (id int);\n")

    def other_side() -> None:
        with psycopg.connect(bare_db) as other:
            other.execute("lock table b")
            got.set()
            deadline = time.monotonic() + 20
            while not other.execute(  # until the file waits for b
                "select exists (select from pg_locks where relation = 'b'::regclass"
                " and not granted)").fetchone()[0]:  # fmt: skip
                assert time.monotonic() < deadline, "the file never waited for b"
                time.sleep(0.02)
            other.execute("lock table a")  # the cycle: the file's check cancels the file
            other.commit()

    for tries, applied in ((1, False), (3, True)):
        monkeypatch.setattr(migrate, "DEADLOCK_TRIES", tries)
        got = threading.Event()
        t = threading.Thread(target=other_side)
        t.start()
        got.wait(10)
        try:
            if applied:
                migrate.up(bare_db, mdir, lock_timeout="10s", out=quiet)
            else:
                with pytest.raises(MigrateError, match=r"\[40P01\].*deadlocked with another"):
                    migrate.up(bare_db, mdir, lock_timeout="10s", out=quiet)
        finally:
            t.join(10)
        assert exists(bare_db, "public.c") is applied
        assert [r[1] for r in history(bare_db)] == (["ab"] if applied else [])
