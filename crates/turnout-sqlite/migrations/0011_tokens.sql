-- Every API credential in one table, so admins can list, expire and revoke
-- them in one place and each records when it was last used: admin and
-- editor tokens as before, and advisor tokens (moved from advisor_tokens,
-- an advisor's token carrying its advisor). A revoked token stays listed.
-- Keep in step with PostgreSQL's 0013.

CREATE TABLE api_tokens_v3 (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT    NOT NULL UNIQUE,
    role         TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'advisor')),
    advisor_id   INTEGER REFERENCES advisors (id),
    label        TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER,
    CONSTRAINT api_tokens_advisor CHECK ((role = 'advisor') = (advisor_id IS NOT NULL))
) STRICT;
INSERT INTO api_tokens_v3 (id, token_hash, role, label, created_at)
    SELECT id, token_hash, role, label, created_at FROM api_tokens;
INSERT INTO api_tokens_v3 (token_hash, role, advisor_id, label, created_at)
    SELECT token_hash, 'advisor', advisor_id, 'advisor token', created_at FROM advisor_tokens;
DROP TABLE api_tokens;
DROP TABLE advisor_tokens;
ALTER TABLE api_tokens_v3 RENAME TO api_tokens;
