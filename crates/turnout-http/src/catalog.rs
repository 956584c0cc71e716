//! What visitors read most, kept in memory: published webinars by slug and
//! each webinar's slot listing, rendered per time zone. Every change made
//! through this instance invalidates at once; the TTL bounds how stale a
//! listing can be after a change made by another instance. Capacity is
//! never decided here: only what is shown is cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use jiff::Timestamp;
use turnout_domain::{Slug, TimeZone};
use turnout_store::{Slot, Store, StoreError, Webinar};

pub struct Catalog {
    ttl: Duration,
    webinars: RwLock<HashMap<Slug, CachedWebinar>>,
    slots: RwLock<HashMap<i64, SlotEntry>>,
}

/// A webinar (or its absence) and when it was read.
type CachedWebinar = (Instant, Option<Arc<Webinar>>);

#[derive(Default)]
struct SlotEntry {
    /// Bumped by every invalidation, so that a load that raced with a write
    /// does not store what it read before the write.
    generation: u64,
    loaded: Option<(Instant, Arc<Vec<Slot>>)>,
    rendered: HashMap<String, Rendered>,
}

struct Rendered {
    built: Instant,
    /// When the first listed slot starts and the listing stops being true.
    valid_until: Option<Timestamp>,
    body: Bytes,
}

/// Renders a listing of `slots` in a zone at an instant.
pub type RenderSlots = fn(&[Slot], &TimeZone, Timestamp) -> (Bytes, Option<Timestamp>);

impl Catalog {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            webinars: RwLock::default(),
            slots: RwLock::default(),
        }
    }

    /// Any webinar by slug (the caller checks its status).
    pub async fn webinar(&self, store: &dyn Store, slug: &Slug) -> Result<Option<Arc<Webinar>>, StoreError> {
        if let Some((loaded, webinar)) = self.webinars.read().expect("catalog lock").get(slug)
            && loaded.elapsed() < self.ttl
        {
            return Ok(webinar.clone());
        }
        let loaded = Instant::now();
        let webinar = store.find_webinar(slug).await?.map(Arc::new);
        // Only webinars that exist are kept: slugs come from clients, and
        // remembering every miss would let them grow the map without end.
        let mut webinars = self.webinars.write().expect("catalog lock");
        match &webinar {
            Some(found) => {
                webinars.insert(slug.clone(), (loaded, Some(Arc::clone(found))));
            }
            None => {
                webinars.remove(slug);
            }
        }
        Ok(webinar)
    }

    /// Forgets a webinar after it was created or changed.
    pub fn forget_webinar(&self, slug: &Slug) {
        self.webinars.write().expect("catalog lock").remove(slug);
    }

    /// The slot listing of a webinar in `zone`, rendered by `render`.
    pub async fn slots_body(
        &self,
        store: &dyn Store,
        webinar_id: i64,
        zone: &TimeZone,
        now: Timestamp,
        render: RenderSlots,
    ) -> Result<Bytes, StoreError> {
        let (generation, slots) = {
            let entries = self.slots.read().expect("catalog lock");
            let entry = entries.get(&webinar_id);
            if let Some(rendered) = entry.and_then(|e| e.rendered.get(zone.name()))
                && rendered.built.elapsed() < self.ttl
                && rendered.valid_until.is_none_or(|until| now < until)
            {
                return Ok(rendered.body.clone());
            }
            let fresh = entry
                .and_then(|e| e.loaded.as_ref())
                .filter(|(loaded, _)| loaded.elapsed() < self.ttl)
                .map(|(loaded, slots)| (*loaded, slots.clone()));
            (entry.map_or(0, |e| e.generation), fresh)
        };
        let (loaded, slots) = match slots {
            Some(fresh) => fresh,
            None => (Instant::now(), Arc::new(store.list_slots(webinar_id, now).await?)),
        };
        let (body, valid_until) = render(&slots, zone, now);
        let mut entries = self.slots.write().expect("catalog lock");
        let entry = entries.entry(webinar_id).or_default();
        if entry.generation == generation {
            entry.loaded = Some((loaded, slots));
            entry.rendered.insert(
                zone.name().to_owned(),
                Rendered {
                    built: loaded,
                    valid_until,
                    body: body.clone(),
                },
            );
        }
        Ok(body)
    }

    /// Forgets a webinar's slots after a change to its seats or schedule.
    pub fn invalidate_slots(&self, webinar_id: i64) {
        let mut entries = self.slots.write().expect("catalog lock");
        let entry = entries.entry(webinar_id).or_default();
        entry.generation += 1;
        entry.loaded = None;
        entry.rendered.clear();
    }
}
