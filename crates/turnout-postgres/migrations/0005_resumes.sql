-- The résumé uploaded with a consultation: the file lives in the object
-- store under object_key; one per consultation, a new upload replaces it.

CREATE TABLE resumes (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultation_id UUID        NOT NULL UNIQUE REFERENCES consultations (id),
    object_key      TEXT        NOT NULL,
    sha256          TEXT        NOT NULL,
    size_bytes      BIGINT      NOT NULL CHECK (size_bytes > 0),
    content_type    TEXT        NOT NULL,
    display_name    TEXT        NOT NULL,
    review_status   TEXT        NOT NULL CHECK (review_status IN ('pending', 'in_review', 'reviewed')),
    uploaded_at     TIMESTAMPTZ NOT NULL
);
