"""`make bench` / `python -m bench`: jobsdb measured side by side with a raw baseline and peers.

Starts its own throw-away, tuned PostgreSQL 15 cluster (port $BENCH_PORT, default 54330, data
in the system temp dir) unless BENCH_DATABASE_URL names a superuser connection to an existing
server. Workloads, targets and the meaning of each figure: bench/README.md.
"""
