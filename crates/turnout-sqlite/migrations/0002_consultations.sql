-- Advisors, the callback windows offered to visitors, and consultations.

CREATE TABLE advisors (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL,
    email                TEXT    NOT NULL UNIQUE,
    time_zone            TEXT    NOT NULL,
    max_calls_per_window INTEGER NOT NULL CHECK (max_calls_per_window > 0),
    last_assigned_at     INTEGER, -- breaks ties between equally loaded advisors, round-robin
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

-- Weekly ranges an advisor works, in the advisor's own zone.
CREATE TABLE advisor_availability (
    id           INTEGER PRIMARY KEY,
    advisor_id   INTEGER NOT NULL REFERENCES advisors (id),
    weekday      TEXT    NOT NULL,
    starts_local TEXT    NOT NULL, -- HH:MM
    ends_local   TEXT    NOT NULL
) STRICT;

CREATE INDEX advisor_availability_advisor ON advisor_availability (advisor_id);

CREATE TABLE advisor_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    advisor_id INTEGER NOT NULL REFERENCES advisors (id),
    created_at INTEGER NOT NULL
) STRICT;

-- The named windows offered every day, as local times in the visitor's zone.
CREATE TABLE callback_windows (
    key          TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    starts_local TEXT    NOT NULL,
    ends_local   TEXT    NOT NULL,
    position     INTEGER NOT NULL
) STRICT;

INSERT INTO callback_windows (key, name, starts_local, ends_local, position) VALUES
    ('mornings', 'Mornings', '08:00', '10:00', 1),
    ('afternoons', 'Afternoons', '13:00', '16:00', 2),
    ('evenings', 'Evenings', '18:00', '21:00', 3);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

INSERT INTO settings (key, value) VALUES ('consultation_days_ahead', '7');

-- Calls assigned to an advisor in one window, changed only by a conditional
-- upsert so that no advisor is ever over capacity.
CREATE TABLE advisor_window_load (
    advisor_id   INTEGER NOT NULL REFERENCES advisors (id),
    window_start INTEGER NOT NULL,
    taken        INTEGER NOT NULL CHECK (taken > 0),
    PRIMARY KEY (advisor_id, window_start)
) STRICT;

CREATE TABLE consultations (
    id           TEXT    PRIMARY KEY,
    lead_id      TEXT    NOT NULL UNIQUE REFERENCES leads (id),
    person_id    INTEGER NOT NULL REFERENCES persons (id),
    advisor_id   INTEGER NOT NULL REFERENCES advisors (id),
    window_key   TEXT    NOT NULL,
    window_date  TEXT    NOT NULL, -- the visitor's local date
    window_label TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,
    time_zone    TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('requested', 'assigned', 'called', 'no_answer', 'completed', 'rescheduled')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX consultations_advisor ON consultations (advisor_id, window_start);
