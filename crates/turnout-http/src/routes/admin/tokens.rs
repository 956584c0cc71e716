//! Credentials, for admins: every admin, editor and advisor token with its
//! role, expiry and last use (never its secret), issuing new ones and
//! revoking them. A revoked or expired token opens nothing; the row stays
//! so an admin can see what existed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use turnout_domain::Text;
use turnout_store::{AdvisorError, ApiToken, ApiTokenRole, NewApiToken};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{Admin, ApiJson};
use crate::routes::{now, path_id};

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub token_id: i64,
    /// `admin`, `editor` or `advisor`.
    #[schema(example = "editor")]
    pub role: &'static str,
    /// The advisor an advisor token belongs to.
    pub advisor_id: Option<i64>,
    pub label: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// None: until revoked.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    /// Recorded at most once a minute.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    /// Whether the token opens anything now.
    pub active: bool,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        let at = now();
        let active = token.revoked_at.is_none() && token.expires_at.is_none_or(|expires| expires > at);
        Self {
            token_id: token.id,
            role: token.role.as_str(),
            advisor_id: token.advisor_id,
            label: token.label,
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
            last_used_at: token.last_used_at,
            active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The secret: shown this once, kept only as a hash.
    pub token: String,
    #[serde(flatten)]
    pub view: TokenView,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenRole {
    Admin,
    Editor,
    Advisor,
}

/// The longest label a token may have.
pub const LABEL_CHARS: usize = 120;

/// A credential to issue. Its schema is written by hand below: an advisor's
/// token names its advisor and a staff token names none, which the derived
/// schema cannot say.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenRequest {
    pub role: TokenRole,
    /// Required with `role: advisor`, refused otherwise.
    pub advisor_id: Option<i64>,
    /// What the token is for, e.g. "CRM sync".
    pub label: Option<String>,
    /// Days until it expires, 1 to 3650; 0 for never. Default 90.
    pub expires_in_days: Option<i64>,
}

impl utoipa::PartialSchema for NewTokenRequest {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::Schema;
        use utoipa::openapi::schema::AdditionalProperties;
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};

        use crate::openapi::params;

        let days = || {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(NewApiToken::MAX_DAYS))
                .description(Some("Days until it expires; 0 for never. Default 90."))
        };
        let token = |roles: &[&str], advisor: bool| {
            let role = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(roles.to_vec()));
            let mut object = ObjectBuilder::new()
                .property("role", role)
                .required("role")
                .property("label", params::token_label())
                .property("expires_in_days", params::nullable(days()))
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            if advisor {
                object = object
                    .property(
                        "advisor_id",
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .description(Some("The advisor the token acts for")),
                    )
                    .required("advisor_id");
            }
            object
        };
        utoipa::openapi::RefOr::T(Schema::OneOf(
            OneOfBuilder::new()
                .item(token(&["admin", "editor"], false))
                .item(token(&["advisor"], true))
                .description(Some("A staff token names no advisor; an advisor's token names theirs."))
                .build(),
        ))
    }
}

impl utoipa::ToSchema for NewTokenRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("NewTokenRequest")
    }
}

/// Every credential, revoked and expired ones included, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/tokens",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, body = TokenList),
    )
)]
pub async fn list_tokens(_: Admin, State(state): State<AppState>) -> Result<Json<TokenList>, ApiError> {
    let items = state
        .store
        .list_api_tokens()
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(TokenList { items }))
}

/// Issues a credential; its secret is in this answer only.
#[utoipa::path(
    post,
    path = "/api/v1/admin/tokens",
    tag = "admin",
    request_body = NewTokenRequest,
    security(("admin_token" = [])),
    responses(
        (status = 201, body = IssuedToken),
        (status = 404, description = "No such advisor", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_token(
    _: Admin,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let role = match request.role {
        TokenRole::Admin => ApiTokenRole::Admin,
        TokenRole::Editor => ApiTokenRole::Editor,
        TokenRole::Advisor => ApiTokenRole::Advisor,
    };
    match (role, request.advisor_id) {
        (ApiTokenRole::Advisor, None) => return Err(ApiError::field("advisor_id", "Required for an advisor's token")),
        (ApiTokenRole::Admin | ApiTokenRole::Editor, Some(_)) => {
            return Err(ApiError::field(
                "advisor_id",
                "Only an advisor's token names an advisor",
            ));
        }
        _ => {}
    }
    let label = request.label.unwrap_or_else(|| format!("{} token", role.as_str()));
    let label = Text::required(&label, LABEL_CHARS).map_err(|message| ApiError::field("label", message))?;
    let days = request.expires_in_days.unwrap_or(NewApiToken::DEFAULT_DAYS);
    if !(0..=NewApiToken::MAX_DAYS).contains(&days) {
        return Err(ApiError::field(
            "expires_in_days",
            "Give 1 to 3650 days, or 0 for never",
        ));
    }
    issue(&state, role, request.advisor_id, label.as_str(), days).await
}

/// Stores a new credential and answers with its secret, once.
pub(crate) async fn issue(
    state: &AppState,
    role: ApiTokenRole,
    advisor_id: Option<i64>,
    label: &str,
    days: i64,
) -> Result<(StatusCode, Json<IssuedToken>), ApiError> {
    let (stored, secret) =
        state
            .turnout
            .issue_token(role, advisor_id, label, days)
            .await
            .map_err(|error| match error {
                AdvisorError::NotFound => ApiError::NotFound("advisor"),
                AdvisorError::EmailTaken => ApiError::Internal("a token insert reported an advisor's email".into()),
                AdvisorError::Store(error) => error.into(),
            })?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            token: secret.expose().to_owned(),
            view: stored.into(),
        }),
    ))
}

/// Revokes a credential at once, on every instance; revoking again is
/// harmless and keeps the first time.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/tokens/{token_id}",
    tag = "admin",
    params(("token_id" = i64, Path)),
    security(("admin_token" = [])),
    responses(
        (status = 200, body = TokenView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke_token(
    _: Admin,
    State(state): State<AppState>,
    Path(token_id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    let token_id = path_id(&token_id, "token")?;
    let revoked = state
        .turnout
        .revoke_token(token_id)
        .await
        .map_err(|error| match error {
            turnout_store::StoreError::NotFound => ApiError::NotFound("token"),
            other => other.into(),
        })?;
    Ok(Json(revoked.into()))
}
