//! The storage seam. Handlers and the binary talk to [`Store`], a small
//! domain-shaped trait; `turnout-sqlite` and `turnout-postgres` implement it.
//! SQL that both dialects accept lives once, in [`sql`].

pub mod assignment;
pub mod columns;
mod error;
pub mod events;
mod model;
pub mod outcome;
pub mod sql;
pub mod sqlx_support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use turnout_domain::{ConsultationStatus, LinkKey, NewLead, Slug, TokenHash};
use uuid::Uuid;

pub use error::{
    AdvisorError, ArticleError, AttendanceError, Constraint, ConsultationError, LeadError, ReassignError,
    RegistrationError, SlotError, StoreError, UniqueKey, WaitlistError, WebinarError,
};
pub use model::*;

/// Everything Turnout keeps, in the words of the domain.
///
/// Every method is one transaction: when it returns `Ok`, the change is
/// committed. Races (capacity, uniqueness) are decided by the database in a
/// single conditional statement or a constraint, never by reading first.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is, for logs and metrics.
    fn backend(&self) -> Backend;

    /// Answers when the database can serve a query.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn create_webinar(&self, webinar: &NewWebinar, now: Timestamp) -> Result<Webinar, WebinarError>;
    async fn update_webinar(
        &self,
        slug: &Slug,
        changes: &WebinarChanges,
        now: Timestamp,
    ) -> Result<Webinar, WebinarError>;
    /// Any webinar, whatever its status.
    async fn find_webinar(&self, slug: &Slug) -> Result<Option<Webinar>, StoreError>;
    /// Every webinar, drafts and archived ones included, by slug.
    async fn list_webinars(&self) -> Result<Vec<Webinar>, StoreError>;
    /// Published webinars with their confirmed registrations and the next
    /// open slot that starts after `now`.
    async fn list_published_webinars(&self, now: Timestamp) -> Result<Vec<WebinarListing>, StoreError>;

    async fn create_slots(&self, webinar: &Slug, slots: &[NewSlot], now: Timestamp) -> Result<Vec<i64>, SlotError>;
    /// Slots of a webinar that start after `from`, closed ones included, by start.
    async fn list_slots(&self, webinar_id: i64, from: Timestamp) -> Result<Vec<Slot>, StoreError>;
    async fn find_slot(&self, slot_id: i64) -> Result<Option<Slot>, StoreError>;
    /// Changes capacity (never below the seats taken) or status.
    async fn update_slot(&self, slot_id: i64, changes: &SlotChanges, now: Timestamp) -> Result<Slot, SlotError>;

    /// Records step 1 of the funnel: the person (deduplicated by normalised
    /// email), their consent and the lead.
    async fn create_lead(&self, lead: &NewLead, key: &LeadKey, now: Timestamp) -> Result<(), LeadError>;

    /// Takes a seat for the lead's person, or hands back the registration the
    /// person already holds for that webinar. A new lead is recorded in the
    /// same transaction; it stays recorded when the slot is full or closed,
    /// and nothing is recorded when the request names a wrong slot.
    async fn create_registration(
        &self,
        registration: &NewRegistration,
    ) -> Result<RegistrationOutcome, RegistrationError>;
    async fn find_registration(&self, key: &ManageKey) -> Result<Option<Registration>, StoreError>;
    /// Cancels and frees the seat; cancelling twice is not an error.
    async fn cancel_registration(&self, key: &ManageKey, now: Timestamp) -> Result<Registration, RegistrationError>;
    /// Moves the seat to another slot of the same webinar, atomically: the
    /// registration never holds two seats, and keeps its own when the target
    /// is full.
    async fn reschedule_registration(
        &self,
        key: &ManageKey,
        slot_id: i64,
        now: Timestamp,
    ) -> Result<Registration, RegistrationError>;

    async fn create_advisor(&self, advisor: &NewAdvisor, now: Timestamp) -> Result<Advisor, AdvisorError>;
    /// Every advisor with their weekly availability.
    async fn list_advisors(&self) -> Result<Vec<Advisor>, StoreError>;

    async fn window_settings(&self) -> Result<WindowSettings, StoreError>;
    /// Replaces the windows on offer; consultations already made keep theirs.
    async fn set_window_settings(&self, settings: &WindowSettings) -> Result<(), StoreError>;
    /// Calls taken per advisor in windows starting in `[from, to)`.
    async fn window_loads(&self, from: Timestamp, to: Timestamp) -> Result<Vec<WindowLoad>, StoreError>;

    /// Asks for a callback and assigns an advisor in the same transaction:
    /// the least loaded of those whose availability covers the whole window,
    /// ties to the one waiting longest, never beyond an advisor's capacity.
    /// A lead that already asked gets its consultation back.
    async fn create_consultation(
        &self,
        consultation: &NewConsultation,
    ) -> Result<ConsultationOutcome, ConsultationError>;

    /// A consultation, if `lead_token` is the hash of its lead's token.
    async fn consultation_for_lead(&self, id: Uuid, lead_token: &TokenHash)
    -> Result<Option<Consultation>, StoreError>;
    /// Records a résumé for its consultation and returns the object key of
    /// the one it replaced, whose file the caller deletes.
    async fn replace_resume(&self, resume: &NewResume) -> Result<Option<String>, StoreError>;

    /// Consultations, filtered (one advisor's, or all for admins), by window
    /// start.
    async fn consultation_queue(&self, filter: &QueueFilter) -> Result<Vec<QueueItem>, StoreError>;
    /// Moves a consultation to another advisor who covers its window and has
    /// room, giving the first advisor's call back; recorded in its history.
    async fn reassign_consultation(&self, reassignment: &Reassignment) -> Result<Consultation, ReassignError>;
    /// Records a status change and/or notes on the advisor's own
    /// consultation, with an entry in its append-only history. `NotFound`
    /// when the consultation is not theirs.
    async fn update_consultation(&self, update: &ConsultationUpdate) -> Result<ConsultationStatus, StoreError>;
    /// The résumé of one of the advisor's own consultations.
    async fn advisor_resume(&self, advisor_id: i64, consultation_id: Uuid) -> Result<Option<ResumeFile>, StoreError>;

    /// Adds a comment and/or sets the review status of the résumé of one of
    /// the advisor's consultations; `None` when there is no such résumé.
    async fn review_resume(&self, review: &NewReview) -> Result<Option<ResumeReviews>, StoreError>;
    /// The review status and comments of the résumé of one of the advisor's
    /// consultations.
    async fn resume_reviews(&self, advisor_id: i64, consultation_id: Uuid)
    -> Result<Option<ResumeReviews>, StoreError>;

    /// Cancels the call asked for with the lead of the registration `key`
    /// opens: the advisor's room in its window is given back, and its
    /// history and a `consultation.updated` event say the visitor cancelled
    /// it. Answers the consultation's id; `None` when there is no such call
    /// or it was cancelled already.
    async fn cancel_consultation(&self, key: &ManageKey, now: Timestamp) -> Result<Option<Uuid>, StoreError>;

    /// The consultation asked for with the same lead as a registration.
    async fn consultation_of_registration(&self, registration_id: Uuid) -> Result<Option<Consultation>, StoreError>;

    /// Outbox events, oldest first.
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError>;
    /// Turns up to `limit` events not yet routed into their deliveries, in
    /// one transaction; returns how many events it routed. Concurrent
    /// workers never route an event twice (locked rows are skipped, and a
    /// delivery is unique per event, channel, kind and recipient).
    async fn route_events(&self, router: Arc<dyn Router>, limit: i64, now: Timestamp) -> Result<usize, StoreError>;
    /// Claims up to `limit` due deliveries until `lease_until`: pending and
    /// failed ones whose time has come, and ones whose last claim's lease
    /// ran out (a worker died between sending and recording). Deliveries to
    /// disabled endpoints wait.
    async fn claim_deliveries(
        &self,
        limit: i64,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedDelivery>, StoreError>;
    /// Records the outcomes of a pass's attempts, in one transaction, each
    /// unless its delivery was claimed again since (`false` in its place).
    /// A webhook failure counts against its endpoint, which is disabled
    /// after `disable_after` in a row; a success clears the count.
    async fn finish_deliveries(
        &self,
        finished: &[(ClaimedDelivery, DeliveryOutcome)],
        disable_after: i64,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError>;
    /// When the next delivery falls due, if any is waiting.
    async fn next_delivery_due(&self) -> Result<Option<Timestamp>, StoreError>;
    /// Resolves when an event may have been written since the last call,
    /// or after `timeout`.
    async fn wait_for_events(&self, timeout: Duration);
    /// The delivery ledger, oldest first.
    async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError>;
    async fn find_delivery(&self, message_id: Uuid) -> Result<Option<Delivery>, StoreError>;
    /// Makes a failed or dead delivery due now with a fresh count of
    /// attempts; `Conflict` for any other status.
    async fn retry_delivery(&self, message_id: Uuid, now: Timestamp) -> Result<Delivery, StoreError>;
    /// Makes the delivery `message_id` on channel `from` again on channel
    /// `to`, due at `now` (a WhatsApp message for a number not on WhatsApp
    /// goes by SMS). With `undelivered`, the original was accepted by its
    /// provider and reported undelivered since: it is marked skipped with
    /// that reason. Answers whether a delivery was made: not when `to`
    /// already has the message, nor for an unknown id.
    async fn hand_over_delivery(
        &self,
        message_id: Uuid,
        from: Channel,
        to: Channel,
        undelivered: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Deliveries due by `now` and not yet sent.
    async fn delivery_backlog(&self, now: Timestamp) -> Result<DeliveryBacklog, StoreError>;

    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;
    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>, StoreError>;
    async fn find_webhook(&self, id: Uuid) -> Result<Option<WebhookEndpoint>, StoreError>;
    async fn update_webhook(
        &self,
        id: Uuid,
        changes: &WebhookChanges,
        now: Timestamp,
    ) -> Result<WebhookEndpoint, StoreError>;
    /// Deletes an endpoint; its deliveries not yet sent are skipped.
    async fn delete_webhook(&self, id: Uuid, now: Timestamp) -> Result<(), StoreError>;
    /// Makes the endpoint's failed, dead and skipped deliveries (and, with
    /// `since`, every one created since then) due again, keeping their
    /// message ids; returns how many.
    async fn replay_webhook(&self, id: Uuid, since: Option<Timestamp>, now: Timestamp) -> Result<u64, StoreError>;

    /// Counts one message to `recipient` (a hash of channel and address) on
    /// `day`, unless `cap` went out already; `false` when the cap is reached.
    async fn take_message_allowance(
        &self,
        recipient: &str,
        day: jiff::civil::Date,
        cap: i64,
    ) -> Result<bool, StoreError>;
    /// Forgets the counts of days before `before`.
    async fn prune_message_allowances(&self, before: jiff::civil::Date) -> Result<(), StoreError>;

    /// The registration's current state and its person's contact details.
    async fn registration_contact(&self, id: Uuid) -> Result<Option<RegistrationContact>, StoreError>;
    async fn consultation_contact(&self, id: Uuid) -> Result<Option<ConsultationContact>, StoreError>;

    /// The value of an installation-wide setting, storing `value` first if
    /// the setting has none (the first instance to ask decides).
    async fn ensure_setting(&self, key: &str, value: &str) -> Result<String, StoreError>;

    async fn create_article(&self, article: &NewArticle, now: Timestamp) -> Result<Article, ArticleError>;
    async fn update_article(
        &self,
        slug: &Slug,
        changes: &ArticleChanges,
        now: Timestamp,
    ) -> Result<Article, ArticleError>;
    /// Any article, drafts included.
    async fn find_article(&self, slug: &Slug) -> Result<Option<Article>, StoreError>;
    /// Published articles, newest first, a page at a time.
    async fn list_published_articles(&self, filter: &ArticleFilter) -> Result<Vec<Article>, StoreError>;
    /// Every article, drafts included, last changed first.
    async fn list_all_articles(&self) -> Result<Vec<Article>, StoreError>;

    /// Sets or clears a webinar's join and replay addresses.
    async fn set_webinar_links(
        &self,
        webinar_id: i64,
        changes: &LinkChanges,
        now: Timestamp,
    ) -> Result<MeetingLinks, StoreError>;
    /// Sets or clears a slot's own join and replay addresses.
    async fn set_slot_links(
        &self,
        slot_id: i64,
        changes: &LinkChanges,
        now: Timestamp,
    ) -> Result<MeetingLinks, StoreError>;
    /// Every webinar's addresses, by webinar id (those without any absent).
    async fn all_webinar_links(&self) -> Result<HashMap<i64, MeetingLinks>, StoreError>;
    /// The own addresses of a webinar's slots, by slot id.
    async fn slot_links(&self, webinar_id: i64) -> Result<HashMap<i64, MeetingLinks>, StoreError>;
    /// A registration and the addresses in force for its slot.
    async fn join_target(&self, registration_id: Uuid) -> Result<Option<JoinTarget>, StoreError>;
    /// Counts one opening of a registration's join link at `now`.
    async fn record_join(&self, registration_id: Uuid, now: Timestamp) -> Result<(), StoreError>;

    /// A page of the registrations `filter` selects, in id order.
    async fn list_registrants(&self, filter: &RegistrantFilter) -> Result<Vec<Registrant>, StoreError>;

    /// How many registrations `filter` selects, its cursor and limit aside.
    async fn count_registrants(&self, filter: &RegistrantFilter) -> Result<i64, StoreError>;

    /// Sets the attendance a marking gives for its slot, in one
    /// transaction, each change with its `registration.attended` or
    /// `.no_show` event. A cancelled registration is never marked; one
    /// already so is left as it is.
    async fn mark_attendance(
        &self,
        marking: &AttendanceMarking,
        now: Timestamp,
    ) -> Result<AttendanceMarked, AttendanceError>;

    /// Settles up to `limit` confirmed registrations of slots that ended at
    /// or before `ended_by`: attended when they opened their join link in
    /// the window, no-show otherwise, each with its event. Returns how many.
    async fn settle_attendance(&self, ended_by: Timestamp, limit: i64, now: Timestamp) -> Result<usize, StoreError>;

    /// Each slot of a webinar with its registrations by status, by start.
    async fn attendance_counts(&self, webinar_id: i64) -> Result<Vec<SlotAttendance>, StoreError>;

    /// Puts a lead's person on a full slot's waiting list, with its
    /// `waitlist.joined` event. Every seat freed in the slot from then on
    /// (a cancel, a move away, more capacity, a lapsed offer) is offered to
    /// the first in line and stays counted in `seats_taken` while offered.
    async fn join_waitlist(&self, entry: &NewWaitlistEntry) -> Result<WaitlistJoin, WaitlistError>;

    async fn find_waitlist_entry(&self, id: Uuid) -> Result<Option<WaitlistEntry>, StoreError>;

    /// Every place on a slot's waiting list, in order, whatever its status.
    async fn list_waitlist(&self, slot_id: i64) -> Result<Vec<WaitlistEntry>, StoreError>;

    /// Leaves the list, or declines the offer held, which passes the seat on.
    async fn leave_waitlist(&self, id: Uuid, now: Timestamp) -> Result<WaitlistEntry, WaitlistError>;

    /// Turns an offer made after `claim.offered_after`, for a slot that has
    /// not started, into a confirmed registration on the held seat, with
    /// the usual `registration.confirmed` event.
    async fn claim_waitlist(&self, claim: &WaitlistClaim) -> Result<Registration, WaitlistError>;

    /// Lapses up to `limit` offers made at or before `offered_by` or whose
    /// slot has started, each seat passing to the next in line. How many.
    async fn expire_waitlist_offers(
        &self,
        offered_by: Timestamp,
        limit: i64,
        now: Timestamp,
    ) -> Result<usize, StoreError>;

    /// Stores a credential; an advisor's names an advisor who exists
    /// (`NotFound` otherwise).
    async fn create_api_token(&self, token: &NewApiToken, now: Timestamp) -> Result<ApiToken, AdvisorError>;
    /// The credential with this hash, if it is neither revoked nor expired
    /// at `now`; its use is recorded (at most once a minute).
    async fn find_api_token(&self, hash: &TokenHash, now: Timestamp) -> Result<Option<ApiToken>, StoreError>;
    /// Every credential ever made, revoked and expired ones included.
    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError>;
    /// Revokes a credential from `now` on; revoking again keeps the first
    /// time. `NotFound` when there is no such token.
    async fn revoke_api_token(&self, id: i64, now: Timestamp) -> Result<ApiToken, StoreError>;
}

/// The installation's link key (see [`LinkKey`]), made by the first
/// instance that asks and shared through the database by every other.
pub async fn link_key(store: &dyn Store) -> Result<LinkKey, StoreError> {
    let stored = store.ensure_setting("link_key", &LinkKey::generate().encode()).await?;
    LinkKey::decode(&stored).map_err(StoreError::other)
}

/// The two databases Turnout runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A lead's identity and the hash of the secret that proves it.
#[derive(Debug, Clone)]
pub struct LeadKey {
    pub id: Uuid,
    pub token: TokenHash,
}

/// A registration's identity and the hash of its manage token.
#[derive(Debug, Clone)]
pub struct ManageKey {
    pub id: Uuid,
    pub token: TokenHash,
}
