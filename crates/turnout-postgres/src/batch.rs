//! Group commit for registrations. Requests queue for a batcher task that
//! sends whatever has queued up as one `turnout_register_set` call, a
//! statement in its own transaction: one round trip and one commit for up
//! to 64 registrations and their outbox events, decided set-wise with seats
//! granted per slot in arrival order. A caller hears back only after that
//! commit.

use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::{Semaphore, mpsc, oneshot};
use turnout_store::events::OutboxEvent;
use turnout_store::{NewRegistration, RegistrationError, RegistrationLead, RegistrationOutcome, StoreError};
use uuid::Uuid;

use crate::registration_from_row;

/// At most this many registrations share a commit.
pub const MAX_BATCH: usize = 64;

/// Batches in flight at once per instance. Every batch takes its locks in
/// one order (persons by email, then slots by id; see migration 0014), so
/// batches of this and other instances wait for each other but never
/// deadlock; a batch that fails anyway is retried element by element.
const IN_FLIGHT: usize = 2;

const REGISTER_SET: &str = "SELECT * FROM turnout_register_set($1::jsonb)";

/// What one attempt at a registration came to: `None` when it lost a race to
/// a concurrent registration of the same person and should be tried again.
pub type Attempt = Option<Result<RegistrationOutcome, RegistrationError>>;

struct Job {
    registration: NewRegistration,
    reply: oneshot::Sender<Result<Attempt, RegistrationError>>,
}

#[derive(Clone)]
pub struct Batcher {
    jobs: mpsc::Sender<Job>,
}

impl Batcher {
    pub fn spawn(pool: PgPool) -> Self {
        let (jobs, queue) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(run(pool, queue));
        Self { jobs }
    }

    /// Registers in the next batch.
    pub async fn register(&self, registration: NewRegistration) -> Result<Attempt, RegistrationError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || RegistrationError::from(StoreError::Unavailable("the registration batcher stopped".into()));
        self.jobs
            .send(Job { registration, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(pool: PgPool, mut queue: mpsc::Receiver<Job>) {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        if queue.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return;
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            let (registrations, replies): (Vec<_>, Vec<_>) =
                jobs.into_iter().map(|job| (job.registration, job.reply)).unzip();
            let started = std::time::Instant::now();
            let answers = register_batch(&pool, &registrations).await;
            metrics::histogram!("turnout_registration_batch_duration_seconds").record(started.elapsed());
            metrics::histogram!("turnout_registration_batch_size").record(registrations.len() as f64);
            match answers {
                Ok(answers) => {
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        let _ = reply.send(answer);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, jobs = replies.len(), "registration batch failed; each will be retried alone");
                    for reply in replies {
                        let _ = reply.send(Ok(None));
                    }
                }
            }
            drop(permit);
        });
    }
}

/// Runs `registrations`, in arrival order, as one statement; answers come
/// back in the order given.
pub async fn register_batch(
    pool: &PgPool,
    registrations: &[NewRegistration],
) -> Result<Vec<Result<Attempt, RegistrationError>>, StoreError> {
    let requests: Vec<Value> = (1..).zip(registrations).map(|(idx, new)| request(idx, new)).collect();
    let body = serde_json::to_string(&requests).map_err(StoreError::other)?;
    // No BEGIN: the statement is its own transaction, committed before
    // PostgreSQL answers.
    let rows = sqlx::query(REGISTER_SET).bind(body).fetch_all(pool).await?;
    if rows.len() != registrations.len() {
        return Err(StoreError::other(format!(
            "turnout_register_set answered {} of {} elements",
            rows.len(),
            registrations.len()
        )));
    }
    Ok(rows.iter().map(attempt).collect())
}

/// One element's outcome; its registration's columns follow from 2.
fn attempt(row: &PgRow) -> Result<Attempt, RegistrationError> {
    let outcome: &str = row.try_get(1).map_err(StoreError::from)?;
    let answer = match outcome {
        "created" => Ok(RegistrationOutcome::Created(registration_from_row(row, 2)?)),
        "existing" => Ok(RegistrationOutcome::Existing(registration_from_row(row, 2)?)),
        "slot_full" => Err(RegistrationError::SlotFull),
        "slot_closed" => Err(RegistrationError::SlotClosed),
        "retry" => return Ok(None),
        "slot_not_found" => return Err(RegistrationError::SlotNotFound),
        "lead_not_found" => return Err(RegistrationError::LeadNotFound),
        "webinar_not_found" => return Err(RegistrationError::WebinarNotFound),
        "slot_in_other_webinar" => return Err(RegistrationError::SlotInOtherWebinar),
        other => return Err(StoreError::other(format!("turnout_register_set answered {other:?}")).into()),
    };
    Ok(Some(answer))
}

/// A registration as `turnout_register_set` reads it, `idx` its place in
/// the batch.
fn request(idx: i64, new: &NewRegistration) -> Value {
    let (key, lead) = match &new.lead {
        RegistrationLead::Known(key) => (key, None),
        RegistrationLead::New { lead, key } => (key, Some(lead.as_ref())),
    };
    let mut request = json!({
        "idx": idx,
        "id": new.id,
        "event_id": Uuid::now_v7(),
        "slot_id": new.slot_id,
        "manage_token_hash": new.manage_token.as_str(),
        "now": new.now.to_string(),
        "lead_id": key.id,
        "lead_token_hash": key.token.as_str(),
        "new_lead": lead.is_some(),
    });
    if let Some(lead) = lead {
        let person = &lead.person;
        let consent = &lead.consent;
        let utm = &lead.attribution;
        let text = |t: &Option<turnout_domain::Text>| t.as_ref().map(|t| t.as_str().to_owned());
        let fields = json!({
            "webinar": lead.webinar.as_str(),
            "email_normalised": person.email.normalised(),
            "email": person.email.as_str(),
            "name": person.name.as_str(),
            "phone": person.phone.as_e164(),
            "country": person.country.map(|c| c.code().to_owned()),
            "time_zone": lead.time_zone.name(),
            "policy_version": consent.policy_version,
            "policy_sha256": consent.policy_sha256,
            "sms": consent.sms,
            "whatsapp": consent.whatsapp,
            "ip": consent.ip,
            "user_agent": consent.user_agent,
            "utm_source": text(&utm.utm_source),
            "utm_medium": text(&utm.utm_medium),
            "utm_campaign": text(&utm.utm_campaign),
            "utm_term": text(&utm.utm_term),
            "utm_content": text(&utm.utm_content),
            "referrer": text(&utm.referrer),
            "page": text(&utm.page),
        });
        if let (Some(request), Value::Object(fields)) = (request.as_object_mut(), fields) {
            request.extend(fields);
            let event = OutboxEvent::lead_created(key.id, lead);
            request.insert("lead_event_id".into(), json!(event.event_id));
            request.insert("lead_event".into(), json!(event.payload));
        }
    }
    request
}
