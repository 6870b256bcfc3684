-- Pages (issue 4): signed-in browser sessions and progress photos.
-- Sessions are security state like api_tokens, kept outside the public
-- event log; only the SHA-256 of the cookie value is stored.
CREATE TABLE web_sessions (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
-- Photos of progress, resized on upload; the act that reports the progress
-- names the photo in its note, so the event log carries the reference.
CREATE TABLE web_photos (id TEXT PRIMARY KEY, scheme_id TEXT NOT NULL, uploaded_by TEXT NOT NULL, content_type TEXT NOT NULL, bytes BYTEA NOT NULL, caption TEXT, created_at TEXT NOT NULL);
CREATE INDEX web_photos_scheme ON web_photos (scheme_id);
