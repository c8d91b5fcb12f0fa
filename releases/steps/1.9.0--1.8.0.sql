-- jobsdb 1.9.0 -> 1.8.0: the way back, as a forward migration: 1.8.0's brief locks.

-- jobsdb:apply functions/private/lock_tables_briefly.sql from 1.8.0
