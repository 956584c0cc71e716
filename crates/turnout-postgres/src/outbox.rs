//! The outbox on PostgreSQL: events, their deliveries and webhook
//! endpoints. Workers in any number of instances route and claim with
//! `FOR UPDATE SKIP LOCKED`, so none waits on another and none takes what
//! another holds; idle ones LISTEN for the trigger's notification.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::Notify;
use turnout_domain::RegistrationStatus;
use turnout_store::Constraint;
use turnout_store::columns::{json_column, parsed_column, to_json_column, zone_column};
use turnout_store::outcome::{disabled_reason, endpoint_outcomes};
use turnout_store::{
    Channel, ClaimedDelivery, ConsultationContact, Contact, Delivery, DeliveryBacklog, DeliveryFilter, DeliveryOutcome,
    EventRecord, NewDelivery, RegistrationContact, Router, StoreError, WebhookChanges, WebhookEndpoint, sql,
};
use uuid::Uuid;

use crate::{instant, optional_instant, ts};

/// The channel the outbox trigger notifies.
const CHANNEL: &str = "turnout_outbox";

/// Listens for new events on a connection of its own and wakes the
/// instance's idle worker; reconnects after a second when the connection
/// drops (the worker's slow poll covers the gap).
pub(crate) fn listen(options: PgConnectOptions, events: Arc<Notify>) {
    tokio::spawn(async move {
        let pool = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
        loop {
            match PgListener::connect_with(&pool).await {
                Ok(mut listener) => {
                    if let Err(error) = listener.listen(CHANNEL).await {
                        tracing::warn!(%error, "LISTEN failed");
                    } else {
                        // Anything written while no one listened is found by
                        // the first pass after waking.
                        events.notify_one();
                        while listener.recv().await.is_ok() {
                            events.notify_one();
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "could not connect to LISTEN for outbox events"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

fn channel(row: &PgRow, at: usize) -> Result<Channel, StoreError> {
    parsed_column(Channel::parse(row.try_get(at)?))
}

/// An event whose six columns start at `at`.
fn event_from_row(row: &PgRow, at: usize) -> Result<EventRecord, StoreError> {
    Ok(EventRecord {
        id: row.try_get(at)?,
        event_id: row.try_get(at + 1)?,
        event_type: row.try_get(at + 2)?,
        payload: row.try_get(at + 3)?,
        created_at: instant(row, at + 4)?,
        routed_at: optional_instant(row, at + 5)?,
    })
}

/// An endpoint whose ten columns start at `at`.
fn webhook_from_row(row: &PgRow, at: usize) -> Result<WebhookEndpoint, StoreError> {
    Ok(WebhookEndpoint {
        id: row.try_get(at)?,
        url: row.try_get(at + 1)?,
        description: row.try_get(at + 2)?,
        event_types: json_column(row.try_get(at + 3)?)?,
        secret: row.try_get(at + 4)?,
        enabled: row.try_get(at + 5)?,
        consecutive_failures: row.try_get(at + 6)?,
        disabled_reason: row.try_get(at + 7)?,
        created_at: instant(row, at + 8)?,
        updated_at: instant(row, at + 9)?,
    })
}

fn delivery_from_row(row: &PgRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        message_id: row.try_get(0)?,
        event_id: row.try_get(1)?,
        event_type: row.try_get(2)?,
        channel: channel(row, 3)?,
        kind: row.try_get(4)?,
        recipient: row.try_get(5)?,
        endpoint_id: row.try_get(6)?,
        status: row.try_get(7)?,
        attempts: row.try_get(8)?,
        next_attempt_at: instant(row, 9)?,
        last_error: row.try_get(10)?,
        created_at: instant(row, 11)?,
        sent_at: optional_instant(row, 12)?,
    })
}

fn claimed_from_row(row: &PgRow) -> Result<ClaimedDelivery, StoreError> {
    let endpoint = match row.try_get::<Option<Uuid>, _>(12)? {
        Some(_) => Some(webhook_from_row(row, 12)?),
        None => None,
    };
    Ok(ClaimedDelivery {
        id: row.try_get(0)?,
        message_id: row.try_get(1)?,
        channel: channel(row, 2)?,
        kind: row.try_get(3)?,
        recipient: row.try_get(4)?,
        attempt: row.try_get(5)?,
        event: event_from_row(row, 6)?,
        endpoint,
        claim: row.try_get(22)?,
    })
}

pub(crate) async fn list_events(
    pool: &PgPool,
    event_type: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRecord>, StoreError> {
    let rows = sqlx::query(sql::LIST_EVENTS)
        .bind(event_type)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(|row| event_from_row(row, 0)).collect()
}

pub(crate) async fn route_events(
    pool: &PgPool,
    router: &Arc<dyn Router>,
    limit: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(sql::UNROUTED_EVENTS_LOCKED)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let events = rows
        .iter()
        .map(|row| event_from_row(row, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let endpoints = list_webhooks(&mut tx).await?;
    let routed: Vec<(i64, NewDelivery)> = events
        .iter()
        .flat_map(|event| {
            router
                .route(event, &endpoints)
                .into_iter()
                .map(move |delivery| (event.id, delivery))
        })
        .collect();
    // Two statements, whatever the number of events: round trips are what
    // PostgreSQL work costs here.
    sqlx::query(sql::INSERT_DELIVERIES)
        .bind(routed.iter().map(|(_, d)| d.message_id).collect::<Vec<_>>())
        .bind(routed.iter().map(|(event, _)| *event).collect::<Vec<_>>())
        .bind(routed.iter().map(|(_, d)| d.channel.as_str()).collect::<Vec<_>>())
        .bind(routed.iter().map(|(_, d)| d.kind.as_str()).collect::<Vec<_>>())
        .bind(routed.iter().map(|(_, d)| d.recipient.as_str()).collect::<Vec<_>>())
        .bind(routed.iter().map(|(_, d)| d.endpoint_id).collect::<Vec<_>>())
        .bind(routed.iter().map(|(_, d)| ts(d.due_at)).collect::<Vec<_>>())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
    sqlx::query(sql::MARK_ALL_ROUTED)
        .bind(events.iter().map(|event| event.id).collect::<Vec<_>>())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(events.len())
}

pub(crate) async fn claim_deliveries(
    pool: &PgPool,
    limit: i64,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(sql::CLAIM_DUE_DELIVERIES)
        .bind(ts(now))
        .bind(limit)
        .bind(ts(lease_until))
        .fetch_all(pool)
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(sql::CLAIMED_DELIVERIES).bind(ids).fetch_all(pool).await?;
    rows.iter().map(claimed_from_row).collect()
}

pub(crate) async fn finish_deliveries(
    pool: &PgPool,
    finished: &[(ClaimedDelivery, DeliveryOutcome)],
    disable_after: i64,
    now: Timestamp,
) -> Result<Vec<bool>, StoreError> {
    let columns: Vec<_> = finished.iter().map(|(_, outcome)| outcome.columns(now)).collect();
    let mut tx = pool.begin().await?;
    let held: Vec<i64> = sqlx::query_scalar(sql::FINISH_DELIVERIES)
        .bind(finished.iter().map(|(delivery, _)| delivery.id).collect::<Vec<_>>())
        .bind(finished.iter().map(|(delivery, _)| delivery.claim).collect::<Vec<_>>())
        .bind(columns.iter().map(|c| c.status).collect::<Vec<_>>())
        .bind(columns.iter().map(|c| ts(c.next_attempt_at)).collect::<Vec<_>>())
        .bind(columns.iter().map(|c| c.last_error).collect::<Vec<_>>())
        .bind(columns.iter().map(|c| c.sent_at.map(ts)).collect::<Vec<_>>())
        .bind(columns.iter().map(|c| c.attempts_returned).collect::<Vec<_>>())
        .fetch_all(&mut *tx)
        .await?;
    let recorded: Vec<bool> = finished
        .iter()
        .map(|(delivery, _)| held.contains(&delivery.id))
        .collect();
    for (endpoint, outcome) in endpoint_outcomes(finished, &recorded) {
        count_for_endpoint(&mut tx, endpoint, outcome, disable_after, now).await?;
    }
    tx.commit().await?;
    Ok(recorded)
}

/// A webhook's outcome in its endpoint's run of failures.
async fn count_for_endpoint(
    connection: &mut PgConnection,
    endpoint: Uuid,
    outcome: &DeliveryOutcome,
    disable_after: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    match outcome {
        DeliveryOutcome::Sent => {
            sqlx::query(sql::ENDPOINT_SUCCEEDED)
                .bind(endpoint)
                .execute(connection)
                .await?;
        }
        DeliveryOutcome::Failed { .. } => {
            sqlx::query(sql::ENDPOINT_FAILED)
                .bind(endpoint)
                .bind(disable_after)
                .bind(disabled_reason(disable_after))
                .bind(ts(now))
                .execute(connection)
                .await?;
        }
        DeliveryOutcome::Skipped { .. } | DeliveryOutcome::Deferred { .. } => {}
    }
    Ok(())
}

pub(crate) async fn next_delivery_due(pool: &PgPool) -> Result<Option<Timestamp>, StoreError> {
    let due: Option<jiff_sqlx::Timestamp> = sqlx::query_scalar(sql::NEXT_DELIVERY_DUE).fetch_one(pool).await?;
    Ok(due.map(jiff_sqlx::Timestamp::to_jiff))
}

pub(crate) async fn list_deliveries(pool: &PgPool, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
    let rows = sqlx::query(sql::LIST_DELIVERIES)
        .bind(&filter.status)
        .bind(filter.channel.map(Channel::as_str))
        .bind(&filter.event_type)
        .bind(filter.endpoint_id)
        .bind(filter.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(delivery_from_row).collect()
}

pub(crate) async fn find_delivery(
    connection: &mut PgConnection,
    message_id: Uuid,
) -> Result<Option<Delivery>, StoreError> {
    let row = sqlx::query(sql::FIND_DELIVERY)
        .bind(message_id)
        .fetch_optional(connection)
        .await?;
    row.as_ref().map(delivery_from_row).transpose()
}

pub(crate) async fn retry_delivery(pool: &PgPool, message_id: Uuid, now: Timestamp) -> Result<Delivery, StoreError> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(sql::RETRY_DELIVERY)
        .bind(message_id)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let delivery = find_delivery(&mut tx, message_id).await?.ok_or(StoreError::NotFound)?;
    if changed == 0 {
        return Err(StoreError::Conflict {
            constraint: Constraint::DeliveryState(delivery.status.clone()),
        });
    }
    tx.commit().await?;
    Ok(delivery)
}

pub(crate) async fn hand_over_delivery(
    pool: &PgPool,
    message_id: Uuid,
    from: Channel,
    to: Channel,
    undelivered: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let made = sqlx::query(sql::HAND_OVER_DELIVERY)
        .bind(message_id)
        .bind(Uuid::now_v7())
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected()
        > 0;
    if let Some(reason) = undelivered {
        sqlx::query(sql::UNDELIVERED_AFTER_ALL)
            .bind(message_id)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(made)
}

pub(crate) async fn delivery_backlog(pool: &PgPool, now: Timestamp) -> Result<DeliveryBacklog, StoreError> {
    let due = sqlx::query(sql::DELIVERY_BACKLOG).bind(ts(now)).fetch_one(pool).await?;
    let unrouted = sqlx::query(sql::UNROUTED_BACKLOG).fetch_one(pool).await?;
    Ok(DeliveryBacklog {
        due: due.try_get(0)?,
        oldest_due_at: optional_instant(&due, 1)?,
        unrouted: unrouted.try_get(0)?,
        oldest_unrouted_at: optional_instant(&unrouted, 1)?,
    })
}

pub(crate) async fn create_webhook(pool: &PgPool, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_WEBHOOK)
        .bind(endpoint.id)
        .bind(&endpoint.url)
        .bind(&endpoint.description)
        .bind(to_json_column(&endpoint.event_types))
        .bind(&endpoint.secret)
        .bind(ts(endpoint.created_at))
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn list_webhooks(connection: &mut PgConnection) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let rows = sqlx::query(sql::LIST_WEBHOOKS).fetch_all(connection).await?;
    rows.iter().map(|row| webhook_from_row(row, 0)).collect()
}

pub(crate) async fn find_webhook(
    connection: &mut PgConnection,
    id: Uuid,
) -> Result<Option<WebhookEndpoint>, StoreError> {
    let row = sqlx::query(sql::FIND_WEBHOOK)
        .bind(id)
        .fetch_optional(connection)
        .await?;
    row.as_ref().map(|row| webhook_from_row(row, 0)).transpose()
}

pub(crate) async fn update_webhook(
    pool: &PgPool,
    id: Uuid,
    changes: &WebhookChanges,
    now: Timestamp,
) -> Result<WebhookEndpoint, StoreError> {
    let mut tx = pool.begin().await?;
    let changed = sqlx::query(sql::UPDATE_WEBHOOK)
        .bind(id)
        .bind(&changes.url)
        .bind(&changes.description)
        .bind(changes.event_types.as_ref().map(to_json_column))
        .bind(changes.enabled)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
    if changed.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let endpoint = find_webhook(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
    tx.commit().await?;
    Ok(endpoint)
}

pub(crate) async fn delete_webhook(pool: &PgPool, id: Uuid) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query(sql::SKIP_WEBHOOK_DELIVERIES)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query(sql::DELETE_WEBHOOK).bind(id).execute(&mut *tx).await?;
    if deleted.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn replay_webhook(
    pool: &PgPool,
    id: Uuid,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    if find_webhook(&mut tx, id).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let replayed = sqlx::query(sql::REPLAY_WEBHOOK)
        .bind(id)
        .bind(since.map(ts))
        .bind(ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(replayed)
}

/// A contact whose six columns start at `at`.
fn contact_from_row(row: &PgRow, at: usize) -> Result<Contact, StoreError> {
    Ok(Contact {
        name: row.try_get(at)?,
        email: row.try_get(at + 1)?,
        phone: row.try_get(at + 2)?,
        email_consent: row.try_get(at + 3)?,
        sms_consent: row.try_get(at + 4)?,
        whatsapp_consent: row.try_get(at + 5)?,
    })
}

pub(crate) async fn registration_contact(pool: &PgPool, id: Uuid) -> Result<Option<RegistrationContact>, StoreError> {
    let row = sqlx::query(sql::REGISTRATION_CONTACT)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(RegistrationContact {
            status: parsed_column(RegistrationStatus::parse(row.try_get(0)?))?,
            sequence: row.try_get(1)?,
            starts_at: instant(&row, 2)?,
            person: contact_from_row(&row, 3)?,
        })
    })
    .transpose()
}

pub(crate) async fn consultation_contact(pool: &PgPool, id: Uuid) -> Result<Option<ConsultationContact>, StoreError> {
    let row = sqlx::query(sql::CONSULTATION_CONTACT)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(ConsultationContact {
            advisor_id: row.try_get(9)?,
            starts_at: instant(&row, 10)?,
            visitor: contact_from_row(&row, 0)?,
            advisor_name: row.try_get(6)?,
            advisor_email: row.try_get(7)?,
            advisor_time_zone: zone_column(row.try_get(8)?)?,
        })
    })
    .transpose()
}

pub(crate) async fn ensure_setting(pool: &PgPool, key: &str, value: &str) -> Result<String, StoreError> {
    sqlx::query(sql::ENSURE_SETTING)
        .bind(key)
        .bind(value)
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar(sql::GET_SETTING).bind(key).fetch_one(pool).await?)
}
