-- Citizen reports (Open311) and community scorecards (issue 5).

-- Projections, rebuilt from the report_* and scorecard_* events.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    initiative_id TEXT NOT NULL,
    scheme_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    service_name TEXT NOT NULL,
    component TEXT NOT NULL,
    routed_to TEXT NOT NULL,
    agency_id TEXT,
    status TEXT NOT NULL,
    status_notes TEXT,
    description TEXT,
    address TEXT,
    address_id TEXT,
    latitude REAL,
    longitude REAL,
    media_url TEXT,
    token TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updates BIGINT NOT NULL
);
CREATE INDEX reports_requested ON reports (requested_at, id);
CREATE INDEX reports_scheme ON reports (scheme_id);
CREATE UNIQUE INDEX reports_token ON reports (token);
-- Every status change or note, for the updates extension
-- (servicerequestupdates) and the report's history.
CREATE TABLE report_updates (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL,
    initiative_id TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT,
    positions TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX report_updates_at ON report_updates (at, id);
CREATE INDEX report_updates_report ON report_updates (report_id, at);
CREATE TABLE scorecard_rounds (
    id TEXT PRIMARY KEY,
    initiative_id TEXT NOT NULL,
    scheme_id TEXT NOT NULL,
    held_on TEXT NOT NULL,
    closed BIGINT NOT NULL,
    state TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX scorecard_rounds_scheme ON scorecard_rounds (scheme_id, held_on);

-- Outside the event log, like accounts: a reporter's contact details are
-- personal data that must never be published, and Open311 API keys are
-- security state (only the SHA-256 of a key is kept).
CREATE TABLE report_contacts (
    report_id TEXT PRIMARY KEY,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    phone TEXT,
    device_id TEXT,
    account_id TEXT,
    api_key_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE open311_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    rate_per_minute BIGINT NOT NULL,
    created_by TEXT,
    created_at TEXT NOT NULL
);
