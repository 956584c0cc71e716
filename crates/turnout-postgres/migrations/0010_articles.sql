-- Articles and the editors who write them.

CREATE TABLE articles (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug            TEXT        NOT NULL UNIQUE,
    title           TEXT        NOT NULL,
    summary         TEXT        NOT NULL,
    body_markdown   TEXT        NOT NULL,
    body_html       TEXT        NOT NULL, -- rendered and sanitised when written
    word_count      BIGINT      NOT NULL,
    reading_minutes BIGINT      NOT NULL,
    contributors    TEXT        NOT NULL, -- JSON: always read with the article
    faq             TEXT        NOT NULL, -- JSON
    tags            TEXT        NOT NULL, -- JSON; article_tags indexes them
    webinar_id      BIGINT      REFERENCES webinars (id),
    status          TEXT        NOT NULL CHECK (status IN ('draft', 'published')),
    published_at    TIMESTAMPTZ,          -- first publication; kept when unpublished
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX articles_published ON articles (published_at DESC, id DESC) WHERE status = 'published';

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag        TEXT   NOT NULL,
    PRIMARY KEY (article_id, tag)
);

CREATE INDEX article_tags_tag ON article_tags (tag, article_id);

-- Editors: API tokens that may write articles and nothing else.
ALTER TABLE api_tokens
    DROP CONSTRAINT api_tokens_role_check,
    ADD CONSTRAINT api_tokens_role_check CHECK (role IN ('admin', 'editor'));
