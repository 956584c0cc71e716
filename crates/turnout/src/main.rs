//! `turnout`: serve the API, apply migrations, or manage admin tokens.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::Timestamp;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use turnout::config::{Config, LogFormat, ProcessEnvironment};
use turnout::database::{self, Migrations};
use turnout_app::{NoCaches, Turnout};
use turnout_delivery::{
    AddressPolicy, Channels, EmailTransport, Links, Mailer, SmsSender, Templates, WebhookSender, WhatsAppSender, Worker,
};
use turnout_domain::TokenHash;
use turnout_http::uploads::{self, S3Settings};
use turnout_http::{AllowedOrigins, Application, Parts, PrivacyPolicy, Settings, TrustedProxies, WhatsAppSide};
use turnout_store::{ApiTokenRole, NewApiToken, Store};

#[derive(Debug, Parser)]
#[command(
    name = "turnout",
    version,
    about = "The lead-funnel backend for a career-coaching site"
)]
struct Cli {
    /// A TOML file of settings; environment variables override it.
    #[arg(long, global = true, env = "TURNOUT_CONFIG")]
    config: Option<PathBuf>,
    /// Where the SQLite database and uploads live (created if missing).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations and serve HTTP until SIGTERM or SIGINT.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080, or TURNOUT_BIND].
        #[arg(long)]
        bind: Option<String>,
        /// Load demo webinars and slots (once) before serving.
        #[arg(long)]
        demo: bool,
    },
    /// Deliver the outbox (emails, SMS, webhooks) until SIGTERM or SIGINT,
    /// beside or instead of the worker inside `serve`.
    Worker {
        /// Serve this process's delivery counters at `/metrics` here.
        #[arg(long)]
        metrics_bind: Option<String>,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Administration.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write data out as CSV on stdout.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    /// Registrations, oldest first, with the same filters and columns as
    /// `GET /api/v1/admin/registrations.csv`; a progress bar on stderr when
    /// it is a terminal.
    Registrations {
        /// One webinar's registrations, by slug.
        #[arg(long)]
        webinar: Option<String>,
        /// One slot's registrations.
        #[arg(long)]
        slot_id: Option<i64>,
        /// `confirmed`, `cancelled`, `attended` or `no_show`.
        #[arg(long)]
        status: Option<String>,
        /// `joined` (opened their join link inside the window) or `not_joined`.
        #[arg(long)]
        attendance: Option<String>,
        /// Registered at or after this instant (RFC 3339).
        #[arg(long)]
        created_from: Option<String>,
        /// Registered before this instant (RFC 3339).
        #[arg(long)]
        created_before: Option<String>,
        /// The `utm_source` the registrant arrived with.
        #[arg(long)]
        utm_source: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token and print it; only its hash is stored.
    Create {
        /// What the token is for, to recognise it later.
        #[arg(long, default_value = "created from the command line")]
        label: String,
        /// `admin` (everything under /api/v1/admin), `editor` (articles) or
        /// `advisor` (one advisor's queue, with --advisor-id).
        #[arg(long, default_value = "admin", value_parser = ["admin", "editor", "advisor"])]
        role: String,
        /// The advisor an advisor token belongs to.
        #[arg(long)]
        advisor_id: Option<i64>,
        /// Days until it expires; 0 for never.
        #[arg(long, default_value_t = NewApiToken::DEFAULT_DAYS,
              value_parser = clap::value_parser!(i64).range(0..=NewApiToken::MAX_DAYS))]
        expires_in_days: i64,
    },
    /// List every token (never its secret): id, role, label, expiry, last use.
    List,
    /// Revoke a token at once, by the id `list` shows.
    Revoke { id: i64 },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref(), &ProcessEnvironment)?;
    if let Some(dir) = cli.data_dir {
        config.data_dir = dir;
    }
    init_tracing(config.log_format);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;

    match cli.command {
        Command::Serve { bind, demo } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            serve(config, demo).await
        }
        Command::Worker { metrics_bind } => {
            let store = database::open(&config.database_url(), Migrations::Apply).await?;
            let worker = worker(&config, store).await?;
            if let Some(address) = metrics_bind {
                let listener = TcpListener::bind(&address)
                    .await
                    .with_context(|| format!("listening on {address} for metrics"))?;
                let _ = turnout_http::telemetry::prometheus();
                tokio::spawn(turnout_http::telemetry::serve_metrics(listener, shutdown_signal()));
                tracing::info!(%address, "metrics at /metrics");
            }
            tracing::info!("outbox worker started");
            worker.run(shutdown_signal()).await;
            Ok(())
        }
        Command::Migrate => {
            database::open(&config.database_url(), Migrations::Apply).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Token { command },
        } => {
            let store = database::open(&config.database_url(), Migrations::Apply).await?;
            let link_key = turnout_store::link_key(store.as_ref()).await?;
            let turnout = Turnout::new(store, uploads(&config)?, link_key, Arc::new(NoCaches));
            tokens(&turnout, command).await
        }
        Command::Export { command } => {
            let store = database::open(&config.database_url(), Migrations::Apply).await?;
            let link_key = turnout_store::link_key(store.as_ref()).await?;
            let turnout = Turnout::new(store, uploads(&config)?, link_key, Arc::new(NoCaches));
            export(&turnout, command).await
        }
    }
}

