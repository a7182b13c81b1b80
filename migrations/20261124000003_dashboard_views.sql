-- Views for dashboards (README, "Dashboards"). The plain views are cheap when filtered on an
-- entity (they use the mentions index); the materialized ones aggregate everything and are
-- brought up to date by `pubmine db refresh` (REFRESH ... CONCURRENTLY: readers never wait).

-- Mentions and documents per entity type and publication year.
CREATE MATERIALIZED VIEW mentions_by_type_year AS
SELECT m.type,
       d.pub_year,
       count(*)                      AS mentions,
       count(DISTINCT m.document_id) AS documents
FROM mentions m
JOIN documents d ON d.id = m.document_id
GROUP BY m.type, d.pub_year;

CREATE UNIQUE INDEX mentions_by_type_year_key
    ON mentions_by_type_year (type, pub_year) NULLS NOT DISTINCT;

-- Every entity (type and normalized text) with its most frequent surface form and counts.
CREATE MATERIALIZED VIEW top_entities AS
SELECT m.type,
       m.normalized,
       mode() WITHIN GROUP (ORDER BY m.text) AS text,
       count(*)                              AS mentions,
       count(DISTINCT m.document_id)         AS documents
FROM mentions m
GROUP BY m.type, m.normalized;

CREATE UNIQUE INDEX top_entities_key ON top_entities (type, normalized);
CREATE INDEX top_entities_rank ON top_entities (type, documents DESC);

-- The documents that mention an entity: filter on type and normalized.
CREATE VIEW entity_documents AS
SELECT m.type,
       m.normalized,
       m.document_id,
       d.pmid,
       d.pmcid,
       d.title,
       d.journal,
       d.pub_year,
       d.retracted,
       count(*)     AS mentions,
       max(m.score) AS best_score
FROM mentions m
JOIN documents d ON d.id = m.document_id
GROUP BY m.type, m.normalized, m.document_id, d.pmid, d.pmcid, d.title, d.journal,
         d.pub_year, d.retracted;

-- Entities mentioned in the same document as another, both ways round: filter on
-- (type_a, entity_a) to see what an entity co-occurs with.
CREATE VIEW co_mentions AS
WITH e AS (SELECT DISTINCT document_id, type, normalized FROM mentions)
SELECT a.type       AS type_a,
       a.normalized AS entity_a,
       b.type       AS type_b,
       b.normalized AS entity_b,
       count(*)     AS documents
FROM e a
JOIN e b ON b.document_id = a.document_id
        AND (b.type, b.normalized) <> (a.type, a.normalized)
GROUP BY a.type, a.normalized, b.type, b.normalized;

-- All co-mentioned pairs seen in at least two documents, each pair once (a < b). Over all of
-- PubMed the pairs of single documents would outnumber the mentions, hence the floor.
CREATE MATERIALIZED VIEW co_mention_pairs AS
WITH e AS (SELECT DISTINCT document_id, type, normalized FROM mentions)
SELECT a.type       AS type_a,
       a.normalized AS entity_a,
       b.type       AS type_b,
       b.normalized AS entity_b,
       count(*)     AS documents
FROM e a
JOIN e b ON b.document_id = a.document_id
        AND (a.type, a.normalized) < (b.type, b.normalized)
GROUP BY a.type, a.normalized, b.type, b.normalized
HAVING count(*) >= 2;

CREATE UNIQUE INDEX co_mention_pairs_key
    ON co_mention_pairs (type_a, entity_a, type_b, entity_b);
CREATE INDEX co_mention_pairs_rank ON co_mention_pairs (documents DESC);

-- Relations per type and entity pair, with the model that found them.
CREATE MATERIALIZED VIEW relation_pairs AS
SELECT r.type,
       mo.name                       AS model,
       r.subject_type,
       r.subject_normalized,
       r.object_type,
       r.object_normalized,
       count(*)                      AS relations,
       count(DISTINCT r.document_id) AS documents,
       avg(r.score)::real            AS mean_score
FROM relations r
JOIN models mo ON mo.id = r.model_id
GROUP BY r.type, mo.name, r.subject_type, r.subject_normalized, r.object_type,
         r.object_normalized;

CREATE UNIQUE INDEX relation_pairs_key
    ON relation_pairs (type, model, subject_type, subject_normalized, object_type,
                       object_normalized);

-- A read-only role for dashboards. Grant it to a login role of your own:
--   CREATE ROLE grafana LOGIN PASSWORD '...' IN ROLE pubmine_reader;
-- Creating a role needs CREATEROLE; without it the grant is skipped with a notice and an
-- administrator can run this block later.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubmine_reader') THEN
        CREATE ROLE pubmine_reader NOLOGIN;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO pubmine_reader', current_database());
    GRANT USAGE ON SCHEMA public TO pubmine_reader;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO pubmine_reader;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pubmine_reader;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pubmine_reader not set up (needs CREATEROLE): %', SQLERRM;
END
$$;
