//! Waiting lists on SQLite, inside the writer's transaction: its one writer
//! orders every freed seat and every place taken, so no lock is needed.

use jiff::Timestamp;
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};
use turnout_domain::{SlotStatus, Slug};
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::{
    NewWaitlistEntry, Registration, StoreError, WaitlistClaim, WaitlistEntry, WaitlistError, WaitlistJoin,
    WaitlistStatus, WebinarRef, sql,
};
use uuid::Uuid;

use crate::db::{execute, parsed, query_all, query_optional};
use crate::{
    find_lead, instant, micros, optional_instant, record, registration_by_id, release_seat, target_slot, uuid,
};

fn text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<WaitlistEntry> {
    let status = parsed(row, 1, WaitlistStatus::parse)?;
    let registration_id = match row.get_ref(3)?.as_str_or_null()? {
        Some(_) => Some(uuid(row, 3)?),
        None => None,
    };
    let position: i64 = row.get(14)?;
    Ok(WaitlistEntry {
        id: uuid(row, 0)?,
        status,
        position: (status == WaitlistStatus::Waiting).then_some(position),
        offered_at: optional_instant(row, 2)?,
        registration_id,
        created_at: instant(row, 4)?,
        slot_id: row.get(5)?,
        starts_at: instant(row, 6)?,
        webinar: WebinarRef {
            id: row.get(7)?,
            slug: parsed(row, 8, Slug::parse)?,
            title: row.get(9)?,
            duration_minutes: row.get(10)?,
        },
        name: row.get(11)?,
        email: row.get(12)?,
        time_zone: row.get(13)?,
        phone: row.get(15)?,
        sms_consent: row.get(16)?,
    })
}

pub(crate) fn find_entry(connection: &Connection, id: Uuid) -> Result<Option<WaitlistEntry>, StoreError> {
    query_optional(connection, sql::FIND_WAITLIST_ENTRY, &[&text(id)], entry_from_row)
}

pub(crate) fn list(connection: &Connection, slot_id: i64) -> Result<Vec<WaitlistEntry>, StoreError> {
    query_all(connection, sql::LIST_WAITLIST, &[&slot_id], entry_from_row)
}

fn entry(connection: &Connection, id: Uuid) -> Result<WaitlistEntry, StoreError> {
    find_entry(connection, id)?.ok_or(StoreError::NotFound)
}

