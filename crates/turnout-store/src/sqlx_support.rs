//! What both sqlx backends share beyond SQL text: error mapping, migrations
//! embedded in the binary, and decoding of the JSON and enum columns.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use sqlx::SqlSafeStr;
use sqlx::error::ErrorKind;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use turnout_domain::TimeZone;

use crate::StoreError;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::CheckViolation => {
                    StoreError::Conflict {
                        // PostgreSQL names the constraint; SQLite only says it
                        // in the message ("UNIQUE constraint failed: t.c").
                        constraint: db
                            .constraint()
                            .map(str::to_owned)
                            .unwrap_or_else(|| db.message().to_owned()),
                    }
                }
                _ => StoreError::Other(Box::new(sqlx::Error::Database(db))),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(error.to_string())
            }
            other => StoreError::Other(Box::new(other)),
        }
    }
}

/// Whether an error is a unique violation, the signal of a lost race.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.kind() == ErrorKind::UniqueViolation)
}

/// One migration file embedded with `include_str!`.
pub struct EmbeddedMigration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// A migrator over migrations compiled into the binary, so `turnout` needs
/// no files beside it.
pub fn migrator(migrations: &[EmbeddedMigration]) -> Migrator {
    Migrator::with_migrations(
        migrations
            .iter()
            .map(|m| {
                Migration::new(
                    m.version,
                    Cow::Borrowed(m.description),
                    MigrationType::Simple,
                    m.sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Decodes a JSON text column written by Turnout itself.
pub fn json_column<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(StoreError::other)
}

/// Encodes a value for a JSON text column.
pub fn to_json_column<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("hosts and highlights always serialise")
}

/// Decodes a stored enum or zone, which Turnout wrote and checked itself.
pub fn parsed_column<T>(parsed: Result<T, String>) -> Result<T, StoreError> {
    parsed.map_err(StoreError::other)
}

pub fn zone_column(name: &str) -> Result<TimeZone, StoreError> {
    parsed_column(TimeZone::parse(name))
}
