//! Registrants for staff: page after page of the registrations a filter
//! selects, and the same rows as CSV. An export of any size holds one page
//! in memory at a time, whoever reads it (the HTTP download streams it, the
//! command line writes it to stdout).

use futures::Stream;
use jiff::Timestamp;
use turnout_domain::{RegistrationStatus, Slug, ValidationErrors};
use turnout_store::{Registrant, RegistrantFilter, StoreError};
use uuid::Uuid;

use crate::Turnout;

/// Rows read per store call during an export.
pub const EXPORT_PAGE: i64 = 1_000;

/// Registrations on one listed page, by default and at most.
pub const DEFAULT_PAGE: i64 = 100;
pub const MAX_PAGE: i64 = 500;

/// A registrant filter as a person writes it, in a query string or on the
/// command line: checked here once for both.
#[derive(Debug, Clone, Default)]
pub struct RegistrantCriteria {
    /// A webinar's slug.
    pub webinar: Option<String>,
    pub slot_id: Option<i64>,
    /// `confirmed`, `cancelled`, `attended` or `no_show`.
    pub status: Option<String>,
    /// `joined` or `not_joined`.
    pub attendance: Option<String>,
    /// RFC 3339 instants.
    pub created_from: Option<String>,
    pub created_before: Option<String>,
    pub utm_source: Option<String>,
    /// The last registration id of the page before.
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl RegistrantCriteria {
    /// The store's filter, every field checked and every error named.
    pub fn filter(self) -> Result<RegistrantFilter, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let instant = |text: &str| {
            text.parse::<Timestamp>()
                .map_err(|_| "Must be an RFC 3339 instant, e.g. 2026-12-01T00:00:00Z")
        };
        let webinar = match self.webinar.as_deref() {
            Some(slug) => errors.field("webinar", Slug::parse(slug)),
            None => None,
        };
        let status = match self.status.as_deref() {
            Some(status) => errors.field("status", RegistrationStatus::parse(status)),
            None => None,
        };
        let joined = match self.attendance.as_deref() {
            Some("joined") => Some(true),
            Some("not_joined") => Some(false),
            Some(_) => errors.field("attendance", Err("Must be one of: joined, not_joined")),
            None => None,
        };
        let created_from = match self.created_from.as_deref() {
            Some(text) => errors.field("created_from", instant(text)),
            None => None,
        };
        let created_before = match self.created_before.as_deref() {
            Some(text) => errors.field("created_before", instant(text)),
            None => None,
        };
        let after = match self.cursor.as_deref() {
            Some(cursor) => errors.field(
                "cursor",
                Uuid::parse_str(cursor).map_err(|_| "Not a cursor from a previous page"),
            ),
            None => None,
        };
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            errors.field::<(), _>("limit", Err(format!("Must be between 1 and {MAX_PAGE}")));
        }
        if self.slot_id.is_some_and(|slot_id| slot_id < 1) {
            errors.field::<(), _>("slot_id", Err("Must be a slot id"));
        }
        errors.finish(|| RegistrantFilter {
            webinar,
            slot_id: self.slot_id,
            status,
            joined,
            created_from,
            created_before,
            utm_source: self.utm_source.filter(|source| !source.is_empty()),
            after,
            limit,
        })
    }
}

impl Turnout {
    /// The registrations `filter` selects, from its cursor on, one page of
    /// [`EXPORT_PAGE`] at a time; `filter.limit` is ignored.
    pub fn registrant_pages(
        &self,
        filter: RegistrantFilter,
    ) -> impl Stream<Item = Result<Vec<Registrant>, StoreError>> + Send + 'static {
        let store = self.store.clone();
        let first = RegistrantFilter {
            limit: EXPORT_PAGE,
            ..filter
        };
        futures::stream::try_unfold(Some(first), move |next| {
            let store = store.clone();
            async move {
                let Some(filter) = next else {
                    return Ok(None);
                };
                let page = store.list_registrants(&filter).await?;
                if page.is_empty() {
                    return Ok(None);
                }
                let next = (page.len() as i64 == EXPORT_PAGE).then(|| RegistrantFilter {
                    after: page.last().map(|last| last.registration_id),
                    ..filter
                });
                Ok(Some((page, next)))
            }
        })
    }
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 19] = [
    "registration_id",
    "status",
    "webinar",
    "webinar_title",
    "slot_id",
    "starts_at",
    "name",
    "email",
    "phone",
    "country",
    "time_zone",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "registered_at",
    "cancelled_at",
    "joins",
    "first_joined_at",
    "last_joined_at",
];

