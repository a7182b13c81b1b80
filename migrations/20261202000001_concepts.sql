-- Entities as concepts: each mention may carry the concept a vocabulary normalized it to
-- (`MESH:D001241`, `NCBIGene:7157`, `NCBITaxon:9606`), with the concept's preferred name, the
-- vocabulary name that matched, and whether it came through a defined abbreviation's long form.
-- Relations repeat their mentions' concepts, as they repeat their normal forms.
--
-- The dashboard views now group by entity: the concept id where there is one, the normal form
-- otherwise (column `entity`), so "aspirin" and "Aspirin" and, with a vocabulary that lists
-- both, "acetylsalicylic acid" are one row. Rows written before this migration have no concept
-- until their documents are annotated again (replay the documents topic).

ALTER TABLE mentions
    ADD COLUMN concept_id       TEXT,
    ADD COLUMN concept_name     TEXT,
    ADD COLUMN concept_matched  TEXT,
    ADD COLUMN via_abbreviation BOOLEAN NOT NULL DEFAULT false;

CREATE INDEX mentions_type_concept ON mentions (type, concept_id) WHERE concept_id IS NOT NULL;

ALTER TABLE relations
    ADD COLUMN subject_concept TEXT,
    ADD COLUMN object_concept  TEXT;

DROP MATERIALIZED VIEW top_entities;
DROP VIEW entity_documents;
DROP VIEW co_mentions;
DROP MATERIALIZED VIEW co_mention_pairs;
DROP MATERIALIZED VIEW relation_pairs;

-- Every entity of each type with its name (the concept's preferred name, or the most frequent
-- normal form), its most frequent surface form, and counts; `spellings` counts the distinct
-- normal forms that name it.
CREATE MATERIALIZED VIEW top_entities AS
SELECT m.type,
       coalesce(m.concept_id, m.normalized)                      AS entity,
       m.concept_id,
       coalesce(max(m.concept_name),
                mode() WITHIN GROUP (ORDER BY m.normalized))      AS name,
       mode() WITHIN GROUP (ORDER BY m.normalized)                AS normalized,
       mode() WITHIN GROUP (ORDER BY m.text)                      AS text,
       count(*)                                                   AS mentions,
       count(DISTINCT m.document_id)                              AS documents,
       count(DISTINCT m.normalized)                               AS spellings
FROM mentions m
GROUP BY m.type, coalesce(m.concept_id, m.normalized), m.concept_id;

CREATE UNIQUE INDEX top_entities_key ON top_entities (type, entity);
CREATE INDEX top_entities_rank ON top_entities (type, documents DESC);

-- The documents that mention an entity, one row each: filter on type and entity (a concept id,
-- or a normal form for mentions without one). `normalized` is the document's most frequent
-- normal form of it.
CREATE VIEW entity_documents AS
SELECT m.type,
       coalesce(m.concept_id, m.normalized) AS entity,
       m.concept_id,
       mode() WITHIN GROUP (ORDER BY m.normalized) AS normalized,
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
GROUP BY m.type, coalesce(m.concept_id, m.normalized), m.concept_id,
         m.document_id, d.pmid, d.pmcid, d.title, d.journal, d.pub_year, d.retracted;

-- Entities mentioned in the same document as another, both ways round: filter on
-- (type_a, entity_a) to see what an entity co-occurs with.
CREATE VIEW co_mentions AS
WITH e AS (
    SELECT document_id, type, coalesce(concept_id, normalized) AS entity,
           coalesce(max(concept_name), min(normalized)) AS name
    FROM mentions
    GROUP BY document_id, type, coalesce(concept_id, normalized)
)
SELECT a.type       AS type_a,
       a.entity     AS entity_a,
       max(a.name)  AS name_a,
       b.type       AS type_b,
       b.entity     AS entity_b,
       max(b.name)  AS name_b,
       count(*)     AS documents
FROM e a
JOIN e b ON b.document_id = a.document_id
        AND (b.type, b.entity) <> (a.type, a.entity)
GROUP BY a.type, a.entity, b.type, b.entity;

-- All co-mentioned pairs seen in at least two documents, each pair once (a < b).
CREATE MATERIALIZED VIEW co_mention_pairs AS
WITH e AS (
    SELECT document_id, type, coalesce(concept_id, normalized) AS entity,
           coalesce(max(concept_name), min(normalized)) AS name
    FROM mentions
    GROUP BY document_id, type, coalesce(concept_id, normalized)
)
SELECT a.type       AS type_a,
       a.entity     AS entity_a,
       max(a.name)  AS name_a,
       b.type       AS type_b,
       b.entity     AS entity_b,
       max(b.name)  AS name_b,
       count(*)     AS documents
FROM e a
JOIN e b ON b.document_id = a.document_id
        AND (a.type, a.entity) < (b.type, b.entity)
GROUP BY a.type, a.entity, b.type, b.entity
HAVING count(*) >= 2;

CREATE UNIQUE INDEX co_mention_pairs_key
    ON co_mention_pairs (type_a, entity_a, type_b, entity_b);
CREATE INDEX co_mention_pairs_rank ON co_mention_pairs (documents DESC);

-- Relations per type and entity pair (concepts where there are, normal forms otherwise), with
-- the model that found them; `subject_normalized` and `object_normalized` are the most frequent
-- normal forms of each side.
CREATE MATERIALIZED VIEW relation_pairs AS
SELECT r.type,
       mo.name                                              AS model,
       r.subject_type,
       coalesce(r.subject_concept, r.subject_normalized)    AS subject,
       mode() WITHIN GROUP (ORDER BY r.subject_normalized)  AS subject_normalized,
       r.object_type,
       coalesce(r.object_concept, r.object_normalized)      AS object,
       mode() WITHIN GROUP (ORDER BY r.object_normalized)   AS object_normalized,
       count(*)                                             AS relations,
       count(DISTINCT r.document_id)                        AS documents,
       avg(r.score)::real                                   AS mean_score
FROM relations r
JOIN models mo ON mo.id = r.model_id
GROUP BY r.type, mo.name, r.subject_type, coalesce(r.subject_concept, r.subject_normalized),
         r.object_type, coalesce(r.object_concept, r.object_normalized);

CREATE UNIQUE INDEX relation_pairs_key
    ON relation_pairs (type, model, subject_type, subject, object_type, object);

-- The views are new objects: the dashboards' role reads them too (see the first views
-- migration for the role).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubmine_reader') THEN
        GRANT SELECT ON top_entities, entity_documents, co_mentions, co_mention_pairs,
                        relation_pairs TO pubmine_reader;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pubmine_reader grants skipped: %', SQLERRM;
END
$$;
