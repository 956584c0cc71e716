//! Defences against scripts on the forms that record a lead: a honeypot
//! field people never see, a minimum time between handing out the form
//! and submitting it (a signed form token from `GET /api/v1/form-token`),
//! disposable-address domains refused, and optionally a Cloudflare
//! Turnstile or hCaptcha token verified with the provider. Each refusal is
//! a problem naming its field, and nothing is written.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use jiff::SignedDuration;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use turnout_domain::{Email, FieldError, ValidationErrors};
use utoipa::ToSchema;

use crate::AppState;
use crate::client::ClientIp;
use crate::error::ApiError;
use crate::routes::now;

/// How bots are kept out, from configuration.
#[derive(Debug, Clone)]
pub struct BotSettings {
    /// A form submitted sooner than this after its token was handed out is
    /// refused; zero turns form tokens off.
    pub min_fill: Duration,
    /// Addresses at throwaway-mail domains are refused.
    pub refuse_disposable: bool,
    /// A challenge every submission must have passed.
    pub captcha: Option<CaptchaSettings>,
}

impl Default for BotSettings {
    fn default() -> Self {
        Self {
            min_fill: Duration::from_secs(2),
            refuse_disposable: true,
            captcha: None,
        }
    }
}

impl BotSettings {
    /// Nothing checked: load tests, and API tests that are not about bots.
    pub fn off() -> Self {
        Self {
            min_fill: Duration::ZERO,
            refuse_disposable: false,
            captcha: None,
        }
    }
}

/// A challenge provider's server-side check: Turnstile's
/// `https://challenges.cloudflare.com/turnstile/v0/siteverify` or
/// hCaptcha's `https://api.hcaptcha.com/siteverify`; both take the same
/// form (`secret`, `response`, `remoteip`) and answer `{"success": …}`.
#[derive(Clone)]
pub struct CaptchaSettings {
    pub verify_url: String,
    pub secret: SecretString,
    /// The site key the page's challenge is rendered with.
    pub site_key: String,
}

impl std::fmt::Debug for CaptchaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptchaSettings")
            .field("verify_url", &self.verify_url)
            .field("site_key", &self.site_key)
            .finish_non_exhaustive()
    }
}

/// A form older than this is stale: reload it.
const FORM_LIFETIME: SignedDuration = SignedDuration::from_hours(24);
/// How long the provider may take to answer.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the form carries besides the visitor's details.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct BotFields {
    /// From `GET /api/v1/form-token`, when the form was shown.
    pub form_token: Option<String>,
    /// The honeypot: a field people never see. Send it empty or not at all.
    pub website: Option<String>,
    /// The Turnstile or hCaptcha response, when a challenge is configured.
    pub captcha_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FormToken {
    /// Send it back as `form_token` with the form.
    pub form_token: String,
    /// How long after this answer the form may be submitted, in milliseconds.
    pub min_fill_ms: u64,
    /// The site key of the challenge to render, when one is configured.
    pub captcha_site_key: Option<String>,
    /// Whether to offer the WhatsApp box (`consent.whatsapp`): messages go
    /// by WhatsApp here.
    pub whatsapp: bool,
}

/// A form token, for a form about to be shown.
#[utoipa::path(
    get,
    path = "/api/v1/form-token",
    tag = "funnel",
    responses((status = 200, body = FormToken))
)]
pub async fn form_token(State(state): State<AppState>) -> Json<FormToken> {
    let bots = &state.settings.bots;
    Json(FormToken {
        form_token: state.settings.link_key.form_token(now()),
        min_fill_ms: u64::try_from(bots.min_fill.as_millis()).unwrap_or(u64::MAX),
        captcha_site_key: bots.captcha.as_ref().map(|captcha| captcha.site_key.clone()),
        whatsapp: state.settings.whatsapp.offered,
    })
}

fn suspected(field: &str, message: &str) -> ApiError {
    ApiError::BotSuspected(ValidationErrors::single(field, message))
}

