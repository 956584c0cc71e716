//! What sqlx-based backends share beyond SQL text: error mapping and
//! migrations embedded in the binary.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::error::ErrorKind;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{Constraint, StoreError, UniqueKey};

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => match db.kind() {
                kind @ (ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation | ErrorKind::CheckViolation) => {
                    // PostgreSQL names the constraint; SQLite only says it
                    // in the message ("UNIQUE constraint failed: t.c").
                    let name = db.constraint().unwrap_or_else(|| db.message()).to_owned();
                    let constraint = match kind {
                        ErrorKind::UniqueViolation => Constraint::Unique(UniqueKey::from_database(&name)),
                        ErrorKind::ForeignKeyViolation => Constraint::ForeignKey(name),
                        _ => Constraint::Check(name),
                    };
                    StoreError::Conflict { constraint }
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
