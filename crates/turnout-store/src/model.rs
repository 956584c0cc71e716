//! What the store takes and gives back.

use jiff::Timestamp;
use jiff::civil::Date;
use turnout_domain::article::{ArticleStatus, Contributor, FaqEntry, RenderedBody};
use turnout_domain::consultation::{WeeklyRange, WindowDefinition};
use turnout_domain::{
    ConsultationStatus, Email, Host, NewLead, RegistrationStatus, SlotStatus, Slug, Text, TimeZone, TokenHash,
    WebinarStatus,
};
use uuid::Uuid;

use crate::LeadKey;

#[derive(Debug, Clone)]
pub struct NewWebinar {
    pub slug: Slug,
    pub title: Text,
    pub summary: Text,
    pub time_zone: TimeZone,
    pub duration_minutes: i64,
    pub hosts: Vec<Host>,
    pub highlights: Vec<String>,
    pub status: WebinarStatus,
}

/// A partial update; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebinarChanges {
    pub title: Option<Text>,
    pub summary: Option<Text>,
    pub time_zone: Option<TimeZone>,
    pub duration_minutes: Option<i64>,
    pub hosts: Option<Vec<Host>>,
    pub highlights: Option<Vec<String>>,
    pub status: Option<WebinarStatus>,
}

#[derive(Debug, Clone)]
pub struct Webinar {
    pub id: i64,
    pub slug: Slug,
    pub title: String,
    pub summary: String,
    pub time_zone: TimeZone,
    pub duration_minutes: i64,
    pub hosts: Vec<Host>,
    pub highlights: Vec<String>,
    pub status: WebinarStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A published webinar as the listing shows it.
#[derive(Debug, Clone)]
pub struct WebinarListing {
    pub webinar: Webinar,
    pub registrations: i64,
    pub next_slot: Option<Slot>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewSlot {
    pub starts_at: Timestamp,
    pub capacity: i64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SlotChanges {
    pub capacity: Option<i64>,
    pub status: Option<SlotStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub id: i64,
    pub webinar_id: i64,
    pub starts_at: Timestamp,
    pub capacity: i64,
    pub seats_taken: i64,
    pub status: SlotStatus,
}

impl Slot {
    pub fn seats_left(&self) -> i64 {
        turnout_domain::seats_left(self.capacity, self.seats_taken)
    }

    /// Open and with a seat to spare: what the widget offers.
    pub fn is_bookable(&self) -> bool {
        self.status == SlotStatus::Open && self.seats_left() > 0
    }
}

#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub id: Uuid,
    pub slot_id: i64,
    pub lead: RegistrationLead,
    pub manage_token: TokenHash,
    pub now: Timestamp,
}

/// Who a registration is for: a lead recorded in step 1, or one recorded
/// with the registration itself.
#[derive(Debug, Clone)]
pub enum RegistrationLead {
    Known(LeadKey),
    /// Recorded in the same transaction; it stays recorded when the slot
    /// turns out to be full or closed, so the visitor is not lost.
    New {
        lead: Box<NewLead>,
        key: LeadKey,
    },
}

#[derive(Debug, Clone)]
pub enum RegistrationOutcome {
    Created(Registration),
    /// The person already held a seat in this webinar; nothing changed.
    Existing(Registration),
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub id: Uuid,
    pub status: RegistrationStatus,
    /// The visitor's zone, for their labels.
    pub time_zone: TimeZone,
    /// Bumped on every change, for calendar invites.
    pub sequence: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub person_name: String,
    pub person_email: Email,
    pub webinar: WebinarRef,
    pub slot: Slot,
}

/// What a registration needs to know of its webinar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebinarRef {
    pub id: i64,
    pub slug: Slug,
    pub title: String,
    pub duration_minutes: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiTokenRole {
    /// Everything under `/api/v1/admin`.
    Admin,
    /// Articles only.
    Editor,
    /// One advisor's own queue under `/api/v1/advisor`.
    Advisor,
}

impl ApiTokenRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiTokenRole::Admin => "admin",
            ApiTokenRole::Editor => "editor",
            ApiTokenRole::Advisor => "advisor",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "admin" => Some(ApiTokenRole::Admin),
            "editor" => Some(ApiTokenRole::Editor),
            "advisor" => Some(ApiTokenRole::Advisor),
            _ => None,
        }
    }
}

