-- The event log: append-only, one hash chain per initiative plus `registry`.
CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    scheme_id TEXT,
    UNIQUE (chain, seq)
);
CREATE INDEX events_scheme ON events (scheme_id);
-- Appends to a chain are serialised on its head.
CREATE TABLE chain_heads (chain TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
-- Refuse edits and deletes of events at the database itself.

-- Projections: rebuildable from events.
CREATE TABLE arrangements (id TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL, stored_at TEXT NOT NULL, PRIMARY KEY (id, version));
CREATE TABLE organisations (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, district TEXT, registered_at TEXT NOT NULL);
CREATE TABLE people (id TEXT PRIMARY KEY, name TEXT NOT NULL, gender TEXT, elected INTEGER NOT NULL, registered_at TEXT NOT NULL);
CREATE TABLE memberships (id TEXT PRIMARY KEY, person_id TEXT NOT NULL, organisation_id TEXT NOT NULL, position TEXT NOT NULL, active INTEGER NOT NULL, since TEXT NOT NULL);
CREATE INDEX memberships_org ON memberships (organisation_id);
CREATE INDEX memberships_person ON memberships (person_id);
CREATE TABLE initiatives (id TEXT PRIMARY KEY, name TEXT NOT NULL, locality TEXT NOT NULL, district TEXT NOT NULL, arrangement_id TEXT NOT NULL, arrangement_version INTEGER NOT NULL, demo INTEGER NOT NULL, latitude DOUBLE PRECISION, longitude DOUBLE PRECISION, started_at TEXT NOT NULL);
CREATE TABLE initiative_partners (initiative_id TEXT NOT NULL, role TEXT NOT NULL, organisation_id TEXT NOT NULL, PRIMARY KEY (initiative_id, role));
CREATE TABLE schemes (id TEXT PRIMARY KEY, initiative_id TEXT NOT NULL, name TEXT NOT NULL, stage TEXT NOT NULL, estimate BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, state TEXT NOT NULL);
CREATE INDEX schemes_initiative ON schemes (initiative_id);
CREATE TABLE obligations (id TEXT PRIMARY KEY, initiative_id TEXT NOT NULL, scheme_id TEXT NOT NULL, rule_id TEXT NOT NULL, position TEXT NOT NULL, action TEXT NOT NULL, stage TEXT NOT NULL, opened_at TEXT NOT NULL, due_at TEXT NOT NULL, status TEXT NOT NULL, closed_at TEXT, escalated_from TEXT, consequence TEXT);
CREATE INDEX obligations_scheme ON obligations (scheme_id);
CREATE INDEX obligations_open ON obligations (status, due_at);
CREATE TABLE meetings (id TEXT PRIMARY KEY, initiative_id TEXT NOT NULL, scheme_id TEXT, body TEXT NOT NULL, held_on TEXT NOT NULL, women INTEGER NOT NULL, men INTEGER NOT NULL, other INTEGER NOT NULL, record TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE households (id TEXT PRIMARY KEY, scheme_id TEXT NOT NULL, house TEXT NOT NULL, head TEXT, members INTEGER, registered_at TEXT NOT NULL);

-- Accounts: security state, deliberately outside the public event log.
CREATE TABLE users (id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, person_id TEXT, is_admin INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE api_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, label TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE FUNCTION saanjh_events_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION saanjh_events_append_only();
