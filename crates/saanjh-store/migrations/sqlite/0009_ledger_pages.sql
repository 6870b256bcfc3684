-- Statements page through a scheme's (or an initiative's) ledger entries in
-- statement order — the day each happened, then posting — with a cursor on
-- these keys (issue 3), so a page is an index range, not a sort of every
-- entry. Receipt numbers are looked up by initiative and receipt.
CREATE INDEX ledger_entries_scheme_order ON ledger_entries (scheme_id, on_date, posted_at, n);
CREATE INDEX ledger_entries_initiative_order ON ledger_entries (initiative_id, on_date, posted_at, scheme_id, n);