/// The header line of a registrant export.
pub fn csv_header() -> Vec<u8> {
    encode(CSV_COLUMNS.map(String::from))
}

/// Registrants as CSV lines (RFC 4180: quoted where needed, CRLF).
///
/// Text a visitor typed is neutralised for spreadsheets: a cell starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by
/// Excel or Sheets as a formula, so it is prefixed with `'` (OWASP's advice
/// on CSV injection). Phones are E.164 and instants RFC 3339, both ours.
pub fn csv_rows(registrants: &[Registrant]) -> Vec<u8> {
    let mut out = Vec::with_capacity(registrants.len() * 256);
    for registrant in registrants {
        out.extend(encode(csv_record(registrant)));
    }
    out
}

fn csv_record(r: &Registrant) -> [String; 19] {
    let typed = |text: &str| inert(text);
    let optional = |text: &Option<String>| text.as_deref().map(inert).unwrap_or_default();
    let instant = |at: Option<Timestamp>| at.map(|at| at.to_string()).unwrap_or_default();
    [
        r.registration_id.to_string(),
        r.status.as_str().to_owned(),
        r.webinar_slug.as_str().to_owned(),
        typed(&r.webinar_title),
        r.slot_id.to_string(),
        r.starts_at.to_string(),
        typed(&r.name),
        typed(&r.email),
        r.phone.clone(),
        optional(&r.country),
        r.time_zone.clone(),
        optional(&r.utm_source),
        optional(&r.utm_medium),
        optional(&r.utm_campaign),
        r.created_at.to_string(),
        instant(r.cancelled_at),
        r.joins.to_string(),
        instant(r.first_joined_at),
        instant(r.last_joined_at),
    ]
}

fn inert(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn encode(record: [String; 19]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(256));
    // Writing into a Vec cannot fail.
    writer.write_record(&record).expect("CSV into memory");
    writer.into_inner().expect("CSV into memory")
}

#[cfg(test)]
mod tests {
    use turnout_domain::{RegistrationStatus, Slug};
    use uuid::Uuid;

    use super::*;

    fn registrant(name: &str) -> Registrant {
        let at: Timestamp = "2026-12-04T12:30:00Z".parse().unwrap();
        Registrant {
            registration_id: Uuid::nil(),
            status: RegistrationStatus::Confirmed,
            webinar_slug: Slug::parse("ml-careers").unwrap(),
            webinar_title: "ML, careers and \"you\"".into(),
            slot_id: 7,
            starts_at: at,
            name: name.into(),
            email: "asha@example.com".into(),
            phone: "+919876543210".into(),
            country: Some("IN".into()),
            time_zone: "Asia/Kolkata".into(),
            utm_source: Some("newsletter".into()),
            utm_medium: None,
            utm_campaign: None,
            created_at: at,
            cancelled_at: None,
            joins: 0,
            first_joined_at: None,
            last_joined_at: None,
        }
    }

    #[test]
    fn rows_are_rfc_4180_and_formulas_are_inert() {
        let header = String::from_utf8(csv_header()).unwrap();
        assert!(header.starts_with("registration_id,status,webinar,"));
        assert!(header.ends_with("last_joined_at\r\n"));
        let rows = String::from_utf8(csv_rows(&[registrant("Asha Verma"), registrant("=HYPERLINK(\"x\")")])).unwrap();
        let lines: Vec<&str> = rows.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains(",\"ML, careers and \"\"you\"\"\","), "{}", lines[0]);
        assert!(
            lines[0].contains(",Asha Verma,asha@example.com,+919876543210,IN,"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains(",2026-12-04T12:30:00Z,"), "{}", lines[0]);
        assert!(lines[1].contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{}", lines[1]);
    }
}
