//! Configuration: defaults, then an optional TOML file, then `TURNOUT_*`
//! environment variables and command-line flags. Unknown keys in the file
//! are an error; secrets are wrapped so they never print.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use jiff::SignedDuration;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use turnout_delivery::{Backoff, SmsSettings, WhatsAppSettings, WhatsAppTemplates, WorkerSettings};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug)]
pub struct Config {
    pub bind: String,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; by default a SQLite file in `data_dir`.
    pub database_url: Option<SecretString>,
    pub public_url: Option<String>,
    pub log_format: LogFormat,
    pub admin_token: Option<SecretString>,
    pub slot_cache_ttl: Duration,
    pub privacy_policy_version: String,
    /// How long before a slot starts its registrants' join links open it.
    pub join_opens_minutes: u32,
    /// How long after a slot ends its unsettled registrations are judged
    /// attended or no-show from their join-link openings.
    pub attendance_grace_minutes: u32,
    /// How long after a slot's attendance is settled its follow-up emails
    /// wait for a replay address before going without one.
    pub replay_wait_hours: u32,
    /// How long a seat offered from a waiting list is held for the person
    /// first in line (never past the slot's start).
    pub waitlist_offer_hours: u32,
    /// Below this many registrations a webinar's page does not say how many
    /// there are: "3 registered" puts people off.
    pub social_proof_min: u64,
    /// Résumés go to this S3-compatible bucket when set; otherwise to
    /// `data_dir/uploads`.
    pub s3: S3Config,
    pub worker: WorkerConfig,
    pub webhooks: WebhookConfig,
    pub email: EmailConfig,
    pub sms: SmsConfig,
    pub whatsapp: WhatsAppConfig,
    pub site: SiteConfig,
    /// How long before a slot each reminder goes out.
    pub reminders: Vec<SignedDuration>,
    /// Other sites whose pages may call the API (the embedded widget).
    pub cors_origins: Vec<String>,
    pub limits: LimitsConfig,
    /// Proxies (addresses or CIDRs) whose `X-Forwarded-For`/`Forwarded`
    /// headers name the client, for limits and the consent record.
    pub trusted_proxies: Vec<String>,
    /// Origins that may show Turnout's pages in a frame; none by default.
    pub frame_ancestors: Vec<String>,
    pub http: HttpConfig,
    pub captcha: CaptchaConfig,
    /// When set, `/metrics` answers only `Authorization: Bearer` this.
    pub metrics_token: Option<SecretString>,
}

/// Transport limits of `serve`; see `turnout_http::TransportLimits`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub header_read_timeout_ms: u64,
    pub max_connections: usize,
    pub max_in_flight: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let limits = turnout_http::TransportLimits::default();
        Self {
            header_read_timeout_ms: millis(limits.header_read_timeout),
            max_connections: limits.max_connections,
            max_in_flight: limits.max_in_flight,
        }
    }
}

impl HttpConfig {
    pub fn limits(&self) -> turnout_http::TransportLimits {
        turnout_http::TransportLimits {
            header_read_timeout: Duration::from_millis(self.header_read_timeout_ms),
            max_connections: self.max_connections,
            max_in_flight: self.max_in_flight,
        }
    }
}

/// The shortest `admin_token` accepted: it opens everything.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// Abuse limits; a limit of 0 is off, `enabled = false` turns all off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub enabled: bool,
    pub writes_per_ip_per_minute: u32,
    pub signups_per_email_per_hour: u32,
    pub changes_per_registration_per_day: u32,
    pub uploads_per_ip_per_hour: u32,
    /// Emails and SMS to one address or number per day, all kinds together.
    pub messages_per_recipient_per_day: u32,
    /// A form sent sooner than this after `GET /api/v1/form-token` is
    /// refused; 0 turns form tokens off.
    pub min_fill_ms: u64,
    /// Refuse addresses at throwaway-mail domains.
    pub refuse_disposable_emails: bool,
}

/// A challenge on the forms, verified on the server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptchaConfig {
    /// `turnstile` or `hcaptcha`: which provider's verify URL to use.
    pub provider: Option<String>,
    pub site_key: Option<String>,
    pub secret: Option<SecretString>,
    /// Another verify URL (a proxy, or a test's fake provider).
    pub verify_url: Option<String>,
}

impl CaptchaConfig {
    pub fn settings(&self) -> anyhow::Result<Option<turnout_http::CaptchaSettings>> {
        let Some(secret) = self.secret.clone() else {
            return Ok(None);
        };
        let verify_url = match (self.verify_url.clone(), self.provider.as_deref()) {
            (Some(url), _) => url,
            (None, Some("turnstile") | None) => "https://challenges.cloudflare.com/turnstile/v0/siteverify".into(),
            (None, Some("hcaptcha")) => "https://api.hcaptcha.com/siteverify".into(),
            (None, Some(other)) => bail!("captcha.provider must be turnstile or hcaptcha, not {other:?}"),
        };
        Ok(Some(turnout_http::CaptchaSettings {
            verify_url,
            secret,
            site_key: self.site_key.clone().unwrap_or_default(),
        }))
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let http = turnout_http::LimitSettings::default();
        Self {
            enabled: http.enabled,
            writes_per_ip_per_minute: http.writes_per_ip_per_minute,
            signups_per_email_per_hour: http.signups_per_email_per_hour,
            changes_per_registration_per_day: http.changes_per_registration_per_day,
            uploads_per_ip_per_hour: http.uploads_per_ip_per_hour,
            messages_per_recipient_per_day: WorkerSettings::default().messages_per_recipient_per_day,
            min_fill_ms: millis(turnout_http::BotSettings::default().min_fill),
            refuse_disposable_emails: turnout_http::BotSettings::default().refuse_disposable,
        }
    }
}

