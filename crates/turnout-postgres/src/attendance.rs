//! Attendance on PostgreSQL: marked by hand or from a report, settled after
//! the slot from join-link openings, each in one transaction.

use std::collections::HashSet;

use jiff::Timestamp;
use sqlx::{PgConnection, PgPool, Row};
use turnout_domain::RegistrationStatus;
use turnout_store::columns::parsed_column;
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::{AttendanceError, AttendanceMarked, AttendanceMarking, Attendee, SlotAttendance, StoreError, sql};
use uuid::Uuid;

use crate::{find_slot, instant, record, registration_by_id, ts};

/// The registration of the slot an attendee names, with its status.
async fn find_attendee(
    connection: &mut PgConnection,
    slot_id: i64,
    attendee: &Attendee,
) -> Result<Option<(Uuid, RegistrationStatus)>, StoreError> {
    let row = match attendee {
        Attendee::Registration(id) => {
            sqlx::query(sql::FIND_ATTENDEE_BY_ID)
                .bind(slot_id)
                .bind(id)
                .fetch_optional(connection)
                .await?
        }
        Attendee::Email(email) => {
            sqlx::query(sql::FIND_ATTENDEE_BY_EMAIL)
                .bind(slot_id)
                .bind(email)
                .fetch_optional(connection)
                .await?
        }
    };
    row.map(|row| {
        Ok((
            row.try_get(0)?,
            parsed_column(RegistrationStatus::parse(row.try_get(1)?))?,
        ))
    })
    .transpose()
}

pub(crate) async fn mark_attendance(
    pool: &PgPool,
    marking: &AttendanceMarking,
    now: Timestamp,
) -> Result<AttendanceMarked, AttendanceError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let slot = find_slot(&mut tx, marking.slot_id)
        .await?
        .ok_or(AttendanceError::SlotNotFound)?;
    if slot.starts_at > now {
        return Err(AttendanceError::NotStarted);
    }
    let mut marked = AttendanceMarked::default();
    let mut seen = HashSet::new();
    let lists = [
        (RegistrationStatus::Attended, &marking.attended),
        (RegistrationStatus::NoShow, &marking.no_show),
    ];
    for (status, attendees) in lists {
        for attendee in attendees {
            let found = find_attendee(&mut tx, marking.slot_id, attendee).await?;
            let Some((id, current)) = found.filter(|(_, current)| *current != RegistrationStatus::Cancelled) else {
                marked.unmatched.push(attendee.clone());
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            let changed = current != status
                && sqlx::query(sql::MARK_ATTENDANCE)
                    .bind(id)
                    .bind(status.as_str())
                    .bind(marking.source.as_str())
                    .bind(ts(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from)?
                    .rows_affected()
                    == 1;
            if changed {
                let registration = registration_by_id(&mut tx, id).await?;
                record(
                    &mut tx,
                    &OutboxEvent::registration(EventType::attendance(status), &registration),
                    now,
                )
                .await?;
                marked.changed.push((id, status));
            } else {
                marked.unchanged.push(id);
            }
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(marked)
}

pub(crate) async fn settle_attendance(
    pool: &PgPool,
    ended_by: Timestamp,
    limit: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await?;
    let settled: Vec<Uuid> = sqlx::query_scalar(sql::SETTLE_ATTENDANCE_POSTGRES)
        .bind(ts(ended_by))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    for id in &settled {
        let registration = registration_by_id(&mut tx, *id).await?;
        let event = OutboxEvent::registration(EventType::attendance(registration.status), &registration);
        record(&mut tx, &event, now).await?;
    }
    tx.commit().await?;
    Ok(settled.len())
}

pub(crate) async fn attendance_counts(pool: &PgPool, webinar_id: i64) -> Result<Vec<SlotAttendance>, StoreError> {
    let rows = sqlx::query(sql::ATTENDANCE_COUNTS)
        .bind(webinar_id)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(SlotAttendance {
                slot_id: row.try_get(0)?,
                starts_at: instant(row, 1)?,
                confirmed: row.try_get(2)?,
                attended: row.try_get(3)?,
                no_show: row.try_get(4)?,
                cancelled: row.try_get(5)?,
            })
        })
        .collect()
}
