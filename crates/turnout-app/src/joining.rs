//! Joining the webinar through a registrant's personal link.

use jiff::{SignedDuration, Timestamp};
use turnout_domain::{JoinPhase, JoinWindow, RegistrationStatus};
use turnout_store::{JoinTarget, StoreError};
use uuid::Uuid;

use crate::{Turnout, now};

/// What opening a join link comes to, decided by the registration as it is
/// now and the clock.
pub enum Joining {
    /// Before the join window: when the webinar starts and when the link
    /// opens it.
    Early { target: JoinTarget, opens_at: Timestamp },
    /// Inside the window, until the slot ends: the opening is recorded
    /// (it is what attendance is judged from) and the visitor goes on to
    /// the meeting, when its address is set.
    Live { target: JoinTarget },
    /// After the slot ended: the replay, when there is one.
    Ended { target: JoinTarget },
    /// The registration was cancelled: the link no longer leads anywhere.
    Cancelled { target: JoinTarget },
}

impl Turnout {
    /// Opens registration `registration_id`'s join link (its token already
    /// checked): the window opens `opens_before` the start and lasts until
    /// the slot ends. `None` when no such registration exists.
    pub async fn open_join_link(
        &self,
        registration_id: Uuid,
        opens_before: SignedDuration,
    ) -> Result<Option<Joining>, StoreError> {
        let Some(target) = self.store.join_target(registration_id).await? else {
            return Ok(None);
        };
        let now = now();
        let registration = &target.registration;
        let window = JoinWindow::new(
            registration.slot.starts_at,
            registration.webinar.duration_minutes,
            opens_before,
        );
        let joining = match (registration.status, window.phase(now)) {
            (RegistrationStatus::Cancelled, _) => Joining::Cancelled { target },
            (_, JoinPhase::Early) => Joining::Early {
                target,
                opens_at: window.opens_at,
            },
            (_, JoinPhase::Open) => {
                self.store.record_join(registration_id, now).await?;
                metrics::counter!("turnout_join_link_opens_total").increment(1);
                Joining::Live { target }
            }
            (_, JoinPhase::Ended) => Joining::Ended { target },
        };
        Ok(Some(joining))
    }
}
