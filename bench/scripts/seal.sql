-- For measurement only (bench/seal.py), step 2, in one transaction with
-- seal_lock.sql and seal_move.sql after it: the copied rows leave the
-- hot leaf; the driver checks the answer of the second statement (every removed row finished
-- and unchanged since the copy) before the lock and the move; the leaf's new lower bound
-- (seal_bound.sql) is validated, a read of the leaf that takes no lock the hot
-- path waits for. The removal runs without triggers (the superuser's replica mode): by
-- default this prototype leaves the leaf's own delete triggers (tombstones, metrics) and the
-- foreign keys into jobs in place, which a real design would keep off the leaf. With
-- --rules-on-parent they are off it, and bench/seal.py leaves the first statement out.
set local session_replication_role = replica;
create temp table gone on commit drop as
with d as (
    delete from jobs_private.jobs_hot as h
    where h.id >= '%(low)s' and h.id < '%(cut)s'
    returning h.id, h.updated_at, h.status
)
select d.id, d.updated_at, d.status from d;
select
    count(*) as moved,
    count(*) filter (where g.status not in ('completed', 'failed', 'cancelled')) as unfinished,
    count(*) filter (where p.id is null or p.updated_at is distinct from g.updated_at) as changed,
    (select count(*) from jobs_private.jobs_sealed) as copied
from gone as g left join jobs_private.jobs_sealed as p on p.id = g.id;
alter table jobs_private.jobs_hot validate constraint jobs_hot_range;
