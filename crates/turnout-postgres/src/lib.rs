//! Turnout on PostgreSQL, for running many stateless instances. Each store
//! call is one transaction on a small pool: on two cores, more connections
//! than cores mostly add contention.

mod articles;
mod attendance;
mod batch;
mod outbox;
mod registrants;
mod waitlist;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;

use async_trait::async_trait;
use jiff::SignedDuration;
use jiff::Timestamp;
use jiff_sqlx::ToSqlx;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow, PgSslMode};
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::Notify;
use turnout_domain::ConsultationStatus;
use turnout_domain::consultation::{WeeklyRange, WindowDefinition, covers, parse_weekday, weekday_name};
use turnout_domain::{Email, NewLead, RegistrationStatus, SlotStatus, Slug, Text, TokenHash, WebinarStatus};
use turnout_store::assignment::{assignment_order, offered_window};
use turnout_store::columns::{json_column, parsed_column, to_json_column, zone_column};
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::sqlx_support::{EmbeddedMigration, is_unique_violation, migrator};
use turnout_store::{
    Advisor, AdvisorError, Consultation, ConsultationError, ConsultationOutcome, ConsultationUpdate, NewAdvisor,
    NewConsultation, NewResume, NewReview, QueueFilter, QueueItem, ReassignError, Reassignment, ResumeFile,
    ResumeReviews, ResumeSummary, ReviewComment, WindowLoad, WindowSettings,
};
use turnout_store::{
    ApiToken, ApiTokenRole, Backend, LeadError, LeadKey, ManageKey, NewApiToken, NewRegistration, NewSlot, NewWebinar,
    Registration, RegistrationError, RegistrationOutcome, Slot, SlotChanges, SlotError, Store, StoreError, Webinar,
    WebinarChanges, WebinarError, WebinarListing, WebinarRef, sql,
};
use turnout_store::{Article, ArticleChanges, ArticleError, ArticleFilter, NewArticle};
use turnout_store::{AttendanceError, AttendanceMarked, AttendanceMarking, SlotAttendance};
use turnout_store::{
    ClaimedDelivery, ConsultationContact, Delivery, DeliveryBacklog, DeliveryFilter, DeliveryOutcome, EventFilter,
    EventRecord, RegistrationContact, Router, WebhookChanges, WebhookEndpoint,
};
use turnout_store::{Constraint, UniqueKey};
use turnout_store::{JoinTarget, LinkChanges, MeetingLinks};
use turnout_store::{NewWaitlistEntry, WaitlistClaim, WaitlistEntry, WaitlistError, WaitlistJoin};
use turnout_store::{Registrant, RegistrantFilter};
use uuid::Uuid;

use batch::Batcher;

/// The migrations compiled into the binary: version, description, file.
macro_rules! migrations {
    ($(($version:literal, $description:literal, $file:literal)),+ $(,)?) => {
        &[$(EmbeddedMigration {
            version: $version,
            description: $description,
            sql: include_str!(concat!("../migrations/", $file)),
        }),+]
    };
}

const MIGRATIONS: &[EmbeddedMigration] = migrations![
    (1, "foundation", "0001_foundation.sql"),
    (2, "register function", "0002_register_function.sql"),
    (3, "register batch", "0003_register_batch.sql"),
    (4, "consultations", "0004_consultations.sql"),
    (5, "resumes", "0005_resumes.sql"),
    (6, "consultation events", "0006_consultation_events.sql"),
    (7, "resume reviews", "0007_resume_reviews.sql"),
    (8, "outbox", "0008_outbox.sql"),
    (9, "deliveries", "0009_deliveries.sql"),
    (10, "articles", "0010_articles.sql"),
    (11, "lead contacts", "0011_lead_contacts.sql"),
    (12, "recipient allowances", "0012_recipient_allowances.sql"),
    (13, "tokens", "0013_tokens.sql"),
    (14, "register set", "0014_register_set.sql"),
    (15, "meeting links", "0015_meeting_links.sql"),
    (16, "attendance", "0016_attendance.sql"),
    (17, "waitlist", "0017_waitlist.sql"),
    (18, "whatsapp", "0018_whatsapp.sql"),
    (19, "consultation cancellation", "0019_consultation_cancellation.sql"),
];

/// Connections per instance; see PERFORMANCE.md for why it is small.
const POOL_SIZE: u32 = 8;

pub struct PostgresStore {
    pool: PgPool,
    registrations: Batcher,
    options: PgConnectOptions,
    /// Woken by the outbox trigger's notifications, once someone waits.
    events: Arc<Notify>,
    listening: Once,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and applies pending migrations
    /// when `migrate` is set.
    pub async fn open(url: &str, migrate: bool) -> Result<Self, StoreError> {
        let options = connect_options(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        if migrate {
            migrator(MIGRATIONS).run(&pool).await.map_err(StoreError::other)?;
        }
        Ok(Self {
            registrations: Batcher::spawn(pool.clone()),
            pool,
            options,
            events: Arc::new(Notify::new()),
            listening: Once::new(),
        })
    }
}

/// Options from the URL. With no `sslmode` given, a server on this machine
/// is reached without TLS: encryption over loopback protects nothing, and
/// sqlx does not set TCP_NODELAY, so TLS records of a large batch statement
/// meet Nagle's algorithm and delayed ACKs (registrations measured 950/s
/// with TLS against 6,000/s without on loopback). Remote servers keep
/// sqlx's default (`prefer`); `sslmode=require` works everywhere.
fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(StoreError::other)?;
    let host = options.get_host();
    let local = host.starts_with('/') || host == "localhost" || host == "::1" || host.starts_with("127.");
    if local && !url.contains("sslmode=") {
        return Ok(options.ssl_mode(PgSslMode::Disable));
    }
    Ok(options)
}

/// Writes an event to the outbox, in the caller's transaction.
pub(crate) async fn record(
    connection: &mut PgConnection,
    event: &OutboxEvent,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_OUTBOX)
        .bind(event.event_id)
        .bind(event.event_type.as_str())
        .bind(&event.payload)
        .bind(ts(now))
        .execute(connection)
        .await?;
    Ok(())
}

pub(crate) fn ts(instant: Timestamp) -> jiff_sqlx::Timestamp {
    instant.to_sqlx()
}

fn instant(row: &PgRow, at: usize) -> Result<Timestamp, StoreError> {
    Ok(row.try_get::<jiff_sqlx::Timestamp, _>(at)?.to_jiff())
}

fn optional_instant(row: &PgRow, at: usize) -> Result<Option<Timestamp>, StoreError> {
    Ok(row
        .try_get::<Option<jiff_sqlx::Timestamp>, _>(at)?
        .map(jiff_sqlx::Timestamp::to_jiff))
}

