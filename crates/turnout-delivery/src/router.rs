//! Which deliveries an event makes. Pure, so it runs inside the store's
//! routing transaction.

use turnout_store::{Channel, EventRecord, NewDelivery, Router, WebhookEndpoint};
use uuid::Uuid;

/// The funnel's router: every endpoint that wants the event type gets a
/// webhook call.
#[derive(Debug, Clone, Default)]
pub struct FunnelRouter;

impl Router for FunnelRouter {
    fn route(&self, event: &EventRecord, endpoints: &[WebhookEndpoint]) -> Vec<NewDelivery> {
        endpoints
            .iter()
            .filter(|endpoint| endpoint.wants(&event.event_type))
            .map(|endpoint| NewDelivery {
                message_id: Uuid::now_v7(),
                channel: Channel::Webhook,
                kind: "webhook".into(),
                recipient: endpoint.id.to_string(),
                endpoint_id: Some(endpoint.id),
                due_at: event.created_at,
            })
            .collect()
    }
}