impl LimitsConfig {
    pub fn bots(&self, captcha: &CaptchaConfig) -> anyhow::Result<turnout_http::BotSettings> {
        Ok(turnout_http::BotSettings {
            min_fill: Duration::from_millis(self.min_fill_ms),
            refuse_disposable: self.refuse_disposable_emails,
            captcha: captcha.settings()?,
        })
    }

    pub fn http(&self) -> turnout_http::LimitSettings {
        turnout_http::LimitSettings {
            enabled: self.enabled,
            writes_per_ip_per_minute: self.writes_per_ip_per_minute,
            signups_per_email_per_hour: self.signups_per_email_per_hour,
            changes_per_registration_per_day: self.changes_per_registration_per_day,
            uploads_per_ip_per_hour: self.uploads_per_ip_per_hour,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// The sender, `Name <address>`; its domain ends every Message-ID.
    pub from: String,
    /// SMTP server, as `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465` or `smtp://host:25`. Without it, emails
    /// are written as `.eml` files to `data_dir/mail`.
    pub smtp_url: Option<SecretString>,
    /// Templates here replace the built-in ones of the same file name.
    pub templates_dir: Option<PathBuf>,
    /// How the site signs its messages.
    pub site_name: String,
}

/// An SMS provider's HTTP API; SMS reminders are off without a URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    pub url: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub from: String,
    /// The request body: a template of `to`, `from` and `text`; by default
    /// Twilio's form.
    pub body: String,
    pub content_type: String,
    pub timeout_ms: u64,
    /// ISO 3166 codes of the countries SMS may go to (toll fraud sends
    /// premium-rate numbers abroad); a number elsewhere gets none.
    pub countries: Vec<String>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            url: None,
            username: None,
            password: None,
            from: String::new(),
            body: turnout_delivery::sms::TWILIO_BODY.into(),
            content_type: turnout_delivery::sms::FORM.into(),
            timeout_ms: 10_000,
            countries: default_countries(),
        }
    }
}

/// Where SMS and WhatsApp messages may go unless configured otherwise.
fn default_countries() -> Vec<String> {
    turnout_delivery::sms::DEFAULT_COUNTRIES
        .iter()
        .map(|code| (*code).to_owned())
        .collect()
}

/// ISO 3166 codes as configured, in the upper case phone numbers use.
fn country_codes(configured: &[String]) -> Vec<String> {
    configured.iter().map(|code| code.trim().to_ascii_uppercase()).collect()
}

impl SmsConfig {
    pub fn settings(&self) -> Option<SmsSettings> {
        Some(SmsSettings {
            url: self.url.clone()?,
            username: self.username.clone(),
            password: self.password.clone(),
            from: self.from.clone(),
            body: self.body.clone(),
            content_type: self.content_type.clone(),
            timeout: Duration::from_millis(self.timeout_ms),
            countries: country_codes(&self.countries),
        })
    }
}

/// The visitor's pages as the site's own: its name is `[email] site_name`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SiteConfig {
    /// A PNG, JPEG, WebP or SVG file for the header, at most 256 KiB.
    pub logo_file: Option<PathBuf>,
    /// `#RRGGBB` for buttons, links and the widget's frame.
    pub accent_colour: Option<String>,
    pub support_email: Option<String>,
    pub terms_url: Option<String>,
    pub contact_url: Option<String>,
}

impl SiteConfig {
    fn check(&self) -> anyhow::Result<()> {
        if let Some(colour) = &self.accent_colour
            && !turnout_http::brand::is_hex_colour(colour)
        {
            bail!("site.accent_colour (TURNOUT_SITE_ACCENT_COLOUR) must be #RRGGBB, e.g. #0f766e; got {colour:?}");
        }
        if let Some(address) = &self.support_email {
            turnout_domain::Email::parse(address)
                .map_err(|error| anyhow::anyhow!("site.support_email (TURNOUT_SITE_SUPPORT_EMAIL): {error}"))?;
        }
        for (key, url) in [
            ("site.terms_url", &self.terms_url),
            ("site.contact_url", &self.contact_url),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || (url.starts_with('/') && !url.starts_with("//")))
            {
                bail!("{key} must be an https address or a path on this site; got {url:?}");
            }
        }
        Ok(())
    }

    /// The brand the pages show, the logo read and checked now.
    pub fn brand(&self, site_name: &str) -> anyhow::Result<turnout_http::Brand> {
        let logo = match &self.logo_file {
            Some(path) => {
                let bytes = std::fs::read(path).with_context(|| format!("site.logo_file {}", path.display()))?;
                let logo = turnout_http::Logo::from_bytes(bytes)
                    .map_err(|error| anyhow::anyhow!("site.logo_file {}: {error}", path.display()))?;
                Some(logo)
            }
            None => None,
        };
        Ok(turnout_http::Brand {
            site_name: site_name.to_owned(),
            logo,
            accent: self.accent_colour.clone(),
            support_email: self.support_email.clone(),
            terms_url: self.terms_url.clone(),
            contact_url: self.contact_url.clone(),
        })
    }
}

/// The WhatsApp Business Cloud API; WhatsApp is off without a phone number
/// id, an access token and the confirmation and reminder templates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppConfig {
    pub phone_number_id: Option<String>,
    pub access_token: Option<SecretString>,
    /// The Graph API's base, with its version.
    pub api_url: String,
    /// The templates' language code.
    pub language: String,
    pub templates: WhatsAppTemplatesConfig,
    pub timeout_ms: u64,
    /// ISO 3166 codes of the countries WhatsApp messages may go to.
    pub countries: Vec<String>,
    /// The Meta app's secret: status callbacks are signed with it, and
    /// refused without it.
    pub app_secret: Option<SecretString>,
    /// What Meta must present when subscribing the status callback.
    pub verify_token: Option<SecretString>,
}

