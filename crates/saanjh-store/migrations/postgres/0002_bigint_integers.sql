-- The store reads every integer column as i64 (as SQLite's INTEGER is), but
-- 0001 made these INT4 on PostgreSQL, which sqlx refuses to decode as i64.
ALTER TABLE arrangements ALTER COLUMN version TYPE BIGINT;
ALTER TABLE people ALTER COLUMN elected TYPE BIGINT;
ALTER TABLE memberships ALTER COLUMN active TYPE BIGINT;
ALTER TABLE initiatives ALTER COLUMN arrangement_version TYPE BIGINT;
ALTER TABLE initiatives ALTER COLUMN demo TYPE BIGINT;
ALTER TABLE meetings ALTER COLUMN women TYPE BIGINT;
ALTER TABLE meetings ALTER COLUMN men TYPE BIGINT;
ALTER TABLE meetings ALTER COLUMN other TYPE BIGINT;
ALTER TABLE households ALTER COLUMN members TYPE BIGINT;
ALTER TABLE users ALTER COLUMN is_admin TYPE BIGINT;
