//! Turnout on an embedded SQLite database: the default, with nothing to set
//! up. Reads run on a small pool of read-only connections; every write goes
//! through one writer thread that group-commits (see [`writer`]).

mod articles;
mod attendance;
mod db;
mod outbox;
mod registrants;
mod waitlist;
mod writer;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::SignedDuration;
use jiff::Timestamp;
use rusqlite::hooks::Action;
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};
use tokio::sync::Notify;
use turnout_domain::ConsultationStatus;
use turnout_domain::consultation::{WeeklyRange, WindowDefinition, covers, parse_weekday, weekday_name};
use turnout_domain::{Email, NewLead, RegistrationStatus, SlotStatus, Slug, Text, TimeZone, TokenHash, WebinarStatus};
use turnout_store::Constraint;
use turnout_store::assignment::{assignment_order, offered_window};
use turnout_store::columns::to_json_column;
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::{
    Advisor, AdvisorError, Consultation, ConsultationError, ConsultationOutcome, ConsultationUpdate, NewAdvisor,
    NewConsultation, NewResume, NewReview, QueueFilter, QueueItem, ReassignError, Reassignment, ResumeFile,
    ResumeReviews, ResumeSummary, ReviewComment, WindowLoad, WindowSettings,
};
use turnout_store::{
    ApiToken, ApiTokenRole, Backend, LeadError, LeadKey, ManageKey, NewApiToken, NewRegistration, NewSlot, NewWebinar,
    Registration, RegistrationError, RegistrationLead, RegistrationOutcome, Slot, SlotChanges, SlotError, Store,
    StoreError, Webinar, WebinarChanges, WebinarError, WebinarListing, WebinarRef, sql,
};
use turnout_store::{Article, ArticleChanges, ArticleError, ArticleFilter, NewArticle};
use turnout_store::{AttendanceError, AttendanceMarked, AttendanceMarking, SlotAttendance};
use turnout_store::{
    ClaimedDelivery, ConsultationContact, Delivery, DeliveryBacklog, DeliveryFilter, DeliveryOutcome, EventFilter,
    EventRecord, RegistrationContact, Router, WebhookChanges, WebhookEndpoint,
};
use turnout_store::{JoinTarget, LinkChanges, MeetingLinks};
use turnout_store::{NewWaitlistEntry, WaitlistClaim, WaitlistEntry, WaitlistError, WaitlistJoin};
use turnout_store::{Registrant, RegistrantFilter};
use uuid::Uuid;

use db::{Readers, execute, is_unique_violation, parsed, query_all, query_one, query_optional};
use writer::Writer;

const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_foundation.sql"),
    include_str!("../migrations/0002_consultations.sql"),
    include_str!("../migrations/0003_resumes.sql"),
    include_str!("../migrations/0004_consultation_events.sql"),
    include_str!("../migrations/0005_resume_reviews.sql"),
    include_str!("../migrations/0006_outbox.sql"),
    include_str!("../migrations/0007_deliveries.sql"),
    include_str!("../migrations/0008_articles.sql"),
    include_str!("../migrations/0009_lead_contacts.sql"),
    include_str!("../migrations/0010_recipient_allowances.sql"),
    include_str!("../migrations/0011_tokens.sql"),
    include_str!("../migrations/0012_meeting_links.sql"),
    include_str!("../migrations/0013_attendance.sql"),
    include_str!("../migrations/0014_waitlist.sql"),
    include_str!("../migrations/0015_whatsapp.sql"),
    include_str!("../migrations/0016_consultation_cancellation.sql"),
];

/// How many writes may share one commit. Large enough to amortise the fsync
/// under load, small enough that the first in a batch does not wait long.
const MAX_BATCH: usize = 128;
const READERS: usize = 4;

pub struct SqliteStore {
    readers: Arc<Readers>,
    writer: Writer,
    /// Woken after a commit that wrote to the outbox, for idle workers in
    /// this process (workers in another process poll).
    events: Arc<Notify>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`
    /// (`sqlite://path/to/file.db`), applies pending migrations when
    /// `migrate` is set, and starts the writer.
    pub async fn open(url: &str, migrate: bool) -> Result<Self, StoreError> {
        let path = db::path_of(url)?;
        let opened = path.clone();
        let writer = tokio::task::spawn_blocking(move || {
            let mut connection = db::open_writer(&opened)?;
            if migrate {
                db::migrate(&mut connection, MIGRATIONS)?;
            }
            Ok::<_, StoreError>(connection)
        })
        .await
        .map_err(StoreError::other)??;
        let events = Arc::new(Notify::new());
        let wrote_event = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&wrote_event);
        writer
            .update_hook(Some(move |_: Action, _: &str, table: &str, _: i64| {
                if table == "outbox" {
                    seen.store(true, Ordering::Relaxed);
                }
            }))
            .map_err(db::store_error)?;
        let wake = Arc::clone(&events);
        let after_commit = move || {
            if wrote_event.swap(false, Ordering::Relaxed) {
                wake.notify_one();
            }
        };
        Ok(Self {
            readers: Readers::new(path, READERS),
            writer: Writer::spawn(writer, MAX_BATCH, after_commit).map_err(StoreError::other)?,
            events,
        })
    }
}

/// Writes an event to the outbox, in the caller's transaction.
fn record(connection: &Connection, event: &OutboxEvent, now: Timestamp) -> Result<(), StoreError> {
    let event_id = event.event_id.hyphenated().to_string();
    let params: [&dyn ToSql; 4] = [&event_id, &event.event_type.as_str(), &event.payload, &micros(now)];
    execute(connection, sql::INSERT_OUTBOX, &params)?;
    Ok(())
}

fn micros(instant: Timestamp) -> i64 {
    instant.as_microsecond()
}

fn instant(row: &Row<'_>, index: usize) -> rusqlite::Result<Timestamp> {
    let micros: i64 = row.get(index)?;
    Timestamp::from_microsecond(micros).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Integer, Box::new(error))
    })
}

fn uuid(row: &Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    parsed(row, index, |text| Uuid::parse_str(text).map_err(|e| e.to_string()))
}

fn json<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    parsed(row, index, |text| serde_json::from_str(text).map_err(|e| e.to_string()))
}

fn webinar_from_row(row: &Row<'_>) -> rusqlite::Result<Webinar> {
    Ok(Webinar {
        id: row.get(0)?,
        slug: parsed(row, 1, Slug::parse)?,
        title: row.get(2)?,
        summary: row.get(3)?,
        time_zone: parsed(row, 4, TimeZone::parse)?,
        duration_minutes: row.get(5)?,
        hosts: json(row, 6)?,
        highlights: json(row, 7)?,
        status: parsed(row, 8, WebinarStatus::parse)?,
        created_at: instant(row, 9)?,
        updated_at: instant(row, 10)?,
    })
}

/// A slot whose six columns start at `at`.
fn slot_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<Slot> {
    Ok(Slot {
        id: row.get(at)?,
        webinar_id: row.get(at + 1)?,
        starts_at: instant(row, at + 2)?,
        capacity: row.get(at + 3)?,
        seats_taken: row.get(at + 4)?,
        status: parsed(row, at + 5, SlotStatus::parse)?,
    })
}

fn slot_row(row: &Row<'_>) -> rusqlite::Result<Slot> {
    slot_from_row(row, 0)
}

