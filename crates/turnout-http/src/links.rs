//! Add-to-calendar links for a registration.

use serde::Serialize;
use turnout_domain::calendar::{EventText, google_link, outlook_link};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarLinks {
    /// The RFC 5545 invite. It carries the manage token, so it is only given
    /// to a caller who presented that token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ics: Option<String>,
    pub google: String,
    pub outlook: String,
}

pub fn calendar_links(ics: Option<String>, event: &EventText<'_>) -> CalendarLinks {
    CalendarLinks {
        ics,
        google: google_link(event),
        outlook: outlook_link(event),
    }
}
