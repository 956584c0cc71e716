//! Turnout's domain: the types the rest of the code trusts, the rules that
//! decide what a valid webinar, lead or registration is, and the time-zone
//! arithmetic behind every label a visitor reads. Nothing here does I/O.

pub mod article;
pub mod calendar;
pub mod civil;
pub mod consultation;
pub mod funnel;
pub mod labels;
pub mod resume;
pub mod schedule;
pub mod token;
pub mod validation;
pub mod values;
pub mod webinar;

pub use funnel::{Attribution, Consent, NewLead, Person};
pub use token::{LinkKey, SecretToken, TokenHash};
pub use validation::{FieldError, ValidationErrors};
pub use values::{Country, Email, MeetingUrl, Phone, Slug, Text, TimeZone};
pub use webinar::{
    ConsultationStatus, Host, JoinPhase, JoinWindow, RegistrationStatus, SlotStatus, WebinarStatus, seats_left,
};
