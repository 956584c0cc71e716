//! Shared fixtures: a fresh database per test on the backend under test,
//! and the real app served on an ephemeral port.
//!
//! The backend is SQLite unless `TURNOUT_TEST_POSTGRES_URL` is set, in which
//! case every test gets its own new PostgreSQL database on that server.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use object_store::ObjectStore;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use turnout_delivery::{
    AddressPolicy, Channels, EmailTransport, Links, Mailer, SmsSender, SmsSettings, Templates, WebhookSender,
    WhatsAppSender, WhatsAppSettings, WhatsAppTemplates, Worker, WorkerSettings,
};
use turnout_domain::{LinkKey, TokenHash};
use turnout_http::{Application, Parts, Settings};
use turnout_postgres::PostgresStore;
use turnout_sqlite::SqliteStore;
use turnout_store::{Backend, Store};
use uuid::Uuid;

pub const POSTGRES_URL_VAR: &str = "TURNOUT_TEST_POSTGRES_URL";

/// When set (e.g. `http://127.0.0.1:5055`, a moto or MinIO server), uploads
/// go to a fresh bucket there instead of a temporary folder.
pub const S3_ENDPOINT_VAR: &str = "TURNOUT_TEST_S3_ENDPOINT";

/// The admin token every test app accepts.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A database of its own for one test; dropped with it (SQLite) or left for
/// `.ci/run` to sweep (PostgreSQL, whose pool may still hold connections).
pub struct TestDatabase {
    pub store: Arc<dyn Store>,
    pub url: String,
    _dir: Option<TempDir>,
}

