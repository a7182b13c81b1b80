-- Which version of a document the store holds, so that an older one arriving late never
-- replaces it.
--
-- Each annotation record names its origin: the documents-topic record (topic, partition, offset,
-- and its timestamp in milliseconds when the broker gave one) it was made from. A document id always goes to the same documents partition, where a later
-- version has a greater offset; but an annotate worker that lost its partitions (a broker away
-- longer than its session) may still deliver what it made after the partitions' new owner did.
-- The store keeps each document's origin and refuses a record made from an earlier record of the
-- same partition (a smaller offset, and a timestamp no later: a topic made again under its old
-- name starts its offsets over, later); origins of different topics or partitions (another
-- run's topics, a topic whose partitions were changed) are not ordered, and the later arrival
-- wins as before.
ALTER TABLE documents
    ADD COLUMN origin_topic text,
    ADD COLUMN origin_partition int,
    ADD COLUMN origin_offset bigint,
    ADD COLUMN origin_timestamp bigint;

-- The deletions, with the origin of their tombstone: a version made before a deletion and
-- delivered after it is refused too. A document written again leaves this table.
CREATE TABLE deleted_documents (
    id text PRIMARY KEY,
    origin_topic text NOT NULL,
    origin_partition int NOT NULL,
    origin_offset bigint NOT NULL,
    origin_timestamp bigint,
    deleted_at timestamptz NOT NULL DEFAULT now()
);
