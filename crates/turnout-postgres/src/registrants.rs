//! The admin's registrant list and export on PostgreSQL.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use turnout_domain::{RegistrationStatus, Slug};
use turnout_store::columns::parsed_column;
use turnout_store::{Registrant, RegistrantFilter, StoreError, sql};

use crate::{instant, optional_instant, ts};

fn registrant_from_row(row: &PgRow) -> Result<Registrant, StoreError> {
    Ok(Registrant {
        registration_id: row.try_get(0)?,
        status: parsed_column(RegistrationStatus::parse(row.try_get(1)?))?,
        webinar_slug: parsed_column(Slug::parse(row.try_get(2)?))?,
        webinar_title: row.try_get(3)?,
        slot_id: row.try_get(4)?,
        starts_at: instant(row, 5)?,
        name: row.try_get(6)?,
        email: row.try_get(7)?,
        phone: row.try_get(8)?,
        country: row.try_get(9)?,
        time_zone: row.try_get(10)?,
        utm_source: row.try_get(11)?,
        utm_medium: row.try_get(12)?,
        utm_campaign: row.try_get(13)?,
        created_at: instant(row, 14)?,
        cancelled_at: optional_instant(row, 15)?,
        joins: i64::from(row.try_get::<i32, _>(16)?),
        first_joined_at: optional_instant(row, 17)?,
        last_joined_at: optional_instant(row, 18)?,
    })
}

/// `query` with the filter's eight parameters bound, in the order
/// `sql::registrants_matching!` numbers them.
fn bind_filter<'q>(
    query: Query<'q, Postgres, PgArguments>,
    filter: &'q RegistrantFilter,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(filter.webinar.as_ref().map(Slug::as_str))
        .bind(filter.slot_id)
        .bind(filter.status.map(RegistrationStatus::as_str))
        .bind(filter.joined.map(|joined| if joined { "joined" } else { "not_joined" }))
        .bind(filter.created_from.map(ts))
        .bind(filter.created_before.map(ts))
        .bind(filter.utm_source.as_deref())
        .bind(filter.after)
}

pub(crate) async fn list_registrants(pool: &PgPool, filter: &RegistrantFilter) -> Result<Vec<Registrant>, StoreError> {
    let rows = bind_filter(sqlx::query(sql::LIST_REGISTRANTS), filter)
        .bind(filter.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(registrant_from_row).collect()
}

pub(crate) async fn count_registrants(pool: &PgPool, filter: &RegistrantFilter) -> Result<i64, StoreError> {
    let row = bind_filter(sqlx::query(sql::COUNT_REGISTRANTS), filter)
        .fetch_one(pool)
        .await?;
    Ok(row.try_get(0)?)
}
