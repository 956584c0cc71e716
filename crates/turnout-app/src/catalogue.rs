//! What the organiser offers: webinars and their slots.

use turnout_domain::{Slug, WebinarStatus};
use turnout_store::{
    LinkChanges, MeetingLinks, NewSlot, NewWebinar, Slot, SlotChanges, SlotError, StoreError, Webinar, WebinarChanges,
    WebinarError,
};

use crate::{Change, Turnout, now};

impl Turnout {
    pub async fn create_webinar(&self, webinar: &NewWebinar) -> Result<Webinar, WebinarError> {
        let created = self.store.create_webinar(webinar, now()).await?;
        // A slug asked for before it existed may be remembered as absent.
        self.announce_webinar(&created);
        Ok(created)
    }

    /// Changes a webinar; absent fields stay as they are.
    pub async fn update_webinar(&self, slug: &Slug, changes: &WebinarChanges) -> Result<Webinar, WebinarError> {
        let updated = self.store.update_webinar(slug, changes, now()).await?;
        self.announce_webinar(&updated);
        Ok(updated)
    }

    /// Takes a webinar out of the catalogue: it takes no registrations.
    pub async fn archive_webinar(&self, slug: &Slug) -> Result<Webinar, WebinarError> {
        let changes = WebinarChanges {
            status: Some(WebinarStatus::Archived),
            ..WebinarChanges::default()
        };
        self.update_webinar(slug, &changes).await
    }

    /// Adds slots to a webinar; the ids in the order given.
    pub async fn create_slots(&self, webinar: &Webinar, slots: &[NewSlot]) -> Result<Vec<i64>, SlotError> {
        let ids = self.store.create_slots(&webinar.slug, slots, now()).await?;
        self.announce(Change::Slots { webinar_id: webinar.id });
        Ok(ids)
    }

    /// Changes a slot's capacity (never below the seats taken) or status.
    pub async fn update_slot(&self, slot_id: i64, changes: &SlotChanges) -> Result<Slot, SlotError> {
        let slot = self.store.update_slot(slot_id, changes, now()).await?;
        self.announce(Change::Slots {
            webinar_id: slot.webinar_id,
        });
        Ok(slot)
    }

    /// Sets or clears a webinar's join and replay addresses, which only
    /// registrants' join links and admins see.
    pub async fn set_webinar_links(&self, webinar_id: i64, changes: &LinkChanges) -> Result<MeetingLinks, StoreError> {
        self.store.set_webinar_links(webinar_id, changes, now()).await
    }

    /// Sets or clears a slot's own addresses, which override its webinar's.
    pub async fn set_slot_links(&self, slot_id: i64, changes: &LinkChanges) -> Result<MeetingLinks, StoreError> {
        self.store.set_slot_links(slot_id, changes, now()).await
    }

    fn announce_webinar(&self, webinar: &Webinar) {
        self.announce(Change::Webinar {
            webinar_id: webinar.id,
            slug: webinar.slug.clone(),
        });
        self.announce(Change::Slots { webinar_id: webinar.id });
    }
}
