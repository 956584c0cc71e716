//! Validated newtypes. Each can only be had by parsing, so code that holds
//! one never checks it again. Parse errors are messages for the visitor; the
//! caller knows which field they belong to.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A syntactically valid email address, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
}

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, String> {
        let address = input.trim();
        if address.is_empty() {
            return Err("Enter your email address".into());
        }
        if address.len() > Self::MAX_LEN {
            return Err(format!("Email must be at most {} characters", Self::MAX_LEN));
        }
        let options = email_address::Options::default().without_display_text();
        if email_address::EmailAddress::parse_with_options(address, options).is_err() || !address.contains('.') {
            return Err("Enter an email address like name@example.com".into());
        }
        Ok(Self {
            address: address.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The key people are deduplicated by: mail providers treat the local
    /// part case-insensitively in practice, so the whole address is lowered.
    pub fn normalised(&self) -> String {
        self.address.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

/// An ISO 3166-1 alpha-2 country code that the phone metadata knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(phonenumber::country::Id);

impl Country {
    pub fn parse(input: &str) -> Result<Self, String> {
        let code = input.trim().to_ascii_uppercase();
        phonenumber::country::Id::from_str(&code)
            .map(Self)
            .map_err(|_| "Unknown country code; use ISO 3166-1 alpha-2, e.g. IN".into())
    }

    pub fn code(&self) -> &str {
        self.0.as_ref()
    }

    /// The country a time zone is in, as the tz database's `zone.tab`
    /// says (`Asia/Kolkata` is India): the phone field's first guess.
    pub fn of_zone(zone: &str) -> Option<Self> {
        static BY_ZONE: std::sync::LazyLock<std::collections::HashMap<&'static str, Country>> =
            std::sync::LazyLock::new(|| {
                ZONE_COUNTRIES
                    .lines()
                    .filter(|line| !line.starts_with('#'))
                    .filter_map(|line| line.split_once('\t'))
                    .filter_map(|(code, name)| Some((name, Country::parse(code).ok()?)))
                    .collect()
            });
        BY_ZONE.get(zone).copied()
    }

    /// What is dialled before its numbers from abroad (91 for India).
    pub fn calling_code(&self) -> u16 {
        self.metadata().map_or(0, phonenumber::Metadata::country_code)
    }

    /// Every country whose numbers the phone metadata knows, by code.
    pub fn all() -> Vec<Self> {
        let mut countries: Vec<Self> = phonenumber::metadata::DATABASE
            .iter()
            .filter_map(|metadata| Self::parse(metadata.id()).ok())
            .collect();
        countries.sort_by(|a, b| a.code().cmp(b.code()));
        countries.dedup();
        countries
    }

    /// A mobile number as people there write it (`081234 56789`), for a
    /// placeholder.
    pub fn example_mobile(&self) -> Option<String> {
        let example = self.metadata()?.descriptors().mobile()?.example()?;
        let number = phonenumber::parse(Some(self.0), example).ok()?;
        Some(number.format().mode(phonenumber::Mode::National).to_string())
    }

    /// How many digits a mobile number has there, without the trunk prefix.
    fn mobile_lengths(&self) -> Vec<u16> {
        self.metadata()
            .and_then(|metadata| metadata.descriptors().mobile())
            .map(|mobile| mobile.possible_length().to_vec())
            .unwrap_or_default()
    }

    fn metadata(&self) -> Option<&'static phonenumber::Metadata> {
        phonenumber::metadata::DATABASE.by_id(self.code())
    }
}

/// Each zone of the tz database with its country (ISO 3166 code, tab, zone).
const ZONE_COUNTRIES: &str = include_str!("../data/zone-countries.tab");

/// A phone number that libphonenumber's metadata accepts as valid, kept in
/// E.164 form (`+919876543210`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    e164: String,
}

impl Phone {
    /// Parses an international number (`+61 412 345 678`), or a national one
    /// with or without its trunk prefix (`0412 345 678`, `412 345 678`) when
    /// the visitor's country is known. A refusal says what is expected there.
    pub fn parse(input: &str, country: Option<Country>) -> Result<Self, String> {
        let input = input.trim();
        let expected = || Self::expected(country);
        if input.is_empty() || input.len() > 32 {
            return Err(expected());
        }
        let number = phonenumber::parse(country.map(|c| c.0), input).map_err(|_| expected())?;
        if !number.is_valid() {
            return Err(expected());
        }
        Ok(Self {
            e164: number.format().mode(phonenumber::Mode::E164).to_string(),
        })
    }

    /// What a phone field asks for: in the visitor's country, its mobile
    /// numbers' length ("Enter a 10-digit mobile number, or start with +");
    /// elsewhere, the international form.
    pub fn expected(country: Option<Country>) -> String {
        let lengths = country.map(|country| country.mobile_lengths()).unwrap_or_default();
        let digits = match lengths.as_slice() {
            [] => return "Enter the number with its country code, starting with +".into(),
            [one] => one.to_string(),
            [first, .., last] if usize::from(last - first) + 1 == lengths.len() => format!("{first}- to {last}"),
            [init @ .., last] => {
                let init: Vec<String> = init.iter().map(u16::to_string).collect();
                format!("{}- or {last}", init.join("-, "))
            }
        };
        format!("Enter a {digits}-digit mobile number, or start with +")
    }

    /// Rebuilds a phone from its stored E.164 form.
    pub fn from_e164(e164: String) -> Self {
        Self { e164 }
    }

    pub fn as_e164(&self) -> &str {
        &self.e164
    }

    /// The ISO 3166 code of the country an E.164 number belongs to
    /// (`+91…` is `IN`), when the number plan says.
    pub fn region_of(e164: &str) -> Option<String> {
        let number = phonenumber::parse(None, e164).ok()?;
        number.country().id().map(|id| id.as_ref().to_owned())
    }
}

/// A URL-safe identifier: lowercase ASCII letters, digits and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 80;

    pub fn parse(input: &str) -> Result<Self, String> {
        let valid_chars = input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if input.is_empty()
            || input.len() > Self::MAX_LEN
            || !valid_chars
            || input.starts_with('-')
            || input.ends_with('-')
            || input.contains("--")
        {
            return Err(format!(
                "Use 1 to {} lowercase letters, digits and single hyphens",
                Self::MAX_LEN
            ));
        }
        Ok(Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a webinar is held or its recording is: any https address (Zoom,
/// Meet, Teams, YouTube Live), without a user name or password in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingUrl(String);

impl MeetingUrl {
    pub const MAX_LEN: usize = 2_048;

    pub fn parse(input: &str) -> Result<Self, String> {
        let text = input.trim();
        if text.is_empty() {
            return Err("Give an https address, or null to remove it".into());
        }
        if text.len() > Self::MAX_LEN {
            return Err(format!("Must be at most {} characters", Self::MAX_LEN));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("Must not contain spaces or control characters".into());
        }
        let url = url::Url::parse(text).map_err(|_| "Not a URL".to_owned())?;
        if url.scheme() != "https" {
            return Err("Use an https address".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("Must name a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("Must not carry a user name or password".into());
        }
        Ok(Self(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text with its surrounding white space trimmed, no control characters
/// and a bounded length in characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// Parses a single line that must not be empty: a name, a title, a label.
    pub fn required(input: &str, max_chars: usize) -> Result<Self, String> {
        non_empty(Self::optional(input, max_chars)?)
    }

    /// Parses a single line that may be empty. Newlines, tabs and every
    /// other control character are refused, and so are the bidirectional
    /// overrides that make a name display as something else: a line goes
    /// into headers, CSV cells, calendar fields and SMS as it is.
    pub fn optional(input: &str, max_chars: usize) -> Result<Self, String> {
        let text = bounded(input, max_chars)?;
        if text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err("Must be one line, without control characters".into());
        }
        Ok(Self(text.to_owned()))
    }

    /// Parses text of several lines (a summary, notes, a Markdown body)
    /// that must not be empty.
    pub fn multiline_required(input: &str, max_chars: usize) -> Result<Self, String> {
        non_empty(Self::multiline_optional(input, max_chars)?)
    }

    /// Parses text of several lines that may be empty: newlines and tabs
    /// are kept, other control characters refused.
    pub fn multiline_optional(input: &str, max_chars: usize) -> Result<Self, String> {
        let text = bounded(input, max_chars)?;
        if text
            .chars()
            .any(|c| (c.is_control() && c != '\n' && c != '\t' && c != '\r') || is_bidi_control(c))
        {
            return Err("Must not contain control characters".into());
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn non_empty(text: Text) -> Result<Text, String> {
    if text.0.is_empty() {
        return Err("Must not be empty".into());
    }
    Ok(text)
}

fn bounded(input: &str, max_chars: usize) -> Result<&str, String> {
    let trimmed = input.trim();
    if trimmed.chars().count() > max_chars {
        return Err(format!("Must be at most {max_chars} characters"));
    }
    Ok(trimmed)
}

/// The embedding, override and isolate controls of Unicode's bidirectional
/// algorithm (format characters, so not `is_control`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// An IANA time-zone name from the tz database bundled into the binary, so
/// every machine computes the same labels.
#[derive(Clone)]
pub struct TimeZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl TimeZone {
    pub fn parse(input: &str) -> Result<Self, String> {
        let name = input.trim();
        // Only region names: fixed offsets ("+05:30") and POSIX rules do not
        // follow daylight-saving changes, so they would mislabel slots.
        if name.is_empty() || name.len() > 64 || name.starts_with(['+', '-']) {
            return Err("Unknown time zone; use an IANA name such as Asia/Kolkata".into());
        }
        let zone = jiff::tz::db()
            .get(name)
            .map_err(|_| "Unknown time zone; use an IANA name such as Asia/Kolkata")?;
        let name = zone.iana_name().unwrap_or(name).to_owned();
        Ok(Self { name, zone })
    }

    pub fn utc() -> Self {
        Self::parse("UTC").expect("the bundled tz database has UTC")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.zone
    }
}

impl fmt::Debug for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimeZone").field(&self.name).finish()
    }
}

impl PartialEq for TimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZone {}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meeting_urls_are_https_addresses_without_credentials() {
        let zoom = MeetingUrl::parse(" https://us02web.zoom.us/j/81234567890?pwd=abc ").unwrap();
        assert_eq!(zoom.as_str(), "https://us02web.zoom.us/j/81234567890?pwd=abc");
        assert!(MeetingUrl::parse("https://meet.google.com/abc-defg-hij").is_ok());
        for refused in [
            "",
            "http://zoom.us/j/1",
            "javascript:alert(1)",
            "https://user:secret@zoom.us/j/1",
            "https://zoom.us/j/1 2",
            "zoom.us/j/1",
        ] {
            assert!(MeetingUrl::parse(refused).is_err(), "{refused} was accepted");
        }
        assert!(MeetingUrl::parse(&format!("https://example.com/{}", "a".repeat(2_048))).is_err());
    }

    #[test]
    fn a_line_refuses_newlines_and_control_characters_and_a_paragraph_keeps_its_lines() {
        for bad in [
            "Asha\nVerma",
            "Asha\rVerma",
            "Asha\tVerma",
            "Asha\u{0}",
            "Asha\u{1b}[31m",
            "evil\u{202E}gnp.exe",
        ] {
            assert!(Text::required(bad, 100).is_err(), "{bad:?}");
        }
        assert_eq!(Text::required("  Asha Verma  ", 100).unwrap().as_str(), "Asha Verma");
        assert_eq!(
            Text::multiline_required("Line one\n\tLine two", 100).unwrap().as_str(),
            "Line one\n\tLine two"
        );
        assert!(Text::multiline_optional("bell\u{7}", 100).is_err());
        assert!(Text::multiline_optional("spoof\u{2066}", 100).is_err());
        assert!(Text::required("", 100).is_err());
        assert!(Text::required("abc", 2).is_err());
    }

    #[test]
    fn a_number_knows_its_country() {
        assert_eq!(Phone::region_of("+919876543210").as_deref(), Some("IN"));
        assert_eq!(Phone::region_of("+447400123456").as_deref(), Some("GB"));
        assert_eq!(Phone::region_of("not a number"), None);
    }

    #[test]
    fn indian_australian_and_us_numbers_parse_in_national_and_international_form() {
        let cases = [
            ("IN", "098765 43210", "+91 98765 43210", "+919876543210"),
            ("AU", "0412 345 678", "+61 412 345 678", "+61412345678"),
            ("US", "(201) 555-0123", "+1 201-555-0123", "+12015550123"),
        ];
        for (country, national, international, e164) in cases {
            let country = Country::parse(country).unwrap();
            assert_eq!(Phone::parse(national, Some(country)).unwrap().as_e164(), e164);
            assert_eq!(Phone::parse(international, None).unwrap().as_e164(), e164);
            assert_eq!(Phone::parse(international, Some(country)).unwrap().as_e164(), e164);
        }
    }

    #[test]
    fn a_national_number_is_read_with_or_without_its_leading_zero() {
        let india = Country::parse("IN").unwrap();
        for typed in [
            "9876543210",
            "09876543210",
            "98765 43210",
            "+91 98765 43210",
            "+919876543210",
        ] {
            assert_eq!(
                Phone::parse(typed, Some(india)).unwrap().as_e164(),
                "+919876543210",
                "{typed}"
            );
        }
        let uk = Country::parse("GB").unwrap();
        assert_eq!(
            Phone::parse("07400 123456", Some(uk)).unwrap().as_e164(),
            "+447400123456"
        );
        assert_eq!(
            Phone::parse("+91 98765 43210", Some(uk)).unwrap().as_e164(),
            "+919876543210",
            "an international number whatever the country chosen"
        );
    }

    #[test]
    fn a_refused_number_says_what_is_expected_there() {
        let india = Country::parse("in").unwrap();
        assert_eq!(
            Phone::parse("12345", Some(india)).unwrap_err(),
            "Enter a 10-digit mobile number, or start with +"
        );
        assert_eq!(
            Phone::parse("0412 345 678", None).unwrap_err(),
            "Enter the number with its country code, starting with +"
        );
        assert_eq!(Phone::parse("", Some(india)).unwrap_err(), Phone::expected(Some(india)));
        let germany = Country::parse("DE").unwrap();
        assert_eq!(
            Phone::expected(Some(germany)),
            "Enter a 10- to 11-digit mobile number, or start with +"
        );
    }

    #[test]
    fn a_zone_names_its_country_and_the_country_its_calling_code() {
        let india = Country::of_zone("Asia/Kolkata").unwrap();
        assert_eq!(india.code(), "IN");
        assert_eq!(india.calling_code(), 91);
        assert_eq!(Country::of_zone("America/New_York").unwrap().code(), "US");
        assert_eq!(Country::of_zone("Europe/London").unwrap().code(), "GB");
        assert_eq!(Country::of_zone("UTC"), None);
        assert_eq!(Country::of_zone("Mars/Olympus"), None);
        let all = Country::all();
        assert!(all.len() > 200, "{}", all.len());
        assert!(all.contains(&india));
        assert!(
            india.example_mobile().unwrap().starts_with('0'),
            "{:?}",
            india.example_mobile()
        );
    }

    #[test]
    fn emails_are_checked_and_normalised() {
        let email = Email::parse("  Asha.Rao@Example.com ").unwrap();
        assert_eq!(email.as_str(), "Asha.Rao@Example.com");
        assert_eq!(email.normalised(), "asha.rao@example.com");
        for bad in ["", "asha", "asha@", "@example.com", "a b@example.com", "asha@localhost"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        assert!(Slug::parse("nail-your-interview-2").is_ok());
        for bad in ["", "-a", "a-", "a--b", "Upper", "sp ace", "é", &"a".repeat(81)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(TimeZone::parse("Asia/Kathmandu").unwrap().name(), "Asia/Kathmandu");
        for bad in ["", "Mars/Olympus", "+05:30", "EST5EDT,M3.2.0,M11.1.0"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Text::required("  Asha  ", 10).unwrap().as_str(), "Asha");
        assert!(Text::required("   ", 10).is_err());
        assert!(Text::required("abcdefghijk", 10).is_err());
        assert!(Text::required("a\u{0}b", 10).is_err());
        assert_eq!(Text::optional("", 10).unwrap().as_str(), "");
    }
}
