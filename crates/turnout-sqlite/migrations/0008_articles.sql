-- Articles and the editors who write them.

CREATE TABLE articles (
    id              INTEGER PRIMARY KEY,
    slug            TEXT    NOT NULL UNIQUE,
    title           TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    body_markdown   TEXT    NOT NULL,
    body_html       TEXT    NOT NULL, -- rendered and sanitised when written
    word_count      INTEGER NOT NULL,
    reading_minutes INTEGER NOT NULL,
    contributors    TEXT    NOT NULL, -- JSON: always read with the article
    faq             TEXT    NOT NULL, -- JSON
    tags            TEXT    NOT NULL, -- JSON; article_tags indexes them
    webinar_id      INTEGER REFERENCES webinars (id),
    status          TEXT    NOT NULL CHECK (status IN ('draft', 'published')),
    published_at    INTEGER,          -- first publication; kept when unpublished
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX articles_published ON articles (published_at DESC, id DESC) WHERE status = 'published';

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag        TEXT    NOT NULL,
    PRIMARY KEY (article_id, tag)
) STRICT;

CREATE INDEX article_tags_tag ON article_tags (tag, article_id);

-- Editors: API tokens that may write articles and nothing else. SQLite
-- cannot change a CHECK in place, so the table is rebuilt.
CREATE TABLE api_tokens_v2 (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'editor')),
    label      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO api_tokens_v2 (id, token_hash, role, label, created_at)
    SELECT id, token_hash, role, label, created_at FROM api_tokens;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
