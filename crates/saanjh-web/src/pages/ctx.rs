//! Who is looking and in which language: the `Visitor` extractor every page
//! handler takes. It reads the `lang` cookie (then `Accept-Language`), the
//! session cookie, and gives templates `t("key")` for Fluent messages.
//!
//! Sessions are server-side rows (`web_sessions`) keyed by the SHA-256 of a
//! random cookie value; each session has its own CSRF token, which every
//! form carries in a hidden field and every POST handler checks. Before
//! sign-in there is no session, so the login form uses a double-submit
//! cookie (`saanjh_pre`) instead.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
use axum::http::request::Parts;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};
use saanjh_store::UserRow;

use crate::{ApiError, AppState, auth};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "../../locales",
        fallback_language: "en",
        // Isolation marks would be noise in form values and test selectors;
        // pages wrap user-supplied names in <bdi> where direction matters.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

pub const SESSION_COOKIE: &str = "saanjh_session";
pub const PRE_COOKIE: &str = "saanjh_pre";
pub const LANG_COOKIE: &str = "lang";

/// The two languages the pages speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ur,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ur => "ur",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "ur" => Some(Lang::Ur),
            _ => None,
        }
    }
    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::Ur => langid!("ur"),
        }
    }
    /// The first of `Accept-Language`'s languages (by q-value) that we speak.
    pub fn from_accept(header: &str) -> Option<Lang> {
        let mut prefs: Vec<(f32, Lang)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                let primary = tag.split('-').next()?;
                Lang::parse(primary).map(|l| (q, l))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        prefs.first().map(|p| p.1)
    }
}

/// A Fluent message in a language; the key itself if it is missing, so a
/// missing translation shows up on the page rather than as a blank.
pub fn message(lang: Lang, key: &str) -> String {
    LOCALES
        .try_lookup(&lang.id(), key)
        .unwrap_or_else(|| key.to_string())
}

/// A message if the file has it, for names that fall back to the
/// arrangement's own English words (stages, actions).
pub fn try_message(lang: Lang, key: &str) -> Option<String> {
    LOCALES.try_lookup(&lang.id(), key)
}

