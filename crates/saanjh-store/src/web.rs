//! What the HTML pages keep beyond the event log: browser sessions (only the
//! SHA-256 of the cookie value is stored, with the CSRF token bound to the
//! session) and progress photos (already resized by the web layer).

use serde::Serialize;

use crate::{Result, Store, UserRow, dispatch};

/// A photo's metadata, without its bytes.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PhotoRow {
    pub id: String,
    pub scheme_id: String,
    pub uploaded_by: String,
    pub content_type: String,
    pub caption: Option<String>,
    pub created_at: String,
}

impl Store {
    pub async fn create_session(
        &self,
        token_hash: &str,
        user: &str,
        csrf: &str,
        at: &str,
        expires_at: &str,
    ) -> Result<()> {
        dispatch!(self, pool => sqlx::query("INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(token_hash).bind(user).bind(csrf).bind(at).bind(expires_at).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// The user and CSRF token of a session that has not expired at `now`.
    pub async fn session(&self, token_hash: &str, now: &str) -> Result<Option<(UserRow, String)>> {
        #[allow(clippy::type_complexity)] // a user row and the session's CSRF token
        let row: Option<(String, String, String, Option<String>, i64, String, String)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT u.id, u.username, u.password_hash, u.person_id, u.is_admin, u.created_at, s.csrf FROM web_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2")
            .bind(token_hash).bind(now).fetch_optional(pool).await?);
        Ok(row.map(
            |(id, username, password_hash, person_id, is_admin, created_at, csrf)| {
                (
                    UserRow {
                        id,
                        username,
                        password_hash,
                        person_id,
                        is_admin,
                        created_at,
                    },
                    csrf,
                )
            },
        ))
    }

    /// End a session (log out), and drop any sessions expired by `now`.
    pub async fn end_session(&self, token_hash: &str, now: &str) -> Result<()> {
        dispatch!(self, pool => sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash).bind(now).execute(pool).await?.rows_affected());
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn add_photo(
        &self,
        id: &str,
        scheme: &str,
        uploaded_by: &str,
        content_type: &str,
        bytes: &[u8],
        caption: Option<&str>,
        at: &str,
    ) -> Result<()> {
        dispatch!(self, pool => sqlx::query("INSERT INTO web_photos (id, scheme_id, uploaded_by, content_type, bytes, caption, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id).bind(scheme).bind(uploaded_by).bind(content_type).bind(bytes).bind(caption).bind(at).execute(pool).await?.rows_affected());
        Ok(())
    }

    pub async fn photos(&self, scheme: &str) -> Result<Vec<PhotoRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, scheme_id, uploaded_by, content_type, caption, created_at FROM web_photos WHERE scheme_id = $1 ORDER BY created_at, id")
            .bind(scheme).fetch_all(pool).await?))
    }

    /// A photo's scheme, content type and bytes (the scheme decides who may
    /// see it).
    pub async fn photo(&self, id: &str) -> Result<Option<(String, String, Vec<u8>)>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT scheme_id, content_type, bytes FROM web_photos WHERE id = $1")
            .bind(id).fetch_optional(pool).await?),
        )
    }
}
