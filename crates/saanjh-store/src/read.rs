//! Reading the projections: the rows handlers show and the state the engine
//! decides on. Lists take `limit`/`offset` so every list can be paged.

use std::collections::{BTreeMap, BTreeSet};

use saanjh_core::engine::SchemeState;
use saanjh_core::model::OrgFacts;
use serde::Serialize;

use crate::{Result, Store, StoreError, dispatch};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OrganisationRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub district: Option<String>,
    pub registered_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub gender: Option<String>,
    pub elected: i64,
    pub registered_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MembershipRow {
    pub id: String,
    pub person_id: String,
    pub organisation_id: String,
    pub position: String,
    pub active: i64,
    pub since: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct InitiativeRow {
    pub id: String,
    pub name: String,
    pub locality: String,
    pub district: String,
    pub arrangement_id: String,
    pub arrangement_version: i64,
    pub demo: i64,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub started_at: String,
}

/// What to find initiatives by: every field given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitiativeQuery {
    /// Text the name contains (case-insensitive).
    pub name: Option<String>,
    /// Text the district or the locality contains (case-insensitive).
    pub area: Option<String>,
    /// Under one of these arrangements (any, when empty).
    pub arrangements: Vec<String>,
    /// A stage at least one of its schemes is at now.
    pub stage: Option<String>,
}

