//! The outbox worker. Each pass routes new events into deliveries, claims
//! the deliveries that are due (with a lease, so a worker that dies mid-send
//! only delays them), sends them, and records each outcome: sent, failed
//! with a retry time (exponential backoff with jitter), or dead after the
//! last attempt. Any number of workers may run against one database.
//!
//! A webhook is delivered at least once: a worker that dies after sending
//! and before recording leaves the delivery to be claimed again when its
//! lease runs out, and it goes out with the same `webhook-id`.

pub mod address;
pub mod backoff;
pub mod email;
mod message;
pub mod router;
pub mod signing;
pub mod sms;
pub mod templates;
pub mod webhook;
pub mod whatsapp;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use turnout_store::{Channel, ClaimedDelivery, DeliveryOutcome, Router, Store, StoreError};

pub use address::AddressPolicy;
pub use backoff::Backoff;
pub use email::{EmailTransport, Mailer};
pub use message::Links;
pub use router::FunnelRouter;
pub use sms::{SmsSender, SmsSettings};
pub use templates::Templates;
pub use webhook::WebhookSender;
pub use whatsapp::{WhatsAppSender, WhatsAppSettings, WhatsAppTemplates};

/// Events routed per store call: enough to amortise the call, few enough
/// that SQLite's one writer is not held from registrations for long.
const ROUTE_BATCH: i64 = 64;

/// Registrations settled per store call, for the same reason.
const SETTLE_BATCH: i64 = 256;

/// How often ended slots are looked at for registrations to settle.
const SETTLE_EVERY: SignedDuration = SignedDuration::from_mins(1);

#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Deliveries claimed per pass.
    pub batch: i64,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long a claim lasts before another worker may take the delivery.
    /// One attempt may take a quarter of it, and a pass claims at most two
    /// rounds of `concurrency`, so a pass records its outcomes well before
    /// its claims run out.
    pub lease: Duration,
    /// Attempts before a delivery is declared dead.
    pub max_attempts: i64,
    pub backoff: Backoff,
    /// Consecutive failures that disable a webhook endpoint.
    pub disable_after: i64,
    /// The longest an idle worker waits before looking again, in case a
    /// wake-up was missed (another process on SQLite, a dropped LISTEN).
    pub poll: Duration,
    /// How long before a slot each reminder goes out.
    pub reminders: Vec<SignedDuration>,
    /// Emails and SMS to one visitor's address or number per day (UTC),
    /// all kinds together; 0 for no cap. Turnout cannot be used to flood a
    /// third party, whatever is asked of the API.
    pub messages_per_recipient_per_day: u32,
    /// How long after a slot ends its unsettled registrations are judged
    /// attended or no-show from their join-link openings, leaving admins
    /// time to mark them from the meeting platform's report first.
    pub attendance_grace: SignedDuration,
    /// How long after attendance is settled a follow-up waits for the
    /// slot's replay to be set before it goes without one.
    pub replay_wait: SignedDuration,
    /// How long a seat offered from a waiting list is held for the person
    /// it is offered to (never past the slot's start).
    pub offer_hold: SignedDuration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            batch: 16,
            concurrency: 8,
            lease: Duration::from_secs(120),
            max_attempts: 10,
            backoff: Backoff {
                base: Duration::from_secs(30),
                cap: Duration::from_secs(4 * 3_600),
            },
            disable_after: 20,
            poll: Duration::from_secs(5),
            reminders: vec![SignedDuration::from_hours(24), SignedDuration::from_hours(1)],
            messages_per_recipient_per_day: 10,
            attendance_grace: SignedDuration::from_mins(30),
            replay_wait: SignedDuration::from_hours(48),
            offer_hold: SignedDuration::from_hours(12),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub routed: usize,
    pub attempted: usize,
}

/// How each channel's messages leave.
pub struct Channels {
    pub webhooks: WebhookSender,
    pub email: Mailer,
    /// Without a provider, no SMS is routed at all.
    pub sms: Option<SmsSender>,
    /// With the Cloud API configured, confirmations and reminders go by
    /// WhatsApp to those who agreed, and by SMS when it cannot reach them.
    pub whatsapp: Option<WhatsAppSender>,
}