impl TestDatabase {
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_URL_VAR).ok().filter(|url| !url.is_empty()) {
            Some(server) => Self::postgres(&server).await,
            None => Self::sqlite().await,
        }
    }

    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Another store on the same database, as a second instance would open
    /// it. The first keeps the database alive.
    pub async fn another_instance(&self) -> Self {
        let store: Arc<dyn Store> = match self.backend() {
            Backend::Sqlite => Arc::new(SqliteStore::open(&self.url, false).await.expect("SQLite opens")),
            Backend::Postgres => Arc::new(PostgresStore::open(&self.url, false).await.expect("PostgreSQL opens")),
        };
        Self {
            store,
            url: self.url.clone(),
            _dir: None,
        }
    }

    /// A connection of the test's own to the SQLite file, beside the store's.
    fn sqlite_connection(&self) -> rusqlite::Connection {
        let path = self.url.strip_prefix("sqlite://").expect("a sqlite:// URL");
        rusqlite::Connection::open(path).expect("SQLite opens")
    }

    /// Rows in `table`, read around the store, to prove what did not change.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        match self.backend() {
            Backend::Sqlite => self
                .sqlite_connection()
                .query_row(&sql.0, [], |row| row.get(0))
                .expect("count"),
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("PostgreSQL opens");
                let count = sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count");
                pool.close().await;
                count
            }
        }
    }

    /// Moves a slot's start by `by` (into the past with a negative one),
    /// around the store: the API refuses to create slots in the past, and
    /// tests of what happens after a webinar need one.
    pub async fn shift_slot(&self, slot_id: i64, by: jiff::SignedDuration) {
        match self.backend() {
            Backend::Sqlite => {
                let micros = by.as_micros();
                self.sqlite_connection()
                    .execute(
                        "UPDATE slots SET starts_at = starts_at + ?1 WHERE id = ?2",
                        rusqlite::params![i64::try_from(micros).expect("a small shift"), slot_id],
                    )
                    .expect("the slot moves");
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("PostgreSQL opens");
                sqlx::query("UPDATE slots SET starts_at = starts_at + make_interval(secs => $1) WHERE id = $2")
                    .bind(by.as_secs_f64())
                    .bind(slot_id)
                    .execute(&pool)
                    .await
                    .expect("the slot moves");
                pool.close().await;
            }
        }
    }

    /// `count` confirmed registrations in slot `slot_id`, written around the
    /// store in one statement per table (the API would take minutes for a
    /// hundred thousand): people `bulk{i}@example.com` with `utm_source`
    /// `bulk`, the slot's capacity raised to hold them.
    pub async fn seed_registrations(&self, slot_id: i64, count: i64) {
        match self.backend() {
            Backend::Sqlite => {
                let now = Timestamp::now().as_microsecond();
                let sql = format!(
                    "BEGIN;
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
                     INSERT INTO persons (email_normalised, email, name, phone, country, created_at, updated_at)
                     SELECT 'bulk' || i || '@example.com', 'bulk' || i || '@example.com', 'Bulk Registrant ' || i,
                            '+9198' || printf('%08d', i), 'IN', {now}, {now} FROM n;
                     INSERT INTO consents (person_id, policy_version, policy_sha256, email, sms, created_at)
                     SELECT id, 'seed', 'seed', 1, 0, {now} FROM persons WHERE email LIKE 'bulk%@example.com';
                     INSERT INTO leads (id, person_id, webinar_id, consent_id, token_hash, time_zone, utm_source,
                                        created_at, name, email, phone, country)
                     SELECT printf('00000000-0000-7000-8000-%012d', p.id), p.id, s.webinar_id, c.id, 'seed',
                            'Asia/Kolkata', 'bulk', {now}, p.name, p.email, p.phone, p.country
                     FROM persons p JOIN consents c ON c.person_id = p.id JOIN slots s ON s.id = {slot_id}
                     WHERE p.email LIKE 'bulk%@example.com';
                     INSERT INTO registrations (id, person_id, webinar_id, slot_id, lead_id, status,
                                                manage_token_hash, time_zone, created_at, updated_at)
                     SELECT printf('00000000-0000-7000-9000-%012d', l.person_id), l.person_id, l.webinar_id,
                            {slot_id}, l.id, 'confirmed', 'seed', 'Asia/Kolkata', {now}, {now}
                     FROM leads l WHERE l.utm_source = 'bulk';
                     UPDATE slots SET capacity = capacity + {count}, seats_taken = seats_taken + {count}
                     WHERE id = {slot_id};
                     COMMIT;"
                );
                self.sqlite_connection()
                    .execute_batch(&sql)
                    .expect("registrations seeded");
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("PostgreSQL opens");
                let statements: [(&str, &[i64]); 5] = [
                    (
                        "INSERT INTO persons (email_normalised, email, name, phone, country, created_at, updated_at)
                     SELECT 'bulk' || i || '@example.com', 'bulk' || i || '@example.com', 'Bulk Registrant ' || i,
                            '+9198' || lpad(i::text, 8, '0'), 'IN', now(), now() FROM generate_series(1, $1) AS i",
                        &[count],
                    ),
                    (
                        "INSERT INTO consents (person_id, policy_version, policy_sha256, email, sms, created_at)
                     SELECT id, 'seed', 'seed', true, false, now() FROM persons WHERE email LIKE 'bulk%@example.com'",
                        &[],
                    ),
                    (
                        "INSERT INTO leads (id, person_id, webinar_id, consent_id, token_hash, time_zone, utm_source,
                                        created_at, name, email, phone, country)
                     SELECT ('00000000-0000-7000-8000-' || lpad(p.id::text, 12, '0'))::uuid, p.id, s.webinar_id,
                            c.id, 'seed', 'Asia/Kolkata', 'bulk', now(), p.name, p.email, p.phone, p.country
                     FROM persons p JOIN consents c ON c.person_id = p.id JOIN slots s ON s.id = $1
                     WHERE p.email LIKE 'bulk%@example.com'",
                        &[slot_id],
                    ),
                    (
                        "INSERT INTO registrations (id, person_id, webinar_id, slot_id, lead_id, status,
                                                manage_token_hash, time_zone, created_at, updated_at)
                     SELECT ('00000000-0000-7000-9000-' || lpad(l.person_id::text, 12, '0'))::uuid, l.person_id,
                            l.webinar_id, $1, l.id, 'confirmed', 'seed', 'Asia/Kolkata', now(), now()
                     FROM leads l WHERE l.utm_source = 'bulk'",
                        &[slot_id],
                    ),
                    (
                        "UPDATE slots SET capacity = capacity + $1, seats_taken = seats_taken + $1 WHERE id = $2",
                        &[count, slot_id],
                    ),
                ];
                let mut tx = pool.begin().await.expect("a transaction");
                for (statement, parameters) in statements {
                    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
                    for parameter in parameters {
                        query = query.bind(*parameter);
                    }
                    query.execute(&mut *tx).await.expect("registrations seeded");
                }
                tx.commit().await.expect("registrations seeded");
                pool.close().await;
            }
        }
    }

    /// The one text value `sql` selects, read around the store.
    pub async fn scalar(&self, sql: &str) -> String {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.backend() {
            Backend::Sqlite => self
                .sqlite_connection()
                .query_row(&sql.0, [], |row| row.get(0))
                .expect("one text value"),
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("PostgreSQL opens");
                let value = sqlx::query_scalar(sql).fetch_one(&pool).await.expect("one text value");
                pool.close().await;
                value
            }
        }
    }

    /// Table name to sorted column names, as the live database has them.
    pub async fn schema(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut schema = std::collections::BTreeMap::new();
        for table in turnout_store::sql::SCHEMA_TABLES {
            let mut columns: Vec<String> = match self.backend() {
                Backend::Sqlite => {
                    let connection = self.sqlite_connection();
                    let mut statement = connection
                        .prepare("SELECT name FROM pragma_table_info(?1)")
                        .expect("pragma_table_info");
                    statement
                        .query_map([table], |row| row.get(0))
                        .expect("columns")
                        .collect::<Result<_, _>>()
                        .expect("column names")
                }
                Backend::Postgres => {
                    let pool = sqlx::PgPool::connect(&self.url).await.expect("PostgreSQL opens");
                    let columns = sqlx::query_scalar(
                        "SELECT column_name::text FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = $1",
                    )
                    .bind(*table)
                    .fetch_all(&pool)
                    .await
                    .expect("columns");
                    pool.close().await;
                    columns
                }
            };
            columns.sort();
            schema.insert((*table).to_owned(), columns);
        }
        schema
    }

    /// Every column, explicit index and foreign key of the schema tables,
    /// as one line each, in terms both dialects share: a column's storage
    /// class (`int`, `text`, `blob`, `real`), whether it may be null, its
    /// default; an index's columns, uniqueness and whether it is partial;
    /// a foreign key's target table.
    pub async fn shape(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut shape = std::collections::BTreeMap::new();
        for table in turnout_store::sql::SCHEMA_TABLES {
            let mut lines = match self.backend() {
                Backend::Sqlite => self.sqlite_shape(table),
                Backend::Postgres => self.postgres_shape(table).await,
            };
            lines.sort();
            shape.insert((*table).to_owned(), lines);
        }
        shape
    }

    fn sqlite_shape(&self, table: &str) -> Vec<String> {
        let connection = self.sqlite_connection();
        let rows = |sql: &str, arg: &str| -> Vec<Vec<Option<String>>> {
            let mut statement = connection.prepare(sql).expect("a pragma query");
            let width = statement.column_count();
            statement
                .query_map([arg], |row| {
                    (0..width)
                        .map(|i| {
                            row.get_ref(i).map(|value| match value {
                                rusqlite::types::ValueRef::Null => None,
                                rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                                rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                                other => Some(format!("{other:?}")),
                            })
                        })
                        .collect()
                })
                .expect("rows")
                .collect::<Result<_, _>>()
                .expect("values")
        };
        let mut lines = Vec::new();
        for column in rows(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)",
            table,
        ) {
            let name = column[0].clone().unwrap_or_default();
            let class = storage_class(&column[1].clone().unwrap_or_default());
            let nullable = column[2].as_deref() == Some("0") && column[4].as_deref() == Some("0");
            lines.push(column_line(&name, class, nullable, column[3].as_deref()));
        }
        for index in rows(
            "SELECT name, \"unique\", partial FROM pragma_index_list(?1) WHERE origin = 'c'",
            table,
        ) {
            let name = index[0].clone().unwrap_or_default();
            let columns: Vec<String> = rows("SELECT name FROM pragma_index_info(?1) ORDER BY seqno", &name)
                .into_iter()
                .filter_map(|row| row[0].clone())
                .collect();
            lines.push(index_line(
                &name,
                &columns,
                index[1].as_deref() == Some("1"),
                index[2].as_deref() == Some("1"),
            ));
        }
        let mut primary: Vec<(i64, String)> = rows("SELECT pk, name FROM pragma_table_info(?1) WHERE pk > 0", table)
            .into_iter()
            .map(|row| {
                (
                    row[0].as_deref().unwrap_or("0").parse().unwrap_or(0),
                    row[1].clone().unwrap_or_default(),
                )
            })
            .collect();
        primary.sort();
        let primary: Vec<String> = primary.into_iter().map(|(_, name)| name).collect();
        if !primary.is_empty() {
            lines.push(format!("primary key ({})", primary.join(", ")));
        }
        for index in rows("SELECT name FROM pragma_index_list(?1) WHERE origin = 'u'", table) {
            let name = index[0].clone().unwrap_or_default();
            let columns: Vec<String> = rows("SELECT name FROM pragma_index_info(?1) ORDER BY seqno", &name)
                .into_iter()
                .filter_map(|row| row[0].clone())
                .collect();
            lines.push(format!("unique ({})", columns.join(", ")));
        }
        for key in rows("SELECT \"from\", \"table\" FROM pragma_foreign_key_list(?1)", table) {
            lines.push(format!(
                "foreign key {} -> {}",
                key[0].clone().unwrap_or_default(),
                key[1].clone().unwrap_or_default()
            ));
        }
        lines
    }

    async fn postgres_shape(&self, table: &str) -> Vec<String> {
        let pool = sqlx::PgPool::connect(&self.url).await.expect("PostgreSQL opens");
        let mut lines = Vec::new();
        let columns: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text, column_default::text \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .expect("columns");
        for (name, data_type, nullable, default) in columns {
            lines.push(column_line(
                &name,
                storage_class(&data_type),
                nullable == "YES",
                default.as_deref(),
            ));
        }
        // Indexes created by CREATE INDEX, not those behind a constraint.
        let indexes: Vec<(String, bool, bool, Vec<String>)> = sqlx::query_as(
            "SELECT i.relname::text, x.indisunique, x.indpred IS NOT NULL, \
                    ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k (attnum, n) \
                          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .expect("indexes");
        for (name, unique, partial, columns) in indexes {
            lines.push(index_line(&name, &columns, unique, partial));
        }
        let keys: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.attname::text, r.relname::text FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = c.conkey[1] \
             WHERE c.contype = 'f' AND t.relname = $1 AND t.relnamespace = current_schema()::regnamespace",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .expect("foreign keys");
        for (column, target) in keys {
            lines.push(format!("foreign key {column} -> {target}"));
        }
        let constraints: Vec<(String, Vec<String>)> = sqlx::query_as(
            "SELECT c.contype::text, ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k (attnum, n) \
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE c.contype IN ('p', 'u') AND t.relname = $1 AND t.relnamespace = current_schema()::regnamespace",
        )
        .bind(table)
        .fetch_all(&pool)
        .await
        .expect("keys");
        for (kind, columns) in constraints {
            let kind = if kind == "p" { "primary key" } else { "unique" };
            lines.push(format!("{kind} ({})", columns.join(", ")));
        }
        pool.close().await;
        lines
    }

    /// A database of SQLite, whatever the leg: to compare with PostgreSQL.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("turnout.db").display());
        let store = SqliteStore::open(&url, true).await.expect("SQLite opens");
        Self {
            store: Arc::new(store),
            url,
            _dir: Some(dir),
        }
    }

    async fn postgres(server: &str) -> Self {
        use sqlx::Connection;
        let name = format!("turnout_test_{}", Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .expect("TURNOUT_TEST_POSTGRES_URL accepts connections");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("the test role may create databases");
        let _ = admin.close().await;
        let url = with_database(server, &name);
        let store = PostgresStore::open(&url, true).await.expect("PostgreSQL opens");
        Self {
            store: Arc::new(store),
            url,
            _dir: None,
        }
    }
}