/// A credential to store; only the hash of its secret is kept.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub hash: TokenHash,
    pub role: ApiTokenRole,
    /// Required for, and only for, an advisor's token.
    pub advisor_id: Option<i64>,
    pub label: String,
    /// None: until revoked.
    pub expires_at: Option<Timestamp>,
}

impl NewApiToken {
    /// The longest life a credential may be given, in days.
    pub const MAX_DAYS: i64 = 3_650;
    /// How long a credential lives unless told otherwise.
    pub const DEFAULT_DAYS: i64 = 90;

    /// A new secret and the record of it, living `days` from `now` (0 for
    /// until revoked). The secret is shown once; only its hash is kept.
    pub fn issue(
        role: ApiTokenRole,
        advisor_id: Option<i64>,
        label: &str,
        days: i64,
        now: Timestamp,
    ) -> (Self, turnout_domain::SecretToken) {
        let secret = turnout_domain::SecretToken::generate();
        let expires_at = (days > 0)
            .then(|| {
                now.checked_add(jiff::SignedDuration::from_hours(24 * days.min(Self::MAX_DAYS)))
                    .ok()
            })
            .flatten();
        let token = Self {
            hash: secret.hash(),
            role,
            advisor_id,
            label: label.to_owned(),
            expires_at,
        };
        (token, secret)
    }
}

/// A stored credential, as admins list it: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub role: ApiTokenRole,
    pub advisor_id: Option<i64>,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// Recorded at most once a minute.
    pub last_used_at: Option<Timestamp>,
}

impl ApiToken {
    /// How stale `last_used_at` may grow before a use writes it again.
    pub const TOUCH_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

    /// Whether a use at `now` should record itself.
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        self.last_used_at
            .is_none_or(|used| now.duration_since(used) >= Self::TOUCH_EVERY)
    }
}

/// An advisor as an admin creates them.
#[derive(Debug, Clone)]
pub struct NewAdvisor {
    pub name: Text,
    pub email: Email,
    pub time_zone: TimeZone,
    pub availability: Vec<WeeklyRange>,
    pub max_calls_per_window: i64,
}

#[derive(Debug, Clone)]
pub struct Advisor {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub time_zone: TimeZone,
    pub availability: Vec<WeeklyRange>,
    pub max_calls_per_window: i64,
    /// When the advisor was last given a call; ties between equally loaded
    /// advisors go to the one waiting longest.
    pub last_assigned_at: Option<Timestamp>,
}

/// The callback windows on offer and how many days ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSettings {
    pub days_ahead: i64,
    pub windows: Vec<WindowDefinition>,
}

/// Calls an advisor has in the window starting at `window_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLoad {
    pub advisor_id: i64,
    pub window_start: Timestamp,
    pub taken: i64,
}

/// Step 3: a callback in the window `key` on the visitor's local `date`.
#[derive(Debug, Clone)]
pub struct NewConsultation {
    pub id: Uuid,
    pub lead: LeadKey,
    pub window_key: String,
    pub date: Date,
    pub now: Timestamp,
}

#[derive(Debug, Clone)]
pub enum ConsultationOutcome {
    Created(Consultation),
    /// The lead already asked for a callback; nothing changed.
    Existing(Consultation),
}

#[derive(Debug, Clone)]
pub struct Consultation {
    pub id: Uuid,
    pub lead_id: Uuid,
    pub advisor_id: i64,
    pub advisor_name: String,
    pub window_key: String,
    /// The visitor's local date of the window.
    pub window_date: Date,
    /// "Mornings, 8–10 AM"
    pub window_label: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub time_zone: TimeZone,
    pub status: ConsultationStatus,
    pub created_at: Timestamp,
}