fn api_token_from_row(row: &PgRow) -> Result<ApiToken, StoreError> {
    let role: String = row.try_get(1)?;
    Ok(ApiToken {
        id: row.try_get(0)?,
        role: ApiTokenRole::parse(&role).ok_or_else(|| StoreError::other(format!("unknown role {role:?}")))?,
        advisor_id: row.try_get(2)?,
        label: row.try_get(3)?,
        created_at: instant(row, 4)?,
        expires_at: optional_instant(row, 5)?,
        revoked_at: optional_instant(row, 6)?,
        last_used_at: optional_instant(row, 7)?,
    })
}

fn webinar_from_row(row: &PgRow) -> Result<Webinar, StoreError> {
    Ok(Webinar {
        id: row.try_get(0)?,
        slug: parsed_column(Slug::parse(row.try_get(1)?))?,
        title: row.try_get(2)?,
        summary: row.try_get(3)?,
        time_zone: zone_column(row.try_get(4)?)?,
        duration_minutes: row.try_get(5)?,
        hosts: json_column(row.try_get(6)?)?,
        highlights: json_column(row.try_get(7)?)?,
        status: parsed_column(WebinarStatus::parse(row.try_get(8)?))?,
        created_at: instant(row, 9)?,
        updated_at: instant(row, 10)?,
    })
}

/// A slot whose six columns start at `at`.
fn slot_from_row(row: &PgRow, at: usize) -> Result<Slot, StoreError> {
    Ok(Slot {
        id: row.try_get(at)?,
        webinar_id: row.try_get(at + 1)?,
        starts_at: instant(row, at + 2)?,
        capacity: row.try_get(at + 3)?,
        seats_taken: row.try_get(at + 4)?,
        status: parsed_column(SlotStatus::parse(row.try_get(at + 5)?))?,
    })
}

/// A registration whose eighteen columns start at `at`.
pub(crate) fn registration_from_row(row: &PgRow, at: usize) -> Result<Registration, StoreError> {
    Ok(Registration {
        id: row.try_get(at)?,
        status: parsed_column(RegistrationStatus::parse(row.try_get(at + 1)?))?,
        time_zone: zone_column(row.try_get(at + 2)?)?,
        sequence: row.try_get(at + 3)?,
        created_at: instant(row, at + 4)?,
        updated_at: instant(row, at + 5)?,
        person_name: row.try_get(at + 6)?,
        person_email: parsed_column(Email::parse(row.try_get(at + 7)?))?,
        webinar: WebinarRef {
            id: row.try_get(at + 8)?,
            slug: parsed_column(Slug::parse(row.try_get(at + 9)?))?,
            title: row.try_get(at + 10)?,
            duration_minutes: row.try_get(at + 11)?,
        },
        slot: slot_from_row(row, at + 12)?,
    })
}

async fn find_slot(connection: &mut PgConnection, slot_id: i64) -> Result<Option<Slot>, StoreError> {
    let row = sqlx::query(sql::FIND_SLOT)
        .bind(slot_id)
        .fetch_optional(connection)
        .await?;
    row.map(|row| slot_from_row(&row, 0)).transpose()
}

async fn set_links(
    pool: &PgPool,
    statement: &'static str,
    id: i64,
    changes: &LinkChanges,
    now: Timestamp,
) -> Result<MeetingLinks, StoreError> {
    let row = sqlx::query(statement)
        .bind(id)
        .bind(changes.join_url.is_some())
        .bind(changes.join_url.clone().flatten())
        .bind(changes.replay_url.is_some())
        .bind(changes.replay_url.clone().flatten())
        .bind(ts(now))
        .fetch_one(pool)
        .await?;
    links_from_row(&row, 0)
}

fn links_from_row(row: &PgRow, first: usize) -> Result<MeetingLinks, StoreError> {
    Ok(MeetingLinks {
        join_url: row.try_get(first)?,
        replay_url: row.try_get(first + 1)?,
    })
}

async fn registration_by_id(connection: &mut PgConnection, id: Uuid) -> Result<Registration, StoreError> {
    let row = sqlx::query(sql::FIND_REGISTRATION_BY_ID)
        .bind(id)
        .fetch_one(connection)
        .await?;
    registration_from_row(&row, 0)
}

async fn registration_by_key(
    connection: &mut PgConnection,
    key: &ManageKey,
) -> Result<Option<Registration>, StoreError> {
    let row = sqlx::query(sql::FIND_REGISTRATION)
        .bind(key.id)
        .bind(key.token.as_str())
        .fetch_optional(connection)
        .await?;
    row.map(|row| registration_from_row(&row, 0)).transpose()
}

