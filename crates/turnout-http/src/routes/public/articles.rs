//! The public Content API: published articles, with conditional GET.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_domain::Slug;
use turnout_domain::article::{self, ArticleStatus};
use turnout_store::{Article, ArticleCursor, ArticleFilter};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::caching::{PUBLISHED, Tagged, conditional};
use crate::error::{ApiError, Problem};
use crate::pages::ARTICLE_TTL;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContributorView {
    pub name: String,
    pub title: String,
    /// `author`, `guided_by` or `reviewed_by`.
    pub role: String,
    /// "Written by", "Written under the guidance of", "Reviewed by".
    pub role_label: String,
    pub bio: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FaqView {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadingTime {
    pub minutes: i64,
    /// "3 minutes"
    pub label: String,
    pub words: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleWebinar {
    pub slug: String,
    pub title: String,
}

/// A published article, whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleView {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Rendered from Markdown and sanitised.
    pub body_html: String,
    pub reading_time: ReadingTime,
    pub contributors: Vec<ContributorView>,
    pub tags: Vec<String>,
    pub faq: Vec<FaqView>,
    /// The webinar its call to action promotes.
    pub webinar: Option<ArticleWebinar>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<&Article> for ArticleView {
    fn from(article: &Article) -> Self {
        Self {
            slug: article.slug.as_str().to_owned(),
            title: article.title.clone(),
            summary: article.summary.clone(),
            body_html: article.body_html.clone(),
            reading_time: ReadingTime {
                minutes: article.reading_minutes,
                label: article::reading_time_label(article.reading_minutes),
                words: article.word_count,
            },
            contributors: article
                .contributors
                .iter()
                .map(|c| ContributorView {
                    name: c.name.clone(),
                    title: c.title.clone(),
                    role: c.role.as_str().to_owned(),
                    role_label: c.role.label().to_owned(),
                    bio: c.bio.clone(),
                })
                .collect(),
            tags: article.tags.clone(),
            faq: article
                .faq
                .iter()
                .map(|entry| FaqView {
                    question: entry.question.clone(),
                    answer: entry.answer.clone(),
                })
                .collect(),
            webinar: article.webinar.as_ref().map(|(slug, title)| ArticleWebinar {
                slug: slug.as_str().to_owned(),
                title: title.clone(),
            }),
            published_at: article.published_at,
            updated_at: article.updated_at,
        }
    }
}

/// An article in a list: everything but the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleSummary {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub reading_time: ReadingTime,
    pub contributors: Vec<ContributorView>,
    pub tags: Vec<String>,
    pub webinar: Option<ArticleWebinar>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<ArticleView> for ArticleSummary {
    fn from(view: ArticleView) -> Self {
        Self {
            slug: view.slug,
            title: view.title,
            summary: view.summary,
            reading_time: view.reading_time,
            contributors: view.contributors,
            tags: view.tags,
            webinar: view.webinar,
            published_at: view.published_at,
            updated_at: view.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleList {
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// Only articles with this tag.
    pub tag: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Articles per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

fn encode_cursor(article: &Article) -> Option<String> {
    let published = article.published_at?;
    Some(URL_SAFE_NO_PAD.encode(format!("{}.{}", published.as_microsecond(), article.id)))
}

fn decode_cursor(text: &str) -> Result<ArticleCursor, ApiError> {
    let invalid = || ApiError::field("cursor", "Not a cursor from a previous page");
    let decoded = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (micros, id) = decoded.split_once('.').ok_or_else(invalid)?;
    Ok(ArticleCursor {
        published_at: micros
            .parse()
            .ok()
            .and_then(|micros| Timestamp::from_microsecond(micros).ok())
            .ok_or_else(invalid)?,
        id: id.parse().map_err(|_| invalid())?,
    })
}

fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("views always serialise")
}

/// Published articles, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "articles",
    params(ArticleQuery),
    responses(
        (status = 200, body = ArticleList, description = "With `ETag` and `Cache-Control`"),
        (status = 304, description = "`If-None-Match` named the current list"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_articles(
    State(state): State<AppState>,
    Query(query): Query<ArticleQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("limit", "Must be between 1 and 100"));
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = ArticleFilter {
        tag: query.tag,
        after,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
    };
    let mut articles = state.store.list_published_articles(&filter).await?;
    let more = articles.len() as i64 > limit;
    articles.truncate(limit as usize);
    let next_cursor = match more {
        true => articles.last().and_then(encode_cursor),
        false => None,
    };
    let list = ArticleList {
        items: articles
            .iter()
            .map(|article| ArticleView::from(article).into())
            .collect(),
        next_cursor,
    };
    Ok(conditional(
        &headers,
        "application/json",
        PUBLISHED,
        &Tagged::new(json_bytes(&list)),
    ))
}

/// One published article with its contributors, reading time and FAQ.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{slug}",
    tag = "articles",
    params(("slug" = String, Path)),
    responses(
        (status = 200, body = ArticleView, description = "With `ETag` and `Cache-Control`"),
        (status = 304, description = "`If-None-Match` named the current article"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_article(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let slug = Slug::parse(&slug).map_err(|_| ApiError::NotFound("article"))?;
    // Kept in memory like the article's page, and forgotten with it.
    let key = format!("/api/v1/articles/{slug}");
    if let Some(body) = state.pages.cached(&key) {
        return Ok(conditional(&headers, "application/json", PUBLISHED, &body));
    }
    let article = state
        .store
        .find_article(&slug)
        .await?
        .filter(|article| article.status == ArticleStatus::Published)
        .ok_or(ApiError::NotFound("article"))?;
    let body = Tagged::kept(json_bytes(&ArticleView::from(&article)));
    state.pages.keep(&key, ARTICLE_TTL, body.clone());
    Ok(conditional(&headers, "application/json", PUBLISHED, &body))
}
