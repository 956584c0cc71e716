//! Chooses the backend from the database URL's scheme.

use std::sync::Arc;

use anyhow::{Context, bail};
use turnout_postgres::PostgresStore;
use turnout_sqlite::SqliteStore;
use turnout_store::Store;

/// Whether opening a database applies pending migrations first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    Apply,
    Skip,
}

/// Opens `url`: `sqlite:…` for the embedded database, `postgres:…` or
/// `postgresql:…` for PostgreSQL.
pub async fn open(url: &str, migrations: Migrations) -> anyhow::Result<Arc<dyn Store>> {
    let migrate = migrations == Migrations::Apply;
    let scheme = url.split(':').next().unwrap_or_default();
    let store: Arc<dyn Store> = match scheme {
        "sqlite" => Arc::new(
            SqliteStore::open(url, migrate)
                .await
                .context("opening the SQLite database")?,
        ),
        "postgres" | "postgresql" => Arc::new(
            PostgresStore::open(url, migrate)
                .await
                .context("connecting to PostgreSQL")?,
        ),
        _ => bail!("DATABASE_URL must start with sqlite: or postgres:"),
    };
    Ok(store)
}
