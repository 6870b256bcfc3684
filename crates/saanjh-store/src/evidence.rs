//! Reading qualitative evidence (issue 8): interviews and documents attached
//! to initiatives, and their coded passages. The rows are written by
//! `project.rs` from the `evidence_attached` and `passage_coded` events.

use serde::Serialize;

use crate::{Result, Store, dispatch};

/// A piece of evidence as stored (the text is read separately: it can be long).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EvidenceRow {
    pub id: String,
    pub initiative_id: String,
    pub kind: String,
    pub title: String,
    pub attached_at: String,
}

/// One coder's code on one passage.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PassageRow {
    pub id: String,
    pub evidence_id: String,
    pub initiative_id: String,
    pub start_byte: i64,
    pub end_byte: i64,
    pub passage: String,
    pub codebook: String,
    pub code: String,
    pub coder: String,
    pub coded_at: String,
}

impl Store {
    pub async fn evidence_list(&self, initiative: &str) -> Result<Vec<EvidenceRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, initiative_id, kind, title, attached_at FROM evidence WHERE initiative_id = $1 ORDER BY attached_at, id")
            .bind(initiative).fetch_all(pool).await?))
    }

    /// A piece of evidence and its text.
    pub async fn evidence_text(&self, id: &str) -> Result<Option<(EvidenceRow, String)>> {
        let row: Option<(String, String, String, String, String, String)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT id, initiative_id, kind, title, attached_at, body FROM evidence WHERE id = $1")
            .bind(id).fetch_optional(pool).await?);
        Ok(
            row.map(|(id, initiative_id, kind, title, attached_at, body)| {
                (
                    EvidenceRow {
                        id,
                        initiative_id,
                        kind,
                        title,
                        attached_at,
                    },
                    body,
                )
            }),
        )
    }

    /// Coded passages, optionally of one initiative and one code.
    pub async fn coded_passages(
        &self,
        initiative: Option<&str>,
        code: Option<&str>,
    ) -> Result<Vec<PassageRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, evidence_id, initiative_id, start_byte, end_byte, passage, codebook, code, coder, coded_at FROM coded_passages \
             WHERE ($1 IS NULL OR initiative_id = $1) AND ($2 IS NULL OR code = $2) ORDER BY initiative_id, evidence_id, start_byte, coder, code")
            .bind(initiative).bind(code).fetch_all(pool).await?))
    }
}
