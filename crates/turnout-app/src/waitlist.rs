//! Waiting lists: a place on a full slot's list, the seat a freed place is
//! offered, and the claim that turns the offer into a registration. The
//! store decides every step (see `Store::join_waitlist`); an offer lasts
//! `offer_hold` from when it was made, never past the slot's start.

use jiff::{SignedDuration, Timestamp};
use turnout_domain::SecretToken;
use turnout_domain::webinar::offer_expires_at;
use turnout_store::{
    LeadKey, NewWaitlistEntry, Registration, WaitlistClaim, WaitlistEntry, WaitlistError, WaitlistJoin, WaitlistStatus,
};
use uuid::Uuid;

use crate::funnel::count_registration;
use crate::{Change, Turnout, now};

pub const DEFAULT_OFFER_HOLD: SignedDuration = SignedDuration::from_hours(12);

pub enum Waiting {
    /// A new place; its token (shown once, and in the emails) opens it.
    Joined {
        entry: Box<WaitlistEntry>,
        token: SecretToken,
    },
    /// Already on the list, or registered: nothing changed.
    Already,
}

impl Turnout {
    /// Puts a lead on a full slot's waiting list.
    pub async fn join_waitlist(&self, slot_id: i64, lead: LeadKey) -> Result<Waiting, WaitlistError> {
        let id = Uuid::now_v7();
        let new = NewWaitlistEntry {
            id,
            slot_id,
            lead,
            now: now(),
        };
        let waiting = match self.store.join_waitlist(&new).await? {
            WaitlistJoin::Joined(entry) => Waiting::Joined {
                entry,
                token: self.link_key.waitlist_token(id),
            },
            WaitlistJoin::AlreadyWaiting => Waiting::Already,
        };
        metrics::counter!(
            "turnout_waitlist_total",
            "outcome" => match waiting { Waiting::Joined { .. } => "joined", Waiting::Already => "already" },
        )
        .increment(1);
        Ok(waiting)
    }

    /// Leaves the list, or declines the offer held: its seat goes on.
    pub async fn leave_waitlist(&self, id: Uuid) -> Result<WaitlistEntry, WaitlistError> {
        let entry = self.store.leave_waitlist(id, now()).await?;
        self.announce(Change::Slots {
            webinar_id: entry.webinar.id,
        });
        metrics::counter!("turnout_waitlist_total", "outcome" => "left").increment(1);
        Ok(entry)
    }

    /// Claims the seat offered to place `id`: a registration, with the
    /// manage token shown once, and the usual confirmation.
    pub async fn claim_waitlist(&self, id: Uuid) -> Result<(Registration, SecretToken), WaitlistError> {
        let now = now();
        let registration_id = Uuid::now_v7();
        let manage_token = self.link_key.manage_token(registration_id);
        let claim = WaitlistClaim {
            entry_id: id,
            registration_id,
            manage_token: manage_token.hash(),
            offered_after: now.checked_sub(self.offer_hold).unwrap_or(Timestamp::MIN),
            now,
        };
        let registration = self.store.claim_waitlist(&claim).await?;
        self.announce(Change::Slots {
            webinar_id: registration.webinar.id,
        });
        metrics::counter!("turnout_waitlist_total", "outcome" => "claimed").increment(1);
        count_registration("created");
        Ok((registration, manage_token))
    }

    /// When the offer a place holds lapses; `None` when it holds none.
    pub fn offer_expires_at(&self, entry: &WaitlistEntry) -> Option<Timestamp> {
        match (entry.status, entry.offered_at) {
            (WaitlistStatus::Offered, Some(at)) => Some(offer_expires_at(at, entry.starts_at, self.offer_hold)),
            _ => None,
        }
    }
}
