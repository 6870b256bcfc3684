//! Errors as RFC 9457 `application/problem+json`: every failure a client can
//! see has a `type`, `title`, `status` and `detail`, and a refusal by the
//! rules also names the `rule` that refused and says what would allow the
//! act (`allowed_if`).
//!
//! Refusals map to statuses as follows (the engine's `Refusal` carries the
//! rule; the web layer only chooses the status):
//! - malformed act input (`rule = "input"`) → 422;
//! - the actor holds no position a rule allows to act → 403;
//! - wrong stage (`lifecycle.*`), missing signatures or resolution
//!   (`aggregation.*`), an unmet condition or a `must_not` → 409: the request
//!   is well formed and permitted in principle, but conflicts with the
//!   current state of the scheme.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use saanjh_core::engine::Refusal;
use saanjh_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// A problem, as sent to the client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For refusals: the rule that refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For refusals: what would allow the act.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_if: Option<String>,
    /// Further details, e.g. an arrangement's diagnostics with line and column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<serde_json::Value>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{} {}: {}", problem.status, problem.title, problem.detail)]
pub struct ApiError {
    pub problem: Box<Problem>,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            problem: Box::new(Problem {
                kind: format!("urn:saanjh:problem:{slug}"),
                title: title.into(),
                status: status.as_u16(),
                detail: detail.into(),
                rule: None,
                allowed_if: None,
                errors: None,
            }),
            retry_after: None,
        }
    }
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "The request could not be read",
            detail,
        )
    }
    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "The request is not valid",
            detail,
        )
    }
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "duplicate", "Already exists", detail)
    }
    pub fn unauthenticated(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Sign in first",
            detail,
        )
    }
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail)
    }
    pub fn internal(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            detail,
        )
    }
    pub fn with_errors(mut self, errors: serde_json::Value) -> ApiError {
        self.problem.errors = Some(errors);
        self
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        // A refusal for lack of position is the engine's `refuse-position`
        // sentence (tests pin the 403).
        let (status, slug, title) = if r.rule == "input" {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-act",
                "The act is not complete or not valid",
            )
        } else if r.for_lack_of_position() {
            (
                StatusCode::FORBIDDEN,
                "wrong-position",
                "Your positions do not allow this act",
            )
        } else if r.rule.starts_with("lifecycle.") {
            (StatusCode::CONFLICT, "wrong-stage", "Not at this stage")
        } else if r.rule.starts_with("aggregation.") {
            (
                StatusCode::CONFLICT,
                "aggregation",
                "The collective decision is not complete",
            )
        } else {
            (
                StatusCode::CONFLICT,
                "rule-not-met",
                "A rule does not allow this now",
            )
        };
        let mut e = ApiError::new(status, slug, title, r.message);
        e.problem.rule = Some(r.rule);
        e.problem.allowed_if = Some(r.allowed_if);
        e
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(c) => ApiError::new(
                StatusCode::CONFLICT,
                "busy",
                "Too many changes at once",
                format!("the chain `{c}` kept moving; try again"),
            ),
            StoreError::Invalid(m) => ApiError::unprocessable(m),
            StoreError::Duplicate(m) => ApiError::conflict(m),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        // Unreadable JSON is 400; JSON of the wrong shape is 422.
        let status = match &r {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(
            status,
            "malformed-json",
            "The JSON body could not be read",
            r.body_text(),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> ApiError {
        ApiError::bad_request(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> ApiError {
        ApiError::bad_request(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&*self.problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// `axum::Json` whose rejection is a problem, never axum's plain text.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` with problem rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` with problem rejections.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
