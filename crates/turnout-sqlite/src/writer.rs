//! The one writer path. SQLite allows a single writer at a time; rather than
//! let connections queue on its lock (and fail with "database is locked"),
//! every write is a job sent to one thread that owns the only writing
//! connection. The thread commits whatever jobs have queued up together, in
//! one transaction (group commit): one fsync serves the whole batch, and
//! each job's caller hears back only after that commit, so a reply still
//! means durable. Jobs run synchronously on that thread, so a job of ten
//! statements costs two thread hand-offs (in and out), not twenty.

use std::panic::AssertUnwindSafe;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};
use turnout_store::StoreError;

/// Hands a job's result to its caller once the batch's fate is known.
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A job runs on the writer connection inside the batch's transaction and
/// says whether its changes should stay (`true`) or be rolled back.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `connection`; at most `max_batch` jobs
    /// share one commit, and `after_commit` runs after each commit.
    pub(crate) fn spawn(
        connection: Connection,
        max_batch: usize,
        after_commit: impl Fn() + Send + 'static,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(max_batch * 4);
        std::thread::Builder::new()
            .name("turnout-sqlite-writer".into())
            .spawn(move || run(connection, queue, max_batch, after_commit))?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next batch. An `Err` from `work` rolls back its own
    /// changes only; the rest of the batch commits.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let result = work(connection);
            let keep = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                let _ = reply.send(match commit {
                    Ok(()) => result,
                    Err(error) => Err(E::from(error)),
                });
            });
            (keep, completion)
        });
        let stopped = || {
            E::from(StoreError::Unavailable(
                "the SQLite writer could not run the write".into(),
            ))
        };
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn run(connection: Connection, mut queue: mpsc::Receiver<Job>, max_batch: usize, after_commit: impl Fn()) {
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = queue.blocking_recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let jobs = batch.len();
        let (completions, outcome) = commit_batch(&connection, batch.drain(..));
        match &outcome {
            Ok(()) => after_commit(),
            Err(error) => tracing::error!(%error, jobs, "SQLite batch failed to commit"),
        }
        for completion in completions {
            completion(match &outcome {
                Ok(()) => Ok(()),
                Err(error) => Err(StoreError::Unavailable(error.to_string())),
            });
        }
    }
}

/// Runs the jobs in one transaction, each inside its own savepoint, and
/// commits. A job that cannot run is dropped, which its caller hears as the
/// writer being unavailable.
fn commit_batch(
    connection: &Connection,
    jobs: impl Iterator<Item = Job>,
) -> (Vec<Completion>, Result<(), rusqlite::Error>) {
    let mut completions = Vec::new();
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        return (completions, Err(error));
    }
    for job in jobs {
        if let Err(error) = connection.execute_batch("SAVEPOINT job") {
            tracing::error!(%error, "SQLite savepoint could not be opened");
            continue;
        }
        // A job that panics is rolled back like one that failed; its caller
        // hears that the writer could not run it, and the writer lives on.
        let (keep, completion) = match std::panic::catch_unwind(AssertUnwindSafe(|| job(connection))) {
            Ok((keep, completion)) => (keep, Some(completion)),
            Err(_) => {
                tracing::error!("a SQLite write job panicked; its changes are rolled back");
                (false, None)
            }
        };
        let end = if keep {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        completions.extend(completion);
        if let Err(error) = connection.execute_batch(end) {
            // The job's changes cannot be told apart from the batch's any
            // more: give up the whole batch rather than commit them.
            let _ = connection.execute_batch("ROLLBACK");
            return (completions, Err(error));
        }
    }
    let committed = connection.execute_batch("COMMIT");
    if committed.is_err() {
        let _ = connection.execute_batch("ROLLBACK");
    }
    (completions, committed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer() -> Writer {
        let connection = Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE t (n INTEGER NOT NULL)").unwrap();
        Writer::spawn(connection, 8, || {}).unwrap()
    }

    fn count(connection: &Connection) -> Result<i64, StoreError> {
        connection
            .query_row("SELECT COUNT(*) FROM t", [], |row| row.get(0))
            .map_err(StoreError::other)
    }

    #[tokio::test]
    async fn a_failed_job_is_rolled_back_alone() {
        let writer = writer();
        let failed: Result<(), StoreError> = writer
            .write(|connection| {
                connection.execute("INSERT INTO t (n) VALUES (1)", []).unwrap();
                Err(StoreError::NotFound)
            })
            .await;
        assert!(matches!(failed, Err(StoreError::NotFound)));
        writer
            .write(|connection| {
                connection
                    .execute("INSERT INTO t (n) VALUES (2)", [])
                    .map_err(StoreError::other)?;
                Ok::<_, StoreError>(())
            })
            .await
            .unwrap();
        assert_eq!(writer.write(count).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_panicking_job_does_not_take_the_writer_down() {
        let writer = writer();
        let panicked: Result<(), StoreError> = writer
            .write(|connection| {
                connection.execute("INSERT INTO t (n) VALUES (1)", []).unwrap();
                panic!("a bug in one job");
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Unavailable(_))));
        assert_eq!(writer.write(count).await.unwrap(), 0, "its insert was rolled back");
    }
}
