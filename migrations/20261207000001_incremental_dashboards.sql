-- The dashboards, kept fresh by the store sink in the transaction of each batch, in place of
-- materialized views recomputed whole by `pubmine db refresh` (whose cost grew with the data).
--
-- Each dashboard is now a table of counters (or a view over one) keyed by what it groups by.
-- The largest (forms, entity years, co-mentions) index no counter and leave room in each page
-- (fillfactor), so that Postgres can update a counter in place (HOT) rather than add a new entry
-- to every index; `entity_counts` and `relation_counts` index theirs, for the top-N reads.
--
-- The sink takes a batch's documents' contributions out before it changes their rows
-- (`dashboards_collect(ids, -1)`), puts the new ones in after (`dashboards_collect(ids, 1)`),
-- and applies the sum per key once, in key order, before it stores its offsets
-- (`dashboards_merge()`): exactly once, as the rows are; a document written again unchanged
-- nets to nothing; a key whose counts reach zero is deleted. The work of a batch depends on
-- its own documents (found by the primary keys that start with `document_id`), never on how much
-- is stored. `pubmine db refresh` is a rebuild from scratch (`dashboards_rebuild()`), for after
-- `pubmine db renormalize` or a repair; the sinks wait while it runs, readers do not.
--
-- What changed for readers: the columns are the same. The names in `co_mentions`,
-- `co_mention_pairs` (`name_a`, `name_b`) and `relation_pairs` (`subject_normalized`,
-- `object_normalized`) are now the entity's own (its concept's preferred name or its most
-- frequent normal form over all its mentions, as `top_entities` gives them), where they were
-- taken from the rows of each pair; a tie for the most frequent form goes to the first in
-- sort order. Co-mentions count the entities of titles and abstracts only (the same as before
-- for abstracts; a full text's body is left out). `mean_score` is kept to 1e-6 (scores are
-- summed as integer millionths, so that sums taken out and put back are exact). `entity_years`
-- is new: an entity's mentions and documents per publication year.

DROP MATERIALIZED VIEW mentions_by_type_year;
DROP MATERIALIZED VIEW top_entities;
DROP VIEW co_mentions;
DROP MATERIALIZED VIEW co_mention_pairs;
DROP MATERIALIZED VIEW relation_pairs;

-- Mentions and documents per entity type and publication year.
CREATE TABLE mentions_by_type_year (
    type      TEXT   NOT NULL,
    pub_year  INTEGER,
    mentions  BIGINT NOT NULL,
    documents BIGINT NOT NULL
);
CREATE UNIQUE INDEX mentions_by_type_year_key
    ON mentions_by_type_year (type, pub_year) NULLS NOT DISTINCT;

-- Per entity (type, and concept id or else normal form): mentions and documents.
CREATE TABLE entity_counts (
    type       TEXT   NOT NULL,
    entity     TEXT   NOT NULL,
    concept_id TEXT,
    mentions   BIGINT NOT NULL,
    documents  BIGINT NOT NULL,
    PRIMARY KEY (type, entity)
);
CREATE INDEX entity_counts_rank ON entity_counts (type, documents DESC, mentions DESC, entity);
CREATE INDEX entity_counts_rank_all ON entity_counts (documents DESC, mentions DESC, entity);

-- Per entity, how many mentions have each normal form (kind 'n'), surface text ('t') and
-- concept name ('c'): what an entity is called, and its spellings.
CREATE TABLE entity_forms (
    type     TEXT   NOT NULL,
    entity   TEXT   NOT NULL,
    kind     "char" NOT NULL,
    form     TEXT   NOT NULL,
    mentions BIGINT NOT NULL,
    PRIMARY KEY (type, entity, kind, form)
) WITH (fillfactor = 70);

