//! What the phone field needs: every country with its calling code and how
//! a mobile number is written there, and the first guess from the
//! visitor's time zone (Asia/Kolkata → India, +91).

use std::sync::LazyLock;

use axum::Json;
use axum::extract::Query;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use turnout_domain::Country;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::extract::zone_param;

/// The list changes only with the binary: a day in any cache.
const CACHE: &str = "public, max-age=86400";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhoneCountriesQuery {
    /// The visitor's IANA time zone: its country is the `default`.
    #[param(value_type = Option<crate::openapi::params::TimeZoneName>)]
    pub tz: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhoneCountry {
    /// ISO 3166-1 alpha-2, as the lead's `country`.
    pub code: String,
    /// Dialled before the number from abroad: 91 for India.
    pub calling_code: u16,
    /// A mobile number as written there, for a placeholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneCountries {
    /// The time zone's country, when it has one.
    pub default: Option<String>,
    /// By code.
    pub countries: &'static [PhoneCountry],
}

static COUNTRIES: LazyLock<Vec<PhoneCountry>> = LazyLock::new(|| {
    Country::all()
        .into_iter()
        .map(|country| PhoneCountry {
            code: country.code().to_owned(),
            calling_code: country.calling_code(),
            example: country.example_mobile(),
        })
        .collect()
});

/// The countries a phone number may be from, and the visitor's.
#[utoipa::path(
    get,
    path = "/api/v1/phone-countries",
    tag = "funnel",
    params(PhoneCountriesQuery),
    responses(
        (status = 200, body = PhoneCountries),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn phone_countries(Query(query): Query<PhoneCountriesQuery>) -> Result<Response, ApiError> {
    let zone = zone_param(query.tz.as_deref())?;
    let default = zone
        .and_then(|zone| Country::of_zone(zone.name()))
        .map(|country| country.code().to_owned())
        .filter(|code| COUNTRIES.iter().any(|known| known.code == *code));
    let mut response = Json(PhoneCountries {
        default,
        countries: COUNTRIES.as_slice(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    Ok(response)
}