/// A résumé whose file is already in the object store under `object_key`.
#[derive(Debug, Clone)]
pub struct NewResume {
    pub consultation_id: Uuid,
    pub object_key: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub content_type: String,
    pub display_name: String,
    pub uploaded_at: Timestamp,
}

/// Which consultations to list.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// One advisor's only; every advisor's when `None` (admins).
    pub advisor_id: Option<i64>,
    pub status: Option<ConsultationStatus>,
    /// Window starts in `[from, to)`.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// One consultation in an advisor's queue.
#[derive(Debug, Clone)]
pub struct QueueItem {
    pub consultation: Consultation,
    pub visitor_name: String,
    pub visitor_email: String,
    pub visitor_phone: String,
    pub resume: Option<ResumeSummary>,
    /// The latest notes recorded, if any.
    pub notes: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ResumeSummary {
    pub display_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub review_status: String,
}

/// A status change, with notes, by an advisor on their own consultation.
#[derive(Debug, Clone)]
pub struct ConsultationUpdate {
    pub consultation_id: Uuid,
    pub advisor_id: i64,
    pub status: Option<ConsultationStatus>,
    pub notes: Option<String>,
    pub now: Timestamp,
}

/// Where a résumé's file is and how to hand it out.
#[derive(Debug, Clone)]
pub struct ResumeFile {
    pub object_key: String,
    pub content_type: String,
    pub display_name: String,
}

/// An admin moving a consultation to another advisor.
#[derive(Debug, Clone)]
pub struct Reassignment {
    pub consultation_id: Uuid,
    pub advisor_id: i64,
    pub now: Timestamp,
}

/// A review comment, or a status change, on a résumé by its advisor.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub consultation_id: Uuid,
    pub advisor_id: i64,
    pub comment: Option<String>,
    /// `in_review` or `reviewed`; `None` keeps the status.
    pub status: Option<String>,
    pub now: Timestamp,
}

/// A résumé's review status and the comments on it, oldest first.
#[derive(Debug, Clone)]
pub struct ResumeReviews {
    pub review_status: String,
    pub comments: Vec<ReviewComment>,
}

#[derive(Debug, Clone)]
pub struct ReviewComment {
    pub advisor_id: i64,
    pub advisor_name: String,
    pub comment: String,
    pub created_at: Timestamp,
}

/// Which outbox events to list.
#[derive(Debug, Clone)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub limit: i64,
}

/// An event in the outbox, as the change that caused it wrote it.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// Row id: the order events were written in.
    pub id: i64,
    pub event_id: Uuid,
    pub event_type: String,
    /// JSON.
    pub payload: String,
    pub created_at: Timestamp,
    /// When a worker turned it into deliveries.
    pub routed_at: Option<Timestamp>,
}

/// How a delivery travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
    WhatsApp,
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Email, Channel::Sms, Channel::WhatsApp, Channel::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::WhatsApp => "whatsapp",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.as_str() == text)
            .ok_or_else(|| format!("unknown channel {text:?}"))
    }
}

/// The states of a delivery in the ledger.
pub const DELIVERY_STATUSES: [&str; 6] = ["pending", "sending", "sent", "failed", "dead", "skipped"];

/// Which message a delivery is. Stored as its name (`as_name`), which the
/// ledger shows; senders parse it back and match every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    Confirmation,
    Rescheduled,
    Cancellation,
    ManageLink,
    /// The visitor's note about their callback.
    Consultation,
    /// The advisor's note about a callback assigned to them.
    Assignment,
    /// A reminder this long before the slot starts: `reminder-24h`, `reminder-90m`.
    Reminder(jiff::SignedDuration),
    /// After the slot, to an attendee: thanks, and the replay.
    ThankYou,
    /// After the slot, to a no-show: the replay, and another time.
    MissedYou,
    /// To someone on a waiting list: their place, and how to leave it.
    WaitlistJoined,
    /// To the first in line: a seat is held for them, with the claim link.
    WaitlistOffer,
    Webhook,
}

