-- Qualitative evidence (issue 8): interviews and documents attached to an
-- initiative, and passages of them coded against a codebook. Rebuildable
-- from the `evidence_attached` and `passage_coded` events.

CREATE TABLE evidence (
    id TEXT PRIMARY KEY,
    initiative_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    attached_at TEXT NOT NULL
);
CREATE INDEX evidence_initiative ON evidence (initiative_id);

-- One row per code a coder gave a passage; two coders on the same range of
-- the same evidence are what agreement is computed over.
CREATE TABLE coded_passages (
    id TEXT PRIMARY KEY,
    evidence_id TEXT NOT NULL,
    initiative_id TEXT NOT NULL,
    start_byte BIGINT NOT NULL,
    end_byte BIGINT NOT NULL,
    passage TEXT NOT NULL,
    codebook TEXT NOT NULL,
    code TEXT NOT NULL,
    coder TEXT NOT NULL,
    coded_at TEXT NOT NULL
);
CREATE INDEX coded_passages_initiative ON coded_passages (initiative_id, code);
CREATE INDEX coded_passages_code ON coded_passages (code);
