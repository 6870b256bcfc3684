-- Citizen reports held for triage (issue 5): a report that names no scheme
-- its initiative can be sure of waits here under its Open311 token until a
-- partner routes it; then report_id says what the token resolves to.
-- A projection of report_held / report_routed events.
CREATE TABLE held_reports (
    token TEXT PRIMARY KEY,
    initiative_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    component TEXT NOT NULL,
    routed_to TEXT NOT NULL,
    record TEXT NOT NULL,
    held_at TEXT NOT NULL,
    report_id TEXT,
    scheme_id TEXT,
    routed_at TEXT
);
CREATE INDEX held_reports_initiative ON held_reports (initiative_id, held_at);
-- A report's response duties are found by their stage (`report:<id>`), for
-- Open311's expected_datetime.
CREATE INDEX obligations_stage ON obligations (stage);
