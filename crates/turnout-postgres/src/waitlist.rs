//! Waiting lists on PostgreSQL. Transactions run at once here, so each
//! that frees a seat or takes a place locks the slot's row first, and a
//! freed seat picks the first place no other transaction is offering
//! (`FOR UPDATE SKIP LOCKED`): two seats freed together go to two people.

use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use turnout_domain::{SlotStatus, Slug, WebinarStatus};
use turnout_store::columns::parsed_column;
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::{
    LeadKey, NewWaitlistEntry, Registration, StoreError, WaitlistClaim, WaitlistEntry, WaitlistError, WaitlistJoin,
    WaitlistStatus, WebinarRef, sql,
};
use uuid::Uuid;

use crate::{instant, optional_instant, record, registration_by_id, slot_from_row, ts};

fn entry_from_row(row: &PgRow) -> Result<WaitlistEntry, StoreError> {
    let status = parsed_column(WaitlistStatus::parse(row.try_get(1)?))?;
    let position: i64 = row.try_get(14)?;
    Ok(WaitlistEntry {
        id: row.try_get(0)?,
        status,
        position: (status == WaitlistStatus::Waiting).then_some(position),
        offered_at: optional_instant(row, 2)?,
        registration_id: row.try_get(3)?,
        created_at: instant(row, 4)?,
        slot_id: row.try_get(5)?,
        starts_at: instant(row, 6)?,
        webinar: WebinarRef {
            id: row.try_get(7)?,
            slug: parsed_column(Slug::parse(row.try_get(8)?))?,
            title: row.try_get(9)?,
            duration_minutes: row.try_get(10)?,
        },
        name: row.try_get(11)?,
        email: row.try_get(12)?,
        time_zone: row.try_get(13)?,
        phone: row.try_get(15)?,
        sms_consent: row.try_get(16)?,
    })
}

pub(crate) async fn find_entry(connection: &mut PgConnection, id: Uuid) -> Result<Option<WaitlistEntry>, StoreError> {
    let row = sqlx::query(sql::FIND_WAITLIST_ENTRY)
        .bind(id)
        .fetch_optional(connection)
        .await?;
    row.as_ref().map(entry_from_row).transpose()
}

pub(crate) async fn list(pool: &PgPool, slot_id: i64) -> Result<Vec<WaitlistEntry>, StoreError> {
    let rows = sqlx::query(sql::LIST_WAITLIST).bind(slot_id).fetch_all(pool).await?;
    rows.iter().map(entry_from_row).collect()
}

async fn entry(connection: &mut PgConnection, id: Uuid) -> Result<WaitlistEntry, StoreError> {
    find_entry(connection, id).await?.ok_or(StoreError::NotFound)
}

async fn lock_slot(connection: &mut PgConnection, slot_id: i64) -> Result<(), StoreError> {
    sqlx::query(sql::LOCK_SLOT_POSTGRES)
        .bind(slot_id)
        .fetch_optional(connection)
        .await?;
    Ok(())
}

/// Whether the slot takes registrations now.
async fn bookable(connection: &mut PgConnection, slot_id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let row = sqlx::query(sql::FIND_SLOT_FOR_REGISTRATION)
        .bind(slot_id)
        .fetch_optional(connection)
        .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let slot = slot_from_row(&row, 0)?;
    let published = row.try_get::<&str, _>(9)? == WebinarStatus::Published.as_str();
    Ok(published && slot.status == SlotStatus::Open && slot.starts_at > now)
}

async fn release_seat(connection: &mut PgConnection, slot_id: i64, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query(sql::RELEASE_SEAT)
        .bind(slot_id)
        .bind(ts(now))
        .execute(connection)
        .await?;
    Ok(())
}

