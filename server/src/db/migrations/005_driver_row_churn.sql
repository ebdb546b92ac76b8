-- A driver's row is rewritten every few seconds while online (the sampled position, going
-- online and offline, offer counters). Free room on each page lets PostgreSQL update the row
-- in place (a HOT update) instead of adding index entries that the partial index of online
-- drivers then has to skip until vacuum. Applies to pages written from now on.
ALTER TABLE drivers SET (fillfactor = 70);
