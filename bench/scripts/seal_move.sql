-- For measurement only (bench/seal.py): under seal_lock.sql's lock, the hot leaf
-- detached and attached again above %(cut)s, and the sealed copy attached below it. Each
-- attach finds its range implied by a validated CHECK and reads no row.
alter table public.jobs detach partition jobs_private.jobs_hot;
alter table public.jobs attach partition jobs_private.jobs_hot
for values from ('%(cut)s') to (maxvalue);
alter table public.jobs attach partition jobs_private.jobs_sealed
for values from ('%(low)s') to ('%(cut)s');