/// Offers slot `slot_id`'s held seat to the first in line; whether anyone
/// was.
async fn offer_next(connection: &mut PgConnection, slot_id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let offered: Option<Uuid> = sqlx::query_scalar(sql::OFFER_NEXT_POSTGRES)
        .bind(slot_id)
        .bind(ts(now))
        .fetch_optional(&mut *connection)
        .await?;
    match offered {
        Some(id) => {
            let offered = entry(connection, id).await?;
            record(
                connection,
                &OutboxEvent::waitlist(EventType::WaitlistOffered, &offered),
                now,
            )
            .await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// A seat freed in `slot_id` (a cancel, a move away, a declined or lapsed
/// offer): it goes to the first in line while the slot takes
/// registrations, and back to the slot otherwise.
pub(crate) async fn free_seat(connection: &mut PgConnection, slot_id: i64, now: Timestamp) -> Result<(), StoreError> {
    lock_slot(connection, slot_id).await?;
    if bookable(connection, slot_id, now).await? && offer_next(connection, slot_id, now).await? {
        return Ok(());
    }
    release_seat(connection, slot_id, now).await
}

/// Seats a slot has to spare (more capacity, reopened) go to whoever waits
/// for it, one held seat per offer.
pub(crate) async fn offer_spare_seats(
    connection: &mut PgConnection,
    slot_id: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    lock_slot(connection, slot_id).await?;
    loop {
        let taken = sqlx::query(sql::TAKE_SEAT)
            .bind(slot_id)
            .bind(ts(now))
            .bind(ts(now))
            .fetch_optional(&mut *connection)
            .await?;
        if taken.is_none() {
            return Ok(());
        }
        if !offer_next(connection, slot_id, now).await? {
            return release_seat(connection, slot_id, now).await;
        }
    }
}

/// The person and webinar of a lead.
async fn find_lead(connection: &mut PgConnection, key: &LeadKey) -> Result<Option<(i64, i64)>, StoreError> {
    let row = sqlx::query(sql::FIND_LEAD)
        .bind(key.id)
        .bind(key.token.as_str())
        .fetch_optional(connection)
        .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
}

async fn registered(connection: &mut PgConnection, person_id: i64, webinar_id: i64) -> Result<bool, StoreError> {
    let existing: Option<Uuid> = sqlx::query_scalar(sql::CONFIRMED_REGISTRATION_OF_PERSON)
        .bind(person_id)
        .bind(webinar_id)
        .fetch_optional(connection)
        .await?;
    Ok(existing.is_some())
}

pub(crate) async fn join(pool: &PgPool, new: &NewWaitlistEntry) -> Result<WaitlistJoin, WaitlistError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    lock_slot(&mut tx, new.slot_id).await?;
    let row = sqlx::query(sql::FIND_SLOT_FOR_REGISTRATION)
        .bind(new.slot_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?
        .ok_or(WaitlistError::SlotNotFound)?;
    let slot = slot_from_row(&row, 0)?;
    let published = row.try_get::<&str, _>(9).map_err(StoreError::from)? == WebinarStatus::Published.as_str();
    let (person_id, webinar_id) = find_lead(&mut tx, &new.lead)
        .await?
        .ok_or(WaitlistError::LeadNotFound)?;
    if slot.webinar_id != webinar_id {
        return Err(WaitlistError::SlotInOtherWebinar);
    }
    if !published || slot.status != SlotStatus::Open || slot.starts_at <= new.now {
        return Err(WaitlistError::SlotClosed);
    }
    if slot.seats_taken < slot.capacity {
        return Err(WaitlistError::SlotHasSeats);
    }
    if registered(&mut tx, person_id, webinar_id).await? {
        return Ok(WaitlistJoin::AlreadyWaiting);
    }
    let inserted: Option<Uuid> = sqlx::query_scalar(sql::INSERT_WAITLIST_ENTRY)
        .bind(new.id)
        .bind(new.slot_id)
        .bind(webinar_id)
        .bind(person_id)
        .bind(new.lead.id)
        .bind(ts(new.now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    if inserted.is_none() {
        return Ok(WaitlistJoin::AlreadyWaiting);
    }
    let joined = entry(&mut tx, new.id).await?;
    record(
        &mut tx,
        &OutboxEvent::waitlist(EventType::WaitlistJoined, &joined),
        new.now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(WaitlistJoin::Joined(Box::new(joined)))
}

pub(crate) async fn leave(pool: &PgPool, id: Uuid, now: Timestamp) -> Result<WaitlistEntry, WaitlistError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let declined: Option<i64> = sqlx::query_scalar(sql::DECLINE_OFFER)
        .bind(id)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    match declined {
        Some(slot_id) => free_seat(&mut tx, slot_id, now).await?,
        None => {
            sqlx::query(sql::LEAVE_WAITLIST)
                .bind(id)
                .bind(ts(now))
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
    }
    let left = find_entry(&mut tx, id).await?.ok_or(WaitlistError::NotFound)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(left)
}

pub(crate) async fn claim(pool: &PgPool, claim: &WaitlistClaim) -> Result<Registration, WaitlistError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let claimed = sqlx::query(sql::CLAIM_OFFER)
        .bind(claim.entry_id)
        .bind(ts(claim.now))
        .bind(ts(claim.offered_after))
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let Some(row) = claimed else {
        return Err(match find_entry(&mut tx, claim.entry_id).await? {
            Some(_) => WaitlistError::NoOffer,
            None => WaitlistError::NotFound,
        });
    };
    let person_id: i64 = row.try_get(0).map_err(StoreError::from)?;
    let webinar_id: i64 = row.try_get(1).map_err(StoreError::from)?;
    let slot_id: i64 = row.try_get(2).map_err(StoreError::from)?;
    let lead_id: Uuid = row.try_get(3).map_err(StoreError::from)?;
    if registered(&mut tx, person_id, webinar_id).await? {
        return Err(WaitlistError::AlreadyRegistered);
    }
    let claimed = entry(&mut tx, claim.entry_id).await?;
    sqlx::query(sql::INSERT_REGISTRATION)
        .bind(claim.registration_id)
        .bind(person_id)
        .bind(webinar_id)
        .bind(slot_id)
        .bind(lead_id)
        .bind(claim.manage_token.as_str())
        .bind(&claimed.time_zone)
        .bind(ts(claim.now))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    sqlx::query(sql::LINK_CLAIM)
        .bind(claim.entry_id)
        .bind(claim.registration_id)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let registration = registration_by_id(&mut tx, claim.registration_id).await?;
    record(
        &mut tx,
        &OutboxEvent::registration(EventType::RegistrationConfirmed, &registration),
        claim.now,
    )
    .await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(registration)
}

pub(crate) async fn expire_offers(
    pool: &PgPool,
    offered_by: Timestamp,
    limit: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(sql::EXPIRE_OFFERS)
        .bind(ts(now))
        .bind(ts(offered_by))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    for row in &rows {
        let id: Uuid = row.try_get(0)?;
        let slot_id: i64 = row.try_get(1)?;
        let expired = entry(&mut tx, id).await?;
        record(
            &mut tx,
            &OutboxEvent::waitlist(EventType::WaitlistExpired, &expired),
            now,
        )
        .await?;
        free_seat(&mut tx, slot_id, now).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}
