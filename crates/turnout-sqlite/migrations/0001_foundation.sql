-- Turnout's foundation schema on SQLite. Instants are INTEGER microseconds
-- since the Unix epoch (UTC); public ids are UUID text. Keep the tables and
-- columns identical to the PostgreSQL schema: a test compares them.

CREATE TABLE webinars (
    id               INTEGER PRIMARY KEY,
    slug             TEXT    NOT NULL UNIQUE,
    title            TEXT    NOT NULL,
    summary          TEXT    NOT NULL,
    time_zone        TEXT    NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    hosts            TEXT    NOT NULL, -- JSON array of {name, title}
    highlights       TEXT    NOT NULL, -- JSON array of strings
    status           TEXT    NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE slots (
    id          INTEGER PRIMARY KEY,
    webinar_id  INTEGER NOT NULL REFERENCES webinars (id),
    starts_at   INTEGER NOT NULL,
    capacity    INTEGER NOT NULL CHECK (capacity > 0),
    seats_taken INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CONSTRAINT slots_webinar_start UNIQUE (webinar_id, starts_at),
    CONSTRAINT slots_seats_within_capacity CHECK (seats_taken >= 0 AND seats_taken <= capacity)
) STRICT;

CREATE TABLE persons (
    id               INTEGER PRIMARY KEY,
    email_normalised TEXT    NOT NULL UNIQUE,
    email            TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    phone            TEXT    NOT NULL, -- E.164
    country          TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE consents (
    id             INTEGER PRIMARY KEY,
    person_id      INTEGER NOT NULL REFERENCES persons (id),
    policy_version TEXT    NOT NULL,
    policy_sha256  TEXT    NOT NULL,
    email          INTEGER NOT NULL,
    sms            INTEGER NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE leads (
    id           TEXT    PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    webinar_id   INTEGER NOT NULL REFERENCES webinars (id),
    consent_id   INTEGER NOT NULL REFERENCES consents (id),
    token_hash   TEXT    NOT NULL,
    time_zone    TEXT    NOT NULL,
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    utm_term     TEXT,
    utm_content  TEXT,
    referrer     TEXT,
    page         TEXT,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX leads_person ON leads (person_id);

CREATE TABLE registrations (
    id                TEXT    PRIMARY KEY,
    person_id         INTEGER NOT NULL REFERENCES persons (id),
    webinar_id        INTEGER NOT NULL REFERENCES webinars (id),
    slot_id           INTEGER NOT NULL REFERENCES slots (id),
    lead_id           TEXT    NOT NULL REFERENCES leads (id),
    status            TEXT    NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'attended', 'no_show')),
    manage_token_hash TEXT    NOT NULL,
    time_zone         TEXT    NOT NULL,
    sequence          INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    cancelled_at      INTEGER
) STRICT;

-- One seat per person per webinar: a second registration attempt finds the first.
CREATE UNIQUE INDEX registrations_one_seat_per_person
    ON registrations (person_id, webinar_id) WHERE status = 'confirmed';
CREATE INDEX registrations_slot ON registrations (slot_id);
CREATE INDEX registrations_webinar ON registrations (webinar_id, status);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL CHECK (role IN ('admin')),
    label      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