/// A declared type as the storage class both dialects share.
fn storage_class(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "smallint" | "boolean" | "timestamp with time zone" => "int",
        "text" | "uuid" | "character varying" => "text",
        "blob" | "bytea" => "blob",
        "real" | "double precision" => "real",
        other => panic!("no storage class for the declared type {other:?}"),
    }
}

/// A column's line; a default is compared without PostgreSQL's casts, and
/// a boolean's as SQLite stores it.
fn column_line(name: &str, class: &str, nullable: bool, default: Option<&str>) -> String {
    let default = default.map(|d| {
        let d = d.split("::").next().unwrap_or(d).to_ascii_lowercase();
        match d.as_str() {
            "false" => "0".to_owned(),
            "true" => "1".to_owned(),
            _ => d,
        }
    });
    let null = if nullable { "null" } else { "not null" };
    match default {
        Some(default) => format!("column {name} {class} {null} default {default}"),
        None => format!("column {name} {class} {null}"),
    }
}

fn index_line(name: &str, columns: &[String], unique: bool, partial: bool) -> String {
    let kind = if unique { "unique index" } else { "index" };
    let partial = if partial { " partial" } else { "" };
    format!("{kind} {name} ({}){partial}", columns.join(", "))
}

/// Settings without abuse limits or bot checks, and with room for the
/// bursts tests send: what [`TestApp::spawn`] uses, for tests that change
/// something else.
pub fn unlimited() -> Settings {
    Settings {
        limits: turnout_http::LimitSettings::off(),
        bots: turnout_http::BotSettings::off(),
        transport: turnout_http::TransportLimits {
            max_in_flight: 4_096,
            ..turnout_http::TransportLimits::default()
        },
        ..Settings::default()
    }
}

