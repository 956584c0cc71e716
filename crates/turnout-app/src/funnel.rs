//! The webinar funnel: a lead, a seat, and the owner's changes to it.

use turnout_domain::{NewLead, SecretToken};
use turnout_store::{
    LeadError, LeadKey, ManageKey, NewRegistration, Registration, RegistrationError, RegistrationLead,
    RegistrationOutcome,
};
use uuid::Uuid;

use crate::{Change, Turnout, now};

/// A lead recorded in step 1, and the secret that proves it in step 2.
pub struct LeadRecorded {
    pub lead_id: Uuid,
    pub lead_token: SecretToken,
}

/// Who asks for a seat.
pub enum Applicant {
    /// A lead recorded earlier, with its token.
    Lead(LeadKey),
    /// A new lead, recorded with the seat request; it stays recorded when
    /// the slot turns out to be full or closed, so the visitor is not lost.
    New(Box<NewLead>),
}

pub enum Registered {
    /// A seat taken; the manage token is shown to the visitor once.
    Created {
        registration: Registration,
        manage_token: SecretToken,
    },
    /// The person already held a seat in this webinar and nothing changed;
    /// the owner is emailed their manage link (the store wrote the event).
    Existing(Registration),
}

/// A new lead's identity and the secret that will prove it.
fn new_lead_key() -> (LeadKey, SecretToken) {
    let token = SecretToken::generate();
    let key = LeadKey {
        id: Uuid::now_v7(),
        token: token.hash(),
    };
    (key, token)
}

impl Turnout {
    /// Step 1: records who the visitor is and what they agreed to.
    pub async fn record_lead(&self, lead: &NewLead) -> Result<LeadRecorded, LeadError> {
        let (key, token) = new_lead_key();
        self.store.create_lead(lead, &key, now()).await?;
        metrics::counter!("turnout_leads_total").increment(1);
        Ok(LeadRecorded {
            lead_id: key.id,
            lead_token: token,
        })
    }

    /// Step 2: a seat in `slot_id`, decided by the store in one transaction.
    pub async fn register(&self, slot_id: i64, applicant: Applicant) -> Result<Registered, RegistrationError> {
        let lead = match applicant {
            Applicant::Lead(key) => RegistrationLead::Known(key),
            Applicant::New(lead) => RegistrationLead::New {
                lead,
                key: new_lead_key().0,
            },
        };
        let records_lead = matches!(lead, RegistrationLead::New { .. });
        let id = Uuid::now_v7();
        let manage_token = self.link_key.manage_token(id);
        let new = NewRegistration {
            id,
            slot_id,
            lead,
            manage_token: manage_token.hash(),
            now: now(),
        };
        let outcome = self.store.create_registration(&new).await;
        if records_lead && outcome.as_ref().err().is_none_or(RegistrationError::keeps_lead) {
            metrics::counter!("turnout_leads_total").increment(1);
        }
        let registered = match outcome {
            Ok(RegistrationOutcome::Created(registration)) => {
                self.announce(Change::Slots {
                    webinar_id: registration.webinar.id,
                });
                Registered::Created {
                    registration,
                    manage_token,
                }
            }
            Ok(RegistrationOutcome::Existing(registration)) => Registered::Existing(registration),
            Err(error) => {
                count_registration(refusal_label(&error));
                return Err(error);
            }
        };
        count_registration(match registered {
            Registered::Created { .. } => "created",
            Registered::Existing(_) => "existing",
        });
        Ok(registered)
    }

    /// Cancels a registration and frees its seat; cancelling again changes
    /// nothing.
    pub async fn cancel(&self, key: &ManageKey) -> Result<Registration, RegistrationError> {
        let registration = self.store.cancel_registration(key, now()).await?;
        self.announce(Change::Slots {
            webinar_id: registration.webinar.id,
        });
        count_registration("cancelled");
        Ok(registration)
    }

    /// Moves a confirmed registration to another slot of its webinar,
    /// never holding two seats.
    pub async fn reschedule(&self, key: &ManageKey, slot_id: i64) -> Result<Registration, RegistrationError> {
        let registration = self.store.reschedule_registration(key, slot_id, now()).await?;
        self.announce(Change::Slots {
            webinar_id: registration.webinar.id,
        });
        count_registration("rescheduled");
        Ok(registration)
    }
}

pub(crate) fn count_registration(outcome: &'static str) {
    metrics::counter!("turnout_registrations_total", "outcome" => outcome).increment(1);
}

fn refusal_label(error: &RegistrationError) -> &'static str {
    match error {
        RegistrationError::SlotFull => "slot_full",
        RegistrationError::SlotClosed => "slot_closed",
        RegistrationError::Store(_) => "error",
        _ => "invalid",
    }
}
