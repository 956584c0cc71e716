//! The visitor's side of the funnel: who they are, what they agreed to and
//! where they came from.

use crate::{Country, Email, Phone, Slug, Text, TimeZone};

/// A visitor as they described themselves.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: Text,
    pub email: Email,
    pub phone: Phone,
    pub country: Option<Country>,
}

/// What the visitor agreed to, and the evidence of it.
#[derive(Debug, Clone)]
pub struct Consent {
    /// The privacy-policy version shown, and a hash of its text, so the exact
    /// words agreed to can be proven later.
    pub policy_version: String,
    pub policy_sha256: String,
    /// Reminders by SMS; email about the registration comes with the policy.
    pub sms: bool,
    /// The confirmation and reminders on WhatsApp, and by SMS instead when
    /// the number turns out not to be on WhatsApp.
    pub whatsapp: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Where the visitor came from: UTM fields, referrer and landing page.
#[derive(Debug, Clone, Default)]
pub struct Attribution {
    pub utm_source: Option<Text>,
    pub utm_medium: Option<Text>,
    pub utm_campaign: Option<Text>,
    pub utm_term: Option<Text>,
    pub utm_content: Option<Text>,
    pub referrer: Option<Text>,
    pub page: Option<Text>,
}

impl Attribution {
    pub const FIELD_CHARS: usize = 200;
    pub const URL_CHARS: usize = 2_048;
}

/// Step 1 of the funnel, validated.
#[derive(Debug, Clone)]
pub struct NewLead {
    pub webinar: Slug,
    pub person: Person,
    pub time_zone: TimeZone,
    pub consent: Consent,
    pub attribution: Attribution,
}