/// Refuses a submission that looks scripted, before anything is written.
pub async fn check(
    state: &AppState,
    fields: &BotFields,
    email: &Email,
    client: Option<ClientIp>,
) -> Result<(), ApiError> {
    let settings = &state.settings.bots;
    if !state.settings.limits.enabled {
        return Ok(());
    }
    if fields.website.as_deref().is_some_and(|value| !value.trim().is_empty()) {
        metrics::counter!("turnout_bots_refused_total", "reason" => "honeypot").increment(1);
        return Err(suspected("website", "Leave this field empty"));
    }
    if !settings.min_fill.is_zero() {
        check_fill_time(state, fields.form_token.as_deref(), settings.min_fill)?;
    }
    if settings.refuse_disposable && !mailchecker::is_valid(email.as_str()) {
        metrics::counter!("turnout_bots_refused_total", "reason" => "disposable").increment(1);
        let mut errors = ValidationErrors::new();
        errors.push(FieldError::new(
            "email",
            "Use a permanent email address, not a disposable one",
        ));
        return Err(ApiError::Validation(errors));
    }
    if let Some(captcha) = &settings.captcha {
        verify_captcha(captcha, fields.captcha_token.as_deref(), client).await?;
    }
    Ok(())
}

fn check_fill_time(state: &AppState, token: Option<&str>, min_fill: Duration) -> Result<(), ApiError> {
    let Some(token) = token else {
        return Err(suspected(
            "form_token",
            "Required: fetch one from /api/v1/form-token when showing the form",
        ));
    };
    let Some(issued) = state.settings.link_key.form_token_issued(token) else {
        return Err(suspected("form_token", "This form token is not valid; reload the form"));
    };
    let age = now().duration_since(issued);
    if age > FORM_LIFETIME {
        return Err(suspected("form_token", "This form is too old; reload it"));
    }
    let min_fill = SignedDuration::try_from(min_fill).unwrap_or(SignedDuration::MAX);
    if age < min_fill {
        metrics::counter!("turnout_bots_refused_total", "reason" => "too_fast").increment(1);
        return Err(suspected(
            "form_token",
            "Sent too quickly after the form appeared; try again in a moment",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Verdict {
    success: bool,
}

async fn verify_captcha(
    captcha: &CaptchaSettings,
    token: Option<&str>,
    client: Option<ClientIp>,
) -> Result<(), ApiError> {
    let Some(token) = token.filter(|token| !token.is_empty() && token.len() <= 4_096) else {
        return Err(suspected("captcha_token", "Complete the challenge first"));
    };
    let mut form = vec![
        ("secret", captcha.secret.expose_secret().to_owned()),
        ("response", token.to_owned()),
    ];
    if let Some(ClientIp(address)) = client {
        form.push(("remoteip", address.to_string()));
    }
    let unavailable = |error: String| {
        tracing::warn!(%error, "the challenge provider could not be asked");
        ApiError::Unavailable("the challenge could not be checked".into())
    };
    let response = captcha_client()
        .post(&captcha.verify_url)
        .form(&form)
        .send()
        .await
        .map_err(|error| unavailable(error.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(unavailable(format!("the provider answered {}", response.status())));
    }
    // The provider's answer is small; anything larger is not one.
    let body = response.bytes().await.map_err(|error| unavailable(error.to_string()))?;
    if body.len() > 16 * 1024 {
        return Err(unavailable("the provider's answer is too large".into()));
    }
    let verdict: Verdict = serde_json::from_slice(&body).map_err(|error| unavailable(error.to_string()))?;
    if !verdict.success {
        metrics::counter!("turnout_bots_refused_total", "reason" => "captcha").increment(1);
        return Err(suspected("captcha_token", "The challenge was not passed; try it again"));
    }
    Ok(())
}

fn captcha_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(VERIFY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS client")
    })
}