/// `turnout export …`: CSV on stdout, a page of rows at a time.
async fn export(turnout: &Turnout, command: ExportCommand) -> anyhow::Result<()> {
    use std::io::{IsTerminal, Write};

    use futures::TryStreamExt;
    use turnout_app::exports::{RegistrantCriteria, csv_header, csv_rows};

    let ExportCommand::Registrations {
        webinar,
        slot_id,
        status,
        attendance,
        created_from,
        created_before,
        utm_source,
    } = command;
    let criteria = RegistrantCriteria {
        webinar,
        slot_id,
        status,
        attendance,
        created_from,
        created_before,
        utm_source,
        cursor: None,
        limit: None,
    };
    let filter = criteria.filter().map_err(|errors| {
        let named: Vec<String> = errors
            .errors()
            .iter()
            .map(|error| format!("--{}: {}", error.field.replace('_', "-"), error.message))
            .collect();
        anyhow::anyhow!("{}", named.join("; "))
    })?;
    let progress = if std::io::stderr().is_terminal() {
        let total = turnout.store().count_registrants(&filter).await?;
        let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or_default());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} registrations ({per_sec}, {eta} left)")
                .expect("a valid template"),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    out.write_all(&csv_header())?;
    let mut pages = std::pin::pin!(turnout.registrant_pages(filter));
    let mut written = 0u64;
    while let Some(page) = pages.try_next().await? {
        out.write_all(&csv_rows(&page))?;
        written += page.len() as u64;
        progress.set_position(written);
    }
    out.flush()?;
    progress.finish_and_clear();
    tracing::info!(registrations = written, "exported");
    Ok(())
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let store = database::open(&config.database_url(), Migrations::Apply).await?;
    tracing::info!(backend = store.backend().as_str(), "database ready");
    if demo {
        let loaded = turnout::demo::load(store.as_ref(), Timestamp::now()).await?;
        tracing::info!(
            webinars = loaded.webinars_created,
            slots = loaded.slots_created,
            advisors = loaded.advisors_created,
            articles = loaded.articles_created,
            "demo data loaded"
        );
    }
    let settings = Settings {
        public_url: config.public_url(),
        admin_token: config
            .admin_token
            .as_ref()
            .map(|token| TokenHash::of(token.expose_secret())),
        privacy_policy: PrivacyPolicy::new(&config.privacy_policy_version, PRIVACY_POLICY),
        slot_cache_ttl: config.slot_cache_ttl,
        join_opens_before: Duration::from_secs(60 * u64::from(config.join_opens_minutes)),
        waitlist_offer_hold: config.waitlist_offer_hold(),
        social_proof_min: config.social_proof_min,
        webhook_policy: webhook_policy(&config)?,
        link_key: turnout_store::link_key(store.as_ref()).await?,
        cors_origins: AllowedOrigins::new(&config.cors_origins)
            .map_err(|error| anyhow::anyhow!("cors_origins: {error}"))?,
        limits: config.limits.http(),
        bots: config.limits.bots(&config.captcha)?,
        trusted_proxies: TrustedProxies::parse(&config.trusted_proxies)
            .map_err(|error| anyhow::anyhow!("trusted_proxies: {error}"))?,
        frame_ancestors: config.frame_ancestors.clone(),
        transport: config.http.limits(),
        metrics_token: config
            .metrics_token
            .as_ref()
            .map(|token| TokenHash::of(token.expose_secret())),
        brand: config.site.brand(&config.email.site_name)?,
        whatsapp: WhatsAppSide {
            offered: config.whatsapp.settings().is_some(),
            sms: config.sms.settings().is_some(),
            app_secret: config.whatsapp.app_secret.clone(),
            verify_token: config.whatsapp.verify_token.clone(),
        },
    };
    let listener = TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    tracing::info!(
        address = %listener.local_addr()?,
        docs = format!("{}/docs", settings.public_url),
        "serving"
    );
    let uploads = uploads(&config)?;
    let worker = match config.worker.in_serve {
        true => Some(worker(&config, Arc::clone(&store)).await?),
        false => None,
    };
    let application = Application::build(Parts {
        store,
        uploads,
        settings,
        listener,
        worker,
    });
    application.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Where résumés go: the configured bucket, or `uploads` in the data folder.