/// What the worker's settings decide for every message to a visitor: the
/// daily cap on messages to one recipient (counted in the database so every
/// worker shares it), and which reminder is the last before the start, the
/// one that leads with the join link.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    per_day: u32,
    last_reminder: Option<SignedDuration>,
    /// How long a follow-up waits for its slot's replay.
    pub(crate) replay_wait: SignedDuration,
    /// How long a waiting-list offer lasts.
    pub(crate) offer_hold: SignedDuration,
}

impl Policy {
    /// Whether a reminder sent `offset` before the start is the last one.
    pub(crate) fn is_last_reminder(&self, offset: SignedDuration) -> bool {
        self.last_reminder == Some(offset)
    }

    /// Counts one message to `address` against today's cap, on a
    /// delivery's first claim only (a retry, even one an admin asked for,
    /// is the same message), and skips it once the cap is reached. Only a
    /// hash of the address is kept.
    pub(crate) async fn take(
        &self,
        store: &dyn Store,
        channel: Channel,
        address: &str,
        delivery: &ClaimedDelivery,
        now: Timestamp,
    ) -> Result<(), Attempt> {
        if self.per_day == 0 || delivery.claim > 1 {
            return Ok(());
        }
        let recipient = turnout_domain::token::sha256_hex(format!("{}:{address}", channel.as_str()).as_bytes());
        let day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        match store
            .take_message_allowance(&recipient, day, i64::from(self.per_day))
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(Attempt::Skip(format!(
                "the recipient's daily cap of {} messages is reached",
                self.per_day
            ))),
            Err(error) => Err(Attempt::Fail(error.to_string())),
        }
    }
}

/// What one attempt at a delivery came to, before retries are decided.
#[derive(Debug)]
pub(crate) enum Attempt {
    Sent,
    /// Not to be sent at all (a stale reminder, a deleted endpoint).
    Skip(String),
    /// Not to be sent yet: looked at again at the instant given.
    Defer(Timestamp, String),
    /// Not to be sent on this channel: the same message goes on the one
    /// given instead (a number not on WhatsApp gets an SMS).
    HandOver(Channel, String),
    /// Failed; retried unless it was the last attempt.
    Fail(String),
}

pub struct Worker {
    store: Arc<dyn Store>,
    router: Arc<dyn Router>,
    channels: Channels,
    settings: WorkerSettings,
    policy: Policy,
    /// The last UTC day whose older allowances were pruned.
    pruned: std::sync::Mutex<Option<jiff::civil::Date>>,
    /// When ended slots were last settled.
    settled: std::sync::Mutex<Option<Timestamp>>,
}

impl Worker {
    pub fn new(store: Arc<dyn Store>, channels: Channels, settings: WorkerSettings) -> Self {
        let router = FunnelRouter {
            reminders: settings.reminders.clone(),
            sms: channels.sms.is_some(),
            whatsapp: channels.whatsapp.is_some(),
        };
        let policy = Policy {
            per_day: settings.messages_per_recipient_per_day,
            last_reminder: settings.reminders.iter().min().copied(),
            replay_wait: settings.replay_wait,
            offer_hold: settings.offer_hold,
        };
        Self {
            store,
            router: Arc::new(router),
            channels,
            settings,
            policy,
            pruned: std::sync::Mutex::new(None),
            settled: std::sync::Mutex::new(None),
        }
    }

