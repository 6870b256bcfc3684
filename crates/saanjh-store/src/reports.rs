//! Citizen reports, scorecard rounds and Open311 API keys (issue 5).
//!
//! `reports`, `report_updates` and `scorecard_rounds` are projections
//! (written only by `project.rs`); `report_contacts` and `open311_keys` are
//! kept outside the event log, because contact details are personal data
//! that must never be published and keys are security state.

use saanjh_core::scorecard::RoundState;
use serde::Serialize;

use crate::{Result, Store, StoreError, dispatch};

/// A report as Open311 shows it, with its agency's name.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReportRow {
    pub id: String,
    pub initiative_id: String,
    pub scheme_id: String,
    pub service_code: String,
    pub service_name: String,
    pub component: String,
    pub routed_to: String,
    pub agency_id: Option<String>,
    pub agency: Option<String>,
    pub status: String,
    pub status_notes: Option<String>,
    pub description: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub media_url: Option<String>,
    pub token: String,
    pub requested_at: String,
    pub updated_at: String,
    pub updates: i64,
    /// The deadline of the routed role's response duty (the first
    /// obligation opened for the report, not an escalation), if the rules
    /// set one: Open311's `expected_datetime`.
    pub expected_at: Option<String>,
}

/// A report held for triage, and what it was routed as once it was.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HeldReportRow {
    pub token: String,
    pub initiative_id: String,
    pub service_code: String,
    pub service_name: String,
    pub component: String,
    pub routed_to: String,
    /// The report's public record (JSON of `ReportRecord`).
    pub record: String,
    pub held_at: String,
    pub report_id: Option<String>,
    pub scheme_id: Option<String>,
    pub routed_at: Option<String>,
}

/// One status change or note.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReportUpdateRow {
    pub id: String,
    pub report_id: String,
    pub status: String,
    pub description: Option<String>,
    pub at: String,
}

/// Which reports to list. Times are RFC 3339 UTC (as stored), so they
/// compare as text.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// When given, only these ids (and every other filter is ignored, as
    /// Open311 says).
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    /// Inclusive bounds on `requested_at`.
    pub start: Option<String>,
    pub end: Option<String>,
    /// `open` (anything not closed) and/or `closed`; empty means both.
    pub statuses: Vec<String>,
    pub limit: i64,
}

/// Contact details given with a report: never published.
#[derive(Debug, Clone, Default)]
pub struct ReportContact {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
}

/// An Open311 API key (its hash is never shown).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Open311KeyRow {
    pub id: String,
    pub name: String,
    /// Reports the key may file a minute.
    pub rate_per_minute: i64,
    pub created_by: Option<String>,
    pub created_at: String,
}

const REPORT_COLUMNS: &str = "r.id, r.initiative_id, r.scheme_id, r.service_code, r.service_name, r.component, r.routed_to, r.agency_id, o.name AS agency, \
     r.status, r.status_notes, r.description, r.address, r.address_id, r.latitude, r.longitude, r.media_url, r.token, r.requested_at, r.updated_at, r.updates, \
     (SELECT MIN(ob.due_at) FROM obligations ob WHERE ob.stage = 'report:' || r.id AND ob.escalated_from IS NULL) AS expected_at";

const HELD_COLUMNS: &str = "token, initiative_id, service_code, service_name, component, routed_to, record, held_at, report_id, scheme_id, routed_at";

