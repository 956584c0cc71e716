-- The outbox keeps events only. What is sent because of an event (an
-- email, an SMS, a webhook call) is a delivery: it has its own message id,
-- which stays the same across retries, and its own place in the ledger.

DROP INDEX outbox_due;
ALTER TABLE outbox RENAME COLUMN message_id TO event_id;
ALTER TABLE outbox
    DROP COLUMN status,
    DROP COLUMN attempts,
    DROP COLUMN next_attempt_at,
    DROP COLUMN last_error,
    DROP COLUMN sent_at,
    -- Set once a worker has turned the event into its deliveries.
    ADD COLUMN routed_at TIMESTAMPTZ;
-- Events written before there were deliveries are history, not news: no
-- one is to be mailed now about a registration made weeks ago.
UPDATE outbox SET routed_at = created_at;
CREATE INDEX outbox_unrouted ON outbox (id) WHERE routed_at IS NULL;

-- Idle workers LISTEN instead of polling; one notification per inserting
-- statement, delivered at commit.
CREATE FUNCTION turnout_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('turnout_outbox', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION turnout_outbox_notify();

CREATE TABLE webhook_endpoints (
    id                   UUID        PRIMARY KEY,
    url                  TEXT        NOT NULL,
    description          TEXT        NOT NULL,
    event_types          TEXT        NOT NULL, -- JSON array of event types
    secret               TEXT        NOT NULL, -- whsec_…; needed in clear to sign
    enabled              BOOLEAN     NOT NULL,
    consecutive_failures BIGINT      NOT NULL DEFAULT 0,
    disabled_reason      TEXT,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE deliveries (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      UUID        NOT NULL UNIQUE,
    event_id        BIGINT      NOT NULL REFERENCES outbox (id),
    channel         TEXT        NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
    kind            TEXT        NOT NULL, -- which message: confirmation, reminder-24h, webhook…
    recipient       TEXT        NOT NULL, -- visitor, advisor, or the endpoint's id
    endpoint_id     UUID        REFERENCES webhook_endpoints (id) ON DELETE SET NULL,
    status          TEXT        NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'skipped')),
    attempts        BIGINT      NOT NULL DEFAULT 0, -- since the last admin retry
    claims          BIGINT      NOT NULL DEFAULT 0, -- ever: fences each claim's outcome
    -- When it is due; while `sending`, when the claim's lease runs out.
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ,
    UNIQUE (event_id, channel, kind, recipient)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending', 'failed');
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