/// Limits switched on with every budget off but what `set` names: a test
/// of one limit is not tripped by another.
pub fn limits(set: impl FnOnce(&mut turnout_http::LimitSettings)) -> turnout_http::LimitSettings {
    let mut limits = turnout_http::LimitSettings {
        enabled: true,
        writes_per_ip_per_minute: 0,
        signups_per_email_per_hour: 0,
        changes_per_registration_per_day: 0,
        uploads_per_ip_per_hour: 0,
    };
    set(&mut limits);
    limits
}

/// An SMS provider at `url` speaking Twilio's form, for numbers in India.
pub fn sms_settings(url: String) -> SmsSettings {
    SmsSettings {
        url,
        username: Some("AC123".into()),
        password: Some("auth-token".into()),
        from: "+15005550006".into(),
        body: turnout_delivery::sms::TWILIO_BODY.into(),
        content_type: turnout_delivery::sms::FORM.into(),
        timeout: Duration::from_secs(5),
        countries: vec!["IN".into()],
    }
}

/// The WhatsApp Cloud API at `api_url` (a fake on 127.0.0.1), for numbers
/// in India, with a last reminder of its own template.
pub fn whatsapp_settings(api_url: String) -> WhatsAppSettings {
    WhatsAppSettings {
        api_url,
        phone_number_id: "106540352242922".into(),
        access_token: "EAAG-test-token".into(),
        language: "en".into(),
        templates: WhatsAppTemplates {
            confirmation: "webinar_confirmation".into(),
            rescheduled: None,
            reminder: "webinar_reminder".into(),
            last_reminder: Some("webinar_starting".into()),
        },
        timeout: Duration::from_secs(5),
        countries: vec!["IN".into()],
    }
}

