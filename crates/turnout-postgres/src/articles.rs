//! Articles on PostgreSQL.

use jiff::Timestamp;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use turnout_domain::Slug;
use turnout_domain::article::ArticleStatus;
use turnout_store::columns::{json_column, parsed_column, to_json_column};
use turnout_store::sqlx_support::is_unique_violation;
use turnout_store::{Article, ArticleChanges, ArticleError, ArticleFilter, NewArticle, StoreError, sql};

use crate::{instant, optional_instant, ts};

fn article_from_row(row: &PgRow) -> Result<Article, StoreError> {
    let webinar = match row.try_get::<Option<String>, _>(11)? {
        Some(slug) => Some((parsed_column(Slug::parse(&slug))?, row.try_get(12)?)),
        None => None,
    };
    Ok(Article {
        id: row.try_get(0)?,
        slug: parsed_column(Slug::parse(row.try_get(1)?))?,
        title: row.try_get(2)?,
        summary: row.try_get(3)?,
        body_markdown: row.try_get(4)?,
        body_html: row.try_get(5)?,
        word_count: row.try_get(6)?,
        reading_minutes: row.try_get(7)?,
        contributors: json_column(row.try_get(8)?)?,
        faq: json_column(row.try_get(9)?)?,
        tags: json_column(row.try_get(10)?)?,
        webinar,
        status: parsed_column(ArticleStatus::parse(row.try_get(13)?))?,
        published_at: optional_instant(row, 14)?,
        created_at: instant(row, 15)?,
        updated_at: instant(row, 16)?,
    })
}

async fn webinar_id(connection: &mut PgConnection, slug: &Slug) -> Result<i64, ArticleError> {
    sqlx::query_scalar(sql::WEBINAR_ID_BY_SLUG)
        .bind(slug.as_str())
        .fetch_optional(connection)
        .await
        .map_err(StoreError::from)?
        .ok_or(ArticleError::UnknownWebinar)
}

async fn replace_tags(connection: &mut PgConnection, article_id: i64, tags: &[Slug]) -> Result<(), StoreError> {
    sqlx::query(sql::DELETE_ARTICLE_TAGS)
        .bind(article_id)
        .execute(&mut *connection)
        .await?;
    for tag in tags {
        sqlx::query(sql::INSERT_ARTICLE_TAG)
            .bind(article_id)
            .bind(tag.as_str())
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

fn tag_names(tags: &[Slug]) -> Vec<&str> {
    tags.iter().map(Slug::as_str).collect()
}

async fn find_in(connection: &mut PgConnection, slug: &Slug) -> Result<Option<Article>, StoreError> {
    let row = sqlx::query(sql::FIND_ARTICLE)
        .bind(slug.as_str())
        .fetch_optional(connection)
        .await?;
    row.as_ref().map(article_from_row).transpose()
}

pub(crate) async fn create(pool: &PgPool, article: &NewArticle, now: Timestamp) -> Result<Article, ArticleError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let webinar = match &article.webinar {
        Some(slug) => Some(webinar_id(&mut tx, slug).await?),
        None => None,
    };
    let id: i64 = sqlx::query_scalar(sql::INSERT_ARTICLE)
        .bind(article.slug.as_str())
        .bind(article.title.as_str())
        .bind(article.summary.as_str())
        .bind(&article.body_markdown)
        .bind(&article.body.html)
        .bind(article.body.words as i64)
        .bind(article.body.reading_minutes)
        .bind(to_json_column(&article.contributors))
        .bind(to_json_column(&article.faq))
        .bind(to_json_column(&tag_names(&article.tags)))
        .bind(webinar)
        .bind(article.status.as_str())
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| match is_unique_violation(&error) {
            true => ArticleError::SlugTaken,
            false => StoreError::from(error).into(),
        })?;
    replace_tags(&mut tx, id, &article.tags).await?;
    let created = find_in(&mut tx, &article.slug).await?.ok_or(ArticleError::NotFound)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(created)
}

pub(crate) async fn update(
    pool: &PgPool,
    slug: &Slug,
    changes: &ArticleChanges,
    now: Timestamp,
) -> Result<Article, ArticleError> {
    let mut tx = pool.begin().await.map_err(StoreError::from)?;
    let webinar = match &changes.webinar {
        Some(Some(slug)) => Some(webinar_id(&mut tx, slug).await?),
        _ => None,
    };
    let body = changes.body.as_ref();
    let id: Option<i64> = sqlx::query_scalar(sql::UPDATE_ARTICLE)
        .bind(slug.as_str())
        .bind(changes.title.as_ref().map(|t| t.as_str()))
        .bind(changes.summary.as_ref().map(|t| t.as_str()))
        .bind(body.map(|(markdown, _)| markdown.as_str()))
        .bind(body.map(|(_, rendered)| rendered.html.as_str()))
        .bind(body.map(|(_, rendered)| rendered.words as i64))
        .bind(body.map(|(_, rendered)| rendered.reading_minutes))
        .bind(changes.contributors.as_ref().map(to_json_column))
        .bind(changes.faq.as_ref().map(to_json_column))
        .bind(changes.tags.as_ref().map(|tags| to_json_column(&tag_names(tags))))
        .bind(changes.webinar.is_some())
        .bind(webinar)
        .bind(changes.status.map(ArticleStatus::as_str))
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
    let id = id.ok_or(ArticleError::NotFound)?;
    if let Some(tags) = &changes.tags {
        replace_tags(&mut tx, id, tags).await?;
    }
    let updated = find_in(&mut tx, slug).await?.ok_or(ArticleError::NotFound)?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(updated)
}

pub(crate) async fn find(pool: &PgPool, slug: &Slug) -> Result<Option<Article>, StoreError> {
    let mut connection = pool.acquire().await?;
    find_in(&mut connection, slug).await
}

pub(crate) async fn list_published(pool: &PgPool, filter: &ArticleFilter) -> Result<Vec<Article>, StoreError> {
    let rows = sqlx::query(sql::LIST_PUBLISHED_ARTICLES)
        .bind(&filter.tag)
        .bind(filter.after.map(|cursor| ts(cursor.published_at)))
        .bind(filter.after.map(|cursor| cursor.id))
        .bind(filter.limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(article_from_row).collect()
}

pub(crate) async fn list_all(pool: &PgPool) -> Result<Vec<Article>, StoreError> {
    let rows = sqlx::query(sql::LIST_ALL_ARTICLES).fetch_all(pool).await?;
    rows.iter().map(article_from_row).collect()
}