impl DeliveryKind {
    pub fn as_name(self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        match self {
            DeliveryKind::Confirmation => Cow::Borrowed("confirmation"),
            DeliveryKind::Rescheduled => Cow::Borrowed("rescheduled"),
            DeliveryKind::Cancellation => Cow::Borrowed("cancellation"),
            DeliveryKind::ManageLink => Cow::Borrowed("manage-link"),
            DeliveryKind::Consultation => Cow::Borrowed("consultation"),
            DeliveryKind::Assignment => Cow::Borrowed("assignment"),
            DeliveryKind::ThankYou => Cow::Borrowed("thank-you"),
            DeliveryKind::MissedYou => Cow::Borrowed("missed-you"),
            DeliveryKind::WaitlistJoined => Cow::Borrowed("waitlist-joined"),
            DeliveryKind::WaitlistOffer => Cow::Borrowed("waitlist-offer"),
            DeliveryKind::Webhook => Cow::Borrowed("webhook"),
            DeliveryKind::Reminder(offset) => {
                let minutes = offset.as_mins();
                Cow::Owned(match minutes % 60 {
                    0 => format!("reminder-{}h", minutes / 60),
                    _ => format!("reminder-{minutes}m"),
                })
            }
        }
    }

    /// The kind a stored name stands for; `None` for one this build does
    /// not know.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "confirmation" => DeliveryKind::Confirmation,
            "rescheduled" => DeliveryKind::Rescheduled,
            "cancellation" => DeliveryKind::Cancellation,
            "manage-link" => DeliveryKind::ManageLink,
            "consultation" => DeliveryKind::Consultation,
            "assignment" => DeliveryKind::Assignment,
            "thank-you" => DeliveryKind::ThankYou,
            "missed-you" => DeliveryKind::MissedYou,
            "waitlist-joined" => DeliveryKind::WaitlistJoined,
            "waitlist-offer" => DeliveryKind::WaitlistOffer,
            "webhook" => DeliveryKind::Webhook,
            other => {
                let amount = other.strip_prefix("reminder-")?;
                let (number, unit) = amount.split_at(amount.len().checked_sub(1)?);
                let number: i64 = number.parse().ok()?;
                DeliveryKind::Reminder(match unit {
                    "h" => jiff::SignedDuration::from_hours(number),
                    "m" => jiff::SignedDuration::from_mins(number),
                    _ => return None,
                })
            }
        })
    }

    /// How long before the slot a reminder is due; `None` for other kinds.
    pub fn reminder_offset(self) -> Option<jiff::SignedDuration> {
        match self {
            DeliveryKind::Reminder(offset) => Some(offset),
            _ => None,
        }
    }
}

/// One message to send because of an event.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub message_id: Uuid,
    pub channel: Channel,
    /// Which message: `confirmation`, `reminder-24h`, `webhook`…
    pub kind: String,
    /// `visitor`, `advisor`, or for a webhook the endpoint's id.
    pub recipient: String,
    pub endpoint_id: Option<Uuid>,
    /// Not before this instant (reminders are due before their slot).
    pub due_at: Timestamp,
}

/// Turns an event into its deliveries. Pure: it runs inside the store's
/// transaction, given the webhook endpoints of the moment.
pub trait Router: Send + Sync + 'static {
    fn route(&self, event: &EventRecord, endpoints: &[WebhookEndpoint]) -> Vec<NewDelivery>;
}

/// A delivery claimed by a worker until `lease_until`.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: i64,
    pub message_id: Uuid,
    pub channel: Channel,
    pub kind: String,
    pub recipient: String,
    /// This attempt's number since the delivery was made or last retried by
    /// an admin, from 1: what backoff and the last attempt count.
    pub attempt: i64,
    /// How many times it was ever claimed: fences the outcome, so a worker
    /// whose lease ran out cannot overwrite its successor's.
    pub claim: i64,
    pub event: EventRecord,
    pub endpoint: Option<WebhookEndpoint>,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Sent,
    /// Tried again at `retry_at`, or declared dead when `None`.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
    /// Not to be sent (a reminder for a slot that moved, say).
    Skipped {
        reason: String,
    },
    /// Not to be sent yet (a follow-up waiting for its replay): pending
    /// again until `until`, the claim not counted as an attempt.
    Deferred {
        until: Timestamp,
        reason: String,
    },
}