-- Per entity and publication year: mentions and documents (an entity's documents by year).
CREATE TABLE entity_years (
    type      TEXT   NOT NULL,
    entity    TEXT   NOT NULL,
    pub_year  INTEGER,
    mentions  BIGINT NOT NULL,
    documents BIGINT NOT NULL
) WITH (fillfactor = 70);
CREATE UNIQUE INDEX entity_years_key ON entity_years (type, entity, pub_year) NULLS NOT DISTINCT;

-- Per pair of entities mentioned in the title or abstract of one document (each pair once,
-- a < b): documents. Not the whole of a full text: its body names a hundred entities or more,
-- whose pairs (thousands a paper) would outgrow every other table and say little.
CREATE TABLE co_mention_counts (
    type_a    TEXT   NOT NULL,
    entity_a  TEXT   NOT NULL,
    type_b    TEXT   NOT NULL,
    entity_b  TEXT   NOT NULL,
    documents BIGINT NOT NULL,
    PRIMARY KEY (type_a, entity_a, type_b, entity_b)
) WITH (fillfactor = 70);
CREATE INDEX co_mention_counts_b ON co_mention_counts (type_b, entity_b);

-- Per relation type, model and entity pair: relations, documents, and the sum of the scores
-- in millionths.
CREATE TABLE relation_counts (
    type         TEXT   NOT NULL,
    model        TEXT   NOT NULL,
    subject_type TEXT   NOT NULL,
    subject      TEXT   NOT NULL,
    object_type  TEXT   NOT NULL,
    object       TEXT   NOT NULL,
    relations    BIGINT NOT NULL,
    documents    BIGINT NOT NULL,
    score_micros BIGINT NOT NULL,
    PRIMARY KEY (type, model, subject_type, subject, object_type, object)
);
CREATE INDEX relation_counts_rank ON relation_counts (type, relations DESC);

-- An entity's most frequent form of a kind (ties: the first in sort order).
CREATE FUNCTION entity_form(p_type TEXT, p_entity TEXT, p_kind "char") RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT form FROM entity_forms
    WHERE type = p_type AND entity = p_entity AND kind = p_kind
    ORDER BY mentions DESC, form
    LIMIT 1
$$;

-- An entity's name: its concept's preferred name, else its most frequent normal form.
CREATE FUNCTION entity_name(p_type TEXT, p_entity TEXT) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT max(form) FROM entity_forms
         WHERE type = p_type AND entity = p_entity AND kind = 'c'),
        entity_form(p_type, p_entity, 'n'))
$$;

-- Every entity of each type with its name, its most frequent normal and surface forms, and
-- counts; `spellings` counts the distinct normal forms that name it.
CREATE VIEW top_entities AS
SELECT e.type,
       e.entity,
       e.concept_id,
       entity_name(e.type, e.entity)      AS name,
       entity_form(e.type, e.entity, 'n') AS normalized,
       entity_form(e.type, e.entity, 't') AS text,
       e.mentions,
       e.documents,
       (SELECT count(*) FROM entity_forms f
        WHERE f.type = e.type AND f.entity = e.entity AND f.kind = 'n') AS spellings
FROM entity_counts e;

-- Entities mentioned in the same document as another, both ways round: filter on
-- (type_a, entity_a) to see what an entity co-occurs with.
CREATE VIEW co_mentions AS
SELECT p.type_a,
       p.entity_a,
       entity_name(p.type_a, p.entity_a) AS name_a,
       p.type_b,
       p.entity_b,
       entity_name(p.type_b, p.entity_b) AS name_b,
       p.documents
FROM (SELECT type_a, entity_a, type_b, entity_b, documents FROM co_mention_counts
      UNION ALL
      SELECT type_b, entity_b, type_a, entity_a, documents FROM co_mention_counts) p;

-- All co-mentioned pairs seen in at least two documents, each pair once (a < b).
CREATE VIEW co_mention_pairs AS
SELECT type_a,
       entity_a,
       entity_name(type_a, entity_a) AS name_a,
       type_b,
       entity_b,
       entity_name(type_b, entity_b) AS name_b,
       documents
FROM co_mention_counts
WHERE documents >= 2;

-- Relations per type, model and entity pair (concepts where there are, normal forms
-- otherwise); `subject_normalized` and `object_normalized` are each side's most frequent
-- normal form.
CREATE VIEW relation_pairs AS
SELECT type,
       model,
       subject_type,
       subject,
       entity_form(subject_type, subject, 'n') AS subject_normalized,
       object_type,
       object,
       entity_form(object_type, object, 'n')   AS object_normalized,
       relations,
       documents,
       (score_micros::double precision / relations / 1e6)::real AS mean_score
FROM relation_counts;

