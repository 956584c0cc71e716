-- Every API credential in one table, so admins can list, expire and revoke
-- them in one place and each records when it was last used: admin and
-- editor tokens as before, and advisor tokens (moved from advisor_tokens,
-- an advisor's token carrying its advisor). A revoked token stays listed.
-- Keep in step with SQLite's 0011.

ALTER TABLE api_tokens
    ADD COLUMN advisor_id BIGINT REFERENCES advisors (id),
    ADD COLUMN expires_at TIMESTAMPTZ,
    ADD COLUMN revoked_at TIMESTAMPTZ,
    ADD COLUMN last_used_at TIMESTAMPTZ,
    DROP CONSTRAINT api_tokens_role_check,
    ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'editor', 'advisor')),
    ADD CONSTRAINT api_tokens_advisor CHECK ((role = 'advisor') = (advisor_id IS NOT NULL));
INSERT INTO api_tokens (token_hash, role, advisor_id, label, created_at)
    SELECT token_hash, 'advisor', advisor_id, 'advisor token', created_at FROM advisor_tokens;
DROP TABLE advisor_tokens;
