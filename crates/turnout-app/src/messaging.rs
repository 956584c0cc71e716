//! What a messaging provider reports back about messages it accepted.

use turnout_delivery::whatsapp::FailedStatus;
use turnout_store::{Channel, StoreError};

use crate::{Turnout, now};

impl Turnout {
    /// WhatsApp messages the Cloud API accepted and later could not deliver
    /// (its status callback). Those to numbers not on WhatsApp go by SMS
    /// instead when `sms` is configured, as the WhatsApp consent says; each
    /// is handed over once, however often the report comes. Answers how
    /// many went to SMS.
    pub async fn whatsapp_undelivered(&self, failures: &[FailedStatus], sms: bool) -> Result<usize, StoreError> {
        let mut handed = 0;
        for failure in failures {
            let outcome = match (failure.not_on_whatsapp, sms) {
                (true, true) => "sms",
                (true, false) => "undelivered",
                (false, _) => "failed",
            };
            metrics::counter!("turnout_whatsapp_undelivered_total", "outcome" => outcome).increment(1);
            if outcome != "sms" {
                tracing::warn!(message_id = %failure.message_id, outcome, "a WhatsApp message was not delivered");
                continue;
            }
            let reason = "reported not on WhatsApp: sent by sms instead";
            if self
                .store
                .hand_over_delivery(failure.message_id, Channel::WhatsApp, Channel::Sms, Some(reason), now())
                .await?
            {
                handed += 1;
            }
        }
        Ok(handed)
    }
}
