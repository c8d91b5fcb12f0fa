"""`jobsdb worker-login create/list/revoke`: a LOGIN member of jobs_worker with a generated
password (stored only as a SCRAM verifier), scoped to pools through jobs_private.worker_logins
when the database has it, usable by `jobsdb worker`, and revocable."""

from __future__ import annotations

import base64
import json
import secrets
import signal
import subprocess

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from workerproc import WorkerProc, jobsdb_command, make_user, queue, states, wait_for

from jobsdb.worker_logins import scram_verifier


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*jobsdb_command(), "worker-login", "--url", url, *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def login_name(owner_url: str) -> str:
    name = f"gpu_test_{secrets.token_hex(4)}"
    yield name
    with psycopg.connect(owner_url, autocommit=True) as c:
        c.execute(f'drop role if exists "{name}"')


def test_create_list_use_and_revoke_a_worker_login(
    fresh_db: str, superuser_url: str | None, login_name: str,
) -> None:
    r = _run(fresh_db, "create", login_name)
    assert r.returncode == 0, r.stderr
    password = r.stdout.split("shown once, store it in your secret manager): ")[1].strip()
    assert len(password) >= 40
    with psycopg.connect(fresh_db) as c:
        row = c.execute(
            "select r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolbypassrls,"
            " pg_has_role(r.oid, 'jobs_worker', 'member')"
            " from pg_roles as r where r.rolname = %s", (login_name,)).fetchone()
    assert row == (True, False, False, False, True)
    if superuser_url:  # the server holds a verifier of exactly that password, not the password
        with psycopg.connect(superuser_url) as c:
            secret = c.execute("select rolpassword from pg_authid where rolname = %s",
                               (login_name,)).fetchone()[0]
        salt = base64.b64decode(secret.split(":")[1].split("$")[0])
        assert secret == scram_verifier(password, salt)
        assert password not in secret

    listed = _run(fresh_db, "list")
    assert listed.returncode == 0 and login_name in listed.stdout

    # the login runs a worker: its calls run as jobs_worker through its membership
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 2, fake_seconds=0)
    info = conninfo_to_dict(fresh_db)
    w = WorkerProc(make_conninfo(**{**info, "user": login_name}))
    try:
        wait_for(lambda: all(s[0] == "completed" for s in states(fresh_db, ids).values()), 30,
                 "jobs done by the new login")
        w.signal(signal.SIGTERM)
        assert w.wait() == 0
    finally:
        w.stop()

    again = _run(fresh_db, "create", login_name)
    assert again.returncode == 1 and "already exists" in again.stderr
    r = _run(fresh_db, "revoke", login_name)
    assert r.returncode == 0, r.stderr
    with psycopg.connect(fresh_db) as c:
        assert c.execute("select 1 from pg_roles where rolname = %s", (login_name,)).fetchone() \
            is None
    r = _run(fresh_db, "revoke", login_name)
    assert r.returncode == 1 and "not a login member of jobs_worker" in r.stderr


def test_revoke_refuses_roles_that_are_not_worker_logins(fresh_db: str) -> None:
    for name in ("authenticated", "postgres", "Robert'); drop table x;--"):
        r = _run(fresh_db, "revoke", name)
        assert r.returncode == 1 and r.stderr.startswith("error: "), (name, r.stderr)
    with psycopg.connect(fresh_db) as c:
        assert c.execute("select count(*) from pg_roles where rolname in"
                         " ('authenticated', 'postgres')").fetchone()[0] == 2


def test_create_rejects_bad_names_and_unknown_pools(fresh_db: str, login_name: str) -> None:
    assert _run(fresh_db, "create", "Bad-Name").returncode == 1
    r = _run(fresh_db, "create", login_name, "--pools", "sdxl,nope")
    assert r.returncode == 1 and "unknown pool(s) nope" in r.stderr
    with psycopg.connect(fresh_db) as c:
        assert c.execute("select 1 from pg_roles where rolname = %s", (login_name,)).fetchone() \
            is None


def test_pools_are_recorded_in_worker_logins_and_removed_on_revoke(
    fresh_db: str, login_name: str,
) -> None:
    r = _run(fresh_db, "create", login_name, "--pools", "sdxl,wan", "--comment", "gpu box 7")
    assert r.returncode == 0, r.stderr
    with psycopg.connect(fresh_db) as c:
        row = c.execute("select worker_pools, comment from jobs_private.worker_logins"
                        " where login = %s", (login_name,)).fetchone()
    assert row == (["sdxl", "wan"], "gpu box 7")
    listed = _run(fresh_db, "list")
    assert any(line.split()[:2] == [login_name, "sdxl,wan"] for line in listed.stdout.splitlines())
    # the scope holds: the login claims from its pools and is refused another (claim_jobs)
    login = conninfo_to_dict(fresh_db) | {"user": login_name}
    with psycopg.connect(**login) as c:
        assert c.execute("select count(*) from public.claim_jobs('wan', 'w')").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select count(*) from public.claim_jobs('rv51', 'w')")
    assert _run(fresh_db, "revoke", login_name).returncode == 0
    with psycopg.connect(fresh_db) as c:
        assert c.execute("select count(*) from jobs_private.worker_logins where login = %s",
                         (login_name,)).fetchone()[0] == 0


def test_report_and_claim_keeps_a_login_in_its_pools_and_refuses_both_halves(
    fresh_db: str, login_name: str,
) -> None:
    """job_callback_and_claim as a real worker login scoped to sdxl: its report and a claim
    from sdxl go through in one call; a claim from another pool is 42501 and its report is
    rolled back with it (all or nothing); the login gains no right to report without a token."""
    assert _run(fresh_db, "create", login_name, "--pools", "sdxl").returncode == 0
    user = make_user(fresh_db)
    ids = queue(fresh_db, user, 3, fake_seconds=0)
    login = conninfo_to_dict(fresh_db) | {"user": login_name}
    call = ("select answer ->> 'result', job_id::text, lease_token::text"
            " from public.job_callback_and_claim(%s::jsonb, %s, 'w')")

    def report(job: str, token: str | None) -> str:
        body = {"job_id": job, "status": "completed", "assets": [f"{user}/{job}/0.png"]}
        return json.dumps(body | ({"lease_token": token} if token else {}))

    with psycopg.connect(**login, autocommit=True) as c:
        job, token = c.execute("select job_id::text, lease_token::text"
                               " from public.claim_jobs('sdxl', 'w')").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute(call, (report(job, token), "rv51"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute(call, (report(job, None), "sdxl"))
        assert states(fresh_db, [job])[job] == ("processing", 1)  # both refused: not reported
        answer, nxt, _ = c.execute(call, (report(job, token), "sdxl")).fetchone()
        assert answer == "completed" and nxt in ids and nxt != job
    got = states(fresh_db, ids)
    assert got[job][0] == "completed" and got[nxt][0] == "processing"
    assert sorted(s for s, _ in got.values()) == ["completed", "processing", "queued"]