-- Adds `sign` times the contributions of the documents `docs` (as their rows stand now) to
-- this transaction's deltas; `dashboards_merge` applies them.
CREATE FUNCTION dashboards_collect(docs TEXT[], sign INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF to_regclass('pg_temp.delta_type_year') IS NULL THEN
        CREATE TEMP TABLE delta_type_year (type TEXT, pub_year INTEGER, mentions BIGINT,
                                           documents BIGINT) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE delta_entities (type TEXT, entity TEXT, concept_id TEXT,
                                          mentions BIGINT, documents BIGINT) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE delta_forms (type TEXT, entity TEXT, kind "char", form TEXT,
                                       mentions BIGINT) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE delta_entity_years (type TEXT, entity TEXT, pub_year INTEGER,
                                              mentions BIGINT, documents BIGINT) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE delta_co_mentions (type_a TEXT, entity_a TEXT, type_b TEXT,
                                             entity_b TEXT, documents BIGINT) ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE delta_relations (type TEXT, model TEXT, subject_type TEXT, subject TEXT,
                                           object_type TEXT, object TEXT, relations BIGINT,
                                           documents BIGINT, score_micros BIGINT) ON COMMIT DELETE ROWS;
    END IF;

    WITH m AS (
        SELECT m.document_id, d.pub_year, m.type, coalesce(m.concept_id, m.normalized) AS entity,
               m.concept_id, m.concept_name, m.normalized, m.text,
               p.kind IN ('title', 'abstract') AS in_abstract
        FROM mentions m
        LEFT JOIN documents d ON d.id = m.document_id
        LEFT JOIN passages p ON p.document_id = m.document_id AND p.idx = m.passage
        WHERE m.document_id = ANY(docs)
    ), de AS (
        -- One row per document and entity.
        SELECT document_id, pub_year, type, entity, max(concept_id) AS concept_id,
               count(*) AS mentions, coalesce(bool_or(in_abstract), false) AS in_abstract
        FROM m
        GROUP BY document_id, pub_year, type, entity
    ), by_year AS (
        INSERT INTO delta_type_year
        SELECT type, pub_year, sign * sum(mentions), sign * count(DISTINCT document_id)
        FROM de GROUP BY type, pub_year
    ), entities AS (
        INSERT INTO delta_entities
        SELECT type, entity, max(concept_id), sign * sum(mentions), sign * count(*)
        FROM de GROUP BY type, entity
    ), entity_by_year AS (
        INSERT INTO delta_entity_years
        SELECT type, entity, pub_year, sign * sum(mentions), sign * count(*)
        FROM de GROUP BY type, entity, pub_year
    ), pairs AS (
        INSERT INTO delta_co_mentions
        SELECT a.type, a.entity, b.type, b.entity, sign * count(*)
        FROM de a
        JOIN de b ON b.document_id = a.document_id AND (a.type, a.entity) < (b.type, b.entity)
        WHERE a.in_abstract AND b.in_abstract
        GROUP BY a.type, a.entity, b.type, b.entity
    )
    INSERT INTO delta_forms
    SELECT m.type, m.entity, f.kind, f.form, sign * count(*)
    FROM m
    CROSS JOIN LATERAL (VALUES ('n'::"char", m.normalized), ('t', m.text),
                               ('c', m.concept_name)) AS f(kind, form)
    WHERE f.form IS NOT NULL
    GROUP BY m.type, m.entity, f.kind, f.form;

    INSERT INTO delta_relations
    SELECT r.type, mo.name, r.subject_type, coalesce(r.subject_concept, r.subject_normalized),
           r.object_type, coalesce(r.object_concept, r.object_normalized),
           sign * count(*), sign * count(DISTINCT r.document_id),
           sign * sum(round(r.score::numeric * 1000000))::BIGINT
    FROM relations r
    JOIN models mo ON mo.id = r.model_id
    WHERE r.document_id = ANY(docs)
    GROUP BY 1, 2, 3, 4, 5, 6;
END
$$;

-- Applies this transaction's deltas: one upsert per table, in key order (so that concurrent
-- sinks take row locks in the same order), then deletes the keys whose counts reached zero.
CREATE FUNCTION dashboards_merge() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    k1 TEXT[];
    k2 TEXT[];
    k3 TEXT[];
    k4 TEXT[];
    k5 TEXT[];
    k6 TEXT[];
    y  INTEGER[];
    c  "char"[];