/// Tests run their webhook receivers on 127.0.0.1, which is internal.
fn loopback_allowed() -> Arc<AddressPolicy> {
    Arc::new(AddressPolicy::new(&["127.0.0.1".into()]).expect("a valid allowlist"))
}

/// `server` with its database name replaced by `database`.
fn with_database(server: &str, database: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

/// The real application on 127.0.0.1:0, with a client and helpers.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    /// Where this app keeps uploaded files.
    pub files: Arc<dyn ObjectStore>,
    _uploads_dir: Option<TempDir>,
    /// Where workers from [`TestApp::worker`] write their emails.
    pub mail: TempDir,
    link_key: LinkKey,
}

impl TestApp {
    /// The app with its abuse limits off and room for a thousand requests
    /// at once: most tests write far more from 127.0.0.1, and in bigger
    /// bursts, than visitors would. Tests of the limits use
    /// [`TestApp::spawn_with`] with limits of their own.
    pub async fn spawn() -> Self {
        Self::spawn_with(unlimited()).await
    }

    pub async fn spawn_with(settings: Settings) -> Self {
        Self::serve(TestDatabase::new().await, settings).await
    }

    /// A second instance of the app on this one's database.
    pub async fn another_instance(&self) -> Self {
        Self::serve(self.database.another_instance().await, unlimited()).await
    }

