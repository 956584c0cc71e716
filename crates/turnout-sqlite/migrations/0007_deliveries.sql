-- The outbox keeps events only. What is sent because of an event (an
-- email, an SMS, a webhook call) is a delivery: it has its own message id,
-- which stays the same across retries, and its own place in the ledger.

DROP INDEX outbox_due;
ALTER TABLE outbox RENAME COLUMN message_id TO event_id;
ALTER TABLE outbox DROP COLUMN status;
ALTER TABLE outbox DROP COLUMN attempts;
ALTER TABLE outbox DROP COLUMN next_attempt_at;
ALTER TABLE outbox DROP COLUMN last_error;
ALTER TABLE outbox DROP COLUMN sent_at;
-- Set once a worker has turned the event into its deliveries.
ALTER TABLE outbox ADD COLUMN routed_at INTEGER;
-- Events written before there were deliveries are history, not news: no
-- one is to be mailed now about a registration made weeks ago.
UPDATE outbox SET routed_at = created_at;
CREATE INDEX outbox_unrouted ON outbox (id) WHERE routed_at IS NULL;

CREATE TABLE webhook_endpoints (
    id                   TEXT    PRIMARY KEY, -- UUID
    url                  TEXT    NOT NULL,
    description          TEXT    NOT NULL,
    event_types          TEXT    NOT NULL, -- JSON array of event types
    secret               TEXT    NOT NULL, -- whsec_…; needed in clear to sign
    enabled              INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_reason      TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL UNIQUE,
    event_id        INTEGER NOT NULL REFERENCES outbox (id),
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
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

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending', 'failed');
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
