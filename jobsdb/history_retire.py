"""`jobsdb history retire DEST`: retention by whole partitions. Each sealed partition of jobs
(`jobsdb history seal` makes them) whose newest job is older than --older-than leaves the
database: exported to verified Parquet in DEST, made ready by jobs_private.retire_partition
(what deleting its jobs would do to the rows referencing them, tombstones, metric hours) in a
transaction that also checks the partition still matches the file, then detached under one
brief lock and renamed jobs_retired_* (jobs_private.retire_detach), and dropped; last, the keys
into jobs the detach added back NOT VALID are checked."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from jobsdb import errors, history, history_store
from jobsdb.history_seal import LOCK_TRIES, in_rounds

SEALED = """
select c.oid::regclass::text
from pg_catalog.pg_inherits as i
join pg_catalog.pg_class as c on c.oid = i.inhrelid
where i.inhparent = 'public.jobs'::regclass and c.relname like 'jobs\\_upto\\_%%'
    and c.relnamespace = 'jobs_private'::regnamespace and not i.inhdetachpending
order by c.relname
"""


RETIRED = """
select c.oid::regclass::text from pg_catalog.pg_class as c
where c.relnamespace = 'jobs_private'::regnamespace and c.relname like 'jobs\\_retired\\_%%'
    and c.relkind = 'r'
order by c.relname
"""


def drop(url: str, table: str, log: Callable[[str], None], tries: int = LOCK_TRIES) -> None:
    """Drop a detached partition. Dropping it removes its foreign keys' triggers from the tables
    they reference (job_types, profiles, ...) in ACCESS EXCLUSIVE mode: a DROP waiting for them
    untimed would queue the queue's own statements behind it, and deadlock with them (seen under
    the lifecycle). So the locks are taken first, in brief tries (jobs_private.lock_tables_briefly),
    in rounds; when they are not had, the table stays for the next run."""
    def attempt() -> None:
        with psycopg.connect(url) as c:
            refs = [r for (r,) in c.execute(
                "select distinct confrelid::regclass::text from pg_catalog.pg_constraint"
                " where conrelid = %s::regclass and contype = 'f'", (table,)).fetchall()]
            # the busiest first: its try waits longest (lock_tables_briefly)
            c.execute("select jobs_private.lock_tables_briefly(%s::regclass[],"
                      " 'access exclusive', %s)", ([*refs, table], tries))
            c.execute(f"drop table {table}")

    in_rounds(attempt, f"dropping {table}", log)


def detach(url: str, part: str, log: Callable[[str], None], tries: int) -> str:
    """jobs_private.retire_detach in rounds: the partition out of jobs under one brief lock;
    answers the detached table's new name."""
    def attempt() -> str:
        with psycopg.connect(url) as c:
            return c.execute("select jobs_private.retire_detach(%s::regclass, %s)",
                             (part, tries)).fetchone()[0]

    return in_rounds(attempt, f"detaching {part}", log)


def retire(url: str, dest: str, older_than: str, log: Callable[[str], None],
           tries: int = LOCK_TRIES) -> list[str]:
    """Retire every sealed partition older than `older_than`; answers a line per partition."""
    done: list[str] = []
    with psycopg.connect(url, autocommit=True) as c:
        if c.execute("select to_regprocedure('jobs_private.retire_detach(regclass,"
                     " integer)')").fetchone()[0] is None:
            raise errors.UserError(
                "this database has no jobs_private.retire_detach: bring it to jobsdb 1.9.0"
                " or later first (jobsdb migrate)", exit_code=errors.PENDING)
        # a detach an interrupted run of an earlier release's command left pending: its
        # partition was exported, checked and made ready first, so it is finished and dropped
        for (part,) in c.execute(
                "select inhrelid::regclass::text from pg_catalog.pg_inherits"
                " where inhparent = 'public.jobs'::regclass and inhdetachpending").fetchall():
            c.execute(f"alter table public.jobs detach partition {part} finalize")
            drop(url, part, log, tries)
            done.append(f"{part}: an interrupted detach finished; dropped")
        for (table,) in c.execute(RETIRED).fetchall():
            drop(url, table, log, tries)
            done.append(f"{table}: detached by an interrupted run; dropped")
        due = [p for (p,) in c.execute(SEALED).fetchall()
               if c.execute(f"select max(created_at) < now() - %s::interval from {p}",
                            (older_than,)).fetchone()[0]]
    for part in due:
        where, manifest = history_store.export(url, part, dest, log)
        with psycopg.connect(url) as c:
            got = c.execute("select jobs_private.retire_partition(%s::regclass, %s::interval)",
                            (part, older_than)).fetchone()[0]
            _, cols = history.columns(c, part)
            # anything changed since the export (a job deleted or updated) fails the check and
            # rolls all of it back: run it again
            history.compare(history.fingerprint_pg(c, part, cols),
                            history.Fingerprint(manifest.rows, manifest.checksum,
                                                manifest.min_id, manifest.max_id),
                            f"{where} (exported just before)")
        log(f"{part}: detaching it")
        gone = detach(url, part, log, tries)
        log(f"{gone}: dropping it")
        drop(url, gone, log, tries)
        refs = ", ".join(f"{t} {n}" for t, n in sorted(got["references"].items()))
        done.append(f"{part}: {got['jobs']} jobs (newest {got['newest']}) exported to {where},"
                    f" detached and dropped; rows referencing them: {refs or 'none'}")
    if not due:
        done.append(f"nothing to retire: no sealed partition's newest job is older than"
                    f" {older_than}")
    # the keys into jobs a detach added back NOT VALID (this run's or an interrupted one's):
    # each check reads its table, under no lock writes wait for
    with psycopg.connect(url, autocommit=True) as c:
        keys = c.execute("select jobs_private.seal_check_keys()").fetchone()[0]
    if keys:
        done.append(f"foreign keys into jobs checked: {', '.join(keys)}")
    return done
