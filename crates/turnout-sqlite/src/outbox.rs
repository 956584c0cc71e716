//! The outbox on SQLite: events, their deliveries and webhook endpoints.
//! Claims need no row locks here: every claim is a write, and writes take
//! turns on the one writer connection, so two workers (even in two
//! processes) cannot claim the same delivery.

use std::sync::Arc;

use jiff::Timestamp;
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};
use turnout_domain::{RegistrationStatus, TimeZone};
use turnout_store::Constraint;
use turnout_store::columns::to_json_column;
use turnout_store::outcome::{disabled_reason, endpoint_outcomes};
use turnout_store::{
    Channel, ClaimedDelivery, ConsultationContact, Contact, Delivery, DeliveryBacklog, DeliveryFilter, DeliveryOutcome,
    EventRecord, RegistrationContact, Router, StoreError, WebhookChanges, WebhookEndpoint, sql,
};
use uuid::Uuid;

use crate::db::{execute, parsed, query_all, query_one, query_optional};
use crate::{instant, json, micros, optional_instant, uuid};

fn text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

fn optional_uuid(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<Uuid>> {
    match row.get_ref(index)?.as_str_or_null()? {
        Some(_) => uuid(row, index).map(Some),
        None => Ok(None),
    }
}

fn channel(row: &Row<'_>, index: usize) -> rusqlite::Result<Channel> {
    parsed(row, index, Channel::parse)
}

/// An event whose six columns start at `at`.
fn event_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: row.get(at)?,
        event_id: uuid(row, at + 1)?,
        event_type: row.get(at + 2)?,
        payload: row.get(at + 3)?,
        created_at: instant(row, at + 4)?,
        routed_at: optional_instant(row, at + 5)?,
    })
}

/// An endpoint whose ten columns start at `at`.
fn webhook_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<WebhookEndpoint> {
    Ok(WebhookEndpoint {
        id: uuid(row, at)?,
        url: row.get(at + 1)?,
        description: row.get(at + 2)?,
        event_types: json(row, at + 3)?,
        secret: row.get(at + 4)?,
        enabled: row.get(at + 5)?,
        consecutive_failures: row.get(at + 6)?,
        disabled_reason: row.get(at + 7)?,
        created_at: instant(row, at + 8)?,
        updated_at: instant(row, at + 9)?,
    })
}

pub(crate) fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        message_id: uuid(row, 0)?,
        event_id: uuid(row, 1)?,
        event_type: row.get(2)?,
        channel: channel(row, 3)?,
        kind: row.get(4)?,
        recipient: row.get(5)?,
        endpoint_id: optional_uuid(row, 6)?,
        status: row.get(7)?,
        attempts: row.get(8)?,
        next_attempt_at: instant(row, 9)?,
        last_error: row.get(10)?,
        created_at: instant(row, 11)?,
        sent_at: optional_instant(row, 12)?,
    })
}

