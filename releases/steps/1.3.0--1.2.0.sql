-- jobsdb 1.3.0 -> 1.2.0: the way back, as a forward migration.
--
-- The upgrade changed one function and no table: 1.2.0's library_items again.

-- jobsdb:apply functions/api/library_items.sql from 1.2.0
