-- Advisors' review comments on a consultation's résumé, oldest first.

CREATE TABLE resume_reviews (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultation_id UUID        NOT NULL REFERENCES consultations (id),
    advisor_id      BIGINT      NOT NULL REFERENCES advisors (id),
    comment         TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX resume_reviews_consultation ON resume_reviews (consultation_id, id);
