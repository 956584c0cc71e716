//! Running the shared `$n`-placeholder SQL on rusqlite, and the connection
//! plumbing: opening, migrating, and a small pool of read-only connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ToSql;
use rusqlite::{CachedStatement, Connection, ErrorCode, OpenFlags, Row, TransactionBehavior};
use tokio::sync::Semaphore;
use turnout_store::{Constraint, StoreError, UniqueKey};

/// Prepares (from the statement cache) and binds parameters by name: SQLite
/// numbers `$n` parameters in order of first appearance, which is not always
/// `n`, so each value is bound to the parameter named `$n` explicitly.
pub fn prepare<'c>(
    connection: &'c Connection,
    sql: &str,
    params: &[&dyn ToSql],
) -> rusqlite::Result<CachedStatement<'c>> {
    const NAMES: [&str; 24] = [
        "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14", "$15", "$16", "$17",
        "$18", "$19", "$20", "$21", "$22", "$23", "$24",
    ];
    // A value past the last name would silently stay unbound (NULL).
    if params.len() > NAMES.len() {
        return Err(rusqlite::Error::InvalidParameterCount(params.len(), NAMES.len()));
    }
    let mut statement = connection.prepare_cached(sql)?;
    for (name, value) in NAMES.iter().zip(params) {
        if let Some(index) = statement.parameter_index(name)? {
            statement.raw_bind_parameter(index, value)?;
        }
    }
    Ok(statement)
}

pub fn execute(connection: &Connection, sql: &str, params: &[&dyn ToSql]) -> Result<usize, StoreError> {
    prepare(connection, sql, params)
        .and_then(|mut statement| statement.raw_execute())
        .map_err(store_error)
}

pub fn query_optional<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Option<T>, StoreError> {
    let mut statement = prepare(connection, sql, params).map_err(store_error)?;
    let mut rows = statement.raw_query();
    match rows.next().map_err(store_error)? {
        Some(row) => decode(row).map(Some).map_err(store_error),
        None => Ok(None),
    }
}

pub fn query_one<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    decode: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    query_optional(connection, sql, params, decode)?.ok_or(StoreError::NotFound)
}

pub fn query_all<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    mut decode: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = prepare(connection, sql, params).map_err(store_error)?;
    let mut rows = statement.raw_query();
    let mut items = Vec::new();
    while let Some(row) = rows.next().map_err(store_error)? {
        items.push(decode(row).map_err(store_error)?);
    }
    Ok(items)
}

/// Reads a text column through a parser of Turnout's own types.
pub fn parsed<T>(row: &Row<'_>, index: usize, parse: impl FnOnce(&str) -> Result<T, String>) -> rusqlite::Result<T> {
    let text = row.get_ref(index)?.as_str()?;
    parse(text).map_err(|message| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, message.into())
    })
}

/// Maps rusqlite's errors onto the store's.
pub fn store_error(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, message) => match failure.code {
            ErrorCode::ConstraintViolation => {
                // SQLite names the columns in the message ("UNIQUE constraint
                // failed: webinars.slug"), not the constraint.
                let message = message.clone().unwrap_or_else(|| error.to_string());
                let constraint = match failure.extended_code {
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                        Constraint::Unique(UniqueKey::from_database(&message))
                    }
                    rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Constraint::ForeignKey(message),
                    _ => Constraint::Check(message),
                };
                StoreError::Conflict { constraint }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen | ErrorCode::DiskFull => {
                StoreError::Unavailable(error.to_string())
            }
            _ => StoreError::Other(Box::new(error)),
        },
        _ => StoreError::Other(Box::new(error)),
    }
}

/// Whether an error is a unique or primary-key violation.
pub fn is_unique_violation(error: &StoreError) -> bool {
    error.is_unique_violation()
}

/// The file named by a `sqlite:` URL (`sqlite://data/turnout.db`,
/// `sqlite:data/turnout.db`); query parameters are ignored.
pub fn path_of(url: &str) -> Result<PathBuf, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| StoreError::other(format!("not a sqlite: URL: {url}")))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::other(
            "SQLite needs a file: several connections share it (use sqlite://path/to/turnout.db)",
        ));
    }
    Ok(PathBuf::from(path))
}

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The writing connection: WAL, and FULL sync so that a commit is on disk
/// before anyone is told it happened.
pub fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let open = || -> rusqlite::Result<Connection> {
        let connection = Connection::open(path)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(connection)
    };
    open().map_err(store_error)
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let open = || -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(path, flags)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.set_prepared_statement_cache_capacity(64);
        Ok(connection)
    };
    open().map_err(store_error)
}

/// Applies the migrations this database has not seen yet, tracked in
/// SQLite's own `user_version`. The check and the changes share one
/// immediate transaction, so two processes starting at once do not both
/// migrate.
pub fn migrate(connection: &mut Connection, migrations: &[&str]) -> Result<(), StoreError> {
    let mut apply = || -> rusqlite::Result<()> {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: i64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (version, sql) in (1..)
            .zip(migrations.iter())
            .skip_while(|(version, _)| *version <= applied)
        {
            transaction.execute_batch(sql)?;
            transaction.pragma_update(None, "user_version", version)?;
        }
        transaction.commit()
    };
    apply().map_err(store_error)
}

/// Read-only connections, used on tokio's blocking threads. Under WAL they
/// read a consistent snapshot while the writer carries on.
pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

impl Readers {
    pub fn new(path: PathBuf, size: usize) -> Arc<Self> {
        Arc::new(Self {
            path,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Semaphore::new(size),
        })
    }

    pub async fn read<T, F>(self: &Arc<Self>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Unavailable("readers closed".into()))?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let idle = readers.idle.lock().expect("reader pool lock").pop();
            let connection = match idle {
                Some(connection) => connection,
                None => open_reader(&readers.path)?,
            };
            let result = work(&connection);
            readers.idle.lock().expect("reader pool lock").push(connection);
            result
        })
        .await
        .map_err(StoreError::other)?
    }
}