/// What an outcome writes to the ledger, recorded at `now`.
#[derive(Debug, Clone, Copy)]
pub struct OutcomeColumns<'a> {
    pub status: &'static str,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<&'a str>,
    pub sent_at: Option<Timestamp>,
    /// 1 when the claim is given back uncounted (a deferral), else 0.
    pub attempts_returned: i64,
}

impl DeliveryOutcome {
    pub fn columns(&self, now: Timestamp) -> OutcomeColumns<'_> {
        let (status, next_attempt_at, last_error, sent_at) = match self {
            DeliveryOutcome::Sent => ("sent", now, None, Some(now)),
            DeliveryOutcome::Failed {
                error,
                retry_at: Some(at),
            } => ("failed", *at, Some(error.as_str()), None),
            DeliveryOutcome::Failed { error, retry_at: None } => ("dead", now, Some(error.as_str()), None),
            DeliveryOutcome::Skipped { reason } => ("skipped", now, Some(reason.as_str()), None),
            DeliveryOutcome::Deferred { until, reason } => ("pending", *until, Some(reason.as_str()), None),
        };
        OutcomeColumns {
            status,
            next_attempt_at,
            last_error,
            sent_at,
            attempts_returned: i64::from(matches!(self, DeliveryOutcome::Deferred { .. })),
        }
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<String>,
    pub channel: Option<Channel>,
    pub event_type: Option<String>,
    pub endpoint_id: Option<Uuid>,
    pub limit: i64,
}

/// A delivery in the ledger and where it stands.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub message_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub channel: Channel,
    pub kind: String,
    pub recipient: String,
    pub endpoint_id: Option<Uuid>,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

/// Deliveries whose time has come and that are not sent yet, for the
/// metrics: how many, and since when the longest-waiting one has been due.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryBacklog {
    pub due: i64,
    pub oldest_due_at: Option<Timestamp>,
    /// Events no worker has routed yet (all of them, if no worker runs).
    pub unrouted: i64,
    pub oldest_unrouted_at: Option<Timestamp>,
}

/// A CRM's endpoint for webhooks. Its signing secret never prints.
#[derive(Clone)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Event types it receives; empty means all.
    pub event_types: Vec<String>,
    /// `whsec_` and base64 of the signing key.
    pub secret: String,
    pub enabled: bool,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("secret", &"[redacted]")
            .field("enabled", &self.enabled)
            .field("consecutive_failures", &self.consecutive_failures)
            .finish_non_exhaustive()
    }
}

impl WebhookEndpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        crate::events::EVENT_TYPES.contains(&event_type)
            && (self.event_types.is_empty() || self.event_types.iter().any(|wanted| wanted == event_type))
    }
}

/// Changes to an endpoint; `enabled: Some(true)` also clears its failures.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// How to reach a person, and what they agreed to be reached by.
#[derive(Debug, Clone)]
pub struct Contact {
    pub name: String,
    pub email: String,
    /// E.164.
    pub phone: String,
    pub email_consent: bool,
    pub sms_consent: bool,
    /// Also covers an SMS when the number is not on WhatsApp.
    pub whatsapp_consent: bool,
}

impl Contact {
    /// Whether an SMS may carry a message about a registration: agreed to
    /// SMS, or to WhatsApp, whose consent covers SMS when WhatsApp cannot
    /// reach the number.
    pub fn may_text(&self) -> bool {
        self.sms_consent || self.whatsapp_consent
    }
}

/// Where a registration stands now, for messages about it: a reminder
/// checks it is still for this sequence and slot before it goes out.
#[derive(Debug, Clone)]
pub struct RegistrationContact {
    pub status: RegistrationStatus,
    pub sequence: i64,
    pub starts_at: Timestamp,
    pub person: Contact,
}