/// Names of templates approved in WhatsApp Manager; see
/// `turnout_delivery::whatsapp` for their parameters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppTemplatesConfig {
    pub confirmation: Option<String>,
    pub rescheduled: Option<String>,
    pub reminder: Option<String>,
    pub last_reminder: Option<String>,
}

impl Default for WhatsAppConfig {
    fn default() -> Self {
        Self {
            phone_number_id: None,
            access_token: None,
            api_url: turnout_delivery::whatsapp::GRAPH_API.into(),
            language: "en".into(),
            templates: WhatsAppTemplatesConfig::default(),
            timeout_ms: 10_000,
            countries: default_countries(),
            app_secret: None,
            verify_token: None,
        }
    }
}

impl WhatsAppConfig {
    fn apply_env(&mut self, env: &dyn Environment) {
        let templates = &mut self.templates;
        for (name, slot) in [
            ("TURNOUT_WHATSAPP_PHONE_NUMBER_ID", &mut self.phone_number_id),
            ("TURNOUT_WHATSAPP_TEMPLATE_CONFIRMATION", &mut templates.confirmation),
            ("TURNOUT_WHATSAPP_TEMPLATE_RESCHEDULED", &mut templates.rescheduled),
            ("TURNOUT_WHATSAPP_TEMPLATE_REMINDER", &mut templates.reminder),
            ("TURNOUT_WHATSAPP_TEMPLATE_LAST_REMINDER", &mut templates.last_reminder),
        ] {
            if let Some(value) = env.var(name) {
                *slot = Some(value);
            }
        }
        for (name, slot) in [
            ("TURNOUT_WHATSAPP_API_URL", &mut self.api_url),
            ("TURNOUT_WHATSAPP_LANGUAGE", &mut self.language),
        ] {
            if let Some(value) = env.var(name) {
                *slot = value;
            }
        }
        for (name, slot) in [
            ("TURNOUT_WHATSAPP_ACCESS_TOKEN", &mut self.access_token),
            ("TURNOUT_WHATSAPP_APP_SECRET", &mut self.app_secret),
            ("TURNOUT_WHATSAPP_VERIFY_TOKEN", &mut self.verify_token),
        ] {
            if let Some(value) = env.var(name) {
                *slot = Some(value.into());
            }
        }
        if let Some(list) = env.var("TURNOUT_WHATSAPP_COUNTRIES") {
            self.countries = list.split(',').map(|entry| entry.trim().to_owned()).collect();
        }
    }

    /// The sender's settings, when WhatsApp is configured.
    pub fn settings(&self) -> Option<WhatsAppSettings> {
        Some(WhatsAppSettings {
            api_url: self.api_url.clone(),
            phone_number_id: self.phone_number_id.clone()?,
            access_token: self.access_token.clone()?,
            language: self.language.clone(),
            templates: WhatsAppTemplates {
                confirmation: self.templates.confirmation.clone()?,
                rescheduled: self.templates.rescheduled.clone(),
                reminder: self.templates.reminder.clone()?,
                last_reminder: self.templates.last_reminder.clone(),
            },
            timeout: Duration::from_millis(self.timeout_ms),
            countries: country_codes(&self.countries),
        })
    }
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            from: "Turnout <webinars@example.com>".into(),
            smtp_url: None,
            templates_dir: None,
            site_name: "Turnout".into(),
        }
    }
}

/// The outbox worker; see `turnout_delivery::WorkerSettings`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// Run a worker inside `turnout serve` (turn off when `turnout worker`
    /// runs on its own).
    pub in_serve: bool,
    pub max_attempts: i64,
    pub lease_ms: u64,
    pub poll_ms: u64,
    pub retry_base_ms: u64,
    pub retry_cap_ms: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        let defaults = WorkerSettings::default();
        Self {
            in_serve: true,
            max_attempts: defaults.max_attempts,
            lease_ms: millis(defaults.lease),
            poll_ms: millis(defaults.poll),
            retry_base_ms: millis(defaults.backoff.base),
            retry_cap_ms: millis(defaults.backoff.cap),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// Internal addresses or networks (`127.0.0.1`, `10.0.0.0/8`) endpoints
    /// may use; all others internal are refused.
    pub allowed_networks: Vec<String>,
    pub timeout_ms: u64,
    /// Consecutive failures that disable an endpoint.
    pub disable_after: i64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allowed_networks: Vec::new(),
            timeout_ms: 10_000,
            disable_after: WorkerSettings::default().disable_after,
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Config {
    pub fn waitlist_offer_hold(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::from_hours(i64::from(self.waitlist_offer_hours))
    }

    pub fn worker_settings(&self) -> WorkerSettings {
        let worker = &self.worker;
        WorkerSettings {
            max_attempts: worker.max_attempts,
            lease: Duration::from_millis(worker.lease_ms),
            poll: Duration::from_millis(worker.poll_ms),
            backoff: Backoff {
                base: Duration::from_millis(worker.retry_base_ms),
                cap: Duration::from_millis(worker.retry_cap_ms),
            },
            disable_after: self.webhooks.disable_after,
            reminders: self.reminders.clone(),
            messages_per_recipient_per_day: if self.limits.enabled {
                self.limits.messages_per_recipient_per_day
            } else {
                0
            },
            attendance_grace: jiff::SignedDuration::from_mins(i64::from(self.attendance_grace_minutes)),
            replay_wait: jiff::SignedDuration::from_hours(i64::from(self.replay_wait_hours)),
            offer_hold: self.waitlist_offer_hold(),
            ..WorkerSettings::default()
        }
    }
}

/// Reminder offsets such as `24h` or `90m`: positive, whole minutes.
fn parse_reminders<'a>(entries: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<SignedDuration>> {
    entries
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let offset: SignedDuration = entry
                .parse()
                .map_err(|_| anyhow::anyhow!("{entry:?} is not a duration such as 24h or 90m"))?;
            if offset <= SignedDuration::ZERO || offset.as_secs() % 60 != 0 {
                bail!("{entry:?} must be a positive number of whole minutes");
            }
            Ok(offset)
        })
        .collect()
}

