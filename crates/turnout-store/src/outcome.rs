//! Words both backends write about deliveries.

/// Why an endpoint was disabled, as its admins read it.
pub fn disabled_reason(disable_after: i64) -> String {
    format!("{disable_after} deliveries in a row failed")
}