    async fn serve(database: TestDatabase, mut settings: Settings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = format!("http://{}", listener.local_addr().expect("a local address"));
        settings.public_url = address.clone();
        settings.admin_token = Some(TokenHash::of(ADMIN_TOKEN));
        settings.webhook_policy = loopback_allowed();
        settings.link_key = turnout_store::link_key(database.store.as_ref())
            .await
            .expect("the link key");
        let link_key = settings.link_key.clone();
        let (files, uploads_dir) = upload_store().await;
        // The worker is the test's to drive, with its own clock (`worker`).
        let application = Application::build(Parts {
            store: Arc::clone(&database.store),
            uploads: Arc::clone(&files),
            settings,
            listener,
            worker: None,
        });
        tokio::spawn(application.run_until(std::future::pending()));
        Self {
            files,
            _uploads_dir: uploads_dir,
            mail: tempfile::tempdir().expect("a mail folder"),
            link_key,
            address,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("a client"),
            database,
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.database.store.as_ref()
    }

    /// An outbox worker on this app's database, driven by the test's own
    /// clock through `run_once`; webhooks may reach 127.0.0.1.
    pub fn worker(&self) -> Worker {
        self.worker_with(WorkerSettings::default())
    }

    pub fn worker_with(&self, settings: WorkerSettings) -> Worker {
        self.worker_using(settings, &EmailTransport::Files(self.mail.path().to_owned()))
    }

    /// A worker that sends its emails through `transport`.
    pub fn worker_using(&self, settings: WorkerSettings, transport: &EmailTransport) -> Worker {
        self.worker_sending(settings, transport, None)
    }

    /// A worker with an SMS provider too.
    pub fn worker_sending(
        &self,
        settings: WorkerSettings,
        transport: &EmailTransport,
        sms: Option<SmsSettings>,
    ) -> Worker {
        self.worker_texting(settings, transport, sms, None)
    }

    /// A worker with an SMS provider and the WhatsApp Cloud API, either
    /// or both.
    pub fn worker_texting(
        &self,
        settings: WorkerSettings,
        transport: &EmailTransport,
        sms: Option<SmsSettings>,
        whatsapp: Option<WhatsAppSettings>,
    ) -> Worker {
        let webhooks = WebhookSender::new(loopback_allowed(), Duration::from_secs(5)).expect("a webhook client");
        let links = Links {
            public_url: self.address.clone(),
            site_name: "Turnout".into(),
            link_key: self.link_key.clone(),
        };
        let templates = Arc::new(Templates::new(None));
        let sms = sms.map(|sms| SmsSender::new(sms, Arc::clone(&templates), links.clone()).expect("an SMS sender"));
        let whatsapp =
            whatsapp.map(|settings| WhatsAppSender::new(settings, links.clone()).expect("a WhatsApp sender"));
        let email =
            Mailer::new(transport, "Turnout Webinars <webinars@example.com>", templates, links).expect("a mailer");
        let channels = Channels {
            webhooks,
            email,
            sms,
            whatsapp,
        };
        Worker::new(Arc::clone(&self.database.store), channels, settings)
    }

    /// The delivery ledger (`GET /api/v1/admin/outbox` with `query`), oldest
    /// first.
    pub async fn ledger(&self, query: &str) -> Vec<Value> {
        let response = self.admin_get(&format!("/api/v1/admin/outbox{query}")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("a ledger");
        body["items"].as_array().expect("items").clone()
    }

    /// The emails workers wrote, as raw RFC 5322 messages, oldest first.
    pub fn emails(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<_> = std::fs::read_dir(self.mail.path())
            .expect("the mail folder")
            .map(|entry| entry.expect("a mail file").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| std::fs::read(path).expect("an email"))
            .collect()
    }

    pub async fn admin_delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("DELETE answered")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET answered")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST answered")
    }

