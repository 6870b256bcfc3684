//! The integration tests' shared harness: a fresh database per test
//! (SQLite in a temp dir; PostgreSQL too when `SAANJH_TEST_POSTGRES_URL` is
//! set, created and dropped per test) and `both!`, which runs a spec on each.
//! Each test file defines its own `App` with `App::start(&Db)`.

#![allow(dead_code)] // each test binary uses its own part of the harness

pub struct Db {
    pub url: String,
    /// For PostgreSQL: the server URL and the database to drop afterwards.
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite_db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("saanjh.db").display());
    Db {
        url,
        pg: None,
        _dir: Some(dir),
    }
}

pub async fn postgres_db() -> Option<Db> {
    let Ok(base) = std::env::var("SAANJH_TEST_POSTGRES_URL") else {
        println!("SAANJH_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run");
        return None;
    };
    let name = format!("saanjh_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to SAANJH_TEST_POSTGRES_URL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h.to_string(), format!("?{q}")),
        None => (base.clone(), String::new()),
    };
    let server = head
        .rsplit_once('/')
        .map(|(s, _)| s.to_string())
        .unwrap_or(head.clone());
    Some(Db {
        url: format!("{server}/{name}{query}"),
        pg: Some((base, name)),
        _dir: None,
    })
}

impl Db {
    pub async fn drop_pg(&self) {
        if let Some((base, name)) = &self.pg
            && let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(base).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// Run a spec on SQLite and, when configured, on PostgreSQL.
#[allow(unused_macros)] // a test binary with one long spec calls the databases itself
macro_rules! both {
    ($spec:ident) => {
        mod $spec {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = super::sqlite_db();
                super::$spec(super::App::start(&db).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(db) = super::postgres_db().await else {
                    return;
                };
                super::$spec(super::App::start(&db).await).await;
                db.drop_pg().await;
            }
        }
    };
}
