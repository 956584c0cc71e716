-- Append-only history of changes to consultations: who changed what, when.

CREATE TABLE consultation_events (
    id              INTEGER PRIMARY KEY,
    consultation_id TEXT    NOT NULL REFERENCES consultations (id),
    actor           TEXT    NOT NULL, -- "advisor:<id>" or "admin"
    status          TEXT    NOT NULL,
    notes           TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX consultation_events_consultation ON consultation_events (consultation_id, id);