/// The two people a consultation's messages go to, and who and when it is
/// now (a message about an earlier assignment is stale).
#[derive(Debug, Clone)]
pub struct ConsultationContact {
    pub advisor_id: i64,
    pub starts_at: Timestamp,
    pub visitor: Contact,
    pub advisor_name: String,
    pub advisor_email: String,
    pub advisor_time_zone: TimeZone,
}

/// An article as an editor writes it.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub slug: Slug,
    pub title: Text,
    pub summary: Text,
    pub body_markdown: String,
    pub body: RenderedBody,
    pub contributors: Vec<Contributor>,
    pub tags: Vec<Slug>,
    pub faq: Vec<FaqEntry>,
    /// The webinar its call to action promotes.
    pub webinar: Option<Slug>,
    pub status: ArticleStatus,
}

/// A partial update; `webinar: Some(None)` removes the call to action.
#[derive(Debug, Clone, Default)]
pub struct ArticleChanges {
    pub title: Option<Text>,
    pub summary: Option<Text>,
    pub body: Option<(String, RenderedBody)>,
    pub contributors: Option<Vec<Contributor>>,
    pub tags: Option<Vec<Slug>>,
    pub faq: Option<Vec<FaqEntry>>,
    pub webinar: Option<Option<Slug>>,
    pub status: Option<ArticleStatus>,
}

#[derive(Debug, Clone)]
pub struct Article {
    pub id: i64,
    pub slug: Slug,
    pub title: String,
    pub summary: String,
    pub body_markdown: String,
    pub body_html: String,
    pub word_count: i64,
    pub reading_minutes: i64,
    pub contributors: Vec<Contributor>,
    pub faq: Vec<FaqEntry>,
    pub tags: Vec<String>,
    /// Slug and title of the promoted webinar.
    pub webinar: Option<(Slug, String)>,
    pub status: ArticleStatus,
    pub published_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Where a page of published articles starts: after this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArticleCursor {
    pub published_at: Timestamp,
    pub id: i64,
}

#[derive(Debug, Clone)]
pub struct ArticleFilter {
    pub tag: Option<String>,
    pub after: Option<ArticleCursor>,
    pub limit: i64,
}

/// Where a webinar (or one of its slots) is held and where its recording
/// is. Never on a public endpoint: registrants reach the join address only
/// through their own join link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingLinks {
    pub join_url: Option<String>,
    pub replay_url: Option<String>,
}

/// A change to [`MeetingLinks`]: `None` keeps an address, `Some(None)`
/// removes it.
#[derive(Debug, Clone, Default)]
pub struct LinkChanges {
    pub join_url: Option<Option<String>>,
    pub replay_url: Option<Option<String>>,
}

impl LinkChanges {
    pub fn is_empty(&self) -> bool {
        self.join_url.is_none() && self.replay_url.is_none()
    }
}

/// What opening a join link needs: the registration as it is now (a
/// reschedule moved it, a cancel ended it) and the addresses in force for
/// its slot (the slot's own, else its webinar's).
#[derive(Debug, Clone)]
pub struct JoinTarget {
    pub registration: Registration,
    pub links: MeetingLinks,
}

/// Which registrations an admin lists or exports; each field set narrows.
#[derive(Debug, Clone, Default)]
pub struct RegistrantFilter {
    pub webinar: Option<Slug>,
    pub slot_id: Option<i64>,
    pub status: Option<RegistrationStatus>,
    /// Whether the registrant opened their join link inside the window.
    pub joined: Option<bool>,
    pub created_from: Option<Timestamp>,
    pub created_before: Option<Timestamp>,
    pub utm_source: Option<String>,
    /// Where a page starts: after this registration, in id order (ids are
    /// UUIDv7, so that is the order they were made in).
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// One registration as an admin's list and export show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrant {
    pub registration_id: Uuid,
    pub status: RegistrationStatus,
    pub webinar_slug: Slug,
    pub webinar_title: String,
    pub slot_id: i64,
    pub starts_at: Timestamp,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub country: Option<String>,
    pub time_zone: String,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub created_at: Timestamp,
    pub cancelled_at: Option<Timestamp>,
    /// Openings of the join link inside the window.
    pub joins: i64,
    pub first_joined_at: Option<Timestamp>,
    pub last_joined_at: Option<Timestamp>,
}

