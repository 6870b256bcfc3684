-- Kept diagnosis folds (issue 8): for each initiative, the diagnosis
-- tracker's state as folded up to chain position (seq, hash) under an
-- arrangement version, so that a fresh process summarises it instead of
-- re-reading and re-folding the whole chain. A cache, never a record: it
-- is served only while its (seq, hash) is on the chain, written after the
-- events it reflects are committed, emptied by `saanjh rebuild`, and no
-- event depends on it.
CREATE TABLE diagnosis_snapshots (
    initiative_id TEXT PRIMARY KEY,
    arrangement_id TEXT NOT NULL,
    arrangement_version INTEGER NOT NULL,
    -- saanjh_core::diagnosis::SNAPSHOT_FORMAT of `state`.
    format INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    state TEXT NOT NULL,
    written_at TEXT NOT NULL
);
