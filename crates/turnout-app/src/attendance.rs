//! Who attended: marked by an admin or read from the meeting platform's
//! participants report. (After a slot, the worker settles whoever is still
//! unmarked from their join-link openings: `Store::settle_attendance`.)

use turnout_domain::Email;
use turnout_store::{AttendanceError, AttendanceMarked, AttendanceMarking};

use crate::{Turnout, now};

/// Attendees one report may name, and the most one marking may list.
pub const MAX_ATTENDEES: usize = 10_000;

impl Turnout {
    /// Sets a slot's attendance as given; each change goes out as a
    /// `registration.attended` or `.no_show` event.
    pub async fn mark_attendance(&self, marking: &AttendanceMarking) -> Result<AttendanceMarked, AttendanceError> {
        let marked = self.store.mark_attendance(marking, now()).await?;
        for (_, status) in &marked.changed {
            metrics::counter!(
                "turnout_attendance_marked_total",
                "status" => status.as_str(),
                "source" => marking.source.as_str(),
            )
            .increment(1);
        }
        Ok(marked)
    }
}

/// The addresses of the people a participants report says were there:
/// Zoom's "Participants" export (`Name (Original Name), User Email, Join
/// Time, Leave Time, Duration (Minutes)`, with or without the meeting's own
/// header block above it) or GoTo's attendee report (`Email Address`, and
/// `Attended` = `Yes`). Each address once, in the order first seen; rows
/// without an address (a guest who gave none) are skipped.
pub fn report_attendees(report: &[u8]) -> Result<Vec<Email>, String> {
    let report = report.strip_prefix("\u{feff}".as_bytes()).unwrap_or(report);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(report);
    let mut columns: Option<Columns> = None;
    let mut found_header = false;
    let mut seen = std::collections::HashSet::new();
    let mut attendees = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|error| format!("line {}: {error}", line + 1))?;
        if let Some(header) = Columns::of(&record) {
            found_header = true;
            columns = header;
            continue;
        }
        let Some(columns) = &columns else {
            continue;
        };
        if let Some(attended) = columns.attended
            && !record
                .get(attended)
                .is_some_and(|cell| cell.trim().eq_ignore_ascii_case("yes"))
        {
            continue;
        }
        let Some(email) = record
            .get(columns.email)
            .and_then(|cell| Email::parse(cell.trim()).ok())
        else {
            continue;
        };
        if seen.insert(email.normalised()) {
            attendees.push(email);
            if attendees.len() > MAX_ATTENDEES {
                return Err(format!("more than {MAX_ATTENDEES} attendees"));
            }
        }
    }
    if !found_header {
        return Err("no header row with a \"User Email\" or \"Email\" column".into());
    }
    Ok(attendees)
}

/// Where a report's columns are.
struct Columns {
    email: usize,
    attended: Option<usize>,
}

impl Columns {
    /// `Some` when `record` is a header row: `Some(None)` for the header of
    /// a meeting summary (Zoom's block above the participants, whose one
    /// address is the host's), `Some(Some(_))` for the participants'.
    #[allow(clippy::option_option)]
    fn of(record: &csv::StringRecord) -> Option<Option<Self>> {
        let named = |names: &[&str]| {
            record
                .iter()
                .position(|cell| names.iter().any(|name| cell.trim().eq_ignore_ascii_case(name)))
        };
        let email = named(&["User Email", "Email", "Email Address", "Attendee Email"])?;
        if named(&["Meeting ID", "Webinar ID"]).is_some() {
            return Some(None);
        }
        Some(Some(Self {
            email,
            attended: named(&["Attended"]),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(report: &str) -> Vec<String> {
        report_attendees(report.as_bytes())
            .unwrap()
            .iter()
            .map(|email| email.as_str().to_owned())
            .collect()
    }

    #[test]
    fn a_zoom_participants_export_gives_each_address_once() {
        let report = "\u{feff}Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n\
            Asha Verma,asha@example.com,12/04/2026 06:28:10 PM,12/04/2026 07:01:00 PM,33,No\n\
            Ravi Kumar,,12/04/2026 06:30:00 PM,12/04/2026 06:40:00 PM,10,Yes\n\
            Asha Verma,ASHA@example.com,12/04/2026 07:05:00 PM,12/04/2026 07:30:00 PM,25,No\n\
            \"Meera, Iyer\",meera@example.com,12/04/2026 06:31:00 PM,12/04/2026 07:30:00 PM,59,No\n";
        assert_eq!(emails(report), ["asha@example.com", "meera@example.com"]);
    }

    #[test]
    fn the_meeting_block_above_a_zoom_export_is_not_an_attendee() {
        let report = "Meeting ID,Topic,Start Time,End Time,User Email,Duration (Minutes),Participants\n\
            812 3456 7890,ML careers,12/04/2026 06:25:00 PM,12/04/2026 07:35:00 PM,host@example.com,70,3\n\
            \n\
            Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest\n\
            Asha Verma,asha@example.com,12/04/2026 06:28:10 PM,12/04/2026 07:01:00 PM,33,No\n";
        assert_eq!(emails(report), ["asha@example.com"]);
    }

    #[test]
    fn a_goto_report_counts_only_those_who_attended() {
        let report = "Generated,Dec 04 2026\n\
            Attended,Interest Rating,Last Name,First Name,Email Address,Join Time\n\
            Yes,80,Verma,Asha,asha@example.com,6:30 PM\n\
            No,,Kumar,Ravi,ravi@example.com,\n";
        assert_eq!(emails(report), ["asha@example.com"]);
    }

    #[test]
    fn a_file_without_an_email_column_is_refused() {
        assert!(report_attendees(b"Name,Joined\nAsha,yes\n").is_err());
        assert!(report_attendees(b"\xff\xfe not text").is_err());
    }
}