pub fn message_with(lang: Lang, key: &str, args: &[(&'static str, String)]) -> String {
    try_message_with(lang, key, args).unwrap_or_else(|| key.to_string())
}

/// A message with arguments if the file has it (and it formats without
/// error: a message with variables cannot be looked up without them).
pub fn try_message_with(lang: Lang, key: &str, args: &[(&'static str, String)]) -> Option<String> {
    let map: HashMap<Cow<'static, str>, FluentValue> = args
        .iter()
        .map(|(k, v)| {
            // Whole numbers as numbers, so plural forms select on them.
            let value = match v.parse::<i64>() {
                Ok(n) => FluentValue::from(n),
                Err(_) => FluentValue::from(v.clone()),
            };
            (Cow::Borrowed(*k), value)
        })
        .collect();
    LOCALES.try_lookup_with_args(&lang.id(), key, &map)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// Everything a page needs to know about the request: language, the path
/// (for the language switch to return to), and the signed-in user.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub lang: Lang,
    pub path: String,
    pub user: Option<UserRow>,
    /// The session's CSRF token; empty when nobody is signed in.
    pub csrf: String,
    /// The hash of the session cookie (for logging out).
    pub session_hash: Option<String>,
}

impl Visitor {
    pub fn t(&self, key: &str) -> String {
        message(self.lang, key)
    }
    pub fn t1(&self, key: &str, name: &'static str, value: impl ToString) -> String {
        message_with(self.lang, key, &[(name, value.to_string())])
    }
    pub fn t2(
        &self,
        key: &str,
        n1: &'static str,
        v1: impl ToString,
        n2: &'static str,
        v2: impl ToString,
    ) -> String {
        message_with(
            self.lang,
            key,
            &[(n1, v1.to_string()), (n2, v2.to_string())],
        )
    }
    pub fn dir(&self) -> &'static str {
        match self.lang {
            Lang::En => "ltr",
            Lang::Ur => "rtl",
        }
    }
    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
    /// The other language, for the switch link.
    pub fn other(&self) -> (&'static str, &'static str) {
        match self.lang {
            Lang::En => ("ur", "اردو"),
            Lang::Ur => ("en", "English"),
        }
    }
    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_admin != 0)
    }
    pub fn username(&self) -> &str {
        self.user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or("")
    }
    /// The path to come back to after switching language, URL-encoded.
    pub fn back(&self) -> String {
        encode(&self.path)
    }
    /// A stage's name in this language, else the id in words.
    pub fn stage(&self, id: &str) -> String {
        try_message(self.lang, &format!("stage-{id}")).unwrap_or_else(|| id.replace('_', " "))
    }
    pub fn status(&self, id: &str) -> String {
        self.word(&format!("status-{id}"))
    }
    /// A message by key, else the key's last part in words (`ev-estimate_set`
    /// → "estimate set"), for names that may have no message yet.
    pub fn word(&self, key: &str) -> String {
        try_message(self.lang, key).unwrap_or_else(|| {
            key.split_once('-')
                .map(|(_, rest)| rest)
                .unwrap_or(key)
                .replace('_', " ")
        })
    }
    pub fn org_kind(&self, kind: &str) -> String {
        message(self.lang, &format!("kind-{kind}"))
    }
    /// Arrangement words (names, rules in plain words, refusals) in this
    /// visitor's language.
    pub fn words<'a>(
        &self,
        arr: &'a saanjh_core::arrangement::Arrangement,
    ) -> super::words::Localised<'a> {
        super::words::Localised::new(self.lang, arr)
    }
    /// An action's name in this language: the arrangement's label, else the
    /// file's words.
    pub fn act_name(&self, arr: &saanjh_core::arrangement::Arrangement, id: &str) -> String {
        self.words(arr)
            .say(saanjh_core::arrangement::words::Name::Action(
                id.to_string(),
            ))
    }

    /// Refuse a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        if self.csrf.is_empty() || !constant_eq(sent.as_bytes(), self.csrf.as_bytes()) {
            return Err(ApiError::forbidden(
                "this form has expired or did not come from Saanjh; reload the page and try again",
            ));
        }
        Ok(())
    }
    pub fn require_user(&self) -> Result<&UserRow, ApiError> {
        self.user
            .as_ref()
            .ok_or_else(|| ApiError::unauthenticated("sign in first"))
    }
    pub fn person(&self) -> Result<&str, ApiError> {
        let u = self.require_user()?;
        u.person_id.as_deref().ok_or_else(|| {
            ApiError::forbidden(format!(
                "user `{}` is not linked to a person, and only people hold positions",
                u.username
            ))
        })
    }
    pub fn require_admin(&self) -> Result<&UserRow, ApiError> {
        let u = self.require_user()?;
        if u.is_admin == 0 {
            return Err(ApiError::forbidden(
                "only a platform administrator may do this",
            ));
        }
        Ok(u)
    }
    pub fn actor(&self) -> String {
        match &self.user {
            Some(u) => u
                .person_id
                .clone()
                .unwrap_or_else(|| format!("user:{}", u.username)),
            None => "anonymous".into(),
        }
    }
}

/// Compare secrets in time independent of where they first differ.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Percent-encode for a query-string value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Visitor, ApiError> {
        let h = &parts.headers;
        let lang = cookie(h, LANG_COOKIE)
            .and_then(Lang::parse)
            .or_else(|| {
                h.get(ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept)
            })
            .unwrap_or(Lang::En);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let mut v = Visitor {
            lang,
            path,
            user: None,
            csrf: String::new(),
            session_hash: None,
        };
        if let Some(token) = cookie(h, SESSION_COOKIE) {
            let hash = auth::token_hash(token);
            let now = saanjh_core::engine::rfc3339(state.clock.now());
            if let Some((user, csrf)) = state.store.session(&hash, &now).await? {
                v.user = Some(user);
                v.csrf = csrf;
                v.session_hash = Some(hash);
            }
        }
        Ok(v)
    }
}
