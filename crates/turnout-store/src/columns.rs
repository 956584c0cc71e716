//! Decoding the columns every backend stores the same way: JSON text, enums
//! and zone names, all written and checked by Turnout itself.

use serde::de::DeserializeOwned;
use turnout_domain::TimeZone;

use crate::StoreError;

/// Decodes a JSON text column written by Turnout itself.
pub fn json_column<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(StoreError::other)
}

/// Encodes a value for a JSON text column.
pub fn to_json_column<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("hosts and highlights always serialise")
}

/// Decodes a stored enum or zone, which Turnout wrote and checked itself.
pub fn parsed_column<T>(parsed: Result<T, String>) -> Result<T, StoreError> {
    parsed.map_err(StoreError::other)
}

pub fn zone_column(name: &str) -> Result<TimeZone, StoreError> {
    parsed_column(TimeZone::parse(name))
}