fn uploads(config: &Config) -> anyhow::Result<Arc<dyn uploads::ObjectStore>> {
    match &config.s3.bucket {
        Some(bucket) => {
            let s3 = S3Settings {
                bucket: bucket.clone(),
                endpoint: config.s3.endpoint.clone(),
                region: config.s3.region.clone(),
                access_key_id: config.s3.access_key_id.clone(),
                secret_access_key: config
                    .s3
                    .secret_access_key
                    .as_ref()
                    .map(|s| s.expose_secret().to_owned()),
            };
            tracing::info!(bucket, "résumés go to an S3-compatible bucket");
            uploads::s3(&s3).context("configuring the S3 bucket")
        }
        None => {
            let dir = config.data_dir.join("uploads");
            uploads::local(&dir).with_context(|| format!("opening {} for uploads", dir.display()))
        }
    }
}

/// `turnout admin token …`.
async fn tokens(turnout: &Turnout, command: TokenCommand) -> anyhow::Result<()> {
    let store = turnout.store();
    match command {
        TokenCommand::Create {
            label,
            role,
            advisor_id,
            expires_in_days,
        } => {
            let role = ApiTokenRole::parse(&role).context("the role")?;
            if (role == ApiTokenRole::Advisor) != advisor_id.is_some() {
                anyhow::bail!("--advisor-id goes with --role advisor, and only with it");
            }
            let (_, secret) = turnout
                .issue_token(role, advisor_id, &label, expires_in_days)
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("{}", secret.expose());
        }
        TokenCommand::List => {
            let when = |at: Option<Timestamp>| at.map_or_else(|| "-".to_owned(), |at| at.to_string());
            println!("id\trole\tadvisor\tlabel\tcreated\texpires\trevoked\tlast used");
            for token in store.list_api_tokens().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.role.as_str(),
                    token.advisor_id.map_or_else(|| "-".to_owned(), |id| id.to_string()),
                    token.label,
                    token.created_at,
                    when(token.expires_at),
                    when(token.revoked_at),
                    when(token.last_used_at),
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let revoked = turnout.revoke_token(id).await.context("revoking the token")?;
            println!("revoked token {} ({})", revoked.id, revoked.label);
        }
    }
    Ok(())
}

fn webhook_policy(config: &Config) -> anyhow::Result<Arc<AddressPolicy>> {
    AddressPolicy::new(&config.webhooks.allowed_networks)
        .map(Arc::new)
        .map_err(|error| anyhow::anyhow!("webhooks.allowed_networks: {error}"))
}

async fn worker(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Worker> {
    let webhooks = WebhookSender::new(
        webhook_policy(config)?,
        Duration::from_millis(config.webhooks.timeout_ms),
    )
    .context("building the webhook client")?;
    let transport = match &config.email.smtp_url {
        Some(url) => EmailTransport::Smtp(url.clone()),
        None => {
            let dir = config.data_dir.join("mail");
            tracing::info!(folder = %dir.display(), "emails are written as .eml files (set TURNOUT_SMTP_URL to send them)");
            EmailTransport::Files(dir)
        }
    };
    let links = Links {
        public_url: config.public_url(),
        site_name: config.email.site_name.clone(),
        link_key: turnout_store::link_key(store.as_ref()).await?,
    };
    let templates = Arc::new(Templates::new(config.email.templates_dir.clone()));
    let sms = match config.sms.settings() {
        Some(settings) => {
            let host = url::Url::parse(&settings.url)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned));
            tracing::info!(
                provider = host.as_deref().unwrap_or("?"),
                "SMS reminders go through the configured provider"
            );
            let sender = SmsSender::new(settings, Arc::clone(&templates), links.clone());
            Some(sender.map_err(|error| anyhow::anyhow!("sms: {error}"))?)
        }
        None => None,
    };
    let whatsapp = match config.whatsapp.settings() {
        Some(settings) => {
            tracing::info!(
                phone_number_id = %settings.phone_number_id,
                "confirmations and reminders go by WhatsApp to those who agreed"
            );
            let sender = WhatsAppSender::new(settings, links.clone());
            Some(sender.map_err(|error| anyhow::anyhow!("whatsapp: {error}"))?)
        }
        None => None,
    };
    let email = Mailer::new(&transport, &config.email.from, templates, links)
        .map_err(|error| anyhow::anyhow!("email: {error}"))?;
    let channels = Channels {
        webhooks,
        email,
        sms,
        whatsapp,
    };
    Ok(Worker::new(store, channels, config.worker_settings()))
}

/// The privacy-policy text whose hash every consent records.
const PRIVACY_POLICY: &str = include_str!("../privacy-policy.md");

/// Resolves on SIGTERM or SIGINT; in-flight requests then finish.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Logs go to stderr, so that what a command prints on stdout (a token, a
/// CSV export) is that and nothing else.
fn init_tracing(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
}
