-- The co-delivery ledger's projections (issue 3). Rebuildable from events.

-- One row per ledger entry (the `ledger_entry_posted` events), so that a
-- statement over 100,000 entries is one indexed scan rather than a replay.
-- `effect_kind` and `signed_amount` make balances a plain SUM: a reversal
-- carries the kind of the entry it cancels and a negative amount.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    n BIGINT NOT NULL,
    initiative_id TEXT NOT NULL,
    scheme_id TEXT NOT NULL,
    organisation_id TEXT,
    posted_at TEXT NOT NULL,
    on_date TEXT NOT NULL,
    fy TEXT NOT NULL,
    kind TEXT NOT NULL,
    effect_kind TEXT NOT NULL,
    role TEXT NOT NULL,
    amount BIGINT NOT NULL,
    signed_amount BIGINT NOT NULL,
    means TEXT NOT NULL,
    quantity BIGINT,
    rate BIGINT,
    household TEXT,
    receipt TEXT,
    component TEXT,
    payee TEXT,
    purpose TEXT,
    reverses TEXT
);
CREATE INDEX ledger_entries_scheme ON ledger_entries (scheme_id, n);
CREATE INDEX ledger_entries_initiative ON ledger_entries (initiative_id, receipt);
CREATE INDEX ledger_entries_reverses ON ledger_entries (reverses);
CREATE INDEX ledger_entries_budget ON ledger_entries (organisation_id, role, fy);

-- A public organisation's reserve per arrangement and financial year; the
-- latest `allocation_set` event for the year wins.
CREATE TABLE allocations (
    organisation_id TEXT NOT NULL,
    arrangement_id TEXT NOT NULL,
    year TEXT NOT NULL,
    amount BIGINT NOT NULL,
    development_budget BIGINT,
    note TEXT,
    set_at TEXT NOT NULL,
    PRIMARY KEY (organisation_id, arrangement_id, year)
);