fn registration_from_row(row: &Row<'_>) -> rusqlite::Result<Registration> {
    Ok(Registration {
        id: uuid(row, 0)?,
        status: parsed(row, 1, RegistrationStatus::parse)?,
        time_zone: parsed(row, 2, TimeZone::parse)?,
        sequence: row.get(3)?,
        created_at: instant(row, 4)?,
        updated_at: instant(row, 5)?,
        person_name: row.get(6)?,
        person_email: parsed(row, 7, Email::parse)?,
        webinar: WebinarRef {
            id: row.get(8)?,
            slug: parsed(row, 9, Slug::parse)?,
            title: row.get(10)?,
            duration_minutes: row.get(11)?,
        },
        slot: slot_from_row(row, 12)?,
    })
}

fn find_slot(connection: &Connection, slot_id: i64) -> Result<Option<Slot>, StoreError> {
    query_optional(connection, sql::FIND_SLOT, &[&slot_id], slot_row)
}

fn set_links(
    connection: &Connection,
    statement: &str,
    id: i64,
    changes: &LinkChanges,
    now: Timestamp,
) -> Result<MeetingLinks, StoreError> {
    let join = changes.join_url.clone().flatten();
    let replay = changes.replay_url.clone().flatten();
    query_one(
        connection,
        statement,
        &[
            &id,
            &changes.join_url.is_some(),
            &join,
            &changes.replay_url.is_some(),
            &replay,
            &micros(now),
        ],
        |row| links_row(row, 0),
    )
}

fn links_row(row: &Row<'_>, first: usize) -> rusqlite::Result<MeetingLinks> {
    Ok(MeetingLinks {
        join_url: row.get(first)?,
        replay_url: row.get(first + 1)?,
    })
}

fn owned_links_row(row: &Row<'_>) -> rusqlite::Result<(i64, MeetingLinks)> {
    Ok((row.get(0)?, links_row(row, 1)?))
}

fn registration_by_id(connection: &Connection, id: Uuid) -> Result<Registration, StoreError> {
    query_one(
        connection,
        sql::FIND_REGISTRATION_BY_ID,
        &[&id.hyphenated().to_string()],
        registration_from_row,
    )
}

fn registration_by_key(connection: &Connection, key: &ManageKey) -> Result<Option<Registration>, StoreError> {
    query_optional(
        connection,
        sql::FIND_REGISTRATION,
        &[&key.id.hyphenated().to_string(), &key.token.as_str()],
        registration_from_row,
    )
}

/// Takes a seat in `slot` and returns the slot as it now is, or says why no
/// seat could be taken. On this single writer nothing can change between
/// the statement and the re-read that explains its failure.
fn take_seat(connection: &Connection, slot: &Slot, now: Timestamp) -> Result<Slot, RegistrationError> {
    let now = micros(now);
    if let Some(slot) = query_optional(connection, sql::TAKE_SEAT, &[&slot.id, &now, &now], slot_row)? {
        return Ok(slot);
    }
    match find_slot(connection, slot.id)? {
        Some(slot) if slot.status == SlotStatus::Open && micros(slot.starts_at) > now && slot.seats_left() == 0 => {
            Err(RegistrationError::SlotFull)
        }
        // Closed, started, gone, or its webinar no longer published.
        _ => Err(RegistrationError::SlotClosed),
    }
}

fn release_seat(connection: &Connection, slot_id: i64, now: Timestamp) -> Result<(), StoreError> {
    execute(connection, sql::RELEASE_SEAT, &[&slot_id, &micros(now)])?;
    Ok(())
}

/// A slot with what a registration needs of its webinar.
struct TargetSlot {
    slot: Slot,
    webinar: WebinarRef,
    published: bool,
}

fn target_slot(connection: &Connection, slot_id: i64) -> Result<Option<TargetSlot>, StoreError> {
    query_optional(connection, sql::FIND_SLOT_FOR_REGISTRATION, &[&slot_id], |row| {
        let slot = slot_from_row(row, 0)?;
        Ok(TargetSlot {
            webinar: WebinarRef {
                id: slot.webinar_id,
                slug: parsed(row, 6, Slug::parse)?,
                title: row.get(7)?,
                duration_minutes: row.get(8)?,
            },
            published: row.get_ref(9)?.as_str()? == WebinarStatus::Published.as_str(),
            slot,
        })
    })
}

/// The person behind a lead, as a registration needs them.
struct LeadPerson {
    person_id: i64,
    webinar_id: i64,
    time_zone: TimeZone,
    name: String,
    email: Email,
}

fn find_lead(connection: &Connection, key: &LeadKey) -> Result<Option<LeadPerson>, StoreError> {
    query_optional(
        connection,
        sql::FIND_LEAD,
        &[&key.id.hyphenated().to_string(), &key.token.as_str()],
        |row| {
            Ok(LeadPerson {
                person_id: row.get(0)?,
                webinar_id: row.get(1)?,
                time_zone: parsed(row, 2, TimeZone::parse)?,
                name: row.get(3)?,
                email: parsed(row, 4, Email::parse)?,
            })
        },
    )
}

fn published_webinar_id(connection: &Connection, slug: &Slug) -> Result<Option<i64>, StoreError> {
    query_optional(connection, sql::PUBLISHED_WEBINAR_ID, &[&slug.as_str()], |row| {
        row.get(0)
    })
}

/// Records the person (deduplicated by normalised email), their consent and
/// the lead; returns the person's id.
fn insert_lead(
    connection: &Connection,
    lead: &NewLead,
    key: &LeadKey,
    webinar_id: i64,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let now = micros(now);
    let person = &lead.person;
    let person_id: i64 = query_one(
        connection,
        sql::UPSERT_PERSON,
        &[
            &person.email.normalised(),
            &person.email.as_str(),
            &person.name.as_str(),
            &person.phone.as_e164(),
            &person.country.map(|c| c.code().to_owned()),
            &now,
        ],
        |row| row.get(0),
    )?;
    let consent = &lead.consent;
    let consent_id: i64 = query_one(
        connection,
        sql::INSERT_CONSENT,
        &[
            &person_id,
            &consent.policy_version,
            &consent.policy_sha256,
            &true,
            &consent.sms,
            &consent.ip,
            &consent.user_agent,
            &now,
            &consent.whatsapp,
        ],
        |row| row.get(0),
    )?;
    let utm = &lead.attribution;
    let text = |t: &Option<Text>| t.as_ref().map(|t| t.as_str().to_owned());
    execute(
        connection,
        sql::INSERT_LEAD,
        &[
            &key.id.hyphenated().to_string(),
            &person_id,
            &webinar_id,
            &consent_id,
            &key.token.as_str(),
            &lead.time_zone.name(),
            &text(&utm.utm_source),
            &text(&utm.utm_medium),
            &text(&utm.utm_campaign),
            &text(&utm.utm_term),
            &text(&utm.utm_content),
            &text(&utm.referrer),
            &text(&utm.page),
            &now,
            &person.name.as_str(),
            &person.email.as_str(),
            &person.phone.as_e164(),
            &person.country.map(|c| c.code().to_owned()),
        ],
    )?;
    Ok(person_id)
}

