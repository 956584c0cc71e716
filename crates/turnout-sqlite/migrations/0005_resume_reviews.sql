-- Advisors' review comments on a consultation's résumé, oldest first.

CREATE TABLE resume_reviews (
    id              INTEGER PRIMARY KEY,
    consultation_id TEXT    NOT NULL REFERENCES consultations (id),
    advisor_id      INTEGER NOT NULL REFERENCES advisors (id),
    comment         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX resume_reviews_consultation ON resume_reviews (consultation_id, id);
