-- jobsdb 1.2.0 -> 1.3.0: library_items within 5 ms (p95) for a user with 10,000 jobs at
-- 1,000,000 jobs (bench/README.md). One function; no table changes; the same answers, errors
-- and rules for every role: 1.2.0's callers keep working.

-- Reads: library_items' answer built with less copying (the same answer, byte for byte).
-- library_items gathers each job's assets and the page's items as arrays of jsonb instead of
-- jsonb_agg, so ~100 kB of JSON per page is written once into the answer; function only.
-- jobsdb:apply functions/api/library_items.sql
