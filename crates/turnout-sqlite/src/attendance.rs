//! Attendance on SQLite: marked by hand or from a report, settled after the
//! slot from join-link openings. Runs inside the writer's transaction.

use std::collections::HashSet;

use jiff::Timestamp;
use rusqlite::Connection;
use rusqlite::types::ToSql;
use turnout_domain::RegistrationStatus;
use turnout_store::events::{EventType, OutboxEvent};
use turnout_store::{AttendanceError, AttendanceMarked, AttendanceMarking, Attendee, SlotAttendance, StoreError, sql};
use uuid::Uuid;

use crate::db::{execute, parsed, query_all, query_optional};
use crate::{find_slot, instant, micros, record, registration_by_id, uuid};

/// The registration of the slot an attendee names, with its status.
fn find_attendee(
    connection: &Connection,
    slot_id: i64,
    attendee: &Attendee,
) -> Result<Option<(Uuid, RegistrationStatus)>, StoreError> {
    let row = |row: &rusqlite::Row<'_>| Ok((uuid(row, 0)?, parsed(row, 1, RegistrationStatus::parse)?));
    match attendee {
        Attendee::Registration(id) => {
            let params: [&dyn ToSql; 2] = [&slot_id, &id.hyphenated().to_string()];
            query_optional(connection, sql::FIND_ATTENDEE_BY_ID, &params, row)
        }
        Attendee::Email(email) => {
            let params: [&dyn ToSql; 2] = [&slot_id, email];
            query_optional(connection, sql::FIND_ATTENDEE_BY_EMAIL, &params, row)
        }
    }
}

pub(crate) fn mark_attendance(
    connection: &Connection,
    marking: &AttendanceMarking,
    now: Timestamp,
) -> Result<AttendanceMarked, AttendanceError> {
    let slot = find_slot(connection, marking.slot_id)?.ok_or(AttendanceError::SlotNotFound)?;
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
            let found = find_attendee(connection, marking.slot_id, attendee)?;
            let Some((id, current)) = found.filter(|(_, current)| *current != RegistrationStatus::Cancelled) else {
                marked.unmatched.push(attendee.clone());
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            let params: [&dyn ToSql; 4] = [
                &id.hyphenated().to_string(),
                &status.as_str(),
                &marking.source.as_str(),
                &micros(now),
            ];
            if current != status && execute(connection, sql::MARK_ATTENDANCE, &params)? == 1 {
                let registration = registration_by_id(connection, id)?;
                record(
                    connection,
                    &OutboxEvent::registration(EventType::attendance(status), &registration),
                    now,
                )?;
                marked.changed.push((id, status));
            } else {
                marked.unchanged.push(id);
            }
        }
    }
    Ok(marked)
}

pub(crate) fn settle_attendance(
    connection: &Connection,
    ended_by: Timestamp,
    limit: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let params: [&dyn ToSql; 3] = [&micros(ended_by), &micros(now), &limit];
    let settled = query_all(connection, sql::SETTLE_ATTENDANCE_SQLITE, &params, |row| uuid(row, 0))?;
    for id in &settled {
        let registration = registration_by_id(connection, *id)?;
        let event = OutboxEvent::registration(EventType::attendance(registration.status), &registration);
        record(connection, &event, now)?;
    }
    Ok(settled.len())
}

pub(crate) fn attendance_counts(connection: &Connection, webinar_id: i64) -> Result<Vec<SlotAttendance>, StoreError> {
    query_all(connection, sql::ATTENDANCE_COUNTS, &[&webinar_id], |row| {
        Ok(SlotAttendance {
            slot_id: row.get(0)?,
            starts_at: instant(row, 1)?,
            confirmed: row.get(2)?,
            attended: row.get(3)?,
            no_show: row.get(4)?,
            cancelled: row.get(5)?,
        })
    })
}