    pub async fn admin_post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .expect("POST answered")
    }

    pub async fn admin_patch(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .expect("PATCH answered")
    }

    pub async fn admin_get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("GET answered")
    }

    /// Sends `request` with the manage token as a bearer credential.
    pub async fn with_token(&self, request: reqwest::RequestBuilder, token: &str) -> Response {
        request.bearer_auth(token).send().await.expect("answered")
    }

    /// Creates a published webinar in `zone` and returns its slug.
    pub async fn published_webinar(&self, slug: &str, zone: &str) -> String {
        let response = self
            .admin_post(
                "/api/v1/admin/webinars",
                &json!({
                    "slug": slug,
                    "title": format!("Webinar {slug}"),
                    "summary": "A test webinar",
                    "time_zone": zone,
                    "duration_minutes": 60,
                    "hosts": [{"name": "Asha Verma", "title": "Principal Engineer"}],
                    "highlights": ["25,000+ professionals trained"],
                    "status": "published",
                }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        slug.to_owned()
    }

    /// Adds a slot starting at `starts_at` and returns its id.
    pub async fn slot_at(&self, slug: &str, starts_at: Timestamp, capacity: i64) -> i64 {
        let response = self
            .admin_post(
                &format!("/api/v1/admin/webinars/{slug}/slots"),
                &json!({"starts_at": starts_at.to_string(), "capacity": capacity}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["slot_id"].as_i64().expect("a slot id")
    }

    /// Adds a slot a few days ahead and returns its id.
    pub async fn slot(&self, slug: &str, capacity: i64) -> i64 {
        self.slot_at(slug, in_days(3), capacity).await
    }

    /// Step 1 for a person with this email; returns (lead_id, lead_token).
    pub async fn lead(&self, webinar: &str, email: &str) -> (String, String) {
        let response = self.post("/api/v1/leads", &lead_body(webinar, email)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        (
            body["lead_id"].as_str().unwrap().to_owned(),
            body["lead_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Step 1, then a callback in tomorrow's first window; returns the
    /// consultation's id and its lead's token. An advisor must cover it.
    pub async fn callback(&self, webinar: &str, email: &str) -> (String, String) {
        let (lead_id, lead_token) = self.lead(webinar, email).await;
        let listing = json_body(self.get("/api/v1/consultation-windows?tz=Asia/Kolkata").await).await;
        let window_id = listing["days"][1]["windows"][0]["window_id"].clone();
        let created = self
            .post(
                "/api/v1/consultations",
                &json!({"lead_id": lead_id, "lead_token": lead_token, "window_id": window_id}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let id = json_body(created).await["consultation_id"]
            .as_str()
            .expect("a consultation id")
            .to_owned();
        (id, lead_token)
    }

    /// Steps 1 and 2 in one go; returns the response.
    pub async fn register(&self, webinar: &str, slot_id: i64, email: &str) -> Response {
        let mut body = lead_body(webinar, email);
        body["slot_id"] = json!(slot_id);
        self.post("/api/v1/registrations", &body).await
    }
}

impl TestApp {
    /// An advisor who works every day from `starts` to `ends` in `zone`.
    pub async fn advisor(&self, email: &str, zone: &str, hours: (&str, &str), max_calls: i64) -> i64 {
        let days = [
            "monday",
            "tuesday",
            "wednesday",
            "thursday",
            "friday",
            "saturday",
            "sunday",
        ];
        let availability: Vec<Value> = days
            .iter()
            .map(|day| json!({"weekday": day, "starts": hours.0, "ends": hours.1}))
            .collect();
        let response = self
            .admin_post(
                "/api/v1/admin/advisors",
                &json!({
                    "name": "Priya Natarajan",
                    "email": email,
                    "time_zone": zone,
                    "availability": availability,
                    "max_calls_per_window": max_calls,
                }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        json_body(response).await["advisor_id"].as_i64().expect("an advisor id")
    }
}

/// A fresh bucket on the test S3 endpoint, or a temporary folder.
async fn upload_store() -> (Arc<dyn ObjectStore>, Option<TempDir>) {
    match std::env::var(S3_ENDPOINT_VAR)
        .ok()
        .filter(|endpoint| !endpoint.is_empty())
    {
        Some(endpoint) => {
            let bucket = format!("turnout-test-{}", Uuid::new_v4().simple());
            let created = reqwest::Client::new()
                .put(format!("{endpoint}/{bucket}"))
                .send()
                .await
                .expect("the S3 endpoint answers");
            assert!(
                created.status().is_success(),
                "creating bucket {bucket}: {}",
                created.status()
            );
            let settings = turnout_http::uploads::S3Settings {
                bucket,
                endpoint: Some(endpoint),
                region: Some("us-east-1".into()),
                access_key_id: Some("test".into()),
                secret_access_key: Some("test".into()),
            };
            (turnout_http::uploads::s3(&settings).expect("an S3 store"), None)
        }
        None => {
            let dir = tempfile::tempdir().expect("a temporary folder");
            let files = turnout_http::uploads::local(dir.path()).expect("an upload folder");
            (files, Some(dir))
        }
    }
}

impl TestApp {
    /// The keys of every uploaded file, wherever uploads go.
    pub async fn uploaded_files(&self) -> Vec<String> {
        use futures::TryStreamExt;
        let objects: Vec<_> = self.files.list(None).try_collect().await.expect("listing uploads");
        let mut keys: Vec<String> = objects.into_iter().map(|object| object.location.to_string()).collect();
        keys.sort();
        keys
    }
}

/// A valid step-1 body for `email`.
pub fn lead_body(webinar: &str, email: &str) -> Value {
    json!({
        "webinar": webinar,
        "name": "Asha Verma",
        "email": email,
        "phone": "+91 98765 43210",
        "time_zone": "Asia/Kolkata",
        "consent": {"privacy_policy": true, "sms": true},
        "attribution": {"utm_source": "newsletter", "page": "https://example.com/articles/ml-roles"},
    })
}

/// Whole hours from now, rounded to the hour so labels are readable.
pub fn in_days(days: i64) -> Timestamp {
    let now = Timestamp::now();
    let hour = now.as_second() - now.as_second().rem_euclid(3600);
    Timestamp::from_second(hour).expect("in range") + SignedDuration::from_hours(24 * days)
}

/// Reads a JSON body, failing the test with the text when it is not JSON.
pub async fn json_body(response: Response) -> Value {
    let text = response.text().await.expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_database_replaces_only_the_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
    }
}
