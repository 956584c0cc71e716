//! What visitors, advisors and staff can do with Turnout, each decided in
//! one place. The HTTP API, the server-rendered pages and the command line
//! call these functions; none of them talks to the [`Store`] to change
//! anything on its own.
//!
//! A use case takes validated domain types (parsing is the edge's job),
//! asks the store to do the business write in one transaction, and then
//! does what follows from the write whoever asked for it: it counts the
//! business metric and announces the [`Change`] so that caches forget what
//! is no longer true. Each answers with the store's typed error, which the
//! caller maps to its own shape (a problem, a page, a message on stderr).

pub mod attendance;
mod callbacks;
mod catalogue;
mod content;
pub mod exports;
mod funnel;
mod joining;
mod messaging;
mod operations;
pub mod waitlist;

use std::sync::Arc;

use jiff::Timestamp;
use object_store::ObjectStore;
use turnout_domain::{LinkKey, Slug};
use turnout_store::Store;

pub use callbacks::{ResumeError, StoredResume, UploadedResume};
pub use funnel::{Applicant, LeadRecorded, Registered};
pub use joining::Joining;
pub use operations::NewWebhook;

/// Something that changed what visitors are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Seats were taken or freed, or slots added, closed or resized.
    Slots { webinar_id: i64 },
    /// A webinar was created or changed (title, status, hosts …).
    Webinar { webinar_id: i64, slug: Slug },
    /// An article was written, changed, published or unpublished.
    Article { slug: Slug },
}

/// Told of every [`Change`] after it is committed: the caches of this
/// instance, and whatever carries changes to other instances.
pub trait Changes: Send + Sync {
    fn changed(&self, change: &Change);
}

/// For callers that keep no cache (the command line).
pub struct NoCaches;

impl Changes for NoCaches {
    fn changed(&self, _: &Change) {}
}

/// The use cases, over one store. Cheap to clone.
#[derive(Clone)]
pub struct Turnout {
    store: Arc<dyn Store>,
    /// Where uploaded files (résumés) live.
    uploads: Arc<dyn ObjectStore>,
    /// Makes each registration's manage token.
    link_key: LinkKey,
    changes: Arc<dyn Changes>,
    /// How long a seat offered from a waiting list is held.
    offer_hold: jiff::SignedDuration,
}

impl Turnout {
    pub fn new(
        store: Arc<dyn Store>,
        uploads: Arc<dyn ObjectStore>,
        link_key: LinkKey,
        changes: Arc<dyn Changes>,
    ) -> Self {
        Self {
            store,
            uploads,
            link_key,
            changes,
            offer_hold: waitlist::DEFAULT_OFFER_HOLD,
        }
    }

    /// Holds seats offered from waiting lists for `hold` (12 hours unless
    /// told), never past the slot's start.
    pub fn with_offer_hold(mut self, hold: jiff::SignedDuration) -> Self {
        self.offer_hold = hold;
        self
    }

    /// For reads, which need no use case of their own.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn uploads(&self) -> &dyn ObjectStore {
        self.uploads.as_ref()
    }

    fn announce(&self, change: Change) {
        self.changes.changed(&change);
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}
