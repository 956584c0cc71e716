-- Where a webinar is held and where its recording is, apart from the
-- webinar and slot rows that public pages read: these addresses reach
-- registrants only through their personal join links, and admins. A slot's
-- own address, when set, overrides its webinar's.
-- And when each registrant opened their join link inside the join window
-- (first and last time, how often), from which attendance is judged.
-- Keep in step with SQLite's 0012.

CREATE TABLE webinar_links (
    webinar_id BIGINT      PRIMARY KEY REFERENCES webinars (id),
    join_url   TEXT,
    replay_url TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE slot_links (
    slot_id    BIGINT      PRIMARY KEY REFERENCES slots (id),
    join_url   TEXT,
    replay_url TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE registration_joins (
    registration_id UUID        PRIMARY KEY REFERENCES registrations (id),
    first_joined_at TIMESTAMPTZ NOT NULL,
    last_joined_at  TIMESTAMPTZ NOT NULL,
    joins           INTEGER     NOT NULL CHECK (joins > 0)
);