/// A flag from an environment variable, or an error naming it.
fn boolean(name: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => bail!("{name} must be true or false, not {other:?}"),
    }
}

/// A number from an environment variable, or an error naming it.
fn number<T: std::str::FromStr>(env: &dyn Environment, name: &str) -> anyhow::Result<Option<T>> {
    env.var(name)
        .map(|value| {
            value
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be a whole number, not {value:?}"))
        })
        .transpose()
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

/// The file's shape: every key optional, none unknown.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<SecretString>,
    public_url: Option<String>,
    log_format: Option<LogFormat>,
    admin_token: Option<SecretString>,
    slot_cache_ttl_ms: Option<u64>,
    privacy_policy_version: Option<String>,
    join_opens_minutes: Option<u32>,
    attendance_grace_minutes: Option<u32>,
    replay_wait_hours: Option<u32>,
    waitlist_offer_hours: Option<u32>,
    social_proof_min: Option<u64>,
    s3: Option<S3Config>,
    worker: Option<WorkerConfig>,
    webhooks: Option<WebhookConfig>,
    email: Option<EmailConfig>,
    sms: Option<SmsConfig>,
    whatsapp: Option<WhatsAppConfig>,
    site: Option<SiteConfig>,
    reminders: Option<Vec<String>>,
    cors_origins: Option<Vec<String>>,
    limits: Option<LimitsConfig>,
    trusted_proxies: Option<Vec<String>>,
    frame_ancestors: Option<Vec<String>>,
    http: Option<HttpConfig>,
    metrics_token: Option<SecretString>,
    captcha: Option<CaptchaConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./turnout-data"),
            database_url: None,
            public_url: None,
            log_format: LogFormat::Text,
            admin_token: None,
            slot_cache_ttl: Duration::from_secs(1),
            privacy_policy_version: "2026-11-01".into(),
            join_opens_minutes: 15,
            attendance_grace_minutes: 30,
            replay_wait_hours: 48,
            waitlist_offer_hours: 12,
            social_proof_min: 50,
            s3: S3Config::default(),
            worker: WorkerConfig::default(),
            webhooks: WebhookConfig::default(),
            email: EmailConfig::default(),
            sms: SmsConfig::default(),
            whatsapp: WhatsAppConfig::default(),
            site: SiteConfig::default(),
            reminders: WorkerSettings::default().reminders,
            cors_origins: Vec::new(),
            limits: LimitsConfig::default(),
            trusted_proxies: Vec::new(),
            frame_ancestors: Vec::new(),
            http: HttpConfig::default(),
            metrics_token: None,
            captcha: CaptchaConfig::default(),
        }
    }
}

/// Where a setting can come from besides the file, for tests.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }
}

