//! The editors' API: write, change, publish and unpublish articles.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_domain::article::{self, ArticleStatus, Contributor, ContributorRole, FaqEntry, limits};
use turnout_domain::{Slug, Text, ValidationErrors};
use turnout_store::{Article, ArticleChanges, ArticleError, NewArticle};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Editor};
use crate::routes::path_slug;
use crate::routes::public::articles::ArticleView;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContributorRequest {
    #[schema(schema_with = crate::openapi::params::article::contributor_name)]
    pub name: String,
    #[schema(schema_with = crate::openapi::params::article::contributor_name)]
    pub title: String,
    #[schema(schema_with = crate::openapi::params::article::contributor_role)]
    pub role: String,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::article::bio)]
    pub bio: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaqRequest {
    #[schema(schema_with = crate::openapi::params::article::question)]
    pub question: String,
    #[schema(schema_with = crate::openapi::params::article::answer)]
    pub answer: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArticleRequest {
    #[schema(schema_with = crate::openapi::params::slug)]
    pub slug: String,
    #[schema(schema_with = crate::openapi::params::article::title)]
    pub title: String,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::article::summary)]
    pub summary: String,
    /// Markdown; tables, lists and headings render, raw HTML is sanitised.
    #[schema(schema_with = crate::openapi::params::article::body)]
    pub body: String,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::article::contributors)]
    pub contributors: Vec<ContributorRequest>,
    /// Lowercase words and hyphens.
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::article::tags)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::openapi::params::article::faq)]
    pub faq: Vec<FaqRequest>,
    /// The slug of the webinar the call to action promotes.
    #[schema(schema_with = crate::openapi::params::article::nullable_webinar, required = false)]
    pub webinar: Option<String>,
    /// `draft` (the default) or `published`.
    #[schema(schema_with = crate::openapi::params::article::nullable_status, required = false)]
    pub status: Option<String>,
}

/// A partial update: absent fields stay as they are; `"webinar": null`
/// removes the call to action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateArticleRequest {
    #[schema(schema_with = crate::openapi::params::article::nullable_title, required = false)]
    pub title: Option<String>,
    #[schema(schema_with = crate::openapi::params::article::nullable_summary, required = false)]
    pub summary: Option<String>,
    #[schema(schema_with = crate::openapi::params::article::nullable_body, required = false)]
    pub body: Option<String>,
    #[schema(schema_with = crate::openapi::params::article::nullable_contributors, required = false)]
    pub contributors: Option<Vec<ContributorRequest>>,
    #[schema(schema_with = crate::openapi::params::article::nullable_tags, required = false)]
    pub tags: Option<Vec<String>>,
    #[schema(schema_with = crate::openapi::params::article::nullable_faq, required = false)]
    pub faq: Option<Vec<FaqRequest>>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(schema_with = crate::openapi::params::article::nullable_webinar, required = false)]
    pub webinar: Option<Option<String>>,
    #[schema(schema_with = crate::openapi::params::article::nullable_status, required = false)]
    pub status: Option<String>,
}