/// Who settled a registration's attendance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttendanceSource {
    /// Judged after the slot from the registrant's join-link openings.
    JoinLink,
    /// Marked by an admin.
    Admin,
    /// Read from a meeting platform's participants report.
    Report,
}

impl AttendanceSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AttendanceSource::JoinLink => "join_link",
            AttendanceSource::Admin => "admin",
            AttendanceSource::Report => "report",
        }
    }
}

/// Someone an attendance marking names: a registration, or the address a
/// registration of the slot was made with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attendee {
    Registration(Uuid),
    /// Normalised (`Email::normalised`).
    Email(String),
}

/// Attendance for one slot, as an admin or a report gives it.
#[derive(Debug, Clone)]
pub struct AttendanceMarking {
    pub slot_id: i64,
    pub attended: Vec<Attendee>,
    pub no_show: Vec<Attendee>,
    pub source: AttendanceSource,
}

/// What a marking changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttendanceMarked {
    /// Registrations whose status changed, each with its new one.
    pub changed: Vec<(Uuid, RegistrationStatus)>,
    /// Matched, and already so.
    pub unchanged: Vec<Uuid>,
    /// Named, but matching no registration of the slot that is not
    /// cancelled.
    pub unmatched: Vec<Attendee>,
}

/// One slot's registrations by status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotAttendance {
    pub slot_id: i64,
    pub starts_at: Timestamp,
    pub confirmed: i64,
    pub attended: i64,
    pub no_show: i64,
    pub cancelled: i64,
}

/// Where a place on a waiting list stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistStatus {
    Waiting,
    /// A freed seat is held for them until the offer lapses.
    Offered,
    /// The offer became a registration.
    Claimed,
    /// The offer lapsed unclaimed; the seat went to the next in line.
    Expired,
    /// They left the list (or declined the offer).
    Left,
}

impl WaitlistStatus {
    pub const ALL: [WaitlistStatus; 5] = [
        WaitlistStatus::Waiting,
        WaitlistStatus::Offered,
        WaitlistStatus::Claimed,
        WaitlistStatus::Expired,
        WaitlistStatus::Left,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistStatus::Waiting => "waiting",
            WaitlistStatus::Offered => "offered",
            WaitlistStatus::Claimed => "claimed",
            WaitlistStatus::Expired => "expired",
            WaitlistStatus::Left => "left",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("not a waiting-list status: {text}"))
    }
}

/// A place on a slot's waiting list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub id: Uuid,
    pub status: WaitlistStatus,
    /// Among those still waiting, 1 for the next; `None` once not waiting.
    pub position: Option<i64>,
    pub offered_at: Option<Timestamp>,
    pub registration_id: Option<Uuid>,
    pub created_at: Timestamp,
    pub slot_id: i64,
    pub starts_at: Timestamp,
    pub webinar: WebinarRef,
    /// As given with the lead.
    pub name: String,
    pub email: String,
    /// E.164, as given with the lead.
    pub phone: String,
    pub sms_consent: bool,
    pub time_zone: String,
}

/// Someone joining a slot's waiting list with their lead.
#[derive(Debug, Clone)]
pub struct NewWaitlistEntry {
    pub id: Uuid,
    pub slot_id: i64,
    pub lead: LeadKey,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitlistJoin {
    Joined(Box<WaitlistEntry>),
    /// The person already waits for this slot (or holds its offer);
    /// nothing changed, and nothing about their place is told.
    AlreadyWaiting,
}

/// A claimed offer becomes this registration.
#[derive(Debug, Clone)]
pub struct WaitlistClaim {
    pub entry_id: Uuid,
    pub registration_id: Uuid,
    pub manage_token: TokenHash,
    /// Offers made before this instant have lapsed.
    pub offered_after: Timestamp,
    pub now: Timestamp,
}
