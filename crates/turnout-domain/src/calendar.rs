//! RFC 5545 invitations and add-to-calendar links. Small enough to write
//! here: one VEVENT, with the escaping and line folding the RFC requires,
//! and the iTIP (RFC 5546) organizer and attendee when it is sent by email.

use jiff::Timestamp;

/// Who sends an emailed invitation and to whom: with it, the invite is an
/// iTIP `REQUEST` (or `CANCEL`) that mail clients offer to add or remove.
#[derive(Debug, Clone, Copy)]
pub struct Itip<'a> {
    pub organizer_name: &'a str,
    pub organizer_email: &'a str,
    pub attendee_name: &'a str,
    pub attendee_email: &'a str,
}

/// One event to put in a visitor's calendar.
#[derive(Debug, Clone)]
pub struct Invite<'a> {
    /// Stable across reschedules, so calendars update the event in place.
    pub uid: &'a str,
    /// Bumped on every change, as RFC 5545 asks.
    pub sequence: u32,
    pub stamp: Timestamp,
    pub start: Timestamp,
    pub end: Timestamp,
    pub summary: &'a str,
    pub description: &'a str,
    /// Where the event happens: for a webinar, the registrant's join link.
    pub location: Option<&'a str>,
    pub url: Option<&'a str>,
    pub cancelled: bool,
    /// Set for an invite sent by email; a download is `PUBLISH`ed.
    pub itip: Option<Itip<'a>>,
}

impl Invite<'_> {
    /// The invitation as an iCalendar object, CRLF line endings included.
    pub fn to_ics(&self) -> String {
        let mut lines = vec![
            "BEGIN:VCALENDAR".to_owned(),
            "VERSION:2.0".to_owned(),
            "PRODID:-//Turnout//Webinar registration//EN".to_owned(),
            "CALSCALE:GREGORIAN".to_owned(),
            format!("METHOD:{}", self.method()),
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", escape(self.uid)),
            format!("SEQUENCE:{}", self.sequence),
            format!("DTSTAMP:{}", utc_basic(self.stamp)),
            format!("DTSTART:{}", utc_basic(self.start)),
            format!("DTEND:{}", utc_basic(self.end)),
            format!("SUMMARY:{}", escape(self.summary)),
            format!("DESCRIPTION:{}", escape(self.description)),
        ];
        if let Some(location) = self.location {
            lines.push(format!("LOCATION:{}", escape(location)));
        }
        if let Some(url) = self.url {
            lines.push(format!("URL:{}", escape(url)));
        }
        if let Some(itip) = &self.itip {
            lines.push(format!(
                "ORGANIZER;CN={}:mailto:{}",
                parameter(itip.organizer_name),
                itip.organizer_email
            ));
            lines.push(format!(
                "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:{}",
                parameter(itip.attendee_name),
                itip.attendee_email
            ));
        }
        lines.push(format!(
            "STATUS:{}",
            if self.cancelled { "CANCELLED" } else { "CONFIRMED" }
        ));
        lines.push("END:VEVENT".to_owned());
        lines.push("END:VCALENDAR".to_owned());
        lines.iter().map(|line| fold(line)).collect()
    }
}

impl Invite<'_> {
    /// `PUBLISH` for a download, `REQUEST` for an emailed invitation, and
    /// `CANCEL` when the registration is cancelled.
    pub fn method(&self) -> &'static str {
        match (self.cancelled, self.itip.is_some()) {
            (true, _) => "CANCEL",
            (false, true) => "REQUEST",
            (false, false) => "PUBLISH",
        }
    }
}

/// The text of an event for add-to-calendar links.
pub struct EventText<'a> {
    pub title: &'a str,
    pub details: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Google Calendar's "create event" link.
pub fn google_link(event: &EventText<'_>) -> String {
    let dates = format!("{}/{}", utc_basic(event.start), utc_basic(event.end));
    let query = serde_urlencoded::to_string([
        ("action", "TEMPLATE"),
        ("text", event.title),
        ("dates", &dates),
        ("details", event.details),
    ])
    .expect("strings always encode");
    format!("https://calendar.google.com/calendar/render?{query}")
}