BEGIN
    IF to_regclass('pg_temp.delta_type_year') IS NULL THEN
        RETURN;
    END IF;

    WITH up AS (
        INSERT INTO mentions_by_type_year AS t (type, pub_year, mentions, documents)
        SELECT type, pub_year, sum(mentions), sum(documents)
        FROM delta_type_year
        GROUP BY type, pub_year
        HAVING sum(mentions) <> 0 OR sum(documents) <> 0
        ORDER BY type, pub_year
        ON CONFLICT (type, pub_year) DO UPDATE
            SET mentions = t.mentions + EXCLUDED.mentions,
                documents = t.documents + EXCLUDED.documents
        RETURNING t.type, t.pub_year, t.mentions)
    SELECT array_agg(type), array_agg(pub_year) INTO k1, y FROM up WHERE mentions = 0;
    DELETE FROM mentions_by_type_year t USING unnest(k1, y) AS z(type, pub_year)
    WHERE t.type = z.type AND t.pub_year IS NOT DISTINCT FROM z.pub_year AND t.mentions = 0;

    WITH up AS (
        INSERT INTO entity_counts AS t (type, entity, concept_id, mentions, documents)
        SELECT type, entity, max(concept_id), sum(mentions), sum(documents)
        FROM delta_entities
        GROUP BY type, entity
        HAVING sum(mentions) <> 0 OR sum(documents) <> 0
        ORDER BY type, entity
        ON CONFLICT (type, entity) DO UPDATE
            SET mentions = t.mentions + EXCLUDED.mentions,
                documents = t.documents + EXCLUDED.documents,
                concept_id = coalesce(EXCLUDED.concept_id, t.concept_id)
        RETURNING t.type, t.entity, t.mentions)
    SELECT array_agg(type), array_agg(entity) INTO k1, k2 FROM up WHERE mentions = 0;
    DELETE FROM entity_counts t USING unnest(k1, k2) AS z(type, entity)
    WHERE t.type = z.type AND t.entity = z.entity AND t.mentions = 0;

    WITH up AS (
        INSERT INTO entity_forms AS t (type, entity, kind, form, mentions)
        SELECT type, entity, kind, form, sum(mentions)
        FROM delta_forms
        GROUP BY type, entity, kind, form
        HAVING sum(mentions) <> 0
        ORDER BY type, entity, kind, form
        ON CONFLICT (type, entity, kind, form) DO UPDATE
            SET mentions = t.mentions + EXCLUDED.mentions
        RETURNING t.type, t.entity, t.kind, t.form, t.mentions)
    SELECT array_agg(type), array_agg(entity), array_agg(kind), array_agg(form)
    INTO k1, k2, c, k3 FROM up WHERE mentions = 0;
    DELETE FROM entity_forms t USING unnest(k1, k2, c, k3) AS z(type, entity, kind, form)
    WHERE t.type = z.type AND t.entity = z.entity AND t.kind = z.kind AND t.form = z.form
      AND t.mentions = 0;

    WITH up AS (
        INSERT INTO entity_years AS t (type, entity, pub_year, mentions, documents)
        SELECT type, entity, pub_year, sum(mentions), sum(documents)
        FROM delta_entity_years
        GROUP BY type, entity, pub_year
        HAVING sum(mentions) <> 0 OR sum(documents) <> 0
        ORDER BY type, entity, pub_year
        ON CONFLICT (type, entity, pub_year) DO UPDATE
            SET mentions = t.mentions + EXCLUDED.mentions,
                documents = t.documents + EXCLUDED.documents
        RETURNING t.type, t.entity, t.pub_year, t.mentions)
    SELECT array_agg(type), array_agg(entity), array_agg(pub_year) INTO k1, k2, y
    FROM up WHERE mentions = 0;
    DELETE FROM entity_years t USING unnest(k1, k2, y) AS z(type, entity, pub_year)
    WHERE t.type = z.type AND t.entity = z.entity AND t.pub_year IS NOT DISTINCT FROM z.pub_year
      AND t.mentions = 0;

    WITH up AS (
        INSERT INTO co_mention_counts AS t (type_a, entity_a, type_b, entity_b, documents)
        SELECT type_a, entity_a, type_b, entity_b, sum(documents)
        FROM delta_co_mentions
        GROUP BY type_a, entity_a, type_b, entity_b
        HAVING sum(documents) <> 0
        ORDER BY type_a, entity_a, type_b, entity_b
        ON CONFLICT (type_a, entity_a, type_b, entity_b) DO UPDATE
            SET documents = t.documents + EXCLUDED.documents
        RETURNING t.type_a, t.entity_a, t.type_b, t.entity_b, t.documents)
    SELECT array_agg(type_a), array_agg(entity_a), array_agg(type_b), array_agg(entity_b)
    INTO k1, k2, k3, k4 FROM up WHERE documents = 0;
    DELETE FROM co_mention_counts t
    USING unnest(k1, k2, k3, k4) AS z(type_a, entity_a, type_b, entity_b)
    WHERE t.type_a = z.type_a AND t.entity_a = z.entity_a AND t.type_b = z.type_b
      AND t.entity_b = z.entity_b AND t.documents = 0;

    WITH up AS (
        INSERT INTO relation_counts AS t (type, model, subject_type, subject, object_type, object,
                                          relations, documents, score_micros)
        SELECT type, model, subject_type, subject, object_type, object,
               sum(relations), sum(documents), sum(score_micros)
        FROM delta_relations
        GROUP BY type, model, subject_type, subject, object_type, object
        HAVING sum(relations) <> 0 OR sum(documents) <> 0 OR sum(score_micros) <> 0
        ORDER BY type, model, subject_type, subject, object_type, object
        ON CONFLICT (type, model, subject_type, subject, object_type, object) DO UPDATE
            SET relations = t.relations + EXCLUDED.relations,
                documents = t.documents + EXCLUDED.documents,
                score_micros = t.score_micros + EXCLUDED.score_micros
        RETURNING t.type, t.model, t.subject_type, t.subject, t.object_type, t.object, t.relations)
    SELECT array_agg(type), array_agg(model), array_agg(subject_type), array_agg(subject),
           array_agg(object_type), array_agg(object)
    INTO k1, k2, k3, k4, k5, k6 FROM up WHERE relations = 0;
    DELETE FROM relation_counts t
    USING unnest(k1, k2, k3, k4, k5, k6)
          AS z(type, model, subject_type, subject, object_type, object)
    WHERE t.type = z.type AND t.model = z.model AND t.subject_type = z.subject_type
      AND t.subject = z.subject AND t.object_type = z.object_type AND t.object = z.object
      AND t.relations = 0;

    DELETE FROM delta_type_year;
    DELETE FROM delta_entities;
    DELETE FROM delta_forms;
    DELETE FROM delta_entity_years;
    DELETE FROM delta_co_mentions;
    DELETE FROM delta_relations;
