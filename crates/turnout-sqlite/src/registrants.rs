//! The admin's registrant list and export on SQLite.

use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};
use turnout_domain::{RegistrationStatus, Slug};
use turnout_store::{Registrant, RegistrantFilter, StoreError, sql};

use crate::db::{parsed, query_all, query_one};
use crate::{instant, micros, optional_instant, uuid};

fn registrant_from_row(row: &Row<'_>) -> rusqlite::Result<Registrant> {
    Ok(Registrant {
        registration_id: uuid(row, 0)?,
        status: parsed(row, 1, RegistrationStatus::parse)?,
        webinar_slug: parsed(row, 2, Slug::parse)?,
        webinar_title: row.get(3)?,
        slot_id: row.get(4)?,
        starts_at: instant(row, 5)?,
        name: row.get(6)?,
        email: row.get(7)?,
        phone: row.get(8)?,
        country: row.get(9)?,
        time_zone: row.get(10)?,
        utm_source: row.get(11)?,
        utm_medium: row.get(12)?,
        utm_campaign: row.get(13)?,
        created_at: instant(row, 14)?,
        cancelled_at: optional_instant(row, 15)?,
        joins: row.get(16)?,
        first_joined_at: optional_instant(row, 17)?,
        last_joined_at: optional_instant(row, 18)?,
    })
}

/// The filter's eight parameters, in the order `sql::registrants_matching!`
/// numbers them, as owned values.
struct Params {
    webinar: Option<String>,
    slot_id: Option<i64>,
    status: Option<&'static str>,
    joined: Option<&'static str>,
    created_from: Option<i64>,
    created_before: Option<i64>,
    utm_source: Option<String>,
    after: Option<String>,
}

impl Params {
    fn of(filter: &RegistrantFilter) -> Self {
        Self {
            webinar: filter.webinar.as_ref().map(|slug| slug.as_str().to_owned()),
            slot_id: filter.slot_id,
            status: filter.status.map(RegistrationStatus::as_str),
            joined: filter.joined.map(|joined| if joined { "joined" } else { "not_joined" }),
            created_from: filter.created_from.map(micros),
            created_before: filter.created_before.map(micros),
            utm_source: filter.utm_source.clone(),
            after: filter.after.map(|id| id.hyphenated().to_string()),
        }
    }

    fn bound(&self) -> [&dyn ToSql; 8] {
        [
            &self.webinar,
            &self.slot_id,
            &self.status,
            &self.joined,
            &self.created_from,
            &self.created_before,
            &self.utm_source,
            &self.after,
        ]
    }
}

pub(crate) fn list_registrants(
    connection: &Connection,
    filter: &RegistrantFilter,
) -> Result<Vec<Registrant>, StoreError> {
    let params = Params::of(filter);
    let [a, b, c, d, e, f, g, h] = params.bound();
    let bound: [&dyn ToSql; 9] = [a, b, c, d, e, f, g, h, &filter.limit];
    query_all(connection, sql::LIST_REGISTRANTS, &bound, registrant_from_row)
}

pub(crate) fn count_registrants(connection: &Connection, filter: &RegistrantFilter) -> Result<i64, StoreError> {
    let params = Params::of(filter);
    query_one(connection, sql::COUNT_REGISTRANTS, &params.bound(), |row| row.get(0))
}
