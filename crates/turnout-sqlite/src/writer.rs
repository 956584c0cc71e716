//! The one writer path. SQLite allows a single writer at a time; rather than
//! let connections queue on its lock (and fail with "database is locked"),
//! every write is a job sent to one task that owns the only writing
//! connection. The task commits whatever jobs have queued up together, in
//! one transaction (group commit): one fsync serves the whole batch, and
//! each job's caller hears back only after that commit, so a reply still
//! means durable.

use futures::future::BoxFuture;
use sqlx::{Connection, Executor, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use turnout_store::StoreError;

/// Hands a job's result to its caller once the batch's fate is known.
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A job runs on the writer connection inside the batch's transaction and
/// says whether its changes should stay (`true`) or be rolled back.
type Job = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Completion)> + Send>;

#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task on `connection`; at most `max_batch` jobs share
    /// one commit.
    pub(crate) fn spawn(connection: SqliteConnection, max_batch: usize) -> Self {
        let (jobs, queue) = mpsc::channel(max_batch * 4);
        tokio::spawn(run(connection, queue, max_batch));
        Self { jobs }
    }

    /// Runs `work` in the next batch. An `Err` from `work` rolls back its own
    /// changes only; the rest of the batch commits.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            Box::pin(async move {
                let result = work(connection).await;
                let keep = result.is_ok();
                let completion: Completion = Box::new(move |commit| {
                    let _ = reply.send(match commit {
                        Ok(()) => result,
                        Err(error) => Err(E::from(error)),
                    });
                });
                (keep, completion)
            })
        });
        let stopped = || E::from(StoreError::Unavailable("the SQLite writer has stopped".into()));
        self.jobs.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(mut connection: SqliteConnection, mut queue: mpsc::Receiver<Job>, max_batch: usize) {
    let mut batch = Vec::with_capacity(max_batch);
    while queue.recv_many(&mut batch, max_batch).await > 0 {
        let jobs = batch.len();
        let (completions, outcome) = commit_batch(&mut connection, batch.drain(..)).await;
        if let Err(error) = &outcome {
            tracing::error!(%error, jobs, "SQLite batch failed to commit");
        }
        for completion in completions {
            completion(match &outcome {
                Ok(()) => Ok(()),
                Err(error) => Err(StoreError::Unavailable(error.to_string())),
            });
        }
    }
    let _ = connection.close().await;
}

/// Runs the jobs in one transaction, each inside its own savepoint, and
/// commits. A job that cannot run is dropped, which its caller hears as the
/// writer being unavailable.
async fn commit_batch(
    connection: &mut SqliteConnection,
    jobs: impl Iterator<Item = Job>,
) -> (Vec<Completion>, Result<(), sqlx::Error>) {
    let mut completions = Vec::new();
    if let Err(error) = connection.execute("BEGIN IMMEDIATE").await {
        return (completions, Err(error));
    }
    for job in jobs {
        if let Err(error) = connection.execute("SAVEPOINT job").await {
            tracing::error!(%error, "SQLite savepoint could not be opened");
            continue;
        }
        let (keep, completion) = job(&mut *connection).await;
        let end = if keep {
            "RELEASE job"
        } else {
            "ROLLBACK TO job; RELEASE job"
        };
        match connection.execute(end).await {
            Ok(_) => completions.push(completion),
            Err(error) => {
                // The job's changes cannot be told apart from the batch's any
                // more: give up the whole batch rather than commit them.
                completions.push(completion);
                let _ = connection.execute("ROLLBACK").await;
                return (completions, Err(error));
            }
        }
    }
    let committed = connection.execute("COMMIT").await.map(|_| ());
    if committed.is_err() {
        let _ = connection.execute("ROLLBACK").await;
    }
    (completions, committed)
}
