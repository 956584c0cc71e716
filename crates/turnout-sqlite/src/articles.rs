//! Articles on SQLite.

use jiff::Timestamp;
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row};
use turnout_domain::Slug;
use turnout_domain::article::ArticleStatus;
use turnout_store::columns::to_json_column;
use turnout_store::{Article, ArticleChanges, ArticleError, ArticleFilter, NewArticle, StoreError, sql};

use crate::db::{execute, is_unique_violation, parsed, query_all, query_one, query_optional};
use crate::{instant, json, micros, optional_instant};

pub(crate) fn article_from_row(row: &Row<'_>) -> rusqlite::Result<Article> {
    let webinar = match row.get::<_, Option<String>>(11)? {
        Some(_) => Some((parsed(row, 11, Slug::parse)?, row.get(12)?)),
        None => None,
    };
    Ok(Article {
        id: row.get(0)?,
        slug: parsed(row, 1, Slug::parse)?,
        title: row.get(2)?,
        summary: row.get(3)?,
        body_markdown: row.get(4)?,
        body_html: row.get(5)?,
        word_count: row.get(6)?,
        reading_minutes: row.get(7)?,
        contributors: json(row, 8)?,
        faq: json(row, 9)?,
        tags: json(row, 10)?,
        webinar,
        status: parsed(row, 13, ArticleStatus::parse)?,
        published_at: optional_instant(row, 14)?,
        created_at: instant(row, 15)?,
        updated_at: instant(row, 16)?,
    })
}

/// The id of the webinar a call to action names.
fn webinar_id(connection: &Connection, slug: &Slug) -> Result<i64, ArticleError> {
    query_optional(connection, sql::WEBINAR_ID_BY_SLUG, &[&slug.as_str()], |row| row.get(0))?
        .ok_or(ArticleError::UnknownWebinar)
}

fn replace_tags(connection: &Connection, article_id: i64, tags: &[Slug]) -> Result<(), StoreError> {
    execute(connection, sql::DELETE_ARTICLE_TAGS, &[&article_id])?;
    for tag in tags {
        let params: [&dyn ToSql; 2] = [&article_id, &tag.as_str()];
        execute(connection, sql::INSERT_ARTICLE_TAG, &params)?;
    }
    Ok(())
}

fn tag_names(tags: &[Slug]) -> Vec<&str> {
    tags.iter().map(Slug::as_str).collect()
}

pub(crate) fn create(connection: &Connection, article: &NewArticle, now: Timestamp) -> Result<Article, ArticleError> {
    let webinar = article
        .webinar
        .as_ref()
        .map(|slug| webinar_id(connection, slug))
        .transpose()?;
    let params: [&dyn ToSql; 13] = [
        &article.slug.as_str(),
        &article.title.as_str(),
        &article.summary.as_str(),
        &article.body_markdown,
        &article.body.html,
        &(article.body.words as i64),
        &article.body.reading_minutes,
        &to_json_column(&article.contributors),
        &to_json_column(&article.faq),
        &to_json_column(&tag_names(&article.tags)),
        &webinar,
        &article.status.as_str(),
        &micros(now),
    ];
    let id: i64 = match query_one(connection, sql::INSERT_ARTICLE, &params, |row| row.get(0)) {
        Ok(id) => id,
        Err(error) if is_unique_violation(&error) => return Err(ArticleError::SlugTaken),
        Err(error) => return Err(error.into()),
    };
    replace_tags(connection, id, &article.tags)?;
    find(connection, &article.slug)?.ok_or(ArticleError::NotFound)
}

pub(crate) fn update(
    connection: &Connection,
    slug: &Slug,
    changes: &ArticleChanges,
    now: Timestamp,
) -> Result<Article, ArticleError> {
    let webinar = match &changes.webinar {
        Some(Some(slug)) => Some(webinar_id(connection, slug)?),
        _ => None,
    };
    let body = changes.body.as_ref();
    let params: [&dyn ToSql; 14] = [
        &slug.as_str(),
        &changes.title.as_ref().map(|t| t.as_str().to_owned()),
        &changes.summary.as_ref().map(|t| t.as_str().to_owned()),
        &body.map(|(markdown, _)| markdown.clone()),
        &body.map(|(_, rendered)| rendered.html.clone()),
        &body.map(|(_, rendered)| rendered.words as i64),
        &body.map(|(_, rendered)| rendered.reading_minutes),
        &changes.contributors.as_ref().map(to_json_column),
        &changes.faq.as_ref().map(to_json_column),
        &changes.tags.as_ref().map(|tags| to_json_column(&tag_names(tags))),
        &changes.webinar.is_some(),
        &webinar,
        &changes.status.map(ArticleStatus::as_str),
        &micros(now),
    ];
    let id: i64 =
        query_optional(connection, sql::UPDATE_ARTICLE, &params, |row| row.get(0))?.ok_or(ArticleError::NotFound)?;
    if let Some(tags) = &changes.tags {
        replace_tags(connection, id, tags)?;
    }
    find(connection, slug)?.ok_or(ArticleError::NotFound)
}

pub(crate) fn find(connection: &Connection, slug: &Slug) -> Result<Option<Article>, StoreError> {
    query_optional(connection, sql::FIND_ARTICLE, &[&slug.as_str()], article_from_row)
}

pub(crate) fn list_published(connection: &Connection, filter: &ArticleFilter) -> Result<Vec<Article>, StoreError> {
    let params: [&dyn ToSql; 4] = [
        &filter.tag,
        &filter.after.map(|cursor| micros(cursor.published_at)),
        &filter.after.map(|cursor| cursor.id),
        &filter.limit,
    ];
    query_all(connection, sql::LIST_PUBLISHED_ARTICLES, &params, article_from_row)
}

pub(crate) fn list_all(connection: &Connection) -> Result<Vec<Article>, StoreError> {
    query_all(connection, sql::LIST_ALL_ARTICLES, &[], article_from_row)
}