/// Offers slot `slot_id`'s held seat to the first in line; whether anyone
/// was.
fn offer_next(connection: &Connection, slot_id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let params: [&dyn ToSql; 2] = [&slot_id, &micros(now)];
    match query_optional(connection, sql::OFFER_NEXT_SQLITE, &params, |row| uuid(row, 0))? {
        Some(id) => {
            let offered = entry(connection, id)?;
            record(
                connection,
                &OutboxEvent::waitlist(EventType::WaitlistOffered, &offered),
                now,
            )?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A seat freed in `slot_id` (a cancel, a move away, a declined or lapsed
/// offer): it goes to the first in line while the slot takes
/// registrations, and back to the slot otherwise.
pub(crate) fn free_seat(connection: &Connection, slot_id: i64, now: Timestamp) -> Result<(), StoreError> {
    let bookable = target_slot(connection, slot_id)?.is_some_and(|target| {
        target.published && target.slot.status == SlotStatus::Open && target.slot.starts_at > now
    });
    if bookable && offer_next(connection, slot_id, now)? {
        return Ok(());
    }
    release_seat(connection, slot_id, now)
}

/// Seats a slot has to spare (more capacity, reopened) go to whoever waits
/// for it, one held seat per offer.
pub(crate) fn offer_spare_seats(connection: &Connection, slot_id: i64, now: Timestamp) -> Result<(), StoreError> {
    loop {
        let params: [&dyn ToSql; 3] = [&slot_id, &micros(now), &micros(now)];
        if query_optional(connection, sql::TAKE_SEAT, &params, |row| row.get::<_, i64>(0))?.is_none() {
            return Ok(());
        }
        if !offer_next(connection, slot_id, now)? {
            return release_seat(connection, slot_id, now);
        }
    }
}

pub(crate) fn join(connection: &Connection, new: &NewWaitlistEntry) -> Result<WaitlistJoin, WaitlistError> {
    let target = target_slot(connection, new.slot_id)?.ok_or(WaitlistError::SlotNotFound)?;
    let lead = find_lead(connection, &new.lead)?.ok_or(WaitlistError::LeadNotFound)?;
    if target.slot.webinar_id != lead.webinar_id {
        return Err(WaitlistError::SlotInOtherWebinar);
    }
    if !target.published || target.slot.status != SlotStatus::Open || target.slot.starts_at <= new.now {
        return Err(WaitlistError::SlotClosed);
    }
    if target.slot.seats_taken < target.slot.capacity {
        return Err(WaitlistError::SlotHasSeats);
    }
    let registered = query_optional(
        connection,
        sql::CONFIRMED_REGISTRATION_OF_PERSON,
        &[&lead.person_id, &lead.webinar_id],
        |row| uuid(row, 0),
    )?;
    if registered.is_some() {
        return Ok(WaitlistJoin::AlreadyWaiting);
    }
    let params: [&dyn ToSql; 6] = [
        &text(new.id),
        &new.slot_id,
        &lead.webinar_id,
        &lead.person_id,
        &text(new.lead.id),
        &micros(new.now),
    ];
    if query_optional(connection, sql::INSERT_WAITLIST_ENTRY, &params, |row| {
        row.get::<_, String>(0)
    })?
    .is_none()
    {
        return Ok(WaitlistJoin::AlreadyWaiting);
    }
    let joined = entry(connection, new.id)?;
    record(
        connection,
        &OutboxEvent::waitlist(EventType::WaitlistJoined, &joined),
        new.now,
    )?;
    Ok(WaitlistJoin::Joined(Box::new(joined)))
}

pub(crate) fn leave(connection: &Connection, id: Uuid, now: Timestamp) -> Result<WaitlistEntry, WaitlistError> {
    let params: [&dyn ToSql; 2] = [&text(id), &micros(now)];
    match query_optional(connection, sql::DECLINE_OFFER, &params, |row| row.get::<_, i64>(0))? {
        Some(slot_id) => free_seat(connection, slot_id, now)?,
        None => {
            execute(connection, sql::LEAVE_WAITLIST, &params)?;
        }
    }
    find_entry(connection, id)?.ok_or(WaitlistError::NotFound)
}

pub(crate) fn claim(connection: &Connection, claim: &WaitlistClaim) -> Result<Registration, WaitlistError> {
    let params: [&dyn ToSql; 3] = [&text(claim.entry_id), &micros(claim.now), &micros(claim.offered_after)];
    let claimed = query_optional(connection, sql::CLAIM_OFFER, &params, |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            uuid(row, 3)?,
        ))
    })?;
    let Some((person_id, webinar_id, slot_id, lead_id)) = claimed else {
        return Err(match find_entry(connection, claim.entry_id)? {
            Some(_) => WaitlistError::NoOffer,
            None => WaitlistError::NotFound,
        });
    };
    let registered = query_optional(
        connection,
        sql::CONFIRMED_REGISTRATION_OF_PERSON,
        &[&person_id, &webinar_id],
        |row| uuid(row, 0),
    )?;
    if registered.is_some() {
        return Err(WaitlistError::AlreadyRegistered);
    }
    let claimed = entry(connection, claim.entry_id)?;
    execute(
        connection,
        sql::INSERT_REGISTRATION,
        &[
            &text(claim.registration_id),
            &person_id,
            &webinar_id,
            &slot_id,
            &text(lead_id),
            &claim.manage_token.as_str(),
            &claimed.time_zone,
            &micros(claim.now),
        ],
    )?;
    execute(
        connection,
        sql::LINK_CLAIM,
        &[&text(claim.entry_id), &text(claim.registration_id)],
    )?;
    let registration = registration_by_id(connection, claim.registration_id)?;
    record(
        connection,
        &OutboxEvent::registration(EventType::RegistrationConfirmed, &registration),
        claim.now,
    )?;
    Ok(registration)
}

pub(crate) fn expire_offers(
    connection: &Connection,
    offered_by: Timestamp,
    limit: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let params: [&dyn ToSql; 3] = [&micros(now), &micros(offered_by), &limit];
    let lapsed = query_all(connection, sql::EXPIRE_OFFERS, &params, |row| {
        Ok((uuid(row, 0)?, row.get::<_, i64>(1)?))
    })?;
    for (id, slot_id) in &lapsed {
        let expired = entry(connection, *id)?;
        record(
            connection,
            &OutboxEvent::waitlist(EventType::WaitlistExpired, &expired),
            now,
        )?;
        free_seat(connection, *slot_id, now)?;
    }
    Ok(lapsed.len())
}
