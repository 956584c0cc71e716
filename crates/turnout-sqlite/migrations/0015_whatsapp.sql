-- WhatsApp: a consent of its own (which also covers an SMS when the number
-- turns out not to be on WhatsApp), and a delivery channel. SQLite cannot
-- change a CHECK in place, so the ledger is copied into a table that allows
-- the new channel; nothing references it. Keep in step with PostgreSQL's 0018.

ALTER TABLE consents ADD COLUMN whatsapp INTEGER NOT NULL DEFAULT 0;

CREATE TABLE deliveries_next (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    event_id        INTEGER NOT NULL REFERENCES outbox (id),
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp', 'webhook')),
    kind            TEXT    NOT NULL, -- which message: confirmation, reminder-24h, webhook…
    recipient       TEXT    NOT NULL, -- visitor, advisor, or the endpoint's id
    endpoint_id     TEXT    REFERENCES webhook_endpoints (id) ON DELETE SET NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0, -- since the last admin retry
    claims          INTEGER NOT NULL DEFAULT 0, -- ever: fences each claim's outcome
    -- When it is due; while `sending`, when the claim's lease runs out.
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (event_id, channel, kind, recipient)
) STRICT;

INSERT INTO deliveries_next
SELECT id, message_id, event_id, channel, kind, recipient, endpoint_id, status, attempts, claims,
       next_attempt_at, last_error, created_at, sent_at
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_next RENAME TO deliveries;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending', 'failed');
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