/// `%text%` for `LIKE … ESCAPE '\'`, lower-cased, with the pattern
/// characters in `text` taken literally.
fn like_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SchemeRow {
    pub id: String,
    pub initiative_id: String,
    pub name: String,
    pub stage: String,
    pub estimate: i64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ObligationRow {
    pub id: String,
    pub initiative_id: String,
    pub scheme_id: String,
    pub rule_id: String,
    pub position: String,
    pub action: String,
    pub stage: String,
    pub opened_at: String,
    pub due_at: String,
    pub status: String,
    pub closed_at: Option<String>,
    pub escalated_from: Option<String>,
    pub consequence: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct MeetingRow {
    pub id: String,
    pub initiative_id: String,
    pub scheme_id: Option<String>,
    pub body: String,
    pub held_on: String,
    pub women: i64,
    pub men: i64,
    pub other: i64,
    pub record: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub person_id: Option<String>,
    pub is_admin: i64,
    pub created_at: String,
}

/// A stored event with its global order, for listing.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventListRow {
    pub chain: String,
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub payload: String,
    pub hash: String,
}

impl Store {
    pub async fn organisations(&self, limit: i64, offset: i64) -> Result<Vec<OrganisationRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, kind, district, registered_at FROM organisations ORDER BY name, id LIMIT $1 OFFSET $2").bind(limit).bind(offset).fetch_all(pool).await?),
        )
    }
    pub async fn organisation(&self, id: &str) -> Result<Option<OrganisationRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, kind, district, registered_at FROM organisations WHERE id = $1").bind(id).fetch_optional(pool).await?),
        )
    }
    pub async fn organisation_by_name(&self, name: &str) -> Result<Option<OrganisationRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, kind, district, registered_at FROM organisations WHERE lower(name) = lower($1)").bind(name).fetch_optional(pool).await?),
        )
    }
    pub async fn people(&self, limit: i64, offset: i64) -> Result<Vec<PersonRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, gender, elected, registered_at FROM people ORDER BY name, id LIMIT $1 OFFSET $2").bind(limit).bind(offset).fetch_all(pool).await?),
        )
    }
    pub async fn person(&self, id: &str) -> Result<Option<PersonRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, gender, elected, registered_at FROM people WHERE id = $1").bind(id).fetch_optional(pool).await?),
        )
    }
    pub async fn memberships(
        &self,
        organisation: Option<&str>,
        person: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<MembershipRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, person_id, organisation_id, position, active, since FROM memberships \
             WHERE ($1 IS NULL OR organisation_id = $1) AND ($2 IS NULL OR person_id = $2) ORDER BY since, id LIMIT $3 OFFSET $4")
            .bind(organisation).bind(person).bind(limit).bind(offset).fetch_all(pool).await?))
    }
    pub async fn membership_exists(
        &self,
        person: &str,
        organisation: &str,
        position: &str,
    ) -> Result<bool> {
        let n: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE person_id = $1 AND organisation_id = $2 AND position = $3 AND active = 1").bind(person).bind(organisation).bind(position).fetch_one(pool).await?);
        Ok(n.0 > 0)
    }
    pub async fn membership(&self, id: &str) -> Result<Option<MembershipRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, person_id, organisation_id, position, active, since FROM memberships WHERE id = $1").bind(id).fetch_optional(pool).await?),
        )
    }

    /// What boundary rules read about an organisation.
    pub async fn org_facts(&self, organisation: &str) -> Result<OrgFacts> {
        let org = self
            .organisation(organisation)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("no organisation {organisation}")))?;
        let (members, women, elected): (i64, i64, i64) = dispatch!(self, pool => sqlx::query_as(
            "SELECT COUNT(DISTINCT p.id), \
                    COUNT(DISTINCT CASE WHEN p.gender = 'female' THEN p.id END), \
                    COUNT(DISTINCT CASE WHEN p.elected = 1 THEN p.id END) \
             FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.organisation_id = $1 AND m.active = 1")
            .bind(organisation).fetch_one(pool).await?);
        Ok(OrgFacts {
            kind: org.kind,
            members,
            women_members: women,
            elected_members: elected,
        })
    }

    pub async fn arrangement_source(&self, id: &str, version: i64) -> Result<Option<String>> {
        let row: Option<(String,)> = dispatch!(self, pool => sqlx::query_as("SELECT source FROM arrangements WHERE id = $1 AND version = $2").bind(id).bind(version).fetch_optional(pool).await?);
        Ok(row.map(|r| r.0))
    }
    /// `(id, version, digest, stored_at)` of every stored arrangement version.
    pub async fn arrangements(&self) -> Result<Vec<(String, i64, String, String)>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, version, digest, stored_at FROM arrangements ORDER BY id, version").fetch_all(pool).await?),
        )
    }

    pub async fn initiatives(
        &self,
        district: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<InitiativeRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at FROM initiatives \
             WHERE ($1 IS NULL OR lower(district) = lower($1)) ORDER BY district, name, id LIMIT $2 OFFSET $3")
            .bind(district).bind(limit).bind(offset).fetch_all(pool).await?))
    }
    /// Initiatives matching `q`, a page of them in the order of
    /// [`Store::initiatives`], and how many match in all: what a researcher
    /// picks cases from when there are thousands.
    pub async fn find_initiatives(
        &self,
        q: &InitiativeQuery,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<InitiativeRow>, i64)> {
        let name = q.name.as_deref().map(like_pattern);
        let area = q.area.as_deref().map(like_pattern);
        let stage = q.stage.as_deref();
        // The arrangements as placeholders $4…, so the list is bound, not
        // written into the SQL.
        let arr_in = if q.arrangements.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (0..q.arrangements.len())
                .map(|k| format!("${}", k + 4))
                .collect();
            format!(" AND arrangement_id IN ({})", marks.join(", "))
        };
        let n = q.arrangements.len();
        let filter = format!(
            "WHERE ($1 IS NULL OR lower(name) LIKE $1 ESCAPE '\\') \
             AND ($2 IS NULL OR lower(district) LIKE $2 ESCAPE '\\' OR lower(locality) LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR EXISTS (SELECT 1 FROM schemes s WHERE s.initiative_id = initiatives.id AND s.stage = $3)){arr_in}"
        );
        let rows_sql = format!(
            "SELECT id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at FROM initiatives {filter} ORDER BY district, name, id LIMIT ${} OFFSET ${}",
            n + 4,
            n + 5
        );
        let count_sql = format!("SELECT COUNT(*) FROM initiatives {filter}");
        let rows: Vec<InitiativeRow> = dispatch!(self, pool => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(rows_sql.as_str()))
                .bind(name.as_deref()).bind(area.as_deref()).bind(stage);
            for a in &q.arrangements {
                query = query.bind(a.as_str());
            }
            query.bind(limit).bind(offset).fetch_all(pool).await?
        });
        let (total,): (i64,) = dispatch!(self, pool => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(count_sql.as_str()))
                .bind(name.as_deref()).bind(area.as_deref()).bind(stage);
            for a in &q.arrangements {
                query = query.bind(a.as_str());
            }
            query.fetch_one(pool).await?
        });
        Ok((rows, total))
    }
    pub async fn initiative(&self, id: &str) -> Result<Option<InitiativeRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, name, locality, district, arrangement_id, arrangement_version, demo, latitude, longitude, started_at FROM initiatives WHERE id = $1").bind(id).fetch_optional(pool).await?),
        )
    }
    /// Partner role → organisation id.
    pub async fn partners(&self, initiative: &str) -> Result<BTreeMap<String, String>> {
        let rows: Vec<(String, String)> = dispatch!(self, pool => sqlx::query_as("SELECT role, organisation_id FROM initiative_partners WHERE initiative_id = $1").bind(initiative).fetch_all(pool).await?);
        Ok(rows.into_iter().collect())
    }

    /// Partner roles with their organisation's id and name, in one query
    /// (the name is the id when the organisation row is missing).
    pub async fn partner_names(&self, initiative: &str) -> Result<Vec<(String, String, String)>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT ip.role, ip.organisation_id, COALESCE(o.name, ip.organisation_id) FROM initiative_partners ip \
             LEFT JOIN organisations o ON o.id = ip.organisation_id WHERE ip.initiative_id = $1 ORDER BY ip.role")
            .bind(initiative).fetch_all(pool).await?))
    }

    /// The names of the people who recorded a scheme's events (one query for
    /// a whole timeline).
    pub async fn actor_names(&self, chain: &str, scheme: &str) -> Result<BTreeMap<String, String>> {
        let rows: Vec<(String, String)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT p.id, p.name FROM people p WHERE p.id IN \
             (SELECT DISTINCT e.actor FROM events e WHERE e.chain = $1 AND e.scheme_id = $2)")
            .bind(chain).bind(scheme).fetch_all(pool).await?);
        Ok(rows.into_iter().collect())
    }

    /// The positions (`role.position`) a person holds in an initiative: their
    /// memberships of the organisations bound to its partner roles.
    pub async fn positions_of(&self, initiative: &str, person: &str) -> Result<BTreeSet<String>> {
        let rows: Vec<(String, String)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT ip.role, m.position FROM initiative_partners ip JOIN memberships m ON m.organisation_id = ip.organisation_id \
             WHERE ip.initiative_id = $1 AND m.person_id = $2 AND m.active = 1")
            .bind(initiative).bind(person).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(r, p)| format!("{r}.{p}")).collect())
    }
    /// Position → people holding it, for an initiative.
    pub async fn positions_filled(&self, initiative: &str) -> Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, String, i64)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT ip.role, m.position, COUNT(DISTINCT m.person_id) FROM initiative_partners ip JOIN memberships m ON m.organisation_id = ip.organisation_id \
             WHERE ip.initiative_id = $1 AND m.active = 1 GROUP BY ip.role, m.position")
            .bind(initiative).fetch_all(pool).await?);
        Ok(rows
            .into_iter()
            .map(|(r, p, n)| (format!("{r}.{p}"), n))
            .collect())
    }
    /// Initiatives in which a person holds any position.
    pub async fn initiatives_of(&self, person: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = dispatch!(self, pool => sqlx::query_as(
            "SELECT DISTINCT ip.initiative_id FROM initiative_partners ip JOIN memberships m ON m.organisation_id = ip.organisation_id WHERE m.person_id = $1 AND m.active = 1 ORDER BY ip.initiative_id")
            .bind(person).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn schemes(
        &self,
        initiative: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SchemeRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, initiative_id, name, stage, estimate, created_at, updated_at FROM schemes WHERE initiative_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3").bind(initiative).bind(limit).bind(offset).fetch_all(pool).await?),
        )
    }
    /// `(scheme id, stage)` of every scheme of an initiative.
    pub async fn scheme_stages(&self, initiative: &str) -> Result<Vec<(String, String)>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, stage FROM schemes WHERE initiative_id = $1").bind(initiative).fetch_all(pool).await?),
        )
    }
    pub async fn scheme(&self, id: &str) -> Result<Option<(SchemeRow, SchemeState)>> {
        #[allow(clippy::type_complexity)] // one row of `schemes`, as stored
        let row: Option<(String, String, String, String, i64, String, String, String)> = dispatch!(self, pool => sqlx::query_as("SELECT id, initiative_id, name, stage, estimate, created_at, updated_at, state FROM schemes WHERE id = $1").bind(id).fetch_optional(pool).await?);
        let Some((id, initiative_id, name, stage, estimate, created_at, updated_at, state)) = row
        else {
            return Ok(None);
        };
        let state: SchemeState = serde_json::from_str(&state).map_err(|e| {
            StoreError::Invalid(format!("scheme {id}: stored state unreadable: {e}"))
        })?;
        Ok(Some((
            SchemeRow {
                id,
                initiative_id,
                name,
                stage,
                estimate,
                created_at,
                updated_at,
            },
            state,
        )))
    }
    /// Schemes with open obligations that are past `now`.
    pub async fn schemes_with_overdue(&self, now: &str) -> Result<Vec<(String, String)>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT DISTINCT initiative_id, scheme_id FROM obligations WHERE status = 'open' AND due_at < $1 ORDER BY initiative_id, scheme_id").bind(now).fetch_all(pool).await?),
        )
    }

    pub async fn obligations(
        &self,
        initiative: Option<&str>,
        scheme: Option<&str>,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ObligationRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, initiative_id, scheme_id, rule_id, position, action, stage, opened_at, due_at, status, closed_at, escalated_from, consequence FROM obligations \
             WHERE ($1 IS NULL OR initiative_id = $1) AND ($2 IS NULL OR scheme_id = $2) AND ($3 IS NULL OR status = $3) ORDER BY opened_at, id LIMIT $4 OFFSET $5")
            .bind(initiative).bind(scheme).bind(status).bind(limit).bind(offset).fetch_all(pool).await?))
    }

    pub async fn meetings(
        &self,
        initiative: &str,
        scheme: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<MeetingRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT id, initiative_id, scheme_id, body, held_on, women, men, other, record, recorded_at FROM meetings \
             WHERE initiative_id = $1 AND ($2 IS NULL OR scheme_id = $2) ORDER BY held_on, id LIMIT $3 OFFSET $4")
            .bind(initiative).bind(scheme).bind(limit).bind(offset).fetch_all(pool).await?))
    }

    /// Events of a chain, optionally only those about one scheme.
    pub async fn events(
        &self,
        chain: &str,
        scheme: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<EventListRow>> {
        Ok(dispatch!(self, pool => sqlx::query_as(
            "SELECT chain, seq, at, actor, kind, payload, hash FROM events WHERE chain = $1 AND ($2 IS NULL OR scheme_id = $2) ORDER BY seq LIMIT $3 OFFSET $4")
            .bind(chain).bind(scheme).bind(limit).bind(offset).fetch_all(pool).await?))
    }

    // ── Accounts ──
    pub async fn create_user(
        &self,
        id: &str,
        username: &str,
        password_hash: &str,
        person: Option<&str>,
        is_admin: bool,
        at: &str,
    ) -> Result<()> {
        let r = dispatch!(self, pool => sqlx::query("INSERT INTO users (id, username, password_hash, person_id, is_admin, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id).bind(username).bind(password_hash).bind(person).bind(is_admin as i64).bind(at).execute(pool).await.map(|r| r.rows_affected()));
        match r {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Invalid(
                format!("the username `{username}` is taken"),
            )),
            Err(e) => Err(e.into()),
        }
    }
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, username, password_hash, person_id, is_admin, created_at FROM users WHERE username = $1").bind(username).fetch_optional(pool).await?),
        )
    }
    pub async fn user(&self, id: &str) -> Result<Option<UserRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT id, username, password_hash, person_id, is_admin, created_at FROM users WHERE id = $1").bind(id).fetch_optional(pool).await?),
        )
    }
    pub async fn create_token(
        &self,
        token_hash: &str,
        user: &str,
        label: &str,
        at: &str,
    ) -> Result<()> {
        dispatch!(self, pool => sqlx::query("INSERT INTO api_tokens (token_hash, user_id, label, created_at) VALUES ($1, $2, $3, $4)").bind(token_hash).bind(user).bind(label).bind(at).execute(pool).await?.rows_affected());
        Ok(())
    }
    pub async fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRow>> {
        Ok(
            dispatch!(self, pool => sqlx::query_as("SELECT u.id, u.username, u.password_hash, u.person_id, u.is_admin, u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1").bind(token_hash).fetch_optional(pool).await?),
        )
    }
    pub async fn user_count(&self) -> Result<i64> {
        let n: (i64,) = dispatch!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await?);
        Ok(n.0)
    }

    /// Run raw SQL: for operators' tooling and for tests that play the
    /// attacker (editing a stored event).
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(
            dispatch!(self, pool => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await?.rows_affected()),
        )
    }
}
