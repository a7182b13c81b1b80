-- The abbreviations each document defines ("long form (SF)", "SF (long form)"), found by
-- annotate (Schwartz-Hearst): both forms with their character offsets in the passage, so that
-- substr(p.text, a.short_start + 1, a.short_end - a.short_start) = a.short_form. Replaced with
-- the document's passages whenever the document is written.
CREATE TABLE abbreviations (
    document_id TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    passage     INTEGER NOT NULL,
    short_start INTEGER NOT NULL,
    short_end   INTEGER NOT NULL,
    short_form  TEXT    NOT NULL,
    long_start  INTEGER NOT NULL,
    long_end    INTEGER NOT NULL,
    long_form   TEXT    NOT NULL,
    PRIMARY KEY (document_id, idx)
);

CREATE INDEX abbreviations_short_form ON abbreviations (short_form);
