-- Turnout's foundation schema on PostgreSQL. Keep the tables and columns
-- identical to the SQLite schema: a test compares them.

CREATE TABLE webinars (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug             TEXT        NOT NULL UNIQUE,
    title            TEXT        NOT NULL,
    summary          TEXT        NOT NULL,
    time_zone        TEXT        NOT NULL,
    duration_minutes BIGINT      NOT NULL CHECK (duration_minutes > 0),
    hosts            TEXT        NOT NULL, -- JSON array of {name, title}
    highlights       TEXT        NOT NULL, -- JSON array of strings
    status           TEXT        NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE slots (
    id          BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webinar_id  BIGINT      NOT NULL REFERENCES webinars (id),
    starts_at   TIMESTAMPTZ NOT NULL,
    capacity    BIGINT      NOT NULL CHECK (capacity > 0),
    seats_taken BIGINT      NOT NULL DEFAULT 0,
    status      TEXT        NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT slots_webinar_start UNIQUE (webinar_id, starts_at),
    CONSTRAINT slots_seats_within_capacity CHECK (seats_taken >= 0 AND seats_taken <= capacity)
);

CREATE TABLE persons (
    id               BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email_normalised TEXT        NOT NULL UNIQUE,
    email            TEXT        NOT NULL,
    name             TEXT        NOT NULL,
    phone            TEXT        NOT NULL, -- E.164
    country          TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE consents (
    id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id      BIGINT      NOT NULL REFERENCES persons (id),
    policy_version TEXT        NOT NULL,
    policy_sha256  TEXT        NOT NULL,
    email          BOOLEAN     NOT NULL,
    sms            BOOLEAN     NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE leads (
    id           UUID        PRIMARY KEY,
    person_id    BIGINT      NOT NULL REFERENCES persons (id),
    webinar_id   BIGINT      NOT NULL REFERENCES webinars (id),
    consent_id   BIGINT      NOT NULL REFERENCES consents (id),
    token_hash   TEXT        NOT NULL,
    time_zone    TEXT        NOT NULL,
    utm_source   TEXT,
    utm_medium   TEXT,
    utm_campaign TEXT,
    utm_term     TEXT,
    utm_content  TEXT,
    referrer     TEXT,
    page         TEXT,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE INDEX leads_person ON leads (person_id);

CREATE TABLE registrations (
    id                UUID        PRIMARY KEY,
    person_id         BIGINT      NOT NULL REFERENCES persons (id),
    webinar_id        BIGINT      NOT NULL REFERENCES webinars (id),
    slot_id           BIGINT      NOT NULL REFERENCES slots (id),
    lead_id           UUID        NOT NULL REFERENCES leads (id),
    status            TEXT        NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'attended', 'no_show')),
    manage_token_hash TEXT        NOT NULL,
    time_zone         TEXT        NOT NULL,
    sequence          BIGINT      NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    cancelled_at      TIMESTAMPTZ
);

-- One seat per person per webinar: a second registration attempt finds the first.
CREATE UNIQUE INDEX registrations_one_seat_per_person
    ON registrations (person_id, webinar_id) WHERE status = 'confirmed';
CREATE INDEX registrations_slot ON registrations (slot_id);
CREATE INDEX registrations_webinar ON registrations (webinar_id, status);

CREATE TABLE api_tokens (
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT        NOT NULL UNIQUE,
    role       TEXT        NOT NULL CHECK (role IN ('admin')),
    label      TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