pub(crate) fn list_events(
    connection: &Connection,
    event_type: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRecord>, StoreError> {
    let params: [&dyn ToSql; 2] = [&event_type, &limit];
    query_all(connection, sql::LIST_EVENTS, &params, |row| event_from_row(row, 0))
}

pub(crate) fn route_events(
    connection: &Connection,
    router: &Arc<dyn Router>,
    limit: i64,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let events = query_all(connection, sql::UNROUTED_EVENTS, &[&limit], |row| {
        event_from_row(row, 0)
    })?;
    if events.is_empty() {
        return Ok(0);
    }
    let endpoints = list_webhooks(connection)?;
    for event in &events {
        for delivery in router.route(event, &endpoints) {
            let params: [&dyn ToSql; 8] = [
                &text(delivery.message_id),
                &event.id,
                &delivery.channel.as_str(),
                &delivery.kind,
                &delivery.recipient,
                &delivery.endpoint_id.map(text),
                &micros(delivery.due_at),
                &micros(now),
            ];
            execute(connection, sql::INSERT_DELIVERY, &params)?;
        }
        let params: [&dyn ToSql; 2] = [&event.id, &micros(now)];
        execute(connection, sql::MARK_ROUTED, &params)?;
    }
    Ok(events.len())
}

pub(crate) fn claim_deliveries(
    connection: &Connection,
    limit: i64,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Vec<ClaimedDelivery>, StoreError> {
    let params: [&dyn ToSql; 2] = [&micros(now), &limit];
    let ids: Vec<i64> = query_all(connection, sql::DUE_DELIVERIES, &params, |row| row.get(0))?;
    let mut claimed = Vec::with_capacity(ids.len());
    for id in ids {
        let params: [&dyn ToSql; 2] = [&id, &micros(lease_until)];
        execute(connection, sql::CLAIM_DELIVERY, &params)?;
        claimed.push(query_one(connection, sql::CLAIMED_DELIVERY, &[&id], claimed_from_row)?);
    }
    Ok(claimed)
}

fn claimed_from_row(row: &Row<'_>) -> rusqlite::Result<ClaimedDelivery> {
    let endpoint = match row.get_ref(12)?.as_str_or_null()? {
        Some(_) => Some(webhook_from_row(row, 12)?),
        None => None,
    };
    Ok(ClaimedDelivery {
        id: row.get(0)?,
        message_id: uuid(row, 1)?,
        channel: channel(row, 2)?,
        kind: row.get(3)?,
        recipient: row.get(4)?,
        attempt: row.get(5)?,
        event: event_from_row(row, 6)?,
        endpoint,
        claim: row.get(22)?,
    })
}

pub(crate) fn finish_deliveries(
    connection: &Connection,
    finished: &[(ClaimedDelivery, DeliveryOutcome)],
    disable_after: i64,
    now: Timestamp,
) -> Result<Vec<bool>, StoreError> {
    let mut recorded = Vec::with_capacity(finished.len());
    for (delivery, outcome) in finished {
        let columns = outcome.columns(now);
        let params: [&dyn ToSql; 7] = [
            &delivery.id,
            &delivery.claim,
            &columns.status,
            &micros(columns.next_attempt_at),
            &columns.last_error,
            &columns.sent_at.map(micros),
            &columns.attempts_returned,
        ];
        recorded.push(execute(connection, sql::FINISH_DELIVERY, &params)? == 1);
    }
    for (endpoint, outcome) in endpoint_outcomes(finished, &recorded) {
        count_for_endpoint(connection, endpoint, outcome, disable_after, now)?;
    }
    Ok(recorded)
}

/// A webhook's outcome in its endpoint's run of failures.
fn count_for_endpoint(
    connection: &Connection,
    endpoint: Uuid,
    outcome: &DeliveryOutcome,
    disable_after: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    let id = text(endpoint);
    match outcome {
        DeliveryOutcome::Sent => {
            execute(connection, sql::ENDPOINT_SUCCEEDED, &[&id])?;
        }
        DeliveryOutcome::Failed { .. } => {
            let reason = disabled_reason(disable_after);
            let params: [&dyn ToSql; 4] = [&id, &disable_after, &reason, &micros(now)];
            execute(connection, sql::ENDPOINT_FAILED, &params)?;
        }
        DeliveryOutcome::Skipped { .. } | DeliveryOutcome::Deferred { .. } => {}
    }
    Ok(())
}

pub(crate) fn next_delivery_due(connection: &Connection) -> Result<Option<Timestamp>, StoreError> {
    query_one(connection, sql::NEXT_DELIVERY_DUE, &[], |row| optional_instant(row, 0))
}

pub(crate) fn list_deliveries(connection: &Connection, filter: &DeliveryFilter) -> Result<Vec<Delivery>, StoreError> {
    let params: [&dyn ToSql; 5] = [
        &filter.status,
        &filter.channel.map(Channel::as_str),
        &filter.event_type,
        &filter.endpoint_id.map(text),
        &filter.limit,
    ];
    query_all(connection, sql::LIST_DELIVERIES, &params, delivery_from_row)
}

pub(crate) fn find_delivery(connection: &Connection, message_id: Uuid) -> Result<Option<Delivery>, StoreError> {
    query_optional(connection, sql::FIND_DELIVERY, &[&text(message_id)], delivery_from_row)
}

pub(crate) fn retry_delivery(
    connection: &Connection,
    message_id: Uuid,
    now: Timestamp,
) -> Result<Delivery, StoreError> {
    let params: [&dyn ToSql; 2] = [&text(message_id), &micros(now)];
    let changed = execute(connection, sql::RETRY_DELIVERY, &params)?;
    let delivery = find_delivery(connection, message_id)?.ok_or(StoreError::NotFound)?;
    if changed == 0 {
        return Err(StoreError::Conflict {
            constraint: Constraint::DeliveryState(delivery.status.clone()),
        });
    }
    Ok(delivery)
}

pub(crate) fn hand_over_delivery(
    connection: &Connection,
    message_id: Uuid,
    from: Channel,
    to: Channel,
    undelivered: Option<&str>,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let params: [&dyn ToSql; 5] = [
        &text(message_id),
        &text(Uuid::now_v7()),
        &from.as_str(),
        &to.as_str(),
        &micros(now),
    ];
    let made = execute(connection, sql::HAND_OVER_DELIVERY, &params)? > 0;
    if let Some(reason) = undelivered {
        let params: [&dyn ToSql; 2] = [&text(message_id), &reason];
        execute(connection, sql::UNDELIVERED_AFTER_ALL, &params)?;
    }
    Ok(made)
}

pub(crate) fn delivery_backlog(connection: &Connection, now: Timestamp) -> Result<DeliveryBacklog, StoreError> {
    let (due, oldest_due_at) = query_one(connection, sql::DELIVERY_BACKLOG, &[&micros(now)], |row| {
        Ok((row.get(0)?, optional_instant(row, 1)?))
    })?;
    let (unrouted, oldest_unrouted_at) = query_one(connection, sql::UNROUTED_BACKLOG, &[], |row| {
        Ok((row.get(0)?, optional_instant(row, 1)?))
    })?;
    Ok(DeliveryBacklog {
        due,
        oldest_due_at,
        unrouted,
        oldest_unrouted_at,
    })
}

pub(crate) fn create_webhook(connection: &Connection, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
    let params: [&dyn ToSql; 6] = [
        &text(endpoint.id),
        &endpoint.url,
        &endpoint.description,
        &to_json_column(&endpoint.event_types),
        &endpoint.secret,
        &micros(endpoint.created_at),
    ];
    execute(connection, sql::INSERT_WEBHOOK, &params).map(|_| ())
}

pub(crate) fn list_webhooks(connection: &Connection) -> Result<Vec<WebhookEndpoint>, StoreError> {
    query_all(connection, sql::LIST_WEBHOOKS, &[], |row| webhook_from_row(row, 0))
}

pub(crate) fn find_webhook(connection: &Connection, id: Uuid) -> Result<Option<WebhookEndpoint>, StoreError> {
    query_optional(connection, sql::FIND_WEBHOOK, &[&text(id)], |row| {
        webhook_from_row(row, 0)
    })
}

pub(crate) fn update_webhook(
    connection: &Connection,
    id: Uuid,
    changes: &WebhookChanges,
    now: Timestamp,
) -> Result<WebhookEndpoint, StoreError> {
    let params: [&dyn ToSql; 6] = [
        &text(id),
        &changes.url,
        &changes.description,
        &changes.event_types.as_ref().map(to_json_column),
        &changes.enabled,
        &micros(now),
    ];
    if execute(connection, sql::UPDATE_WEBHOOK, &params)? == 0 {
        return Err(StoreError::NotFound);
    }
    find_webhook(connection, id)?.ok_or(StoreError::NotFound)
}

pub(crate) fn delete_webhook(connection: &Connection, id: Uuid) -> Result<(), StoreError> {
    let id = text(id);
    execute(connection, sql::SKIP_WEBHOOK_DELIVERIES, &[&id])?;
    match execute(connection, sql::DELETE_WEBHOOK, &[&id])? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(crate) fn replay_webhook(
    connection: &Connection,
    id: Uuid,
    since: Option<Timestamp>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    if find_webhook(connection, id)?.is_none() {
        return Err(StoreError::NotFound);
    }
    let params: [&dyn ToSql; 3] = [&text(id), &since.map(micros), &micros(now)];
    Ok(execute(connection, sql::REPLAY_WEBHOOK, &params)? as u64)
}

/// A contact whose six columns start at `at`.
fn contact_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<Contact> {
    Ok(Contact {
        name: row.get(at)?,
        email: row.get(at + 1)?,
        phone: row.get(at + 2)?,
        email_consent: row.get(at + 3)?,
        sms_consent: row.get(at + 4)?,
        whatsapp_consent: row.get(at + 5)?,
    })
}

pub(crate) fn registration_contact(
    connection: &Connection,
    id: Uuid,
) -> Result<Option<RegistrationContact>, StoreError> {
    query_optional(connection, sql::REGISTRATION_CONTACT, &[&text(id)], |row| {
        Ok(RegistrationContact {
            status: parsed(row, 0, RegistrationStatus::parse)?,
            sequence: row.get(1)?,
            starts_at: instant(row, 2)?,
            person: contact_from_row(row, 3)?,
        })
    })
}

pub(crate) fn consultation_contact(
    connection: &Connection,
    id: Uuid,
) -> Result<Option<ConsultationContact>, StoreError> {
    query_optional(connection, sql::CONSULTATION_CONTACT, &[&text(id)], |row| {
        Ok(ConsultationContact {
            advisor_id: row.get(9)?,
            starts_at: instant(row, 10)?,
            visitor: contact_from_row(row, 0)?,
            advisor_name: row.get(6)?,
            advisor_email: row.get(7)?,
            advisor_time_zone: parsed(row, 8, TimeZone::parse)?,
        })
    })
}

pub(crate) fn ensure_setting(connection: &Connection, key: &str, value: &str) -> Result<String, StoreError> {
    execute(connection, sql::ENSURE_SETTING, &[&key, &value])?;
    query_one(connection, sql::GET_SETTING, &[&key], |row| row.get(0))
}
