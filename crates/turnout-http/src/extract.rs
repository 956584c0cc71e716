//! Extractors that turn every rejection into the app's own problem shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use turnout_domain::{SecretToken, TokenHash};
use turnout_store::ApiTokenRole;

use crate::AppState;
use crate::error::ApiError;
use crate::routes::now;

/// JSON body whose errors name the field: unknown fields, wrong types and
/// missing fields all answer 422 with the path, bad syntax 400, a wrong
/// content type 415 and an oversized body 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| match rejection.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                _ => ApiError::MalformedBody(rejection.body_text()),
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Deserialises JSON, mapping errors to the field they concern. A number
/// with a zero fraction (`5.0`) is an integer to JSON Schema, so it is one
/// here too: when serde refuses a float where it wants an integer, the body
/// is read again with such numbers made integers.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object; serde would also read a struct from an
    // array of its fields in order, which no client means.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(ApiError::field("", "Send a JSON object"));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(deserializer);
    match parsed {
        Err(error) if error.inner().to_string().starts_with("invalid type: floating point") => {
            let mut value: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|error| ApiError::MalformedBody(error.to_string()))?;
            integral_floats_as_integers(&mut value);
            let body = serde_json::to_vec(&value).map_err(|error| ApiError::MalformedBody(error.to_string()))?;
            let deserializer = &mut serde_json::Deserializer::from_slice(&body);
            serde_path_to_error::deserialize(deserializer).map_err(field_error)
        }
        parsed => parsed.map_err(field_error),
    }
}

fn integral_floats_as_integers(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| !number.is_i64() && !number.is_u64())
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                // Exact: |float| < 2^53.
                *value = serde_json::Value::from(float as i64);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

fn field_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or(&message).to_owned();
            // serde reports a missing field at its parent's path; the
            // field itself is only in the message.
            let field = match (missing_field(&message), path.as_str()) {
                (Some(name), "." | "") => name.to_owned(),
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, ".") => String::new(),
                (None, path) => path.to_owned(),
            };
            ApiError::field(&field, sentence(&message))
        }
        _ => ApiError::MalformedBody(inner.to_string()),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The visitor's zone from an optional `tz` query parameter; a name that
/// is not an IANA zone is a 422 naming `tz`.
pub fn zone_param(tz: Option<&str>) -> Result<Option<turnout_domain::TimeZone>, ApiError> {
    tz.map(turnout_domain::TimeZone::parse)
        .transpose()
        .map_err(|message| ApiError::field("tz", message))
}

/// The token of an `Authorization: Bearer` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<SecretToken> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| SecretToken::from_presented(token))
}

/// The role of the API credential presented: the bootstrap token from
/// `TURNOUT_ADMIN_TOKEN` is an admin's; any other is looked up by its hash
/// and must be neither revoked nor expired. No credential, or one Turnout
/// does not know, is 401; a valid one without the role a route needs is
/// 403.
async fn presented(parts: &Parts, state: &AppState) -> Result<(ApiTokenRole, Option<i64>), ApiError> {
    let token = bearer_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
    let hash: TokenHash = token.hash();
    if state.settings.admin_token.as_ref() == Some(&hash) {
        return Ok((ApiTokenRole::Admin, None));
    }
    let token = state
        .store
        .find_api_token(&hash, now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok((token.role, token.advisor_id))
}

/// Proof that the caller presented an admin credential: the bootstrap token
/// or an admin API token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match presented(parts, state).await? {
            (ApiTokenRole::Admin, _) => Ok(Admin),
            (ApiTokenRole::Editor | ApiTokenRole::Advisor, _) => Err(ApiError::Forbidden),
        }
    }
}

/// Proof that the caller may write articles: an editor token, or any admin
/// credential.
pub struct Editor;

impl FromRequestParts<AppState> for Editor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match presented(parts, state).await? {
            (ApiTokenRole::Admin | ApiTokenRole::Editor, _) => Ok(Editor),
            (ApiTokenRole::Advisor, _) => Err(ApiError::Forbidden),
        }
    }
}

/// The advisor whose token was presented: they see and change only their
/// own consultations.
pub struct AdvisorId(pub i64);

impl FromRequestParts<AppState> for AdvisorId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match presented(parts, state).await? {
            (ApiTokenRole::Advisor, Some(advisor_id)) => Ok(AdvisorId(advisor_id)),
            _ => Err(ApiError::Forbidden),
        }
    }
}

/// Deserialises a present field, `null` included, as `Some`: with
/// `#[serde(default)]` it tells "remove" (`null`) from "leave as it is"
/// (absent) in a partial update.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod integral_floats {
    use serde::Deserialize;

    use super::parse_json;
    use crate::error::ApiError;

    #[derive(Debug, Deserialize)]
    struct Move {
        slot_id: i64,
        seats: Vec<i64>,
        ratio: f64,
    }

    #[test]
    fn a_body_is_an_object_not_the_fields_in_order() {
        let refused = parse_json::<Move>(br#" [1, [2], 0.5]"#).unwrap_err();
        assert!(matches!(&refused, ApiError::Validation(_)), "{refused:?}");
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_an_integer_and_a_real_fraction_is_not() {
        let moved: Move = parse_json(br#"{"slot_id": -472.0, "seats": [1.0, 2], "ratio": 0.5}"#).unwrap();
        assert_eq!((moved.slot_id, moved.seats, moved.ratio), (-472, vec![1, 2], 0.5));
        let refused = parse_json::<Move>(br#"{"slot_id": 4.5, "seats": [], "ratio": 1}"#).unwrap_err();
        assert!(
            matches!(&refused, ApiError::Validation(errors) if errors.errors()[0].field == "slot_id"),
            "{refused:?}"
        );
    }
}
