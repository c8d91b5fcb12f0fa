#!/usr/bin/env bash
# `make install-check`: pip install this checkout into a fresh venv outside it, then, from an
# empty directory, run what a DBA runs: --version, db start (a free port), migrate, worker
# --help, db stop. Not part of `make test` (it installs from the package index: ~30 s).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
chmod 755 "$work"  # the server runs as `postgres` under root: it must reach $work
cleanup() {
    (cd "$work/run" 2>/dev/null && "$work/venv/bin/jobsdb" db stop >/dev/null 2>&1) || true
    rm -rf "$work"
}
trap cleanup EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "$src" 2>&1 | grep -v "^WARNING: Location" || true
mkdir "$work/run" && chmod 755 "$work/run" && cd "$work/run"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
unset DATABASE_URL JOBSDB_ROOT JOBSDB_HOME
export JOBSDB_PORT="$port"
jobsdb="$work/venv/bin/jobsdb"
set -x
"$jobsdb" --version
"$jobsdb" db start
"$jobsdb" migrate
"$jobsdb" migrate status
"$jobsdb" worker --help
"$jobsdb" db stop
