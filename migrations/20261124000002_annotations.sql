-- What the store sink writes from the annotations topic: documents with their passages,
-- the models that annotated them, entity mentions and relations, and the sink's own Kafka
-- offsets (written in the same transaction as the rows they cover: exactly-once).
--
-- The sink is the only writer. Mentions and relations carry no foreign keys, so that bulk
-- writes stay fast; the sink deletes a document's rows from every table itself.

CREATE TABLE documents (
    id                TEXT        PRIMARY KEY,          -- pmid:<n> or pmc:PMC<n>
    source            TEXT        NOT NULL,             -- pubmed | pmc
    pmid              TEXT,
    pmcid             TEXT,
    doi               TEXT,
    title             TEXT        NOT NULL,
    journal           TEXT,
    pub_year          INTEGER,
    pub_month         SMALLINT,
    retracted         BOOLEAN     NOT NULL DEFAULT false,
    publication_types TEXT[]      NOT NULL DEFAULT '{}',
    mesh              TEXT[]      NOT NULL DEFAULT '{}', -- descriptor names
    languages         TEXT[]      NOT NULL DEFAULT '{}',
    metadata          JSONB       NOT NULL,              -- the whole document but its passages
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX documents_pmid ON documents (pmid);
CREATE INDEX documents_pmcid ON documents (pmcid);
CREATE INDEX documents_pub_year ON documents (pub_year);

-- The text, in reading order; mention offsets count characters within one passage, so
-- substr(p.text, m.start_offset + 1, m.end_offset - m.start_offset) = m.text.
CREATE TABLE passages (
    document_id TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,  -- title | abstract | other_abstract | paragraph | caption | table | footnote
    section     TEXT,
    category    TEXT,              -- NLM category of a structured-abstract section
    lang        TEXT,              -- language of an other abstract
    text        TEXT    NOT NULL,
    PRIMARY KEY (document_id, idx)
);

-- A model version: its name and the sha256 of its files.
CREATE TABLE models (
    id         SERIAL      PRIMARY KEY,
    name       TEXT        NOT NULL,
    hash       TEXT        NOT NULL,
    task       TEXT        NOT NULL,  -- ner | re
    labels     TEXT[]      NOT NULL DEFAULT '{}',
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (name, hash)
);

-- One row per mention. `idx` numbers a document's mentions per model; `normalized` is the
-- lowercased text with whitespace collapsed, what entities are grouped by.
CREATE TABLE mentions (
    document_id  TEXT    NOT NULL,
    model_id     INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    passage      INTEGER NOT NULL,
    start_offset INTEGER NOT NULL,
    end_offset   INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    normalized   TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    score        REAL    NOT NULL,
    PRIMARY KEY (document_id, model_id, idx)
);

CREATE INDEX mentions_type_normalized ON mentions (type, normalized);

-- One row per relation; subject and object name mentions by (model_id, idx), and repeat their
-- type and normalized text so dashboards need no join.
CREATE TABLE relations (
    document_id        TEXT    NOT NULL,
    model_id           INTEGER NOT NULL,
    idx                INTEGER NOT NULL,
    type               TEXT    NOT NULL,
    score              REAL    NOT NULL,
    subject_model_id   INTEGER NOT NULL,
    subject_idx        INTEGER NOT NULL,
    subject_type       TEXT    NOT NULL,
    subject_normalized TEXT    NOT NULL,
    object_model_id    INTEGER NOT NULL,
    object_idx         INTEGER NOT NULL,
    object_type        TEXT    NOT NULL,
    object_normalized  TEXT    NOT NULL,
    PRIMARY KEY (document_id, model_id, idx)
);

CREATE INDEX relations_type_pair ON relations (type, subject_normalized, object_normalized);

-- The next Kafka offset each sink (by consumer group) reads, per topic and partition.
CREATE TABLE sink_offsets (
    sink        TEXT        NOT NULL,
    topic       TEXT        NOT NULL,
    partition   INTEGER     NOT NULL,
    next_offset BIGINT      NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (sink, topic, partition)
);