    /// One pass at the instant `now`: tests drive the worker with their own
    /// clock through this.
    #[tracing::instrument(name = "outbox_pass", skip_all, fields(%now, routed, attempted))]
    pub async fn run_once(&self, now: Timestamp) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        self.sweep(now).await?;
        loop {
            let routed = self
                .store
                .route_events(Arc::clone(&self.router), ROUTE_BATCH, now)
                .await?;
            pass.routed += routed;
            if routed < ROUTE_BATCH as usize {
                break;
            }
        }
        self.prune_allowances(now).await?;
        let lease_until = later(now, self.settings.lease);
        let claimed = self
            .store
            .claim_deliveries(self.settings.batch, now, lease_until)
            .await?;
        pass.attempted = claimed.len();
        let span = tracing::Span::current();
        span.record("routed", pass.routed);
        span.record("attempted", pass.attempted);
        let attempts: Vec<(ClaimedDelivery, DeliveryOutcome)> = futures::stream::iter(claimed)
            .map(|delivery| async move {
                let outcome = self.attempt(&delivery, now).await;
                (delivery, outcome)
            })
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        if !attempts.is_empty() {
            let recorded = self
                .store
                .finish_deliveries(&attempts, self.settings.disable_after, now)
                .await?;
            for ((delivery, outcome), recorded) in attempts.iter().zip(recorded) {
                record_metrics(delivery, outcome, recorded);
            }
        }
        Ok(pass)
    }

    /// At most once a minute: lapses the waiting-list offers past their
    /// hold (each seat passing to the next in line), and settles the
    /// registrations of slots that ended more than the grace period ago,
    /// attended when they opened their join link inside the window, no-show
    /// otherwise. Their events are routed in the same pass.
    async fn sweep(&self, now: Timestamp) -> Result<(), StoreError> {
        let last = *self.settled.lock().expect("not poisoned");
        if last.is_some_and(|last| last <= now && now.duration_since(last) < SETTLE_EVERY) {
            return Ok(());
        }
        let offered_by = now.checked_sub(self.settings.offer_hold).unwrap_or(now);
        loop {
            let lapsed = self.store.expire_waitlist_offers(offered_by, SETTLE_BATCH, now).await?;
            metrics::counter!("turnout_waitlist_total", "outcome" => "expired").increment(lapsed as u64);
            if lapsed < SETTLE_BATCH as usize {
                break;
            }
        }
        let ended_by = now.checked_sub(self.settings.attendance_grace).unwrap_or(now);
        loop {
            let settled = self.store.settle_attendance(ended_by, SETTLE_BATCH, now).await?;
            metrics::counter!("turnout_attendance_settled_total").increment(settled as u64);
            if settled < SETTLE_BATCH as usize {
                break;
            }
        }
        *self.settled.lock().expect("not poisoned") = Some(now);
        Ok(())
    }

    /// Once a day, forgets the message counts of days before yesterday:
    /// the table holds two days of recipients, however long Turnout runs.
    async fn prune_allowances(&self, now: Timestamp) -> Result<(), StoreError> {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        if *self.pruned.lock().expect("not poisoned") == Some(today) {
            return Ok(());
        }
        let yesterday = today.yesterday().unwrap_or(today);
        self.store.prune_message_allowances(yesterday).await?;
        *self.pruned.lock().expect("not poisoned") = Some(today);
        Ok(())
    }

    async fn attempt(&self, delivery: &ClaimedDelivery, now: Timestamp) -> DeliveryOutcome {
        let limit = self.settings.lease / 4;
        let attempt = tokio::time::timeout(limit, self.send(delivery, now))
            .await
            .unwrap_or_else(|_| Attempt::Fail(format!("gave up after {} s", limit.as_secs())));
        let attempt = match attempt {
            Attempt::HandOver(to, reason) => self.hand_over(delivery, to, reason, now).await,
            attempt => attempt,
        };
        self.outcome(delivery, attempt, now)
    }

    /// Makes the same message on channel `to`, when that channel is
    /// configured; this delivery is then skipped with the reason.
    async fn hand_over(&self, delivery: &ClaimedDelivery, to: Channel, reason: String, now: Timestamp) -> Attempt {
        let configured = match to {
            Channel::Sms => self.channels.sms.is_some(),
            Channel::WhatsApp => self.channels.whatsapp.is_some(),
            Channel::Email | Channel::Webhook => true,
        };
        if !configured {
            return Attempt::Skip(format!("{reason}, and no {} provider is configured", to.as_str()));
        }
        match self
            .store
            .hand_over_delivery(delivery.message_id, delivery.channel, to, None, now)
            .await
        {
            Ok(_) => Attempt::Skip(format!("{reason}: sent by {} instead", to.as_str())),
            Err(error) => Attempt::Fail(error.to_string()),
        }
    }

    async fn send(&self, delivery: &ClaimedDelivery, now: Timestamp) -> Attempt {
        match (delivery.channel, &delivery.endpoint) {
            (Channel::Webhook, Some(endpoint)) => match self.channels.webhooks.send(endpoint, delivery, now).await {
                Ok(()) => Attempt::Sent,
                Err(error) => Attempt::Fail(error),
            },
            (Channel::Webhook, None) => Attempt::Skip("endpoint deleted".into()),
            (Channel::Email, _) => {
                let store = self.store.as_ref();
                self.channels.email.deliver(store, delivery, now, &self.policy).await
            }
            (Channel::Sms, _) => match &self.channels.sms {
                Some(sms) => sms.deliver(self.store.as_ref(), delivery, now, &self.policy).await,
                None => Attempt::Fail("no SMS provider is configured".into()),
            },
            (Channel::WhatsApp, _) => match &self.channels.whatsapp {
                Some(whatsapp) => whatsapp.deliver(self.store.as_ref(), delivery, now, &self.policy).await,
                None => Attempt::Fail("the WhatsApp Cloud API is not configured".into()),
            },
        }
    }

    fn outcome(&self, delivery: &ClaimedDelivery, attempt: Attempt, now: Timestamp) -> DeliveryOutcome {
        match attempt {
            Attempt::Sent => DeliveryOutcome::Sent,
            Attempt::Skip(reason) => DeliveryOutcome::Skipped { reason },
            Attempt::Defer(until, reason) => DeliveryOutcome::Deferred { until, reason },
            // Resolved in `attempt`; kept whole should one slip through.
            Attempt::HandOver(_, reason) => DeliveryOutcome::Skipped { reason },
            Attempt::Fail(error) => {
                let retry_at = (delivery.attempt < self.settings.max_attempts)
                    .then(|| later(now, self.settings.backoff.delay(delivery.attempt)));
                tracing::warn!(
                    message_id = %delivery.message_id,
                    channel = delivery.channel.as_str(),
                    attempt = delivery.attempt,
                    %error,
                    dead = retry_at.is_none(),
                    "delivery failed"
                );
                DeliveryOutcome::Failed { error, retry_at }
            }
        }
    }

    /// Works until `shutdown` resolves, finishing the pass in progress.
    /// While busy it passes back to back; while idle it sleeps until the
    /// next delivery is due, a new event is written, or the poll interval
    /// passes, whichever comes first.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let now = Timestamp::now();
            let wait = match self.run_once(now).await {
                Ok(pass) if pass != Pass::default() => Duration::ZERO,
                Ok(_) => self.idle_wait(now).await,
                Err(error) => {
                    tracing::warn!(%error, "outbox worker pass failed; trying again shortly");
                    self.settings.poll
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.store.wait_for_events(wait) => {}
            }
        }
        tracing::info!("outbox worker stopped");
    }

    async fn idle_wait(&self, now: Timestamp) -> Duration {
        match self.store.next_delivery_due().await {
            Ok(Some(due)) => {
                let until = now.duration_until(due).max(SignedDuration::ZERO);
                Duration::try_from(until).unwrap_or_default().min(self.settings.poll)
            }
            _ => self.settings.poll,
        }
    }
}

/// `at` plus `delay`, saturating at the end of time.
fn later(at: Timestamp, delay: Duration) -> Timestamp {
    SignedDuration::try_from(delay)
        .ok()
        .and_then(|delay| at.checked_add(delay).ok())
        .unwrap_or(Timestamp::MAX)
}

fn record_metrics(delivery: &ClaimedDelivery, outcome: &DeliveryOutcome, recorded: bool) {
    let result = match outcome {
        _ if !recorded => "superseded",
        DeliveryOutcome::Sent => "sent",
        DeliveryOutcome::Failed { retry_at: Some(_), .. } => "failed",
        DeliveryOutcome::Failed { retry_at: None, .. } => "dead",
        DeliveryOutcome::Skipped { .. } => "skipped",
        DeliveryOutcome::Deferred { .. } => "deferred",
    };
    metrics::counter!(
        "turnout_deliveries_total",
        "channel" => delivery.channel.as_str(),
        "outcome" => result,
    )
    .increment(1);
}