/// Outlook on the web's "compose event" link.
pub fn outlook_link(event: &EventText<'_>) -> String {
    let start = event.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let end = event.end.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let query = serde_urlencoded::to_string([
        ("path", "/calendar/action/compose"),
        ("rru", "addevent"),
        ("subject", event.title),
        ("startdt", &start),
        ("enddt", &end),
        ("body", event.details),
    ])
    .expect("strings always encode");
    format!("https://outlook.live.com/calendar/0/deeplink/compose?{query}")
}

/// A parameter value (RFC 5545 §3.2): quoted, without the characters a
/// quoted value cannot hold.
fn parameter(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !matches!(c, '"' | '\r' | '\n')).collect();
    format!("\"{clean}\"")
}

/// `20250418T123000Z`, the UTC form RFC 5545 calls "form #2".
pub fn utc_basic(instant: Timestamp) -> String {
    instant.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line so that no physical line exceeds 75 octets, never
/// splitting a UTF-8 character, and terminates it with CRLF.
fn fold(line: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / LIMIT * 3 + 2);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > LIMIT {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(summary: &str) -> Invite<'_> {
        Invite {
            uid: "reg-1@turnout",
            sequence: 2,
            stamp: "2025-04-01T00:00:00Z".parse().unwrap(),
            start: "2025-04-18T12:30:00Z".parse().unwrap(),
            end: "2025-04-18T13:30:00Z".parse().unwrap(),
            summary,
            description: "Join from the link; questions welcome.",
            location: Some("https://example.com/join/abc"),
            url: Some("https://example.com/join/abc"),
            cancelled: false,
            itip: None,
        }
    }

    #[test]
    fn an_invite_has_the_required_properties_and_escapes_text() {
        let ics = invite("AI, ML; and you").to_ics();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.contains("\r\nDTSTART:20250418T123000Z\r\n"));
        assert!(ics.contains("\r\nDTEND:20250418T133000Z\r\n"));
        assert!(ics.contains("\r\nSEQUENCE:2\r\n"));
        assert!(ics.contains("\r\nSUMMARY:AI\\, ML\\; and you\r\n"));
        assert!(ics.contains("\r\nLOCATION:https://example.com/join/abc\r\n"));
        assert!(ics.contains("\r\nURL:https://example.com/join/abc\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let summary = "é".repeat(100);
        let ics = invite(&summary).to_ics();
        for physical in ics.split("\r\n") {
            assert!(physical.len() <= 75, "{physical:?} is {} octets", physical.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{summary}\r\n")));
    }

    #[test]
    fn a_cancelled_invite_says_so() {
        let mut cancelled = invite("Webinar");
        cancelled.cancelled = true;
        let ics = cancelled.to_ics();
        assert!(ics.contains("METHOD:CANCEL\r\n"));
        assert!(ics.contains("STATUS:CANCELLED\r\n"));
    }

    #[test]
    fn an_emailed_invite_is_an_itip_request_with_organizer_and_attendee() {
        let mut emailed = invite("Webinar");
        emailed.itip = Some(Itip {
            organizer_name: "Turnout",
            organizer_email: "webinars@example.com",
            attendee_name: "Asha \"AK\" Kumar",
            attendee_email: "asha@example.com",
        });
        let ics = emailed.to_ics().replace("\r\n ", "");
        assert!(ics.contains("METHOD:REQUEST\r\n"), "{ics}");
        assert!(ics.contains("ORGANIZER;CN=\"Turnout\":mailto:webinars@example.com\r\n"));
        assert!(ics.contains("ATTENDEE;CN=\"Asha AK Kumar\";"), "{ics}");
        assert!(ics.contains(":mailto:asha@example.com\r\n"));
        emailed.cancelled = true;
        assert!(emailed.to_ics().contains("METHOD:CANCEL\r\n"));
    }
}