impl Config {
    /// Builds the configuration from defaults, `file` and `env`.
    pub fn load(file: Option<&Path>, env: &dyn Environment) -> anyhow::Result<Self> {
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let file: FileConfig = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
            config.apply_file(file)?;
        }
        config.apply_env(env)?;
        config.check()?;
        Ok(config)
    }

    /// What no source may set on its own.
    fn check(&self) -> anyhow::Result<()> {
        if let Some(token) = &self.admin_token
            && token.expose_secret().chars().count() < MIN_ADMIN_TOKEN_CHARS
        {
            bail!(
                "admin_token (TURNOUT_ADMIN_TOKEN) must be at least {MIN_ADMIN_TOKEN_CHARS} characters; \
                 make one with `openssl rand -hex 32`"
            );
        }
        let whatsapp = &self.whatsapp;
        let wanted = [
            whatsapp.phone_number_id.is_some(),
            whatsapp.access_token.is_some(),
            whatsapp.templates.confirmation.is_some(),
            whatsapp.templates.reminder.is_some(),
        ];
        if wanted.contains(&true) && wanted.contains(&false) {
            bail!(
                "whatsapp needs phone_number_id, access_token, templates.confirmation and templates.reminder \
                 together (TURNOUT_WHATSAPP_PHONE_NUMBER_ID, _ACCESS_TOKEN, _TEMPLATE_CONFIRMATION, \
                 _TEMPLATE_REMINDER)"
            );
        }
        self.site.check()?;
        if self.http.max_connections == 0 || self.http.max_in_flight == 0 || self.http.header_read_timeout_ms == 0 {
            bail!("http.max_connections, http.max_in_flight and http.header_read_timeout_ms must be above 0");
        }
        Ok(())
    }

    fn apply_file(&mut self, file: FileConfig) -> anyhow::Result<()> {
        let FileConfig {
            bind,
            data_dir,
            database_url,
            public_url,
            log_format,
            admin_token,
            slot_cache_ttl_ms,
            privacy_policy_version,
            join_opens_minutes,
            attendance_grace_minutes,
            replay_wait_hours,
            waitlist_offer_hours,
            social_proof_min,
            s3,
            worker,
            webhooks,
            email,
            sms,
            whatsapp,
            site,
            reminders,
            cors_origins,
            limits,
            trusted_proxies,
            frame_ancestors,
            http,
            metrics_token,
            captcha,
        } = file;
        if let Some(captcha) = captcha {
            self.captcha = captcha;
        }
        if let Some(http) = http {
            self.http = http;
        }
        self.metrics_token = metrics_token.or(self.metrics_token.take());
        if let Some(ancestors) = frame_ancestors {
            self.frame_ancestors = ancestors;
        }
        if let Some(limits) = limits {
            self.limits = limits;
        }
        if let Some(proxies) = trusted_proxies {
            self.trusted_proxies = proxies;
        }
        if let Some(origins) = cors_origins {
            self.cors_origins = origins;
        }
        if let Some(sms) = sms {
            self.sms = sms;
        }
        if let Some(whatsapp) = whatsapp {
            self.whatsapp = whatsapp;
        }
        if let Some(site) = site {
            self.site = site;
        }
        if let Some(worker) = worker {
            self.worker = worker;
        }
        if let Some(email) = email {
            self.email = email;
        }
        if let Some(reminders) = reminders {
            self.reminders = parse_reminders(reminders.iter().map(String::as_str)).context("reminders")?;
        }
        if let Some(webhooks) = webhooks {
            self.webhooks = webhooks;
        }
        if let Some(s3) = s3 {
            self.s3 = s3;
        }
        self.bind = bind.unwrap_or(std::mem::take(&mut self.bind));
        self.data_dir = data_dir.unwrap_or(std::mem::take(&mut self.data_dir));
        self.database_url = database_url.or(self.database_url.take());
        self.public_url = public_url.or(self.public_url.take());
        self.log_format = log_format.unwrap_or(self.log_format);
        self.admin_token = admin_token.or(self.admin_token.take());
        if let Some(ms) = slot_cache_ttl_ms {
            self.slot_cache_ttl = Duration::from_millis(ms);
        }
        self.privacy_policy_version =
            privacy_policy_version.unwrap_or(std::mem::take(&mut self.privacy_policy_version));
        self.join_opens_minutes = join_opens_minutes.unwrap_or(self.join_opens_minutes);
        self.attendance_grace_minutes = attendance_grace_minutes.unwrap_or(self.attendance_grace_minutes);
        self.replay_wait_hours = replay_wait_hours.unwrap_or(self.replay_wait_hours);
        self.waitlist_offer_hours = waitlist_offer_hours.unwrap_or(self.waitlist_offer_hours);
        self.social_proof_min = social_proof_min.unwrap_or(self.social_proof_min);
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Environment) -> anyhow::Result<()> {
        if let Some(bind) = env.var("TURNOUT_BIND") {
            self.bind = bind;
        }
        if let Some(dir) = env.var("TURNOUT_DATA_DIR") {
            self.data_dir = dir.into();
        }
        if let Some(url) = env.var("TURNOUT_DATABASE_URL").or_else(|| env.var("DATABASE_URL")) {
            self.database_url = Some(url.into());
        }
        if let Some(url) = env.var("TURNOUT_PUBLIC_URL") {
            self.public_url = Some(url);
        }
        if let Some(format) = env.var("TURNOUT_LOG_FORMAT") {
            self.log_format = match format.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => bail!("TURNOUT_LOG_FORMAT must be text or json, not {other:?}"),
            };
        }
        if let Some(token) = env.var("TURNOUT_ADMIN_TOKEN") {
            self.admin_token = Some(token.into());
        }
        if let Some(ms) = env.var("TURNOUT_SLOT_CACHE_TTL_MS") {
            let ms: u64 = ms.parse().context("TURNOUT_SLOT_CACHE_TTL_MS must be a whole number")?;
            self.slot_cache_ttl = Duration::from_millis(ms);
        }
        if let Some(version) = env.var("TURNOUT_PRIVACY_POLICY_VERSION") {
            self.privacy_policy_version = version;
        }
        if let Some(minutes) = env.var("TURNOUT_JOIN_OPENS_MINUTES") {
            self.join_opens_minutes = minutes
                .parse()
                .context("TURNOUT_JOIN_OPENS_MINUTES must be a whole number of minutes")?;
        }
        if let Some(minutes) = env.var("TURNOUT_ATTENDANCE_GRACE_MINUTES") {
            self.attendance_grace_minutes = minutes
                .parse()
                .context("TURNOUT_ATTENDANCE_GRACE_MINUTES must be a whole number of minutes")?;
        }
        if let Some(hours) = env.var("TURNOUT_REPLAY_WAIT_HOURS") {
            self.replay_wait_hours = hours
                .parse()
                .context("TURNOUT_REPLAY_WAIT_HOURS must be a whole number of hours")?;
        }
        if let Some(hours) = env.var("TURNOUT_WAITLIST_OFFER_HOURS") {
            self.waitlist_offer_hours = hours
                .parse()
                .context("TURNOUT_WAITLIST_OFFER_HOURS must be a whole number of hours")?;
        }
        if let Some(count) = env.var("TURNOUT_SOCIAL_PROOF_MIN") {
            self.social_proof_min = count
                .parse()
                .context("TURNOUT_SOCIAL_PROOF_MIN must be a whole number of registrations")?;
        }
        let s3 = &mut self.s3;
        for (name, slot) in [
            ("TURNOUT_S3_BUCKET", &mut s3.bucket),
            ("TURNOUT_S3_ENDPOINT", &mut s3.endpoint),
            ("TURNOUT_S3_REGION", &mut s3.region),
            ("TURNOUT_S3_ACCESS_KEY_ID", &mut s3.access_key_id),
        ] {
            if let Some(value) = env.var(name) {
                *slot = Some(value);
            }
        }
        if let Some(secret) = env.var("TURNOUT_S3_SECRET_ACCESS_KEY") {
            s3.secret_access_key = Some(secret.into());
        }
        if let Some(flag) = env.var("TURNOUT_WORKER_IN_SERVE") {
            self.worker.in_serve = boolean("TURNOUT_WORKER_IN_SERVE", &flag)?;
        }
        let worker = &mut self.worker;
        for (name, slot) in [
            ("TURNOUT_WORKER_LEASE_MS", &mut worker.lease_ms),
            ("TURNOUT_WORKER_POLL_MS", &mut worker.poll_ms),
            ("TURNOUT_WORKER_RETRY_BASE_MS", &mut worker.retry_base_ms),
            ("TURNOUT_WORKER_RETRY_CAP_MS", &mut worker.retry_cap_ms),
            ("TURNOUT_WEBHOOKS_TIMEOUT_MS", &mut self.webhooks.timeout_ms),
        ] {
            if let Some(value) = number(env, name)? {
                *slot = value;
            }
        }
        if let Some(value) = number(env, "TURNOUT_WORKER_MAX_ATTEMPTS")? {
            worker.max_attempts = value;
        }
        if let Some(value) = number(env, "TURNOUT_WEBHOOKS_DISABLE_AFTER")? {
            self.webhooks.disable_after = value;
        }
        for (name, slot) in [
            ("TURNOUT_EMAIL_FROM", &mut self.email.from),
            ("TURNOUT_SITE_NAME", &mut self.email.site_name),
        ] {
            if let Some(value) = env.var(name) {
                *slot = value;
            }
        }
        let sms = &mut self.sms;
        for (name, slot) in [
            ("TURNOUT_SMS_URL", &mut sms.url),
            ("TURNOUT_SMS_USERNAME", &mut sms.username),
        ] {
            if let Some(value) = env.var(name) {
                *slot = Some(value);
            }
        }
        for (name, slot) in [
            ("TURNOUT_SMS_FROM", &mut sms.from),
            ("TURNOUT_SMS_BODY", &mut sms.body),
            ("TURNOUT_SMS_CONTENT_TYPE", &mut sms.content_type),
        ] {
            if let Some(value) = env.var(name) {
                *slot = value;
            }
        }
        if let Some(password) = env.var("TURNOUT_SMS_PASSWORD") {
            sms.password = Some(password.into());
        }
        if let Some(url) = env.var("TURNOUT_SMTP_URL") {
            self.email.smtp_url = Some(url.into());
        }
        if let Some(dir) = env.var("TURNOUT_EMAIL_TEMPLATES_DIR") {
            self.email.templates_dir = Some(dir.into());
        }
        if let Some(list) = env.var("TURNOUT_REMINDERS") {
            self.reminders = parse_reminders(list.split(',').map(str::trim)).context("TURNOUT_REMINDERS")?;
        }
        if let Some(list) = env.var("TURNOUT_CORS_ORIGINS") {
            self.cors_origins = list.split(',').map(|entry| entry.trim().to_owned()).collect();
        }
        if let Some(list) = env.var("TURNOUT_WEBHOOKS_ALLOWED_NETWORKS") {
            self.webhooks.allowed_networks = list.split(',').map(|entry| entry.trim().to_owned()).collect();
        }
        for (name, slot) in [
            ("TURNOUT_CAPTCHA_PROVIDER", &mut self.captcha.provider),
            ("TURNOUT_CAPTCHA_SITE_KEY", &mut self.captcha.site_key),
            ("TURNOUT_CAPTCHA_VERIFY_URL", &mut self.captcha.verify_url),
        ] {
            if let Some(value) = env.var(name) {
                *slot = Some(value);
            }
        }
        if let Some(secret) = env.var("TURNOUT_CAPTCHA_SECRET") {
            self.captcha.secret = Some(secret.into());
        }
        if let Some(value) = number(env, "TURNOUT_LIMITS_MIN_FILL_MS")? {
            self.limits.min_fill_ms = value;
        }
        if let Some(flag) = env.var("TURNOUT_LIMITS_REFUSE_DISPOSABLE_EMAILS") {
            self.limits.refuse_disposable_emails = boolean("TURNOUT_LIMITS_REFUSE_DISPOSABLE_EMAILS", &flag)?;
        }
        if let Some(token) = env.var("TURNOUT_METRICS_TOKEN") {
            self.metrics_token = Some(token.into());
        }
        if let Some(value) = number(env, "TURNOUT_HTTP_HEADER_READ_TIMEOUT_MS")? {
            self.http.header_read_timeout_ms = value;
        }
        for (name, slot) in [
            ("TURNOUT_HTTP_MAX_CONNECTIONS", &mut self.http.max_connections),
            ("TURNOUT_HTTP_MAX_IN_FLIGHT", &mut self.http.max_in_flight),
        ] {
            if let Some(value) = number(env, name)? {
                *slot = value;
            }
        }
        if let Some(list) = env.var("TURNOUT_FRAME_ANCESTORS") {
            self.frame_ancestors = list.split(',').map(|entry| entry.trim().to_owned()).collect();
        }
        if let Some(list) = env.var("TURNOUT_TRUSTED_PROXIES") {
            self.trusted_proxies = list.split(',').map(|entry| entry.trim().to_owned()).collect();
        }
        if let Some(list) = env.var("TURNOUT_SMS_COUNTRIES") {
            self.sms.countries = list.split(',').map(|entry| entry.trim().to_owned()).collect();
        }
        self.whatsapp.apply_env(env);
        let site = &mut self.site;
        for (name, slot) in [
            ("TURNOUT_SITE_ACCENT_COLOUR", &mut site.accent_colour),
            ("TURNOUT_SITE_SUPPORT_EMAIL", &mut site.support_email),
            ("TURNOUT_SITE_TERMS_URL", &mut site.terms_url),
            ("TURNOUT_SITE_CONTACT_URL", &mut site.contact_url),
        ] {
            if let Some(value) = env.var(name) {
                *slot = Some(value);
            }
        }
        if let Some(path) = env.var("TURNOUT_SITE_LOGO_FILE") {
            site.logo_file = Some(path.into());
        }
        if let Some(flag) = env.var("TURNOUT_LIMITS_ENABLED") {
            self.limits.enabled = boolean("TURNOUT_LIMITS_ENABLED", &flag)?;
        }
        let limits = &mut self.limits;
        for (name, slot) in [
            (
                "TURNOUT_LIMITS_WRITES_PER_IP_PER_MINUTE",
                &mut limits.writes_per_ip_per_minute,
            ),
            (
                "TURNOUT_LIMITS_SIGNUPS_PER_EMAIL_PER_HOUR",
                &mut limits.signups_per_email_per_hour,
            ),
            (
                "TURNOUT_LIMITS_CHANGES_PER_REGISTRATION_PER_DAY",
                &mut limits.changes_per_registration_per_day,
            ),
            (
                "TURNOUT_LIMITS_UPLOADS_PER_IP_PER_HOUR",
                &mut limits.uploads_per_ip_per_hour,
            ),
            (
                "TURNOUT_LIMITS_MESSAGES_PER_RECIPIENT_PER_DAY",
                &mut limits.messages_per_recipient_per_day,
            ),
        ] {
            if let Some(value) = number(env, name)? {
                *slot = value;
            }
        }
        Ok(())
    }

    /// The database to open: the configured URL, or SQLite in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("turnout.db").display()),
        }
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct FakeEnv(HashMap<&'static str, &'static str>);

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| v.to_string())
        }
    }

    #[test]
    fn the_brand_is_checked_when_turnout_starts() {
        let logo = write("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 8 8\"/>");
        let file = write(&format!(
            "[site]\nlogo_file = {:?}\naccent_colour = \"#0f766e\"\nsupport_email = \"help@example.com\"\n\
             terms_url = \"/terms\"\ncontact_url = \"https://example.com/contact\"\n",
            logo.path()
        ));
        let config = Config::load(Some(file.path()), &FakeEnv(HashMap::new())).unwrap();
        let brand = config.site.brand("Career Academy").unwrap();
        assert_eq!(brand.site_name, "Career Academy");
        assert_eq!(brand.logo.unwrap().content_type, "image/svg+xml");
        assert_eq!(brand.accent.as_deref(), Some("#0f766e"));
        for (name, value) in [
            ("TURNOUT_SITE_ACCENT_COLOUR", "teal"),
            ("TURNOUT_SITE_SUPPORT_EMAIL", "not an address"),
            ("TURNOUT_SITE_TERMS_URL", "javascript:alert(1)"),
            ("TURNOUT_SITE_CONTACT_URL", "//evil.example.com"),
        ] {
            let env = FakeEnv(HashMap::from([(name, value)]));
            let error = Config::load(None, &env).unwrap_err().to_string();
            assert!(error.contains("site."), "{name}: {error}");
        }
        let text = write("not an image");
        let env = FakeEnv(HashMap::new());
        let mut config = Config::load(None, &env).unwrap();
        config.site.logo_file = Some(text.path().to_owned());
        assert!(config.site.brand("x").is_err());
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn nothing_at_all_is_needed_to_start() {
        let config = Config::load(None, &FakeEnv(HashMap::new())).unwrap();
        assert_eq!(config.bind, "127.0.0.1:8080");
        assert_eq!(config.database_url(), "sqlite://./turnout-data/turnout.db");
        assert_eq!(config.public_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = write("bind = \"0.0.0.0:9000\"\nlog_format = \"json\"\ndata_dir = \"/srv/turnout\"\n");
        let env = FakeEnv(HashMap::from([("TURNOUT_BIND", "127.0.0.1:9100")]));
        let config = Config::load(Some(file.path()), &env).unwrap();
        assert_eq!(config.bind, "127.0.0.1:9100");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.data_dir, PathBuf::from("/srv/turnout"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_an_error() {
        let file = write("bnd = \"0.0.0.0:9000\"\n");
        let error = Config::load(Some(file.path()), &FakeEnv(HashMap::new())).unwrap_err();
        assert!(format!("{error:#}").contains("unknown field `bnd`"), "{error:#}");
    }

    #[test]
    fn a_bucket_is_configured_from_the_file_or_the_environment() {
        let file = write("[s3]\nbucket = \"resumes\"\nregion = \"eu-west-1\"\n");
        let env = FakeEnv(HashMap::from([("TURNOUT_S3_ENDPOINT", "http://127.0.0.1:9000")]));
        let config = Config::load(Some(file.path()), &env).unwrap();
        assert_eq!(config.s3.bucket.as_deref(), Some("resumes"));
        assert_eq!(config.s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        let unknown = write("[s3]\nbuckit = \"resumes\"\n");
        assert!(Config::load(Some(unknown.path()), &FakeEnv(HashMap::new())).is_err());
    }

    #[test]
    fn delivery_settings_come_from_the_file_and_the_environment() {
        let file = write(
            "reminders = [\"48h\", \"90m\"]\n[email]\nfrom = \"Academy <hello@example.com>\"\n\
             [webhooks]\nallowed_networks = [\"10.0.0.0/8\"]\ndisable_after = 5\n[worker]\nin_serve = false\n",
        );
        let env = FakeEnv(HashMap::from([("TURNOUT_WORKER_LEASE_MS", "2500")]));
        let config = Config::load(Some(file.path()), &env).unwrap();
        let settings = config.worker_settings();
        assert_eq!(
            settings.reminders,
            [SignedDuration::from_hours(48), SignedDuration::from_mins(90)]
        );
        assert_eq!(settings.lease, Duration::from_millis(2500));
        assert_eq!(settings.disable_after, 5);
        assert!(!config.worker.in_serve);
        assert_eq!(config.email.from, "Academy <hello@example.com>");
        assert_eq!(config.webhooks.allowed_networks, ["10.0.0.0/8"]);
        let bad = FakeEnv(HashMap::from([("TURNOUT_REMINDERS", "24h,soon")]));
        assert!(Config::load(None, &bad).is_err());
        let negative = FakeEnv(HashMap::from([("TURNOUT_REMINDERS", "-1h")]));
        assert!(Config::load(None, &negative).is_err());
    }

    #[test]
    fn limits_come_from_the_file_and_the_environment() {
        let file = write(
            "trusted_proxies = [\"10.0.0.0/8\"]\n[limits]\nwrites_per_ip_per_minute = 7\n\
             messages_per_recipient_per_day = 3\n[sms]\ncountries = [\"in\"]\n",
        );
        let env = FakeEnv(HashMap::from([("TURNOUT_LIMITS_SIGNUPS_PER_EMAIL_PER_HOUR", "0")]));
        let config = Config::load(Some(file.path()), &env).unwrap();
        let http = config.limits.http();
        assert!(http.enabled);
        assert_eq!(http.writes_per_ip_per_minute, 7);
        assert_eq!(http.signups_per_email_per_hour, 0, "0 turns a limit off");
        assert_eq!(config.worker_settings().messages_per_recipient_per_day, 3);
        assert_eq!(config.trusted_proxies, ["10.0.0.0/8"]);
        assert_eq!(config.sms.countries, ["in"]);

        let off = FakeEnv(HashMap::from([("TURNOUT_LIMITS_ENABLED", "false")]));
        let config = Config::load(Some(file.path()), &off).unwrap();
        assert!(!config.limits.http().enabled);
        assert_eq!(config.worker_settings().messages_per_recipient_per_day, 0);
        let unknown = write("[limits]\nwrites_per_ip = 7\n");
        assert!(Config::load(Some(unknown.path()), &FakeEnv(HashMap::new())).is_err());
    }

    #[test]
    fn a_short_admin_token_is_refused() {
        let short = FakeEnv(HashMap::from([("TURNOUT_ADMIN_TOKEN", "hunter2")]));
        let error = Config::load(None, &short).unwrap_err();
        assert!(format!("{error:#}").contains("at least 32"), "{error:#}");
    }

    #[test]
    fn secrets_never_print() {
        let env = FakeEnv(HashMap::from([
            ("DATABASE_URL", "postgres://turnout:hunter2@db/turnout"),
            ("TURNOUT_ADMIN_TOKEN", "s3cret-admin-s3cret-admin-s3cret-admin"),
            ("TURNOUT_METRICS_TOKEN", "m3trics-token"),
            ("TURNOUT_S3_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
            ("TURNOUT_SMTP_URL", "smtp://mailer:pa55word@mail.example.com:587"),
            ("TURNOUT_SMS_PASSWORD", "tw1l1o-token"),
            ("TURNOUT_SMS_URL", "https://sms.example.com/messages"),
        ]));
        let config = Config::load(None, &env).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(!printed.contains("s3cret-admin"), "{printed}");
        assert!(!printed.contains("wJalrXUtnFEMI"), "{printed}");
        assert!(!printed.contains("pa55word"), "{printed}");
        assert!(!printed.contains("tw1l1o-token"), "{printed}");
        assert!(!printed.contains("m3trics-token"), "{printed}");
        let sms = config.sms.settings().expect("SMS is configured");
        let smtp = turnout_delivery::EmailTransport::Smtp(config.email.smtp_url.clone().expect("SMTP is configured"));
        let endpoint = turnout_store::WebhookEndpoint {
            id: uuid::Uuid::nil(),
            url: "https://crm.example.com/hooks".into(),
            description: String::new(),
            event_types: Vec::new(),
            secret: "whsec_c2VjcmV0LXNpZ25pbmcta2V5".into(),
            enabled: true,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
            updated_at: jiff::Timestamp::UNIX_EPOCH,
        };
        let s3 = turnout_http::uploads::S3Settings {
            bucket: "resumes".into(),
            endpoint: None,
            region: None,
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: config
                .s3
                .secret_access_key
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
        };
        let http = turnout_http::Settings::default();
        let every = format!(
            "{config:?} {sms:?} {smtp:?} {endpoint:?} {s3:?} {http:?} {:?} {:?}",
            config.worker_settings(),
            config.limits.http()
        );
        for secret in [
            "hunter2",
            "s3cret-admin",
            "wJalrXUtnFEMI",
            "pa55word",
            "tw1l1o-token",
            "m3trics-token",
            "c2VjcmV0LXNpZ25pbmcta2V5",
            &http.link_key.encode(),
        ] {
            assert!(!every.contains(secret), "{secret} printed: {every}");
        }
        assert_eq!(config.database_url(), "postgres://turnout:hunter2@db/turnout");
    }
}
