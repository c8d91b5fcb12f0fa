-- For measurement only (bench/seal.py): the hot leaf's new lower bound as a CHECK that new
-- rows must meet at once (ids above %(cut)s: the package makes no lower one) but the rows
-- already there are not yet read for (NOT VALID), under seal_lock.sql's lock.
alter table jobs_private.jobs_hot add constraint jobs_hot_range
check (id >= '%(cut)s') not valid;
