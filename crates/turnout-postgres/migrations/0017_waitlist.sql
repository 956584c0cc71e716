-- The waiting list of a full slot. People wait in id order (UUIDv7); when a
-- seat frees, the first is offered it and the seat stays counted in the
-- slot's seats_taken, held for them, so nobody else takes it. An offer
-- lasts from offered_at for the configured hold, never past the slot's
-- start; claimed, it becomes registration_id. One place per person and
-- slot while waiting or offered. Keep in step with SQLite's 0014.

CREATE TABLE waitlist_entries (
    id              UUID        PRIMARY KEY,
    slot_id         BIGINT      NOT NULL REFERENCES slots (id),
    webinar_id      BIGINT      NOT NULL REFERENCES webinars (id),
    person_id       BIGINT      NOT NULL REFERENCES persons (id),
    lead_id         UUID        NOT NULL REFERENCES leads (id),
    status          TEXT        NOT NULL CHECK (status IN ('waiting', 'offered', 'claimed', 'expired', 'left')),
    offered_at      TIMESTAMPTZ,
    registration_id UUID        REFERENCES registrations (id),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT waitlist_offer_time CHECK ((status = 'waiting') = (offered_at IS NULL) OR status = 'left')
);

CREATE UNIQUE INDEX waitlist_one_place_per_person
    ON waitlist_entries (slot_id, person_id) WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_line ON waitlist_entries (slot_id, status, id);
