//! The API by audience: `public` (anyone), `advisor` (an advisor's own
//! queue), `admin` (staff), and `ops` (health, readiness, metrics).

pub mod admin;
pub mod advisor;
pub mod ops;
pub mod public;

use jiff::Timestamp;
use turnout_domain::Slug;

use crate::error::ApiError;

/// The current instant. One place, so a test clock can replace it later.
pub fn now() -> Timestamp {
    Timestamp::now()
}

/// A slug from a path segment; one that cannot be a slug cannot name anything.
pub fn path_slug(slug: &str) -> Result<Slug, ApiError> {
    Slug::parse(slug).map_err(|_| ApiError::NotFound("webinar"))
}

/// A numeric id from a path segment; one that is not a number names nothing.
pub fn path_id(id: &str, what: &'static str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::NotFound(what))
}

/// Any path no route matches, answered as a problem like every other error.
pub async fn no_route() -> ApiError {
    ApiError::NotFound("route")
}
