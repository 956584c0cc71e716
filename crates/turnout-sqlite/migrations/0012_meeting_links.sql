-- Where a webinar is held and where its recording is, apart from the
-- webinar and slot rows that public pages read: these addresses reach
-- registrants only through their personal join links, and admins. A slot's
-- own address, when set, overrides its webinar's.
-- And when each registrant opened their join link inside the join window
-- (first and last time, how often), from which attendance is judged.
-- Keep in step with PostgreSQL's 0015.

CREATE TABLE webinar_links (
    webinar_id INTEGER PRIMARY KEY REFERENCES webinars (id),
    join_url   TEXT,
    replay_url TEXT,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE slot_links (
    slot_id    INTEGER PRIMARY KEY REFERENCES slots (id),
    join_url   TEXT,
    replay_url TEXT,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE registration_joins (
    registration_id TEXT    PRIMARY KEY REFERENCES registrations (id),
    first_joined_at INTEGER NOT NULL,
    last_joined_at  INTEGER NOT NULL,
    joins           INTEGER NOT NULL CHECK (joins > 0)
) STRICT;
