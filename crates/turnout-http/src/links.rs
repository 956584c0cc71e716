//! Add-to-calendar links for a registration.

use jiff::Timestamp;
use serde::Serialize;
use turnout_domain::calendar::utc_basic;
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

pub struct EventText<'a> {
    pub title: &'a str,
    pub details: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
}

pub fn calendar_links(ics: Option<String>, event: &EventText<'_>) -> CalendarLinks {
    let dates = format!("{}/{}", utc_basic(event.start), utc_basic(event.end));
    let google = serde_urlencoded::to_string([
        ("action", "TEMPLATE"),
        ("text", event.title),
        ("dates", &dates),
        ("details", event.details),
    ])
    .expect("strings always encode");
    let start = event.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let end = event.end.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let outlook = serde_urlencoded::to_string([
        ("path", "/calendar/action/compose"),
        ("rru", "addevent"),
        ("subject", event.title),
        ("startdt", &start),
        ("enddt", &end),
        ("body", event.details),
    ])
    .expect("strings always encode");
    CalendarLinks {
        ics,
        google: format!("https://calendar.google.com/calendar/render?{google}"),
        outlook: format!("https://outlook.live.com/calendar/0/deeplink/compose?{outlook}"),
    }
}
