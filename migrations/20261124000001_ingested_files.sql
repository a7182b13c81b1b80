-- Files ingest has sent in full (every record acknowledged by the broker), so that watch and
-- sync resume after a restart without sending a file twice. A file whose content changes (same
-- name, new md5) is ingested again.
CREATE TABLE ingested_files (
    name          TEXT        NOT NULL,
    md5           TEXT        NOT NULL,
    location      TEXT        NOT NULL,
    size_bytes    BIGINT      NOT NULL,
    documents     INTEGER     NOT NULL,
    deletions     INTEGER     NOT NULL,
    dead_lettered INTEGER     NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (name, md5)
);

CREATE INDEX ingested_files_finished_at ON ingested_files (finished_at);