END
$$;

-- Recomputes every dashboard from the stored rows, `chunk` documents at a time. Sinks wait
-- while it runs (it holds the tables in EXCLUSIVE mode); readers see the old figures until it
-- commits.
CREATE FUNCTION dashboards_rebuild(chunk INTEGER DEFAULT 2000) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ids TEXT[];
BEGIN
    LOCK TABLE mentions_by_type_year, entity_counts, entity_forms, entity_years,
               co_mention_counts, relation_counts IN EXCLUSIVE MODE;
    DELETE FROM mentions_by_type_year;
    DELETE FROM entity_counts;
    DELETE FROM entity_forms;
    DELETE FROM entity_years;
    DELETE FROM co_mention_counts;
    DELETE FROM relation_counts;
    FOR ids IN
        SELECT array_agg(id ORDER BY id)
        FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / chunk AS g FROM documents) x
        GROUP BY g
        ORDER BY g
    LOOP
        PERFORM dashboards_collect(ids, 1);
        PERFORM dashboards_merge();
    END LOOP;
END
$$;

SELECT dashboards_rebuild();

-- The new objects: the dashboards' role reads them too (see the first views migration).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pubmine_reader') THEN
        GRANT SELECT ON mentions_by_type_year, entity_counts, entity_forms, entity_years,
                        co_mention_counts, relation_counts, top_entities, co_mentions,
                        co_mention_pairs, relation_pairs TO pubmine_reader;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pubmine_reader grants skipped: %', SQLERRM;
END
$$;