/// An article as its editors see it: drafts too, with the Markdown.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditorArticle {
    #[serde(flatten)]
    pub article: ArticleView,
    /// `draft` or `published`.
    pub status: String,
    pub body_markdown: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl From<Article> for EditorArticle {
    fn from(article: Article) -> Self {
        Self {
            article: ArticleView::from(&article),
            status: article.status.as_str().to_owned(),
            body_markdown: article.body_markdown,
            created_at: article.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EditorArticleList {
    pub items: Vec<EditorArticle>,
}

fn contributors(errors: &mut ValidationErrors, requests: &[ContributorRequest]) -> Option<Vec<Contributor>> {
    if requests.len() > limits::CONTRIBUTORS {
        errors.field::<(), _>(
            "contributors",
            Err(format!("At most {} contributors", limits::CONTRIBUTORS)),
        );
        return None;
    }
    let mut parsed = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let name = errors.field(
            &format!("contributors[{i}].name"),
            Text::required(&request.name, limits::NAME_CHARS),
        );
        let title = errors.field(
            &format!("contributors[{i}].title"),
            Text::required(&request.title, limits::NAME_CHARS),
        );
        let role = errors.field(
            &format!("contributors[{i}].role"),
            ContributorRole::parse(&request.role),
        );
        let bio = errors.field(
            &format!("contributors[{i}].bio"),
            Text::multiline_optional(&request.bio, limits::BIO_CHARS),
        );
        if let (Some(name), Some(title), Some(role), Some(bio)) = (name, title, role, bio) {
            parsed.push(Contributor {
                name: name.into_string(),
                title: title.into_string(),
                role,
                bio: bio.into_string(),
            });
        }
    }
    (parsed.len() == requests.len()).then_some(parsed)
}

fn tags(errors: &mut ValidationErrors, requests: &[String]) -> Option<Vec<Slug>> {
    if requests.len() > limits::TAGS {
        errors.field::<(), _>("tags", Err(format!("At most {} tags", limits::TAGS)));
        return None;
    }
    let mut parsed: Vec<Slug> = Vec::with_capacity(requests.len());
    for (i, tag) in requests.iter().enumerate() {
        if let Some(tag) = errors.field(&format!("tags[{i}]"), Slug::parse(tag))
            && !parsed.contains(&tag)
        {
            parsed.push(tag);
        }
    }
    (errors.is_empty()).then_some(parsed)
}

fn faq(errors: &mut ValidationErrors, requests: &[FaqRequest]) -> Option<Vec<FaqEntry>> {
    if requests.len() > limits::FAQ_ENTRIES {
        errors.field::<(), _>("faq", Err(format!("At most {} questions", limits::FAQ_ENTRIES)));
        return None;
    }
    let mut parsed = Vec::with_capacity(requests.len());
    for (i, request) in requests.iter().enumerate() {
        let question = errors.field(
            &format!("faq[{i}].question"),
            Text::required(&request.question, limits::QUESTION_CHARS),
        );
        let answer = errors.field(
            &format!("faq[{i}].answer"),
            Text::multiline_required(&request.answer, limits::ANSWER_CHARS),
        );
        if let (Some(question), Some(answer)) = (question, answer) {
            parsed.push(FaqEntry {
                question: question.into_string(),
                answer: answer.into_string(),
            });
        }
    }
    (parsed.len() == requests.len()).then_some(parsed)
}

fn body(errors: &mut ValidationErrors, markdown: &str) -> Option<(String, article::RenderedBody)> {
    let markdown = errors.field("body", Text::multiline_required(markdown, limits::BODY_CHARS))?;
    let rendered = article::render(markdown.as_str());
    Some((markdown.into_string(), rendered))
}

fn webinar(errors: &mut ValidationErrors, slug: &str) -> Option<Slug> {
    errors.field("webinar", Slug::parse(slug))
}

impl CreateArticleRequest {
    fn validate(&self) -> Result<NewArticle, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let slug = errors.field("slug", Slug::parse(&self.slug));
        let title = errors.field("title", Text::required(&self.title, limits::TITLE_CHARS));
        let summary = errors.field(
            "summary",
            Text::multiline_optional(&self.summary, limits::SUMMARY_CHARS),
        );
        let body = body(&mut errors, &self.body);
        let contributors = contributors(&mut errors, &self.contributors);
        let tags = tags(&mut errors, &self.tags);
        let faq = faq(&mut errors, &self.faq);
        let webinar = match &self.webinar {
            Some(slug) => webinar(&mut errors, slug).map(Some),
            None => Some(None),
        };
        let status = match &self.status {
            Some(status) => errors.field("status", ArticleStatus::parse(status)),
            None => Some(ArticleStatus::Draft),
        };
        match (slug, title, summary, body, contributors, tags, faq, webinar, status) {
            (
                Some(slug),
                Some(title),
                Some(summary),
                Some((body_markdown, body)),
                Some(contributors),
                Some(tags),
                Some(faq),
                Some(webinar),
                Some(status),
            ) if errors.is_empty() => Ok(NewArticle {
                slug,
                title,
                summary,
                body_markdown,
                body,
                contributors,
                tags,
                faq,
                webinar,
                status,
            }),
            _ => Err(errors),
        }
    }
}

impl UpdateArticleRequest {
    fn validate(&self) -> Result<ArticleChanges, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let changes = ArticleChanges {
            title: self
                .title
                .as_deref()
                .and_then(|title| errors.field("title", Text::required(title, limits::TITLE_CHARS))),
            summary: self
                .summary
                .as_deref()
                .and_then(|summary| errors.field("summary", Text::multiline_optional(summary, limits::SUMMARY_CHARS))),
            body: self.body.as_deref().and_then(|markdown| body(&mut errors, markdown)),
            contributors: self
                .contributors
                .as_deref()
                .and_then(|requests| contributors(&mut errors, requests)),
            tags: self.tags.as_deref().and_then(|requests| tags(&mut errors, requests)),
            faq: self.faq.as_deref().and_then(|requests| faq(&mut errors, requests)),
            webinar: match &self.webinar {
                Some(Some(slug)) => webinar(&mut errors, slug).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            status: self
                .status
                .as_deref()
                .and_then(|status| errors.field("status", ArticleStatus::parse(status))),
        };
        errors.finish(|| changes)
    }
}

fn article_error(error: ArticleError) -> ApiError {
    match error {
        ArticleError::NotFound => ApiError::NotFound("article"),
        ArticleError::SlugTaken => ApiError::field("slug", "An article with this slug exists"),
        ArticleError::UnknownWebinar => ApiError::field("webinar", "No webinar has this slug"),
        ArticleError::Store(error) => error.into(),
    }
}

fn article_slug(slug: &str) -> Result<Slug, ApiError> {
    path_slug(slug).map_err(|_| ApiError::NotFound("article"))
}

/// Writes an article, as a draft unless `status` is `published`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/articles",
    tag = "articles",
    request_body = CreateArticleRequest,
    security(("admin_token" = []), ("editor_token" = [])),
    responses(
        (status = 201, body = EditorArticle),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_article(
    _: Editor,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CreateArticleRequest>,
) -> Result<(StatusCode, Json<EditorArticle>), ApiError> {
    let article = request.validate()?;
    let created = state.turnout.create_article(&article).await.map_err(article_error)?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Every article, drafts included, last changed first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/articles",
    tag = "articles",
    security(("admin_token" = []), ("editor_token" = [])),
    responses(
        (status = 200, body = EditorArticleList),
    )
)]
pub async fn list_all_articles(_: Editor, State(state): State<AppState>) -> Result<Json<EditorArticleList>, ApiError> {
    let items = state
        .store
        .list_all_articles()
        .await?
        .into_iter()
        .map(EditorArticle::from)
        .collect();
    Ok(Json(EditorArticleList { items }))
}

/// One article, draft or published, with its Markdown.
#[utoipa::path(
    get,
    path = "/api/v1/admin/articles/{slug}",
    tag = "articles",
    params(("slug" = String, Path)),
    security(("admin_token" = []), ("editor_token" = [])),
    responses(
        (status = 200, body = EditorArticle),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_editor_article(
    _: Editor,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<EditorArticle>, ApiError> {
    let slug = article_slug(&slug)?;
    let article = state
        .store
        .find_article(&slug)
        .await?
        .ok_or(ApiError::NotFound("article"))?;
    Ok(Json(article.into()))
}

/// Changes an article; `status` publishes or unpublishes it.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/articles/{slug}",
    tag = "articles",
    params(("slug" = String, Path)),
    request_body = UpdateArticleRequest,
    security(("admin_token" = []), ("editor_token" = [])),
    responses(
        (status = 200, body = EditorArticle),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_article(
    _: Editor,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ApiJson(request): ApiJson<UpdateArticleRequest>,
) -> Result<Json<EditorArticle>, ApiError> {
    let slug = article_slug(&slug)?;
    let changes = request.validate()?;
    let updated = state
        .turnout
        .update_article(&slug, &changes)
        .await
        .map_err(article_error)?;
    Ok(Json(updated.into()))
}

/// Publishes an article; the first publication sets its published date.
#[utoipa::path(
    post,
    path = "/api/v1/admin/articles/{slug}/publish",
    tag = "articles",
    params(("slug" = String, Path)),
    security(("admin_token" = []), ("editor_token" = [])),
    responses(
        (status = 200, body = EditorArticle),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn publish_article(
    _: Editor,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<EditorArticle>, ApiError> {
    let slug = article_slug(&slug)?;
    let published = state.turnout.publish_article(&slug).await.map_err(article_error)?;
    Ok(Json(published.into()))
}

/// Takes an article back to draft: readers no longer see it.
#[utoipa::path(
    post,
    path = "/api/v1/admin/articles/{slug}/unpublish",
    tag = "articles",
    params(("slug" = String, Path)),
    security(("admin_token" = []), ("editor_token" = [])),
    responses(
        (status = 200, body = EditorArticle),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn unpublish_article(
    _: Editor,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<EditorArticle>, ApiError> {
    let slug = article_slug(&slug)?;
    let unpublished = state.turnout.unpublish_article(&slug).await.map_err(article_error)?;
    Ok(Json(unpublished.into()))
}
