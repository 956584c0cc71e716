-- How many emails and SMS each recipient got on each UTC day, so that no
-- one can use Turnout to flood a third party: the worker counts a message
-- here before it goes out and skips it past the cap. The recipient is the
-- SHA-256 of channel and address, never the address itself. The worker
-- prunes days before yesterday. Keep in step with PostgreSQL's 0012.

CREATE TABLE recipient_allowances (
    recipient TEXT    NOT NULL,
    day       TEXT    NOT NULL, -- YYYY-MM-DD, UTC
    sent      INTEGER NOT NULL,
    PRIMARY KEY (recipient, day)
) STRICT;