impl Store {
    pub async fn report(&self, id: &str) -> Result<Option<ReportRow>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports r LEFT JOIN organisations o ON o.id = r.agency_id WHERE r.id = $1"
        );
        Ok(
            dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?),
        )
    }

    /// What a token stands for: `Some(Some(id))` a report, `Some(None)` a
    /// report still held for triage, `None` no such token.
    pub async fn report_id_by_token(&self, token: &str) -> Result<Option<Option<String>>> {
        let row: Option<(String,)> = dispatch!(self, pool => sqlx::query_as("SELECT id FROM reports WHERE token = $1").bind(token).fetch_optional(pool).await?);
        if let Some((id,)) = row {
            return Ok(Some(Some(id)));
        }
        Ok(self.held_report(token).await?.map(|h| h.report_id))
    }

    pub async fn held_report(&self, token: &str) -> Result<Option<HeldReportRow>> {
        let sql = format!("SELECT {HELD_COLUMNS} FROM held_reports WHERE token = $1");
        Ok(
            dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(pool).await?),
        )
    }

    /// Reports of an initiative still waiting to be routed, oldest first.
    pub async fn held_reports(&self, initiative: &str) -> Result<Vec<HeldReportRow>> {
        let sql = format!(
            "SELECT {HELD_COLUMNS} FROM held_reports WHERE initiative_id = $1 AND report_id IS NULL ORDER BY held_at, token"
        );
        Ok(
            dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(initiative).fetch_all(pool).await?),
        )
    }

    /// An initiative's reports, newest first, at most `limit`.
    pub async fn initiative_reports(&self, initiative: &str, limit: i64) -> Result<Vec<ReportRow>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports r LEFT JOIN organisations o ON o.id = r.agency_id WHERE r.initiative_id = $1 ORDER BY r.requested_at DESC, r.id DESC LIMIT $2"
        );
        Ok(
            dispatch!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(initiative).bind(limit).fetch_all(pool).await?),
        )
    }

    /// Reports matching `filter`, newest first, at most `filter.limit`.
    pub async fn reports(&self, filter: &ReportFilter) -> Result<Vec<ReportRow>> {
        let mut clauses: Vec<String> = vec![];
        let mut binds: Vec<String> = vec![];
        let placeholder = |v: &str, binds: &mut Vec<String>| {
            binds.push(v.to_string());
            format!("${}", binds.len())
        };
        if !filter.ids.is_empty() {
            let list: Vec<String> = filter
                .ids
                .iter()
                .map(|id| placeholder(id, &mut binds))
                .collect();
            clauses.push(format!("r.id IN ({})", list.join(", ")));
        } else {
            if !filter.service_codes.is_empty() {
                let list: Vec<String> = filter
                    .service_codes
                    .iter()
                    .map(|c| placeholder(c, &mut binds))
                    .collect();
                clauses.push(format!("r.service_code IN ({})", list.join(", ")));
            }
            if let Some(s) = &filter.start {
                clauses.push(format!("r.requested_at >= {}", placeholder(s, &mut binds)));
            }
            if let Some(e) = &filter.end {
                clauses.push(format!("r.requested_at <= {}", placeholder(e, &mut binds)));
            }
            let open = filter.statuses.iter().any(|s| s == "open");
            let closed = filter.statuses.iter().any(|s| s == "closed");
            match (open, closed) {
                (true, false) => clauses.push("r.status <> 'closed'".into()),
                (false, true) => clauses.push("r.status = 'closed'".into()),
                _ => {}
            }
        }
        let limit_at = binds.len() + 1;
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports r LEFT JOIN organisations o ON o.id = r.agency_id {} ORDER BY r.requested_at DESC, r.id DESC LIMIT ${limit_at}",
            if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", clauses.join(" AND "))
            }
        );
        Ok(dispatch!(self, pool => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for b in &binds {
                q = q.bind(b);
            }
            q.bind(filter.limit).fetch_all(pool).await?
        }))
    }

    /// Updates made between `start` and `end` (inclusive), oldest first.
    pub async fn report_updates(
        &self,
        start: &str,
        end: &str,
        limit: i64,
    ) -> Result<Vec<ReportUpdateRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, report_id, status, description, at FROM report_updates WHERE at >= $1 AND at <= $2 ORDER BY at, id LIMIT $3")
            .bind(start).bind(end).bind(limit).fetch_all(pool).await?))
    }

    /// One report's updates, oldest first.
    pub async fn updates_of_report(&self, report: &str) -> Result<Vec<ReportUpdateRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, report_id, status, description, at FROM report_updates WHERE report_id = $1 ORDER BY at, id")
            .bind(report).fetch_all(pool).await?))
    }

    /// `(routed-to role, status)` of a scheme's reports, for rule facts.
    pub async fn scheme_report_statuses(&self, scheme: &str) -> Result<Vec<(String, String)>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT routed_to, status FROM reports WHERE scheme_id = $1").bind(scheme).fetch_all(pool).await?),
        )
    }

    /// Whether a report has any contact detail on file (the detail itself is
    /// for partners who answer, never for the public).
    pub async fn report_contact_count(&self) -> Result<i64> {
        let row: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM report_contacts").fetch_one(pool).await?);
        Ok(row.0)
    }

    pub async fn create_open311_key(
        &self,
        id: &str,
        key_hash: &str,
        name: &str,
        rate_per_minute: i64,
        created_by: Option<&str>,
        at: &str,
    ) -> Result<()> {
        dispatch!(self, pool => sqlx::query("INSERT INTO open311_keys (id, key_hash, name, rate_per_minute, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id).bind(key_hash).bind(name).bind(rate_per_minute).bind(created_by).bind(at)
            .execute(pool).await.map(|_| ())?);
        Ok(())
    }

    pub async fn open311_key(&self, key_hash: &str) -> Result<Option<Open311KeyRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, rate_per_minute, created_by, created_at FROM open311_keys WHERE key_hash = $1").bind(key_hash).fetch_optional(pool).await?),
        )
    }

    pub async fn open311_keys(&self) -> Result<Vec<Open311KeyRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, rate_per_minute, created_by, created_at FROM open311_keys ORDER BY created_at, id").fetch_all(pool).await?),
        )
    }

    pub async fn scorecard_round(&self, id: &str) -> Result<Option<(String, RoundState)>> {
        let row: Option<(String, String)> = dispatch!(self, pool => sqlx::query_as("SELECT initiative_id, state FROM scorecard_rounds WHERE id = $1").bind(id).fetch_optional(pool).await?);
        row.map(|(init, json)| {
            serde_json::from_str(&json).map(|s| (init, s)).map_err(|e| {
                StoreError::Invalid(format!(
                    "scorecard round {id}: stored state unreadable: {e}"
                ))
            })
        })
        .transpose()
    }

    /// A scheme's rounds, oldest first.
    pub async fn scorecard_rounds(&self, scheme: &str) -> Result<Vec<RoundState>> {
        let rows: Vec<(String, String)> = dispatch!(self, pool => sqlx::query_as("SELECT id, state FROM scorecard_rounds WHERE scheme_id = $1 ORDER BY held_on, opened_at, id").bind(scheme).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(id, json)| {
                serde_json::from_str(&json).map_err(|e| {
                    StoreError::Invalid(format!(
                        "scorecard round {id}: stored state unreadable: {e}"
                    ))
                })
            })
            .collect()
    }

    /// People holding `role.position` in an initiative, by id.
    pub async fn holders(&self, initiative: &str, position: &str) -> Result<Vec<String>> {
        let Some((role, pos)) = position.split_once('.') else {
            return Ok(vec![]);
        };
        let rows: Vec<(String,)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT DISTINCT m.person_id FROM initiative_partners ip JOIN memberships m ON m.organisation_id = ip.organisation_id \
             WHERE ip.initiative_id = $1 AND ip.role = $2 AND m.position = $3 AND m.active = 1 ORDER BY m.person_id")
            .bind(initiative).bind(role).bind(pos).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Schemes of an initiative as `(id, created_at, state)`, newest first:
    /// the candidates a report is routed among.
    pub async fn scheme_states(&self, initiative: &str) -> Result<Vec<(String, String, String)>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, created_at, state FROM schemes WHERE initiative_id = $1 ORDER BY created_at DESC, id DESC").bind(initiative).fetch_all(pool).await?),
        )
    }
}
