-- Co-mentions of an entity, most documents first, read in that order from an index.
--
-- `co_mentions` filtered on one entity and ordered by `documents` (what an analyst asks: "what is
-- this mentioned with, most often first") used to fetch every partner of the entity from both
-- sides of `co_mention_counts` and sort them all: for a popular entity, hundreds of thousands of
-- rows, and a read that grew with the data (83 to 188 ms at p99 at 100,000 documents). With each
-- side's entity and `documents` in one index, Postgres merges the two index scans in that order
-- and stops at the LIMIT, whatever the entity's number of partners.
--
-- The cost: `documents` is now indexed, so a counter's update is no longer a heap-only tuple
-- update and writes an entry in each of the table's indexes; B-tree deduplication keeps the
-- long tail's entries (one entity, `documents` 1) small. bench/store.sh measures the writes with
-- and without these indexes; bench/scale.sh the reads (docs/scale.md).
DROP INDEX co_mention_counts_b;
CREATE INDEX co_mention_counts_a_rank ON co_mention_counts (type_a, entity_a, documents DESC);
CREATE INDEX co_mention_counts_b_rank ON co_mention_counts (type_b, entity_b, documents DESC);
