//! Accounts: argon2id password hashes, bearer API tokens (random 32 bytes,
//! stored only as their SHA-256), failed-login rate limiting, and the
//! `Caller` extractor that says who a request comes from.
//!
//! The only permission decided here is the platform-admin role (registering
//! organisations, people, memberships, users and starting initiatives).
//! Everything a user may do on a scheme comes from the positions their
//! person holds, decided by the arrangement's rules in the engine.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use saanjh_store::UserRow;
use sha2::{Digest, Sha256};
use time::Duration;

use crate::{ApiError, AppState};

/// Failed logins allowed per username within `LOGIN_WINDOW`.
pub const MAX_FAILED_LOGINS: usize = 5;
pub const LOGIN_WINDOW: Duration = Duration::minutes(15);

pub async fn hash_password(password: &str) -> Result<String, ApiError> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(format!("cannot hash the password: {e}")))
}

pub async fn verify_password(password: &str, hash: &str) -> bool {
    let (pw, h) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(pw.as_bytes(), h.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// Check a password against a hash made once for no user, so that an
/// unknown username takes as long to refuse as a wrong password.
pub async fn verify_nobody(password: &str) {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    if let Ok(h) = DUMMY
        .get_or_try_init(|| hash_password("no user has this password"))
        .await
    {
        verify_password(password, h).await;
    }
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Refuse with 429 if `username` has failed too often lately.
pub fn check_rate(state: &AppState, username: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut map = state
        .login_failures
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let list = map.entry(username.to_lowercase()).or_default();
    list.retain(|t| *t > now - LOGIN_WINDOW);
    if list.is_empty() {
        // Keep the map to usernames failing lately, so it cannot grow without bound.
        map.remove(&username.to_lowercase());
        return Ok(());
    }
    if list.len() >= MAX_FAILED_LOGINS {
        let oldest = list.iter().min().copied().unwrap_or(now);
        let wait = (oldest + LOGIN_WINDOW - now).whole_seconds().max(1) as u64;
        let mut e = ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too-many-logins",
            "Too many failed sign-ins",
            format!(
                "{MAX_FAILED_LOGINS} failed sign-ins for this username in {} minutes; try again in {wait} seconds",
                LOGIN_WINDOW.whole_minutes()
            ),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    Ok(())
}

pub fn record_failure(state: &AppState, username: &str) {
    let now = state.clock.now();
    let mut map = state
        .login_failures
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(username.to_lowercase()).or_default().push(now);
}

pub fn clear_failures(state: &AppState, username: &str) {
    state
        .login_failures
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&username.to_lowercase());
}

/// Who is calling: nobody (no `Authorization` header) or a user. A header
/// with an unknown token is refused with 401 rather than treated as nobody.
#[derive(Debug, Clone)]
pub struct Caller(pub Option<UserRow>);

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.0.as_ref().is_some_and(|u| u.is_admin != 0)
    }
    pub fn user(&self) -> Result<&UserRow, ApiError> {
        self.0.as_ref().ok_or_else(|| {
            ApiError::unauthenticated(
                "send `Authorization: Bearer <token>`; get a token from POST /api/v1/tokens",
            )
        })
    }
    pub fn require_admin(&self) -> Result<&UserRow, ApiError> {
        let u = self.user()?;
        if u.is_admin == 0 {
            return Err(ApiError::forbidden(
                "only a platform administrator may do this",
            ));
        }
        Ok(u)
    }
    /// The person a user acts as.
    pub fn person(&self) -> Result<&str, ApiError> {
        let u = self.user()?;
        u.person_id.as_deref().ok_or_else(|| {
            ApiError::forbidden(format!(
                "user `{}` is not linked to a person, and only people hold positions",
                u.username
            ))
        })
    }
    /// Actor name for the event log.
    pub fn actor(&self) -> String {
        match &self.0 {
            Some(u) => u
                .person_id
                .clone()
                .unwrap_or_else(|| format!("user:{}", u.username)),
            None => "anonymous".into(),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller(None));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        let user = state
            .store
            .user_by_token(&token_hash(token))
            .await?
            .ok_or_else(|| ApiError::unauthenticated("this token is not known; sign in again"))?;
        Ok(Caller(Some(user)))
    }
}