/// The whole of step 2 on the writer connection. The outer error undoes
/// everything (bad input changes nothing); the inner one keeps a new lead
/// recorded when only the seat could not be had.
fn register(
    connection: &Connection,
    new: &NewRegistration,
) -> Result<Result<RegistrationOutcome, RegistrationError>, RegistrationError> {
    let target = target_slot(connection, new.slot_id)?.ok_or(RegistrationError::SlotNotFound)?;
    let lead = match &new.lead {
        RegistrationLead::Known(key) => find_lead(connection, key)?.ok_or(RegistrationError::LeadNotFound)?,
        RegistrationLead::New { lead, key } => {
            if lead.webinar != target.webinar.slug || !target.published {
                return Err(match published_webinar_id(connection, &lead.webinar)? {
                    None => RegistrationError::WebinarNotFound,
                    Some(_) => RegistrationError::SlotInOtherWebinar,
                });
            }
            let person_id = insert_lead(connection, lead, key, target.webinar.id, new.now)?;
            record(connection, &OutboxEvent::lead_created(key.id, lead), new.now)?;
            LeadPerson {
                person_id,
                webinar_id: target.webinar.id,
                time_zone: lead.time_zone.clone(),
                name: lead.person.name.as_str().to_owned(),
                email: lead.person.email.clone(),
            }
        }
    };
    if target.slot.webinar_id != lead.webinar_id {
        return Err(RegistrationError::SlotInOtherWebinar);
    }
    let existing = query_optional(
        connection,
        sql::CONFIRMED_REGISTRATION_OF_PERSON,
        &[&lead.person_id, &lead.webinar_id],
        |row| uuid(row, 0),
    )?;
    if let Some(id) = existing {
        let existing = registration_by_id(connection, id)?;
        record(
            connection,
            &OutboxEvent::registration(EventType::RegistrationManageLinkRequested, &existing),
            new.now,
        )?;
        return Ok(Ok(RegistrationOutcome::Existing(existing)));
    }
    let slot = match take_seat(connection, &target.slot, new.now) {
        Ok(slot) => slot,
        Err(refused) if refused.keeps_lead() => return Ok(Err(refused)),
        Err(error) => return Err(error),
    };
    let lead_id = match &new.lead {
        RegistrationLead::Known(key) | RegistrationLead::New { key, .. } => key.id,
    };
    execute(
        connection,
        sql::INSERT_REGISTRATION,
        &[
            &new.id.hyphenated().to_string(),
            &lead.person_id,
            &lead.webinar_id,
            &slot.id,
            &lead_id.hyphenated().to_string(),
            &new.manage_token.as_str(),
            &lead.time_zone.name(),
            &micros(new.now),
        ],
    )?;
    let registration = Registration {
        id: new.id,
        status: RegistrationStatus::Confirmed,
        time_zone: lead.time_zone,
        sequence: 0,
        created_at: new.now,
        updated_at: new.now,
        person_name: lead.name,
        person_email: lead.email,
        webinar: target.webinar,
        slot,
    };
    record(
        connection,
        &OutboxEvent::registration(EventType::RegistrationConfirmed, &registration),
        new.now,
    )?;
    Ok(Ok(RegistrationOutcome::Created(registration)))
}

fn reschedule(
    connection: &Connection,
    key: &ManageKey,
    slot_id: i64,
    now: Timestamp,
) -> Result<Registration, RegistrationError> {
    let current = registration_by_key(connection, key)?.ok_or(RegistrationError::NotFound)?;
    if !current.status.may_move() {
        return Err(RegistrationError::NotConfirmed(current.status));
    }
    let target = find_slot(connection, slot_id)?.ok_or(RegistrationError::SlotNotFound)?;
    if target.webinar_id != current.webinar.id {
        return Err(RegistrationError::SlotInOtherWebinar);
    }
    if target.id == current.slot.id {
        return Ok(current);
    }
    take_seat(connection, &target, now)?;
    let id = key.id.hyphenated().to_string();
    let moved = execute(
        connection,
        sql::MOVE_REGISTRATION,
        &[&id, &current.slot.id, &target.id, &micros(now)],
    )?;
    if moved != 1 {
        return Err(StoreError::Conflict {
            constraint: Constraint::ChangedConcurrently("registration"),
        }
        .into());
    }
    waitlist::free_seat(connection, current.slot.id, now)?;
    let moved = registration_by_id(connection, key.id)?;
    record(
        connection,
        &OutboxEvent::registration(EventType::RegistrationRescheduled, &moved),
        now,
    )?;
    Ok(moved)
}

fn update_slot(connection: &Connection, slot_id: i64, changes: SlotChanges, now: Timestamp) -> Result<Slot, SlotError> {
    let status = changes.status.map(|s| s.as_str());
    let params: [&dyn ToSql; 4] = [&slot_id, &changes.capacity, &status, &micros(now)];
    match query_optional(connection, sql::UPDATE_SLOT, &params, slot_row)? {
        Some(slot) => Ok(slot),
        None => match find_slot(connection, slot_id)? {
            None => Err(SlotError::NotFound),
            Some(slot) => Err(SlotError::CapacityBelowSeatsTaken {
                capacity: changes.capacity.unwrap_or(slot.capacity),
                seats_taken: slot.seats_taken,
            }),
        },
    }
}

fn api_token_row(row: &Row<'_>) -> rusqlite::Result<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        role: parsed(row, 1, |role| {
            ApiTokenRole::parse(role).ok_or_else(|| format!("unknown role {role:?}"))
        })?,
        advisor_id: row.get(2)?,
        label: row.get(3)?,
        created_at: instant(row, 4)?,
        expires_at: optional_instant(row, 5)?,
        revoked_at: optional_instant(row, 6)?,
        last_used_at: optional_instant(row, 7)?,
    })
}

fn local_time(row: &Row<'_>, index: usize) -> rusqlite::Result<jiff::civil::Time> {
    parsed(row, index, |text| {
        text.parse().map_err(|_| format!("not a time: {text}"))
    })
}

