//! What both backends do alike with a pass's outcomes.

use uuid::Uuid;

use crate::{ClaimedDelivery, DeliveryOutcome};

/// Why an endpoint was disabled, as its admins read it.
pub fn disabled_reason(disable_after: i64) -> String {
    format!("{disable_after} deliveries in a row failed")
}

/// The recorded webhook outcomes, by endpoint id: concurrent workers then
/// update endpoints in the same order and cannot deadlock on them.
pub fn endpoint_outcomes<'a>(
    finished: &'a [(ClaimedDelivery, DeliveryOutcome)],
    recorded: &[bool],
) -> Vec<(Uuid, &'a DeliveryOutcome)> {
    let mut outcomes: Vec<(Uuid, &DeliveryOutcome)> = finished
        .iter()
        .zip(recorded)
        .filter(|(_, recorded)| **recorded)
        .filter_map(|((delivery, outcome), _)| delivery.endpoint.as_ref().map(|endpoint| (endpoint.id, outcome)))
        .collect();
    outcomes.sort_by_key(|(endpoint, _)| *endpoint);
    outcomes
}