/// Takes a seat in `slot` and returns the slot as it now is, or says why no
/// seat could be taken. The reason is read after the failed statement, so it
/// reflects the writes that beat us.
async fn take_seat(connection: &mut PgConnection, slot: &Slot, now: Timestamp) -> Result<Slot, RegistrationError> {
    let taken = sqlx::query(sql::TAKE_SEAT)
        .bind(slot.id)
        .bind(ts(now))
        .bind(ts(now))
        .fetch_optional(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    if let Some(row) = taken {
        return Ok(slot_from_row(&row, 0)?);
    }
    match find_slot(connection, slot.id).await? {
        Some(slot) if slot.status == SlotStatus::Open && slot.starts_at > now && slot.seats_left() == 0 => {
            Err(RegistrationError::SlotFull)
        }
        // Closed, started, gone, or its webinar no longer published.
        _ => Err(RegistrationError::SlotClosed),
    }
}

/// Records the person (deduplicated by normalised email), their consent and
/// the lead; returns the person's id.
async fn insert_lead(
    connection: &mut PgConnection,
    lead: &NewLead,
    key: &LeadKey,
    webinar_id: i64,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let person = &lead.person;
    let person_id: i64 = sqlx::query_scalar(sql::UPSERT_PERSON)
        .bind(person.email.normalised())
        .bind(person.email.as_str())
        .bind(person.name.as_str())
        .bind(person.phone.as_e164())
        .bind(person.country.map(|c| c.code().to_owned()))
        .bind(ts(now))
        .fetch_one(&mut *connection)
        .await?;
    let consent = &lead.consent;
    let consent_id: i64 = sqlx::query_scalar(sql::INSERT_CONSENT)
        .bind(person_id)
        .bind(&consent.policy_version)
        .bind(&consent.policy_sha256)
        .bind(true)
        .bind(consent.sms)
        .bind(&consent.ip)
        .bind(&consent.user_agent)
        .bind(ts(now))
        .bind(consent.whatsapp)
        .fetch_one(&mut *connection)
        .await?;
    let utm = &lead.attribution;
    let text = |t: &Option<Text>| t.as_ref().map(|t| t.as_str().to_owned());
    sqlx::query(sql::INSERT_LEAD)
        .bind(key.id)
        .bind(person_id)
        .bind(webinar_id)
        .bind(consent_id)
        .bind(key.token.as_str())
        .bind(lead.time_zone.name())
        .bind(text(&utm.utm_source))
        .bind(text(&utm.utm_medium))
        .bind(text(&utm.utm_campaign))
        .bind(text(&utm.utm_term))
        .bind(text(&utm.utm_content))
        .bind(text(&utm.referrer))
        .bind(text(&utm.page))
        .bind(ts(now))
        .bind(person.name.as_str())
        .bind(person.email.as_str())
        .bind(person.phone.as_e164())
        .bind(person.country.map(|c| c.code().to_owned()))
        .execute(&mut *connection)
        .await?;
    Ok(person_id)
}

fn local_time(text: &str) -> Result<jiff::civil::Time, StoreError> {
    text.parse().map_err(StoreError::other)
}

/// Every advisor with their weekly ranges.
async fn advisors(connection: &mut PgConnection) -> Result<Vec<Advisor>, StoreError> {
    let rows = sqlx::query(sql::LIST_ADVISORS).fetch_all(&mut *connection).await?;
    let mut advisors = rows
        .iter()
        .map(|row| {
            Ok(Advisor {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                email: row.try_get(2)?,
                time_zone: zone_column(row.try_get(3)?)?,
                max_calls_per_window: row.try_get(4)?,
                last_assigned_at: row
                    .try_get::<Option<jiff_sqlx::Timestamp>, _>(5)?
                    .map(jiff_sqlx::Timestamp::to_jiff),
                availability: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ranges = sqlx::query(sql::LIST_AVAILABILITY).fetch_all(&mut *connection).await?;
    for row in &ranges {
        let advisor_id: i64 = row.try_get(0)?;
        let range = WeeklyRange {
            weekday: parsed_column(parse_weekday(row.try_get(1)?))?,
            starts: local_time(row.try_get(2)?)?,
            ends: local_time(row.try_get(3)?)?,
        };
        if let Some(advisor) = advisors.iter_mut().find(|a| a.id == advisor_id) {
            advisor.availability.push(range);
        }
    }
    Ok(advisors)
}

async fn window_settings(connection: &mut PgConnection) -> Result<WindowSettings, StoreError> {
    let rows = sqlx::query(sql::LIST_WINDOWS).fetch_all(&mut *connection).await?;
    let windows = rows
        .iter()
        .map(|row| {
            Ok(WindowDefinition {
                key: row.try_get(0)?,
                name: row.try_get(1)?,
                starts: local_time(row.try_get(2)?)?,
                ends: local_time(row.try_get(3)?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let days_ahead: Option<String> = sqlx::query_scalar(sql::DAYS_AHEAD)
        .fetch_optional(&mut *connection)
        .await?;
    let days_ahead = days_ahead.map_or(Ok(7), |text| text.parse().map_err(StoreError::other))?;
    Ok(WindowSettings { days_ahead, windows })
}

async fn window_loads(
    connection: &mut PgConnection,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<WindowLoad>, StoreError> {
    let rows = sqlx::query(sql::WINDOW_LOADS)
        .bind(ts(from))
        .bind(ts(to))
        .fetch_all(connection)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(WindowLoad {
                advisor_id: row.try_get(0)?,
                window_start: instant(row, 1)?,
                taken: row.try_get(2)?,
            })
        })
        .collect()
}

fn consultation_from_row(row: &PgRow) -> Result<Consultation, StoreError> {
    Ok(Consultation {
        id: row.try_get(0)?,
        lead_id: row.try_get(1)?,
        advisor_id: row.try_get(2)?,
        advisor_name: row.try_get(3)?,
        window_key: row.try_get(4)?,
        window_date: row.try_get::<&str, _>(5)?.parse().map_err(StoreError::other)?,
        window_label: row.try_get(6)?,
        starts_at: instant(row, 7)?,
        ends_at: instant(row, 8)?,
        time_zone: zone_column(row.try_get(9)?)?,
        status: parsed_column(ConsultationStatus::parse(row.try_get(10)?))?,
        created_at: instant(row, 11)?,
    })
}

fn queue_item(row: &PgRow) -> Result<QueueItem, StoreError> {
    let resume = match row.try_get::<Option<String>, _>(15)? {
        Some(display_name) => Some(ResumeSummary {
            display_name,
            content_type: row.try_get(16)?,
            size_bytes: row.try_get(17)?,
            review_status: row.try_get(18)?,
        }),
        None => None,
    };
    Ok(QueueItem {
        consultation: consultation_from_row(row)?,
        visitor_name: row.try_get(12)?,
        visitor_email: row.try_get(13)?,
        visitor_phone: row.try_get(14)?,
        resume,
        notes: row.try_get(19)?,
    })
}

/// A résumé's reviews, if it belongs to one of the advisor's consultations.
async fn reviews(
    connection: &mut PgConnection,
    consultation_id: Uuid,
    advisor_id: i64,
) -> Result<Option<ResumeReviews>, StoreError> {
    let status: Option<String> = sqlx::query_scalar(sql::OWN_RESUME_STATUS)
        .bind(consultation_id)
        .bind(advisor_id)
        .fetch_optional(&mut *connection)
        .await?;
    let Some(review_status) = status else {
        return Ok(None);
    };
    let rows = sqlx::query(sql::LIST_REVIEWS)
        .bind(consultation_id)
        .fetch_all(&mut *connection)
        .await?;
    let comments = rows
        .iter()
        .map(|row| {
            Ok(ReviewComment {
                advisor_id: row.try_get(0)?,
                advisor_name: row.try_get(1)?,
                comment: row.try_get(2)?,
                created_at: instant(row, 3)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(ResumeReviews {
        review_status,
        comments,
    }))
}

/// Serialises, across every instance, the transactions that give out calls
/// in windows starting at `starts_at`. Trying advisors one after another
/// locks several load rows, in an order each transaction decides from its
/// own reading of the loads; two such transactions could otherwise deadlock
/// (PostgreSQL reported it under 100 concurrent requests). SQLite needs no
/// such lock: it has one writer.
async fn lock_window(connection: &mut PgConnection, starts_at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(starts_at.as_microsecond())
        .execute(connection)
        .await?;
    Ok(())
}

async fn find_consultation(connection: &mut PgConnection, id: Uuid) -> Result<Option<Consultation>, StoreError> {
    let row = sqlx::query(sql::FIND_CONSULTATION)
        .bind(id)
        .fetch_optional(connection)
        .await?;
    row.map(|row| consultation_from_row(&row)).transpose()
}

/// Moves a consultation to another advisor, inside the caller's transaction.
async fn reassign(connection: &mut PgConnection, change: &Reassignment) -> Result<Consultation, ReassignError> {
    let current = find_consultation(connection, change.consultation_id)
        .await?
        .ok_or(ReassignError::NotFound)?;
    if current.advisor_id == change.advisor_id {
        return Ok(current);
    }
    let advisors = advisors(connection).await?;
    let target = advisors
        .iter()
        .find(|advisor| advisor.id == change.advisor_id)
        .ok_or(ReassignError::AdvisorNotFound)?;
    if !covers(
        &target.availability,
        &target.time_zone,
        current.starts_at,
        current.ends_at,
    ) {
        return Err(ReassignError::NotCovering);
    }
    lock_window(connection, current.starts_at).await?;
    let taken: Option<i64> = sqlx::query_scalar(sql::TAKE_CALL)
        .bind(target.id)
        .bind(ts(current.starts_at))
        .bind(target.max_calls_per_window)
        .fetch_optional(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    taken.ok_or(ReassignError::AdvisorFull)?;
    let moved = sqlx::query(sql::MOVE_CONSULTATION)
        .bind(change.consultation_id)
        .bind(current.advisor_id)
        .bind(target.id)
        .bind(ts(change.now))
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    if moved.rows_affected() != 1 {
        return Err(StoreError::Conflict {
            constraint: Constraint::ChangedConcurrently("consultation"),
        }
        .into());
    }
    let released = sqlx::query(sql::RELEASE_CALL)
        .bind(current.advisor_id)
        .bind(ts(current.starts_at))
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    if released.rows_affected() == 0 {
        sqlx::query(sql::DROP_LAST_CALL)
            .bind(current.advisor_id)
            .bind(ts(current.starts_at))
            .execute(&mut *connection)
            .await
            .map_err(StoreError::from)?;
    }
    sqlx::query(sql::INSERT_CONSULTATION_EVENT)
        .bind(change.consultation_id)
        .bind("admin")
        .bind(current.status.as_str())
        .bind(format!(
            "Reassigned from advisor {} to advisor {}",
            current.advisor_id, target.id
        ))
        .bind(ts(change.now))
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    let moved = find_consultation(connection, change.consultation_id)
        .await?
        .ok_or(ReassignError::NotFound)?;
    record(
        connection,
        &OutboxEvent::consultation(EventType::ConsultationAssigned, &moved),
        change.now,
    )
    .await?;
    Ok(moved)
}

/// Step 3 in one transaction: the lead's existing consultation, or a new
/// one with the first advisor in assignment order who still has room.
async fn consult(
    connection: &mut PgConnection,
    new: &NewConsultation,
) -> Result<ConsultationOutcome, ConsultationError> {
    let lead = sqlx::query(sql::FIND_LEAD)
        .bind(new.lead.id)
        .bind(new.lead.token.as_str())
        .fetch_optional(&mut *connection)
        .await
        .map_err(StoreError::from)?
        .ok_or(ConsultationError::LeadNotFound)?;
    let person_id: i64 = lead.try_get(0).map_err(StoreError::from)?;
    let time_zone = zone_column(lead.try_get(2).map_err(StoreError::from)?)?;
    let existing = sqlx::query(sql::CONSULTATION_OF_LEAD)
        .bind(new.lead.id)
        .fetch_optional(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    if let Some(row) = existing {
        return Ok(ConsultationOutcome::Existing(consultation_from_row(&row)?));
    }
    let settings = window_settings(connection).await?;
    let window = offered_window(&settings, &new.window_key, new.date, &time_zone, new.now)?;
    lock_window(connection, window.starts_at).await?;
    let advisors = advisors(connection).await?;
    let until = window.starts_at + SignedDuration::from_micros(1);
    let loads = window_loads(connection, window.starts_at, until).await?;
    let mut assigned = None;
    for advisor in assignment_order(&advisors, &loads, &window) {
        let taken: Option<i64> = sqlx::query_scalar(sql::TAKE_CALL)
            .bind(advisor.id)
            .bind(ts(window.starts_at))
            .bind(advisor.max_calls_per_window)
            .fetch_optional(&mut *connection)
            .await
            .map_err(StoreError::from)?;
        if taken.is_some() {
            assigned = Some(advisor);
            break;
        }
    }
    let advisor = assigned.ok_or(ConsultationError::WindowFull)?;
    let label = window.definition.label();
    sqlx::query(sql::INSERT_CONSULTATION)
        .bind(new.id)
        .bind(new.lead.id)
        .bind(person_id)
        .bind(advisor.id)
        .bind(&window.definition.key)
        .bind(new.date.to_string())
        .bind(&label)
        .bind(ts(window.starts_at))
        .bind(ts(window.ends_at))
        .bind(time_zone.name())
        .bind(ts(new.now))
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    sqlx::query(sql::TOUCH_ADVISOR)
        .bind(advisor.id)
        .bind(ts(new.now))
        .execute(&mut *connection)
        .await
        .map_err(StoreError::from)?;
    let consultation = Consultation {
        id: new.id,
        lead_id: new.lead.id,
        advisor_id: advisor.id,
        advisor_name: advisor.name.clone(),
        window_key: window.definition.key,
        window_date: new.date,
        window_label: label,
        starts_at: window.starts_at,
        ends_at: window.ends_at,
        time_zone,
        status: ConsultationStatus::Assigned,
        created_at: new.now,
    };
    for event_type in [EventType::ConsultationRequested, EventType::ConsultationAssigned] {
        record(
            connection,
            &OutboxEvent::consultation(event_type, &consultation),
            new.now,
        )
        .await?;
    }
    Ok(ConsultationOutcome::Created(consultation))
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(sql::PING).execute(&self.pool).await?;
        Ok(())
    }

    async fn create_webinar(&self, webinar: &NewWebinar, now: Timestamp) -> Result<Webinar, WebinarError> {
        let row = sqlx::query(sql::INSERT_WEBINAR)
            .bind(webinar.slug.as_str())
            .bind(webinar.title.as_str())
            .bind(webinar.summary.as_str())
            .bind(webinar.time_zone.name())
            .bind(webinar.duration_minutes)
            .bind(to_json_column(&webinar.hosts))
            .bind(to_json_column(&webinar.highlights))
            .bind(webinar.status.as_str())
            .bind(ts(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|error| match is_unique_violation(&error) {
                true => WebinarError::SlugTaken,
                false => StoreError::from(error).into(),
            })?;
        Ok(webinar_from_row(&row)?)
    }

    async fn update_webinar(
        &self,
        slug: &Slug,
        changes: &WebinarChanges,
        now: Timestamp,
    ) -> Result<Webinar, WebinarError> {
        let row = sqlx::query(sql::UPDATE_WEBINAR)
            .bind(slug.as_str())
            .bind(changes.title.as_ref().map(|t| t.as_str()))
            .bind(changes.summary.as_ref().map(|t| t.as_str()))
            .bind(changes.time_zone.as_ref().map(|z| z.name()))
            .bind(changes.duration_minutes)
            .bind(changes.hosts.as_ref().map(to_json_column))
            .bind(changes.highlights.as_ref().map(to_json_column))
            .bind(changes.status.map(|s| s.as_str()))
            .bind(ts(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::from)?;
        let row = row.ok_or(WebinarError::NotFound)?;
        Ok(webinar_from_row(&row)?)
    }

    async fn find_webinar(&self, slug: &Slug) -> Result<Option<Webinar>, StoreError> {
        let row = sqlx::query(sql::FIND_WEBINAR)
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| webinar_from_row(&row)).transpose()
    }

    async fn list_webinars(&self) -> Result<Vec<Webinar>, StoreError> {
        let rows = sqlx::query(sql::LIST_WEBINARS).fetch_all(&self.pool).await?;
        rows.iter().map(webinar_from_row).collect()
    }

    async fn list_published_webinars(&self, now: Timestamp) -> Result<Vec<WebinarListing>, StoreError> {
        let rows = sqlx::query(sql::LIST_PUBLISHED_WEBINARS)
            .bind(ts(now))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let slot_at = sql::WEBINAR_COLUMN_COUNT + 1;
                let has_slot = row.try_get::<Option<i64>, _>(slot_at)?.is_some();
                Ok(WebinarListing {
                    webinar: webinar_from_row(row)?,
                    registrations: row.try_get(sql::WEBINAR_COLUMN_COUNT)?,
                    next_slot: has_slot.then(|| slot_from_row(row, slot_at)).transpose()?,
                })
            })
            .collect()
    }

    async fn create_slots(&self, webinar: &Slug, slots: &[NewSlot], now: Timestamp) -> Result<Vec<i64>, SlotError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let webinar_id: i64 = sqlx::query_scalar(sql::WEBINAR_ID)
            .bind(webinar.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .ok_or(SlotError::WebinarNotFound)?;
        let mut ids = Vec::with_capacity(slots.len());
        for slot in slots {
            let id = sqlx::query_scalar(sql::INSERT_SLOT)
                .bind(webinar_id)
                .bind(ts(slot.starts_at))
                .bind(slot.capacity)
                .bind(ts(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(|error| match is_unique_violation(&error) {
                    true => SlotError::Duplicate,
                    false => StoreError::from(error).into(),
                })?;
            ids.push(id);
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(ids)
    }

    async fn list_slots(&self, webinar_id: i64, from: Timestamp) -> Result<Vec<Slot>, StoreError> {
        let rows = sqlx::query(sql::LIST_SLOTS)
            .bind(webinar_id)
            .bind(ts(from))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| slot_from_row(row, 0)).collect()
    }

    async fn find_slot(&self, slot_id: i64) -> Result<Option<Slot>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        find_slot(&mut connection, slot_id).await
    }

    async fn update_slot(&self, slot_id: i64, changes: &SlotChanges, now: Timestamp) -> Result<Slot, SlotError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let row = sqlx::query(sql::UPDATE_SLOT)
            .bind(slot_id)
            .bind(changes.capacity)
            .bind(changes.status.map(|s| s.as_str()))
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        match row {
            Some(row) => {
                let updated = slot_from_row(&row, 0)?;
                // More capacity, or open again: seats for whoever waits.
                waitlist::offer_spare_seats(&mut tx, slot_id, now).await?;
                let slot = find_slot(&mut tx, slot_id).await?.unwrap_or(updated);
                tx.commit().await.map_err(StoreError::from)?;
                Ok(slot)
            }
            None => match find_slot(&mut tx, slot_id).await? {
                None => Err(SlotError::NotFound),
                Some(slot) => Err(SlotError::CapacityBelowSeatsTaken {
                    capacity: changes.capacity.unwrap_or(slot.capacity),
                    seats_taken: slot.seats_taken,
                }),
            },
        }
    }

    async fn create_lead(&self, lead: &NewLead, key: &LeadKey, now: Timestamp) -> Result<(), LeadError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let webinar_id: i64 = sqlx::query_scalar(sql::PUBLISHED_WEBINAR_ID)
            .bind(lead.webinar.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?
            .ok_or(LeadError::WebinarNotFound)?;
        insert_lead(&mut tx, lead, key, webinar_id, now).await?;
        record(&mut tx, &OutboxEvent::lead_created(key.id, lead), now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn create_registration(
        &self,
        registration: &NewRegistration,
    ) -> Result<RegistrationOutcome, RegistrationError> {
        if let Some(outcome) = self.registrations.register(registration.clone()).await? {
            return outcome;
        }
        // Lost a race to the same person's other request, or the batch
        // failed as a whole: once more alone, which finds the winner.
        let alone = batch::register_batch(&self.pool, std::slice::from_ref(registration)).await?;
        match alone.into_iter().next() {
            Some(attempt) => attempt?.unwrap_or_else(|| Err(StoreError::unique(UniqueKey::OneSeatPerPerson).into())),
            None => Err(StoreError::other("turnout_register_set answered nothing").into()),
        }
    }

    async fn find_registration(&self, key: &ManageKey) -> Result<Option<Registration>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        registration_by_key(&mut connection, key).await
    }

    async fn cancel_registration(&self, key: &ManageKey, now: Timestamp) -> Result<Registration, RegistrationError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let released: Option<i64> = sqlx::query_scalar(sql::CANCEL_REGISTRATION)
            .bind(key.id)
            .bind(key.token.as_str())
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        if let Some(slot_id) = released {
            waitlist::free_seat(&mut tx, slot_id, now).await?;
        }
        let registration = registration_by_key(&mut tx, key)
            .await?
            .ok_or(RegistrationError::NotFound)?;
        if released.is_some() {
            let event = OutboxEvent::registration(EventType::RegistrationCancelled, &registration);
            record(&mut tx, &event, now).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(registration)
    }

    async fn reschedule_registration(
        &self,
        key: &ManageKey,
        slot_id: i64,
        now: Timestamp,
    ) -> Result<Registration, RegistrationError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let current = registration_by_key(&mut tx, key)
            .await?
            .ok_or(RegistrationError::NotFound)?;
        if !current.status.may_move() {
            return Err(RegistrationError::NotConfirmed(current.status));
        }
        let target = find_slot(&mut tx, slot_id)
            .await?
            .ok_or(RegistrationError::SlotNotFound)?;
        if target.webinar_id != current.webinar.id {
            return Err(RegistrationError::SlotInOtherWebinar);
        }
        if target.id == current.slot.id {
            return Ok(current);
        }
        take_seat(&mut tx, &target, now).await?;
        let moved = sqlx::query(sql::MOVE_REGISTRATION)
            .bind(key.id)
            .bind(current.slot.id)
            .bind(target.id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        if moved.rows_affected() != 1 {
            // Someone moved or cancelled it since we read it; dropping the
            // transaction gives the target seat back.
            return Err(StoreError::Conflict {
                constraint: Constraint::ChangedConcurrently("registration"),
            }
            .into());
        }
        waitlist::free_seat(&mut tx, current.slot.id, now).await?;
        let moved = registration_by_id(&mut tx, key.id).await?;
        record(
            &mut tx,
            &OutboxEvent::registration(EventType::RegistrationRescheduled, &moved),
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(moved)
    }

    async fn create_advisor(&self, advisor: &NewAdvisor, now: Timestamp) -> Result<Advisor, AdvisorError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let id: i64 = sqlx::query_scalar(sql::INSERT_ADVISOR)
            .bind(advisor.name.as_str())
            .bind(advisor.email.as_str())
            .bind(advisor.time_zone.name())
            .bind(advisor.max_calls_per_window)
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await
            .map_err(|error| match is_unique_violation(&error) {
                true => AdvisorError::EmailTaken,
                false => StoreError::from(error).into(),
            })?;
        for range in &advisor.availability {
            sqlx::query(sql::INSERT_AVAILABILITY)
                .bind(id)
                .bind(weekday_name(range.weekday))
                .bind(range.starts.strftime("%H:%M").to_string())
                .bind(range.ends.strftime("%H:%M").to_string())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Advisor {
            id,
            name: advisor.name.as_str().to_owned(),
            email: advisor.email.as_str().to_owned(),
            time_zone: advisor.time_zone.clone(),
            availability: advisor.availability.clone(),
            max_calls_per_window: advisor.max_calls_per_window,
            last_assigned_at: None,
        })
    }

    async fn list_advisors(&self) -> Result<Vec<Advisor>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        advisors(&mut connection).await
    }

    async fn take_message_allowance(
        &self,
        recipient: &str,
        day: jiff::civil::Date,
        cap: i64,
    ) -> Result<bool, StoreError> {
        let taken: Option<i64> = sqlx::query_scalar(sql::TAKE_MESSAGE_ALLOWANCE)
            .bind(recipient)
            .bind(day.to_string())
            .bind(cap)
            .fetch_optional(&self.pool)
            .await?;
        Ok(taken.is_some())
    }

    async fn prune_message_allowances(&self, before: jiff::civil::Date) -> Result<(), StoreError> {
        sqlx::query(sql::PRUNE_MESSAGE_ALLOWANCES)
            .bind(before.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn window_settings(&self) -> Result<WindowSettings, StoreError> {
        let mut connection = self.pool.acquire().await?;
        window_settings(&mut connection).await
    }

    async fn set_window_settings(&self, settings: &WindowSettings) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql::DELETE_WINDOWS).execute(&mut *tx).await?;
        for (position, window) in (1_i64..).zip(&settings.windows) {
            sqlx::query(sql::INSERT_WINDOW)
                .bind(&window.key)
                .bind(&window.name)
                .bind(window.starts.strftime("%H:%M").to_string())
                .bind(window.ends.strftime("%H:%M").to_string())
                .bind(position)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(sql::SET_DAYS_AHEAD)
            .bind(settings.days_ahead.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn window_loads(&self, from: Timestamp, to: Timestamp) -> Result<Vec<WindowLoad>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        window_loads(&mut connection, from, to).await
    }

    async fn create_consultation(
        &self,
        consultation: &NewConsultation,
    ) -> Result<ConsultationOutcome, ConsultationError> {
        // A lost race on consultations.lead_id means the same lead's other
        // request committed first; the second attempt returns it.
        for _ in 0..2 {
            let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
            match consult(&mut tx, consultation).await {
                Err(ConsultationError::Store(StoreError::Conflict {
                    constraint: Constraint::Unique(UniqueKey::ConsultationLead),
                })) => {
                    continue;
                }
                Err(error) => return Err(error),
                Ok(outcome) => {
                    tx.commit().await.map_err(StoreError::from)?;
                    return Ok(outcome);
                }
            }
        }
        Err(StoreError::unique(UniqueKey::ConsultationLead).into())
    }

    async fn consultation_for_lead(
        &self,
        id: Uuid,
        lead_token: &TokenHash,
    ) -> Result<Option<Consultation>, StoreError> {
        let row = sqlx::query(sql::CONSULTATION_FOR_LEAD)
            .bind(id)
            .bind(lead_token.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| consultation_from_row(&row)).transpose()
    }

    async fn replace_resume(&self, resume: &NewResume) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Serialises uploads for one consultation, so each learns the key it
        // really replaced (SQLite's single writer does this by itself).
        sqlx::query("SELECT id FROM consultations WHERE id = $1 FOR UPDATE")
            .bind(resume.consultation_id)
            .execute(&mut *tx)
            .await?;
        let previous: Option<String> = sqlx::query_scalar(sql::RESUME_KEY)
            .bind(resume.consultation_id)
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(sql::UPSERT_RESUME)
            .bind(resume.consultation_id)
            .bind(&resume.object_key)
            .bind(&resume.sha256)
            .bind(resume.size_bytes)
            .bind(&resume.content_type)
            .bind(&resume.display_name)
            .bind(ts(resume.uploaded_at))
            .execute(&mut *tx)
            .await?;
        record(&mut tx, &OutboxEvent::resume_uploaded(resume), resume.uploaded_at).await?;
        tx.commit().await?;
        Ok(previous)
    }

    async fn consultation_queue(&self, filter: &QueueFilter) -> Result<Vec<QueueItem>, StoreError> {
        let rows = sqlx::query(sql::CONSULTATION_QUEUE)
            .bind(filter.advisor_id)
            .bind(filter.status.map(|s| s.as_str()))
            .bind(filter.from.map(ts))
            .bind(filter.to.map(ts))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(queue_item).collect()
    }

    async fn reassign_consultation(&self, reassignment: &Reassignment) -> Result<Consultation, ReassignError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let moved = reassign(&mut tx, reassignment).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(moved)
    }

    async fn update_consultation(&self, update: &ConsultationUpdate) -> Result<ConsultationStatus, StoreError> {
        let mut tx = self.pool.begin().await?;
        let status: Option<String> = sqlx::query_scalar(sql::UPDATE_CONSULTATION_STATUS)
            .bind(update.consultation_id)
            .bind(update.advisor_id)
            .bind(update.status.map(|s| s.as_str()))
            .bind(ts(update.now))
            .fetch_optional(&mut *tx)
            .await?;
        let status = parsed_column(ConsultationStatus::parse(&status.ok_or(StoreError::NotFound)?))?;
        sqlx::query(sql::INSERT_CONSULTATION_EVENT)
            .bind(update.consultation_id)
            .bind(format!("advisor:{}", update.advisor_id))
            .bind(status.as_str())
            .bind(&update.notes)
            .bind(ts(update.now))
            .execute(&mut *tx)
            .await?;
        let actor = format!("advisor:{}", update.advisor_id);
        let event = OutboxEvent::consultation_updated(update.consultation_id, &actor, status, update.notes.as_deref());
        record(&mut tx, &event, update.now).await?;
        tx.commit().await?;
        Ok(status)
    }

    async fn cancel_consultation(&self, key: &ManageKey, now: Timestamp) -> Result<Option<Uuid>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(row) = sqlx::query(sql::CANCEL_CONSULTATION)
            .bind(key.id)
            .bind(key.token.as_str())
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let id: Uuid = row.try_get(0)?;
        let advisor_id: i64 = row.try_get(1)?;
        let window_start = instant(&row, 2)?;
        let status = parsed_column(ConsultationStatus::parse(&row.try_get::<String, _>(3)?))?;
        let released = sqlx::query(sql::RELEASE_CALL)
            .bind(advisor_id)
            .bind(ts(window_start))
            .execute(&mut *tx)
            .await?;
        if released.rows_affected() == 0 {
            sqlx::query(sql::DROP_LAST_CALL)
                .bind(advisor_id)
                .bind(ts(window_start))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(sql::INSERT_CONSULTATION_EVENT)
            .bind(id)
            .bind("visitor")
            .bind(status.as_str())
            .bind(sql::CANCELLED_BY_VISITOR)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        let event = OutboxEvent::consultation_updated(id, "visitor", status, Some(sql::CANCELLED_BY_VISITOR));
        record(&mut tx, &event, now).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn advisor_resume(&self, advisor_id: i64, consultation_id: Uuid) -> Result<Option<ResumeFile>, StoreError> {
        let row = sqlx::query(sql::ADVISOR_RESUME)
            .bind(consultation_id)
            .bind(advisor_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(ResumeFile {
                object_key: row.try_get(0)?,
                content_type: row.try_get(1)?,
                display_name: row.try_get(2)?,
            })
        })
        .transpose()
    }

    async fn review_resume(&self, review: &NewReview) -> Result<Option<ResumeReviews>, StoreError> {
        let mut tx = self.pool.begin().await?;
        if reviews(&mut tx, review.consultation_id, review.advisor_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        if let Some(status) = &review.status {
            sqlx::query(sql::SET_REVIEW_STATUS)
                .bind(review.consultation_id)
                .bind(status)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(comment) = &review.comment {
            sqlx::query(sql::INSERT_REVIEW)
                .bind(review.consultation_id)
                .bind(review.advisor_id)
                .bind(comment)
                .bind(ts(review.now))
                .execute(&mut *tx)
                .await?;
        }
        let updated = reviews(&mut tx, review.consultation_id, review.advisor_id).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn resume_reviews(
        &self,
        advisor_id: i64,
        consultation_id: Uuid,
    ) -> Result<Option<ResumeReviews>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        reviews(&mut connection, consultation_id, advisor_id).await
    }

    async fn consultation_of_registration(&self, registration_id: Uuid) -> Result<Option<Consultation>, StoreError> {
        let row = sqlx::query(sql::CONSULTATION_OF_REGISTRATION)
            .bind(registration_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| consultation_from_row(&row)).transpose()
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        outbox::list_events(&self.pool, filter.event_type.as_deref(), filter.limit).await
    }

    async fn route_events(&self, router: Arc<dyn Router>, limit: i64, now: Timestamp) -> Result<usize, StoreError> {
        outbox::route_events(&self.pool, &router, limit, now).await
    }

    async fn claim_deliveries(
        &self,
        limit: i64,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        outbox::claim_deliveries(&self.pool, limit, now, lease_until).await
    }

    async fn finish_deliveries(
        &self,
        finished: &[(ClaimedDelivery, DeliveryOutcome)],
        disable_after: i64,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        outbox::finish_deliveries(&self.pool, finished, disable_after, now).await
    }

    async fn next_delivery_due(&self) -> Result<Option<Timestamp>, StoreError> {
        outbox::next_delivery_due(&self.pool).await
    }

    async fn wait_for_events(&self, timeout: Duration) {
        self.listening
            .call_once(|| outbox::listen(self.options.clone(), Arc::clone(&self.events)));
        let _ = tokio::time::timeout(timeout, self.events.notified()).await;
    }

    async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        outbox::list_deliveries(&self.pool, filter).await
    }

    async fn find_delivery(&self, message_id: Uuid) -> Result<Option<Delivery>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        outbox::find_delivery(&mut connection, message_id).await
    }

    async fn retry_delivery(&self, message_id: Uuid, now: Timestamp) -> Result<Delivery, StoreError> {
        outbox::retry_delivery(&self.pool, message_id, now).await
    }

    async fn hand_over_delivery(
        &self,
        message_id: Uuid,
        from: turnout_store::Channel,
        to: turnout_store::Channel,
        undelivered: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        outbox::hand_over_delivery(&self.pool, message_id, from, to, undelivered, now).await
    }

    async fn delivery_backlog(&self, now: Timestamp) -> Result<DeliveryBacklog, StoreError> {
        outbox::delivery_backlog(&self.pool, now).await
    }

    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        outbox::create_webhook(&self.pool, endpoint).await
    }

    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        outbox::list_webhooks(&mut connection).await
    }

    async fn find_webhook(&self, id: Uuid) -> Result<Option<WebhookEndpoint>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        outbox::find_webhook(&mut connection, id).await
    }

    async fn update_webhook(
        &self,
        id: Uuid,
        changes: &WebhookChanges,
        now: Timestamp,
    ) -> Result<WebhookEndpoint, StoreError> {
        outbox::update_webhook(&self.pool, id, changes, now).await
    }

    async fn delete_webhook(&self, id: Uuid, _now: Timestamp) -> Result<(), StoreError> {
        outbox::delete_webhook(&self.pool, id).await
    }

    async fn replay_webhook(&self, id: Uuid, since: Option<Timestamp>, now: Timestamp) -> Result<u64, StoreError> {
        outbox::replay_webhook(&self.pool, id, since, now).await
    }

    async fn registration_contact(&self, id: Uuid) -> Result<Option<RegistrationContact>, StoreError> {
        outbox::registration_contact(&self.pool, id).await
    }

    async fn consultation_contact(&self, id: Uuid) -> Result<Option<ConsultationContact>, StoreError> {
        outbox::consultation_contact(&self.pool, id).await
    }

    async fn ensure_setting(&self, key: &str, value: &str) -> Result<String, StoreError> {
        outbox::ensure_setting(&self.pool, key, value).await
    }

    async fn create_article(&self, article: &NewArticle, now: Timestamp) -> Result<Article, ArticleError> {
        articles::create(&self.pool, article, now).await
    }

    async fn update_article(
        &self,
        slug: &Slug,
        changes: &ArticleChanges,
        now: Timestamp,
    ) -> Result<Article, ArticleError> {
        articles::update(&self.pool, slug, changes, now).await
    }

    async fn find_article(&self, slug: &Slug) -> Result<Option<Article>, StoreError> {
        articles::find(&self.pool, slug).await
    }

    async fn list_published_articles(&self, filter: &ArticleFilter) -> Result<Vec<Article>, StoreError> {
        articles::list_published(&self.pool, filter).await
    }

    async fn list_all_articles(&self) -> Result<Vec<Article>, StoreError> {
        articles::list_all(&self.pool).await
    }

    async fn create_api_token(&self, token: &NewApiToken, now: Timestamp) -> Result<ApiToken, AdvisorError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        if let Some(advisor_id) = token.advisor_id {
            let exists: Option<i64> = sqlx::query_scalar(sql::ADVISOR_ID)
                .bind(advisor_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            exists.ok_or(AdvisorError::NotFound)?;
        }
        let row = sqlx::query(sql::INSERT_API_TOKEN)
            .bind(token.hash.as_str())
            .bind(token.role.as_str())
            .bind(token.advisor_id)
            .bind(&token.label)
            .bind(ts(now))
            .bind(token.expires_at.map(ts))
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        let created = api_token_from_row(&row)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(created)
    }

    async fn find_api_token(&self, hash: &TokenHash, now: Timestamp) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query(sql::FIND_API_TOKEN)
            .bind(hash.as_str())
            .bind(ts(now))
            .fetch_optional(&self.pool)
            .await?;
        let found = row.as_ref().map(api_token_from_row).transpose()?;
        if let Some(token) = found.as_ref().filter(|token| token.needs_touch(now)) {
            sqlx::query(sql::TOUCH_API_TOKEN)
                .bind(token.id)
                .bind(ts(now))
                .execute(&self.pool)
                .await?;
        }
        Ok(found)
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(sql::LIST_API_TOKENS).fetch_all(&self.pool).await?;
        rows.iter().map(api_token_from_row).collect()
    }

    async fn set_webinar_links(
        &self,
        webinar_id: i64,
        changes: &LinkChanges,
        now: Timestamp,
    ) -> Result<MeetingLinks, StoreError> {
        set_links(&self.pool, sql::SET_WEBINAR_LINKS, webinar_id, changes, now).await
    }

    async fn set_slot_links(
        &self,
        slot_id: i64,
        changes: &LinkChanges,
        now: Timestamp,
    ) -> Result<MeetingLinks, StoreError> {
        set_links(&self.pool, sql::SET_SLOT_LINKS, slot_id, changes, now).await
    }

    async fn all_webinar_links(&self) -> Result<HashMap<i64, MeetingLinks>, StoreError> {
        let rows = sqlx::query(sql::ALL_WEBINAR_LINKS).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, links_from_row(row, 1)?)))
            .collect()
    }

    async fn slot_links(&self, webinar_id: i64) -> Result<HashMap<i64, MeetingLinks>, StoreError> {
        let rows = sqlx::query(sql::SLOT_LINKS)
            .bind(webinar_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, links_from_row(row, 1)?)))
            .collect()
    }

    async fn join_target(&self, registration_id: Uuid) -> Result<Option<JoinTarget>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        let Some(row) = sqlx::query(sql::FIND_REGISTRATION_BY_ID)
            .bind(registration_id)
            .fetch_optional(&mut *connection)
            .await?
        else {
            return Ok(None);
        };
        let registration = registration_from_row(&row, 0)?;
        let links = sqlx::query(sql::LINKS_OF_REGISTRATION)
            .bind(registration_id)
            .fetch_one(&mut *connection)
            .await?;
        let links = links_from_row(&links, 0)?;
        Ok(Some(JoinTarget { registration, links }))
    }

    async fn record_join(&self, registration_id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(sql::RECORD_JOIN)
            .bind(registration_id)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_registrants(&self, filter: &RegistrantFilter) -> Result<Vec<Registrant>, StoreError> {
        registrants::list_registrants(&self.pool, filter).await
    }

    async fn count_registrants(&self, filter: &RegistrantFilter) -> Result<i64, StoreError> {
        registrants::count_registrants(&self.pool, filter).await
    }

    async fn mark_attendance(
        &self,
        marking: &AttendanceMarking,
        now: Timestamp,
    ) -> Result<AttendanceMarked, AttendanceError> {
        attendance::mark_attendance(&self.pool, marking, now).await
    }

    async fn settle_attendance(&self, ended_by: Timestamp, limit: i64, now: Timestamp) -> Result<usize, StoreError> {
        attendance::settle_attendance(&self.pool, ended_by, limit, now).await
    }

    async fn attendance_counts(&self, webinar_id: i64) -> Result<Vec<SlotAttendance>, StoreError> {
        attendance::attendance_counts(&self.pool, webinar_id).await
    }

    async fn join_waitlist(&self, entry: &NewWaitlistEntry) -> Result<WaitlistJoin, WaitlistError> {
        waitlist::join(&self.pool, entry).await
    }

    async fn find_waitlist_entry(&self, id: Uuid) -> Result<Option<WaitlistEntry>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        waitlist::find_entry(&mut connection, id).await
    }

    async fn list_waitlist(&self, slot_id: i64) -> Result<Vec<WaitlistEntry>, StoreError> {
        waitlist::list(&self.pool, slot_id).await
    }

    async fn leave_waitlist(&self, id: Uuid, now: Timestamp) -> Result<WaitlistEntry, WaitlistError> {
        waitlist::leave(&self.pool, id, now).await
    }

    async fn claim_waitlist(&self, claim: &WaitlistClaim) -> Result<Registration, WaitlistError> {
        waitlist::claim(&self.pool, claim).await
    }

    async fn expire_waitlist_offers(
        &self,
        offered_by: Timestamp,
        limit: i64,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        waitlist::expire_offers(&self.pool, offered_by, limit, now).await
    }

    async fn revoke_api_token(&self, id: i64, now: Timestamp) -> Result<ApiToken, StoreError> {
        let row = sqlx::query(sql::REVOKE_API_TOKEN)
            .bind(id)
            .bind(ts(now))
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        api_token_from_row(&row)
    }
}