fn optional_instant(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Timestamp>> {
    match row.get::<_, Option<i64>>(index)? {
        Some(_) => instant(row, index).map(Some),
        None => Ok(None),
    }
}

/// Every advisor with their weekly ranges.
fn advisors(connection: &Connection) -> Result<Vec<Advisor>, StoreError> {
    let mut advisors = query_all(connection, sql::LIST_ADVISORS, &[], |row| {
        Ok(Advisor {
            id: row.get(0)?,
            name: row.get(1)?,
            email: row.get(2)?,
            time_zone: parsed(row, 3, TimeZone::parse)?,
            max_calls_per_window: row.get(4)?,
            last_assigned_at: optional_instant(row, 5)?,
            availability: Vec::new(),
        })
    })?;
    let ranges = query_all(connection, sql::LIST_AVAILABILITY, &[], |row| {
        let advisor_id: i64 = row.get(0)?;
        let range = WeeklyRange {
            weekday: parsed(row, 1, parse_weekday)?,
            starts: local_time(row, 2)?,
            ends: local_time(row, 3)?,
        };
        Ok((advisor_id, range))
    })?;
    for (advisor_id, range) in ranges {
        if let Some(advisor) = advisors.iter_mut().find(|a| a.id == advisor_id) {
            advisor.availability.push(range);
        }
    }
    Ok(advisors)
}

fn window_settings(connection: &Connection) -> Result<WindowSettings, StoreError> {
    let windows = query_all(connection, sql::LIST_WINDOWS, &[], |row| {
        Ok(WindowDefinition {
            key: row.get(0)?,
            name: row.get(1)?,
            starts: local_time(row, 2)?,
            ends: local_time(row, 3)?,
        })
    })?;
    let days_ahead = query_optional(connection, sql::DAYS_AHEAD, &[], |row| {
        parsed(row, 0, |text| text.parse::<i64>().map_err(|e| e.to_string()))
    })?
    .unwrap_or(7);
    Ok(WindowSettings { days_ahead, windows })
}

fn window_loads(connection: &Connection, from: Timestamp, to: Timestamp) -> Result<Vec<WindowLoad>, StoreError> {
    query_all(connection, sql::WINDOW_LOADS, &[&micros(from), &micros(to)], |row| {
        Ok(WindowLoad {
            advisor_id: row.get(0)?,
            window_start: instant(row, 1)?,
            taken: row.get(2)?,
        })
    })
}

fn consultation_from_row(row: &Row<'_>) -> rusqlite::Result<Consultation> {
    Ok(Consultation {
        id: uuid(row, 0)?,
        lead_id: uuid(row, 1)?,
        advisor_id: row.get(2)?,
        advisor_name: row.get(3)?,
        window_key: row.get(4)?,
        window_date: parsed(row, 5, |text| text.parse().map_err(|_| format!("not a date: {text}")))?,
        window_label: row.get(6)?,
        starts_at: instant(row, 7)?,
        ends_at: instant(row, 8)?,
        time_zone: parsed(row, 9, TimeZone::parse)?,
        status: parsed(row, 10, ConsultationStatus::parse)?,
        created_at: instant(row, 11)?,
    })
}

fn queue_item(row: &Row<'_>) -> rusqlite::Result<QueueItem> {
    let resume = match row.get::<_, Option<String>>(15)? {
        Some(display_name) => Some(ResumeSummary {
            display_name,
            content_type: row.get(16)?,
            size_bytes: row.get(17)?,
            review_status: row.get(18)?,
        }),
        None => None,
    };
    Ok(QueueItem {
        consultation: consultation_from_row(row)?,
        visitor_name: row.get(12)?,
        visitor_email: row.get(13)?,
        visitor_phone: row.get(14)?,
        resume,
        notes: row.get(19)?,
    })
}

/// A résumé's reviews, if it belongs to one of the advisor's consultations.
fn reviews(
    connection: &Connection,
    consultation_id: &str,
    advisor_id: i64,
) -> Result<Option<ResumeReviews>, StoreError> {
    let Some(review_status) = query_optional(
        connection,
        sql::OWN_RESUME_STATUS,
        &[&consultation_id, &advisor_id],
        |row| row.get::<_, String>(0),
    )?
    else {
        return Ok(None);
    };
    let comments = query_all(connection, sql::LIST_REVIEWS, &[&consultation_id], |row| {
        Ok(ReviewComment {
            advisor_id: row.get(0)?,
            advisor_name: row.get(1)?,
            comment: row.get(2)?,
            created_at: instant(row, 3)?,
        })
    })?;
    Ok(Some(ResumeReviews {
        review_status,
        comments,
    }))
}

/// Moves a consultation to another advisor on the writer connection.
fn reassign(connection: &Connection, change: &Reassignment) -> Result<Consultation, ReassignError> {
    let id = change.consultation_id.hyphenated().to_string();
    let current = query_optional(connection, sql::FIND_CONSULTATION, &[&id], consultation_from_row)?
        .ok_or(ReassignError::NotFound)?;
    if current.advisor_id == change.advisor_id {
        return Ok(current);
    }
    let advisors = advisors(connection)?;
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
    let start = micros(current.starts_at);
    let params: [&dyn ToSql; 3] = [&target.id, &start, &target.max_calls_per_window];
    query_optional(connection, sql::TAKE_CALL, &params, |row| row.get::<_, i64>(0))?
        .ok_or(ReassignError::AdvisorFull)?;
    let params: [&dyn ToSql; 4] = [&id, &current.advisor_id, &target.id, &micros(change.now)];
    if execute(connection, sql::MOVE_CONSULTATION, &params)? != 1 {
        return Err(StoreError::Conflict {
            constraint: Constraint::ChangedConcurrently("consultation"),
        }
        .into());
    }
    let released: [&dyn ToSql; 2] = [&current.advisor_id, &start];
    if execute(connection, sql::RELEASE_CALL, &released)? == 0 {
        execute(connection, sql::DROP_LAST_CALL, &released)?;
    }
    let notes = format!(
        "Reassigned from advisor {} to advisor {}",
        current.advisor_id, target.id
    );
    let params: [&dyn ToSql; 5] = [&id, &"admin", &current.status.as_str(), &notes, &micros(change.now)];
    execute(connection, sql::INSERT_CONSULTATION_EVENT, &params)?;
    let moved = query_one(connection, sql::FIND_CONSULTATION, &[&id], consultation_from_row)?;
    record(
        connection,
        &OutboxEvent::consultation(EventType::ConsultationAssigned, &moved),
        change.now,
    )?;
    Ok(moved)
}

/// Step 3 on the writer connection: the lead's existing consultation, or a
/// new one with the first advisor in assignment order who still has room.
fn consult(connection: &Connection, new: &NewConsultation) -> Result<ConsultationOutcome, ConsultationError> {
    let lead = find_lead(connection, &new.lead)?.ok_or(ConsultationError::LeadNotFound)?;
    let lead_id = new.lead.id.hyphenated().to_string();
    if let Some(existing) = query_optional(
        connection,
        sql::CONSULTATION_OF_LEAD,
        &[&lead_id],
        consultation_from_row,
    )? {
        return Ok(ConsultationOutcome::Existing(existing));
    }
    let settings = window_settings(connection)?;
    let window = offered_window(&settings, &new.window_key, new.date, &lead.time_zone, new.now)?;
    let advisors = advisors(connection)?;
    let loads = window_loads(
        connection,
        window.starts_at,
        window.starts_at + SignedDuration::from_micros(1),
    )?;
    let start = micros(window.starts_at);
    let mut assigned = None;
    for advisor in assignment_order(&advisors, &loads, &window) {
        let params: [&dyn ToSql; 3] = [&advisor.id, &start, &advisor.max_calls_per_window];
        if query_optional(connection, sql::TAKE_CALL, &params, |row| row.get::<_, i64>(0))?.is_some() {
            assigned = Some(advisor);
            break;
        }
    }
    let advisor = assigned.ok_or(ConsultationError::WindowFull)?;
    let label = window.definition.label();
    let params: [&dyn ToSql; 11] = [
        &new.id.hyphenated().to_string(),
        &lead_id,
        &lead.person_id,
        &advisor.id,
        &window.definition.key,
        &new.date.to_string(),
        &label,
        &start,
        &micros(window.ends_at),
        &lead.time_zone.name(),
        &micros(new.now),
    ];
    execute(connection, sql::INSERT_CONSULTATION, &params)?;
    execute(connection, sql::TOUCH_ADVISOR, &[&advisor.id, &micros(new.now)])?;
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
        time_zone: lead.time_zone,
        status: ConsultationStatus::Assigned,
        created_at: new.now,
    };
    for event_type in [EventType::ConsultationRequested, EventType::ConsultationAssigned] {
        record(
            connection,
            &OutboxEvent::consultation(event_type, &consultation),
            new.now,
        )?;
    }
    Ok(ConsultationOutcome::Created(consultation))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .read(|connection| query_one(connection, sql::PING, &[], |row| row.get::<_, i64>(0)).map(|_| ()))
            .await
    }

    async fn create_webinar(&self, webinar: &NewWebinar, now: Timestamp) -> Result<Webinar, WebinarError> {
        let webinar = webinar.clone();
        self.writer
            .write(move |connection| {
                let params: [&dyn ToSql; 9] = [
                    &webinar.slug.as_str(),
                    &webinar.title.as_str(),
                    &webinar.summary.as_str(),
                    &webinar.time_zone.name(),
                    &webinar.duration_minutes,
                    &to_json_column(&webinar.hosts),
                    &to_json_column(&webinar.highlights),
                    &webinar.status.as_str(),
                    &micros(now),
                ];
                query_one(connection, sql::INSERT_WEBINAR, &params, webinar_from_row).map_err(|error| {
                    match is_unique_violation(&error) {
                        true => WebinarError::SlugTaken,
                        false => error.into(),
                    }
                })
            })
            .await
    }

    async fn update_webinar(
        &self,
        slug: &Slug,
        changes: &WebinarChanges,
        now: Timestamp,
    ) -> Result<Webinar, WebinarError> {
        let (slug, changes) = (slug.clone(), changes.clone());
        self.writer
            .write(move |connection| {
                let params: [&dyn ToSql; 9] = [
                    &slug.as_str(),
                    &changes.title.as_ref().map(|t| t.as_str()),
                    &changes.summary.as_ref().map(|t| t.as_str()),
                    &changes.time_zone.as_ref().map(|z| z.name()),
                    &changes.duration_minutes,
                    &changes.hosts.as_ref().map(to_json_column),
                    &changes.highlights.as_ref().map(to_json_column),
                    &changes.status.map(|s| s.as_str()),
                    &micros(now),
                ];
                query_optional(connection, sql::UPDATE_WEBINAR, &params, webinar_from_row)?
                    .ok_or(WebinarError::NotFound)
            })
            .await
    }

    async fn find_webinar(&self, slug: &Slug) -> Result<Option<Webinar>, StoreError> {
        let slug = slug.clone();
        self.readers
            .read(move |connection| query_optional(connection, sql::FIND_WEBINAR, &[&slug.as_str()], webinar_from_row))
            .await
    }

    async fn list_webinars(&self) -> Result<Vec<Webinar>, StoreError> {
        self.readers
            .read(|connection| query_all(connection, sql::LIST_WEBINARS, &[], webinar_from_row))
            .await
    }

    async fn list_published_webinars(&self, now: Timestamp) -> Result<Vec<WebinarListing>, StoreError> {
        self.readers
            .read(move |connection| {
                query_all(connection, sql::LIST_PUBLISHED_WEBINARS, &[&micros(now)], |row| {
                    let slot_at = sql::WEBINAR_COLUMN_COUNT + 1;
                    let has_slot = row.get::<_, Option<i64>>(slot_at)?.is_some();
                    Ok(WebinarListing {
                        webinar: webinar_from_row(row)?,
                        registrations: row.get(sql::WEBINAR_COLUMN_COUNT)?,
                        next_slot: has_slot.then(|| slot_from_row(row, slot_at)).transpose()?,
                    })
                })
            })
            .await
    }

    async fn create_slots(&self, webinar: &Slug, slots: &[NewSlot], now: Timestamp) -> Result<Vec<i64>, SlotError> {
        let (webinar, slots) = (webinar.clone(), slots.to_vec());
        self.writer
            .write(move |connection| {
                let webinar_id: i64 =
                    query_optional(connection, sql::WEBINAR_ID, &[&webinar.as_str()], |row| row.get(0))?
                        .ok_or(SlotError::WebinarNotFound)?;
                slots
                    .iter()
                    .map(|slot| {
                        let params: [&dyn ToSql; 4] =
                            [&webinar_id, &micros(slot.starts_at), &slot.capacity, &micros(now)];
                        query_one(connection, sql::INSERT_SLOT, &params, |row| row.get(0)).map_err(|error| {
                            match is_unique_violation(&error) {
                                true => SlotError::Duplicate,
                                false => error.into(),
                            }
                        })
                    })
                    .collect()
            })
            .await
    }

    async fn list_slots(&self, webinar_id: i64, from: Timestamp) -> Result<Vec<Slot>, StoreError> {
        self.readers
            .read(move |connection| query_all(connection, sql::LIST_SLOTS, &[&webinar_id, &micros(from)], slot_row))
            .await
    }

    async fn find_slot(&self, slot_id: i64) -> Result<Option<Slot>, StoreError> {
        self.readers
            .read(move |connection| find_slot(connection, slot_id))
            .await
    }

    async fn update_slot(&self, slot_id: i64, changes: &SlotChanges, now: Timestamp) -> Result<Slot, SlotError> {
        let changes = *changes;
        self.writer
            .write(move |connection| {
                let slot = update_slot(connection, slot_id, changes, now)?;
                waitlist::offer_spare_seats(connection, slot_id, now)?;
                Ok(find_slot(connection, slot_id)?.unwrap_or(slot))
            })
            .await
    }

    async fn create_lead(&self, lead: &NewLead, key: &LeadKey, now: Timestamp) -> Result<(), LeadError> {
        let (lead, key) = (lead.clone(), key.clone());
        self.writer
            .write(move |connection| {
                let webinar_id = published_webinar_id(connection, &lead.webinar)?.ok_or(LeadError::WebinarNotFound)?;
                insert_lead(connection, &lead, &key, webinar_id, now)?;
                record(connection, &OutboxEvent::lead_created(key.id, &lead), now)?;
                Ok(())
            })
            .await
    }

    async fn create_registration(
        &self,
        registration: &NewRegistration,
    ) -> Result<RegistrationOutcome, RegistrationError> {
        let new = registration.clone();
        self.writer
            .write(move |connection| register(connection, &new))
            .await
            .and_then(|outcome| outcome)
    }

    async fn find_registration(&self, key: &ManageKey) -> Result<Option<Registration>, StoreError> {
        let key = key.clone();
        self.readers
            .read(move |connection| registration_by_key(connection, &key))
            .await
    }

    async fn cancel_registration(&self, key: &ManageKey, now: Timestamp) -> Result<Registration, RegistrationError> {
        let key = key.clone();
        self.writer
            .write(move |connection| {
                let id = key.id.hyphenated().to_string();
                let params: [&dyn ToSql; 3] = [&id, &key.token.as_str(), &micros(now)];
                let released = query_optional(connection, sql::CANCEL_REGISTRATION, &params, |row| row.get(0))?;
                let registration = match released {
                    Some(slot_id) => {
                        waitlist::free_seat(connection, slot_id, now)?;
                        let cancelled = registration_by_key(connection, &key)?.ok_or(RegistrationError::NotFound)?;
                        let event = OutboxEvent::registration(EventType::RegistrationCancelled, &cancelled);
                        record(connection, &event, now)?;
                        cancelled
                    }
                    None => registration_by_key(connection, &key)?.ok_or(RegistrationError::NotFound)?,
                };
                Ok(registration)
            })
            .await
    }

    async fn reschedule_registration(
        &self,
        key: &ManageKey,
        slot_id: i64,
        now: Timestamp,
    ) -> Result<Registration, RegistrationError> {
        let key = key.clone();
        self.writer
            .write(move |connection| reschedule(connection, &key, slot_id, now))
            .await
    }

    async fn create_advisor(&self, advisor: &NewAdvisor, now: Timestamp) -> Result<Advisor, AdvisorError> {
        let new = advisor.clone();
        self.writer
            .write(move |connection| {
                let params: [&dyn ToSql; 5] = [
                    &new.name.as_str(),
                    &new.email.as_str(),
                    &new.time_zone.name(),
                    &new.max_calls_per_window,
                    &micros(now),
                ];
                let id: i64 =
                    query_one(connection, sql::INSERT_ADVISOR, &params, |row| row.get(0)).map_err(|error| {
                        match is_unique_violation(&error) {
                            true => AdvisorError::EmailTaken,
                            false => error.into(),
                        }
                    })?;
                for range in &new.availability {
                    let params: [&dyn ToSql; 4] = [
                        &id,
                        &weekday_name(range.weekday),
                        &range.starts.strftime("%H:%M").to_string(),
                        &range.ends.strftime("%H:%M").to_string(),
                    ];
                    execute(connection, sql::INSERT_AVAILABILITY, &params)?;
                }
                Ok(Advisor {
                    id,
                    name: new.name.as_str().to_owned(),
                    email: new.email.as_str().to_owned(),
                    time_zone: new.time_zone,
                    availability: new.availability,
                    max_calls_per_window: new.max_calls_per_window,
                    last_assigned_at: None,
                })
            })
            .await
    }

    async fn list_advisors(&self) -> Result<Vec<Advisor>, StoreError> {
        self.readers.read(advisors).await
    }

    async fn take_message_allowance(
        &self,
        recipient: &str,
        day: jiff::civil::Date,
        cap: i64,
    ) -> Result<bool, StoreError> {
        let (recipient, day) = (recipient.to_owned(), day.to_string());
        self.writer
            .write(move |connection| {
                let taken = query_optional(
                    connection,
                    sql::TAKE_MESSAGE_ALLOWANCE,
                    &[&recipient, &day, &cap],
                    |row| row.get::<_, i64>(0),
                )?;
                Ok(taken.is_some())
            })
            .await
    }

    async fn prune_message_allowances(&self, before: jiff::civil::Date) -> Result<(), StoreError> {
        let before = before.to_string();
        self.writer
            .write(move |connection| {
                execute(connection, sql::PRUNE_MESSAGE_ALLOWANCES, &[&before])?;
                Ok(())
            })
            .await
    }

    async fn window_settings(&self) -> Result<WindowSettings, StoreError> {
        self.readers.read(window_settings).await
    }

    async fn set_window_settings(&self, settings: &WindowSettings) -> Result<(), StoreError> {
        let settings = settings.clone();
        self.writer
            .write(move |connection| {
                execute(connection, sql::DELETE_WINDOWS, &[])?;
                for (position, window) in (1_i64..).zip(&settings.windows) {
                    let params: [&dyn ToSql; 5] = [
                        &window.key,
                        &window.name,
                        &window.starts.strftime("%H:%M").to_string(),
                        &window.ends.strftime("%H:%M").to_string(),
                        &position,
                    ];
                    execute(connection, sql::INSERT_WINDOW, &params)?;
                }
                execute(connection, sql::SET_DAYS_AHEAD, &[&settings.days_ahead.to_string()])?;
                Ok(())
            })
            .await
    }

    async fn window_loads(&self, from: Timestamp, to: Timestamp) -> Result<Vec<WindowLoad>, StoreError> {
        self.readers
            .read(move |connection| window_loads(connection, from, to))
            .await
    }

    async fn create_consultation(
        &self,
        consultation: &NewConsultation,
    ) -> Result<ConsultationOutcome, ConsultationError> {
        let new = consultation.clone();
        self.writer.write(move |connection| consult(connection, &new)).await
    }

    async fn consultation_for_lead(
        &self,
        id: Uuid,
        lead_token: &TokenHash,
    ) -> Result<Option<Consultation>, StoreError> {
        let (id, token) = (id.hyphenated().to_string(), lead_token.clone());
        self.readers
            .read(move |connection| {
                query_optional(
                    connection,
                    sql::CONSULTATION_FOR_LEAD,
                    &[&id, &token.as_str()],
                    consultation_from_row,
                )
            })
            .await
    }

    async fn replace_resume(&self, resume: &NewResume) -> Result<Option<String>, StoreError> {
        let resume = resume.clone();
        self.writer
            .write(move |connection| {
                let consultation_id = resume.consultation_id.hyphenated().to_string();
                let previous: Option<String> =
                    query_optional(connection, sql::RESUME_KEY, &[&consultation_id], |row| row.get(0))?;
                let params: [&dyn ToSql; 7] = [
                    &consultation_id,
                    &resume.object_key,
                    &resume.sha256,
                    &resume.size_bytes,
                    &resume.content_type,
                    &resume.display_name,
                    &micros(resume.uploaded_at),
                ];
                execute(connection, sql::UPSERT_RESUME, &params)?;
                record(connection, &OutboxEvent::resume_uploaded(&resume), resume.uploaded_at)?;
                Ok(previous)
            })
            .await
    }

    async fn consultation_queue(&self, filter: &QueueFilter) -> Result<Vec<QueueItem>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |connection| {
                let params: [&dyn ToSql; 4] = [
                    &filter.advisor_id,
                    &filter.status.map(|s| s.as_str()),
                    &filter.from.map(micros),
                    &filter.to.map(micros),
                ];
                query_all(connection, sql::CONSULTATION_QUEUE, &params, queue_item)
            })
            .await
    }

    async fn reassign_consultation(&self, reassignment: &Reassignment) -> Result<Consultation, ReassignError> {
        let reassignment = reassignment.clone();
        self.writer
            .write(move |connection| reassign(connection, &reassignment))
            .await
    }

    async fn update_consultation(&self, update: &ConsultationUpdate) -> Result<ConsultationStatus, StoreError> {
        let update = update.clone();
        self.writer
            .write(move |connection| {
                let id = update.consultation_id.hyphenated().to_string();
                let params: [&dyn ToSql; 4] = [
                    &id,
                    &update.advisor_id,
                    &update.status.map(|s| s.as_str()),
                    &micros(update.now),
                ];
                let status = query_optional(connection, sql::UPDATE_CONSULTATION_STATUS, &params, |row| {
                    parsed(row, 0, ConsultationStatus::parse)
                })?
                .ok_or(StoreError::NotFound)?;
                let actor = format!("advisor:{}", update.advisor_id);
                let params: [&dyn ToSql; 5] = [&id, &actor, &status.as_str(), &update.notes, &micros(update.now)];
                execute(connection, sql::INSERT_CONSULTATION_EVENT, &params)?;
                let event =
                    OutboxEvent::consultation_updated(update.consultation_id, &actor, status, update.notes.as_deref());
                record(connection, &event, update.now)?;
                Ok(status)
            })
            .await
    }

    async fn cancel_consultation(&self, key: &ManageKey, now: Timestamp) -> Result<Option<Uuid>, StoreError> {
        let key = key.clone();
        self.writer
            .write(move |connection| {
                let params: [&dyn ToSql; 3] = [&key.id.hyphenated().to_string(), &key.token.as_str(), &micros(now)];
                let Some((id, advisor_id, window_start, status)) =
                    query_optional(connection, sql::CANCEL_CONSULTATION, &params, |row| {
                        Ok((
                            uuid(row, 0)?,
                            row.get::<_, i64>(1)?,
                            row.get::<_, i64>(2)?,
                            parsed(row, 3, ConsultationStatus::parse)?,
                        ))
                    })?
                else {
                    return Ok(None);
                };
                let released: [&dyn ToSql; 2] = [&advisor_id, &window_start];
                if execute(connection, sql::RELEASE_CALL, &released)? == 0 {
                    execute(connection, sql::DROP_LAST_CALL, &released)?;
                }
                let text_id = id.hyphenated().to_string();
                let params: [&dyn ToSql; 5] = [
                    &text_id,
                    &"visitor",
                    &status.as_str(),
                    &sql::CANCELLED_BY_VISITOR,
                    &micros(now),
                ];
                execute(connection, sql::INSERT_CONSULTATION_EVENT, &params)?;
                let event = OutboxEvent::consultation_updated(id, "visitor", status, Some(sql::CANCELLED_BY_VISITOR));
                record(connection, &event, now)?;
                Ok(Some(id))
            })
            .await
    }

    async fn advisor_resume(&self, advisor_id: i64, consultation_id: Uuid) -> Result<Option<ResumeFile>, StoreError> {
        let id = consultation_id.hyphenated().to_string();
        self.readers
            .read(move |connection| {
                query_optional(connection, sql::ADVISOR_RESUME, &[&id, &advisor_id], |row| {
                    Ok(ResumeFile {
                        object_key: row.get(0)?,
                        content_type: row.get(1)?,
                        display_name: row.get(2)?,
                    })
                })
            })
            .await
    }

    async fn review_resume(&self, review: &NewReview) -> Result<Option<ResumeReviews>, StoreError> {
        let review = review.clone();
        self.writer
            .write(move |connection| {
                let id = review.consultation_id.hyphenated().to_string();
                if reviews(connection, &id, review.advisor_id)?.is_none() {
                    return Ok(None);
                }
                if let Some(status) = &review.status {
                    execute(connection, sql::SET_REVIEW_STATUS, &[&id, status])?;
                }
                if let Some(comment) = &review.comment {
                    let params: [&dyn ToSql; 4] = [&id, &review.advisor_id, comment, &micros(review.now)];
                    execute(connection, sql::INSERT_REVIEW, &params)?;
                }
                reviews(connection, &id, review.advisor_id)
            })
            .await
    }

    async fn resume_reviews(
        &self,
        advisor_id: i64,
        consultation_id: Uuid,
    ) -> Result<Option<ResumeReviews>, StoreError> {
        let id = consultation_id.hyphenated().to_string();
        self.readers
            .read(move |connection| reviews(connection, &id, advisor_id))
            .await
    }

    async fn consultation_of_registration(&self, registration_id: Uuid) -> Result<Option<Consultation>, StoreError> {
        let id = registration_id.hyphenated().to_string();
        self.readers
            .read(move |connection| {
                query_optional(
                    connection,
                    sql::CONSULTATION_OF_REGISTRATION,
                    &[&id],
                    consultation_from_row,
                )
            })
            .await
    }

    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |connection| outbox::list_events(connection, filter.event_type.as_deref(), filter.limit))
            .await
    }

    async fn route_events(&self, router: Arc<dyn Router>, limit: i64, now: Timestamp) -> Result<usize, StoreError> {
        self.writer
            .write(move |connection| outbox::route_events(connection, &router, limit, now))
            .await
    }

    async fn claim_deliveries(
        &self,
        limit: i64,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedDelivery>, StoreError> {
        self.writer
            .write(move |connection| outbox::claim_deliveries(connection, limit, now, lease_until))
            .await
    }

    async fn finish_deliveries(
        &self,
        finished: &[(ClaimedDelivery, DeliveryOutcome)],
        disable_after: i64,
        now: Timestamp,
    ) -> Result<Vec<bool>, StoreError> {
        let finished = finished.to_vec();
        self.writer
            .write(move |connection| outbox::finish_deliveries(connection, &finished, disable_after, now))
            .await
    }

    async fn next_delivery_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.readers.read(outbox::next_delivery_due).await
    }

    async fn wait_for_events(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.events.notified()).await;
    }

    async fn list_deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |connection| outbox::list_deliveries(connection, &filter))
            .await
    }

    async fn find_delivery(&self, message_id: Uuid) -> Result<Option<Delivery>, StoreError> {
        self.readers
            .read(move |connection| outbox::find_delivery(connection, message_id))
            .await
    }

    async fn retry_delivery(&self, message_id: Uuid, now: Timestamp) -> Result<Delivery, StoreError> {
        self.writer
            .write(move |connection| outbox::retry_delivery(connection, message_id, now))
            .await
    }

    async fn hand_over_delivery(
        &self,
        message_id: Uuid,
        from: turnout_store::Channel,
        to: turnout_store::Channel,
        undelivered: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let undelivered = undelivered.map(str::to_owned);
        self.writer
            .write(move |connection| {
                outbox::hand_over_delivery(connection, message_id, from, to, undelivered.as_deref(), now)
            })
            .await
    }

    async fn delivery_backlog(&self, now: Timestamp) -> Result<DeliveryBacklog, StoreError> {
        self.readers
            .read(move |connection| outbox::delivery_backlog(connection, now))
            .await
    }

    async fn create_webhook(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        self.writer
            .write(move |connection| outbox::create_webhook(connection, &endpoint))
            .await
    }

    async fn list_webhooks(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.readers.read(outbox::list_webhooks).await
    }

    async fn find_webhook(&self, id: Uuid) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.readers
            .read(move |connection| outbox::find_webhook(connection, id))
            .await
    }

    async fn update_webhook(
        &self,
        id: Uuid,
        changes: &WebhookChanges,
        now: Timestamp,
    ) -> Result<WebhookEndpoint, StoreError> {
        let changes = changes.clone();
        self.writer
            .write(move |connection| outbox::update_webhook(connection, id, &changes, now))
            .await
    }

    async fn delete_webhook(&self, id: Uuid, _now: Timestamp) -> Result<(), StoreError> {
        self.writer
            .write(move |connection| outbox::delete_webhook(connection, id))
            .await
    }

    async fn replay_webhook(&self, id: Uuid, since: Option<Timestamp>, now: Timestamp) -> Result<u64, StoreError> {
        self.writer
            .write(move |connection| outbox::replay_webhook(connection, id, since, now))
            .await
    }

    async fn registration_contact(&self, id: Uuid) -> Result<Option<RegistrationContact>, StoreError> {
        self.readers
            .read(move |connection| outbox::registration_contact(connection, id))
            .await
    }

    async fn consultation_contact(&self, id: Uuid) -> Result<Option<ConsultationContact>, StoreError> {
        self.readers
            .read(move |connection| outbox::consultation_contact(connection, id))
            .await
    }

    async fn ensure_setting(&self, key: &str, value: &str) -> Result<String, StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |connection| outbox::ensure_setting(connection, &key, &value))
            .await
    }

    async fn create_article(&self, article: &NewArticle, now: Timestamp) -> Result<Article, ArticleError> {
        let article = article.clone();
        self.writer
            .write(move |connection| articles::create(connection, &article, now))
            .await
    }

    async fn update_article(
        &self,
        slug: &Slug,
        changes: &ArticleChanges,
        now: Timestamp,
    ) -> Result<Article, ArticleError> {
        let (slug, changes) = (slug.clone(), changes.clone());
        self.writer
            .write(move |connection| articles::update(connection, &slug, &changes, now))
            .await
    }

    async fn find_article(&self, slug: &Slug) -> Result<Option<Article>, StoreError> {
        let slug = slug.clone();
        self.readers
            .read(move |connection| articles::find(connection, &slug))
            .await
    }

    async fn list_published_articles(&self, filter: &ArticleFilter) -> Result<Vec<Article>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |connection| articles::list_published(connection, &filter))
            .await
    }

    async fn list_all_articles(&self) -> Result<Vec<Article>, StoreError> {
        self.readers.read(articles::list_all).await
    }

    async fn create_api_token(&self, token: &NewApiToken, now: Timestamp) -> Result<ApiToken, AdvisorError> {
        let token = token.clone();
        self.writer
            .write(move |connection| {
                if let Some(advisor_id) = token.advisor_id {
                    query_optional(connection, sql::ADVISOR_ID, &[&advisor_id], |row| row.get::<_, i64>(0))?
                        .ok_or(AdvisorError::NotFound)?;
                }
                let params: [&dyn ToSql; 6] = [
                    &token.hash.as_str(),
                    &token.role.as_str(),
                    &token.advisor_id,
                    &token.label,
                    &micros(now),
                    &token.expires_at.map(micros),
                ];
                Ok(query_one(connection, sql::INSERT_API_TOKEN, &params, api_token_row)?)
            })
            .await
    }

    async fn find_api_token(&self, hash: &TokenHash, now: Timestamp) -> Result<Option<ApiToken>, StoreError> {
        let hash = hash.clone();
        let found = self
            .readers
            .read(move |connection| {
                query_optional(
                    connection,
                    sql::FIND_API_TOKEN,
                    &[&hash.as_str(), &micros(now)],
                    api_token_row,
                )
            })
            .await?;
        if let Some(token) = found.as_ref().filter(|token| token.needs_touch(now)) {
            let id = token.id;
            self.writer
                .write(move |connection| execute(connection, sql::TOUCH_API_TOKEN, &[&id, &micros(now)]).map(drop))
                .await?;
        }
        Ok(found)
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.readers
            .read(|connection| query_all(connection, sql::LIST_API_TOKENS, &[], api_token_row))
            .await
    }

    async fn set_webinar_links(
        &self,
        webinar_id: i64,
        changes: &LinkChanges,
        now: Timestamp,
    ) -> Result<MeetingLinks, StoreError> {
        let changes = changes.clone();
        self.writer
            .write(move |connection| set_links(connection, sql::SET_WEBINAR_LINKS, webinar_id, &changes, now))
            .await
    }

    async fn set_slot_links(
        &self,
        slot_id: i64,
        changes: &LinkChanges,
        now: Timestamp,
    ) -> Result<MeetingLinks, StoreError> {
        let changes = changes.clone();
        self.writer
            .write(move |connection| set_links(connection, sql::SET_SLOT_LINKS, slot_id, &changes, now))
            .await
    }

    async fn all_webinar_links(&self) -> Result<HashMap<i64, MeetingLinks>, StoreError> {
        self.readers
            .read(|connection| {
                let rows = query_all(connection, sql::ALL_WEBINAR_LINKS, &[], owned_links_row)?;
                Ok(rows.into_iter().collect())
            })
            .await
    }

    async fn slot_links(&self, webinar_id: i64) -> Result<HashMap<i64, MeetingLinks>, StoreError> {
        self.readers
            .read(move |connection| {
                let rows = query_all(connection, sql::SLOT_LINKS, &[&webinar_id], owned_links_row)?;
                Ok(rows.into_iter().collect())
            })
            .await
    }

    async fn join_target(&self, registration_id: Uuid) -> Result<Option<JoinTarget>, StoreError> {
        self.readers
            .read(move |connection| {
                let id = registration_id.hyphenated().to_string();
                let Some(registration) =
                    query_optional(connection, sql::FIND_REGISTRATION_BY_ID, &[&id], registration_from_row)?
                else {
                    return Ok(None);
                };
                let links = query_one(connection, sql::LINKS_OF_REGISTRATION, &[&id], |row| links_row(row, 0))?;
                Ok(Some(JoinTarget { registration, links }))
            })
            .await
    }

    async fn record_join(&self, registration_id: Uuid, now: Timestamp) -> Result<(), StoreError> {
        self.writer
            .write(move |connection| {
                let id = registration_id.hyphenated().to_string();
                execute(connection, sql::RECORD_JOIN, &[&id, &micros(now)])?;
                Ok(())
            })
            .await
    }

    async fn list_registrants(&self, filter: &RegistrantFilter) -> Result<Vec<Registrant>, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |connection| registrants::list_registrants(connection, &filter))
            .await
    }

    async fn count_registrants(&self, filter: &RegistrantFilter) -> Result<i64, StoreError> {
        let filter = filter.clone();
        self.readers
            .read(move |connection| registrants::count_registrants(connection, &filter))
            .await
    }

    async fn mark_attendance(
        &self,
        marking: &AttendanceMarking,
        now: Timestamp,
    ) -> Result<AttendanceMarked, AttendanceError> {
        let marking = marking.clone();
        self.writer
            .write(move |connection| attendance::mark_attendance(connection, &marking, now))
            .await
    }

    async fn settle_attendance(&self, ended_by: Timestamp, limit: i64, now: Timestamp) -> Result<usize, StoreError> {
        self.writer
            .write(move |connection| attendance::settle_attendance(connection, ended_by, limit, now))
            .await
    }

    async fn attendance_counts(&self, webinar_id: i64) -> Result<Vec<SlotAttendance>, StoreError> {
        self.readers
            .read(move |connection| attendance::attendance_counts(connection, webinar_id))
            .await
    }

    async fn join_waitlist(&self, entry: &NewWaitlistEntry) -> Result<WaitlistJoin, WaitlistError> {
        let entry = entry.clone();
        self.writer
            .write(move |connection| waitlist::join(connection, &entry))
            .await
    }

    async fn find_waitlist_entry(&self, id: Uuid) -> Result<Option<WaitlistEntry>, StoreError> {
        self.readers
            .read(move |connection| waitlist::find_entry(connection, id))
            .await
    }

    async fn list_waitlist(&self, slot_id: i64) -> Result<Vec<WaitlistEntry>, StoreError> {
        self.readers
            .read(move |connection| waitlist::list(connection, slot_id))
            .await
    }

    async fn leave_waitlist(&self, id: Uuid, now: Timestamp) -> Result<WaitlistEntry, WaitlistError> {
        self.writer
            .write(move |connection| waitlist::leave(connection, id, now))
            .await
    }

    async fn claim_waitlist(&self, claim: &WaitlistClaim) -> Result<Registration, WaitlistError> {
        let claim = claim.clone();
        self.writer
            .write(move |connection| waitlist::claim(connection, &claim))
            .await
    }

    async fn expire_waitlist_offers(
        &self,
        offered_by: Timestamp,
        limit: i64,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        self.writer
            .write(move |connection| waitlist::expire_offers(connection, offered_by, limit, now))
            .await
    }

    async fn revoke_api_token(&self, id: i64, now: Timestamp) -> Result<ApiToken, StoreError> {
        self.writer
            .write(move |connection| {
                query_optional(connection, sql::REVOKE_API_TOKEN, &[&id, &micros(now)], api_token_row)?
                    .ok_or(StoreError::NotFound)
            })
            .await
    }
}
