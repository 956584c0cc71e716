//! Abuse limits on the public writes: per client address, per email
//! address, per registration. Each limit is a GCRA budget ("n per window",
//! refilling steadily) kept by a [`Limiter`]; the in-memory one uses
//! governor, and a shared one (Redis) can take its place behind the same
//! trait. Answers carry `RateLimit-Policy` and `RateLimit` (the IETF
//! httpapi draft); a refusal is a 429 problem with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::client::ClientIp;
use crate::error::ApiError;

/// The limits as configured; 0 turns one off, `enabled: false` all of them.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    pub enabled: bool,
    /// Public writes (leads, registrations, callbacks, uploads, changes to a
    /// registration) per client address per minute.
    pub writes_per_ip_per_minute: u32,
    /// Leads and registrations naming one email address, per hour.
    pub signups_per_email_per_hour: u32,
    /// Cancels and reschedules of one registration per day.
    pub changes_per_registration_per_day: u32,
    /// Résumé uploads per client address per hour.
    pub uploads_per_ip_per_hour: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            writes_per_ip_per_minute: 30,
            signups_per_email_per_hour: 5,
            changes_per_registration_per_day: 5,
            uploads_per_ip_per_hour: 10,
        }
    }
}

impl LimitSettings {
    /// No limit at all: load tests on a trusted network.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
}

/// One budget: `quota` requests per `window`, named in the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Policy {
    pub name: &'static str,
    pub quota: u32,
    pub window: Duration,
}

impl Policy {
    fn header(&self) -> String {
        format!("\"{}\";q={};w={}", self.name, self.quota, self.window.as_secs())
    }

    /// How long one spent request takes to come back.
    fn refill(&self) -> Duration {
        self.window / self.quota.max(1)
    }
}

/// What a limiter said about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let through; `remaining` more fit before the budget is empty.
    Allowed { remaining: u32 },
    /// Over budget: the next request fits after `retry_after`.
    Refused { retry_after: Duration },
}

/// Keeps budgets per key. Implementations must be cheap: every public
/// write asks at least once.
pub trait Limiter: Send + Sync + 'static {
    /// Spends one request of `key`'s budget under `policy`.
    fn hit(&self, policy: &Policy, key: &str) -> Verdict;
    /// Forgets keys whose budget has refilled, and says how many are kept.
    fn sweep(&self) -> usize;
}

type Keyed = RateLimiter<String, DashMapStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Budgets in this process's memory (governor). At most `max_keys` keys
/// per policy are tracked: past that, new keys are refused until a sweep
/// frees room, so client input can never grow memory without bound.
pub struct InMemoryLimiter {
    limiters: Vec<(Policy, Keyed)>,
    clock: DefaultClock,
    max_keys: usize,
}

/// Room for this many distinct keys per policy (a few MiB each).
pub const MAX_KEYS: usize = 100_000;

impl InMemoryLimiter {
    pub fn new(policies: &[Policy], max_keys: usize) -> Self {
        let clock = DefaultClock::default();
        let limiters = policies
            .iter()
            .filter_map(|policy| {
                let quota = NonZeroU32::new(policy.quota)?;
                let quota = Quota::with_period(policy.refill())?.allow_burst(quota);
                let limiter = RateLimiter::dashmap_with_clock(quota, clock.clone())
                    .with_middleware::<StateInformationMiddleware>();
                Some((*policy, limiter))
            })
            .collect();
        Self {
            limiters,
            clock,
            max_keys,
        }
    }
}

impl Limiter for InMemoryLimiter {
    fn hit(&self, policy: &Policy, key: &str) -> Verdict {
        let Some((_, limiter)) = self.limiters.iter().find(|(known, _)| known == policy) else {
            return Verdict::Allowed { remaining: u32::MAX };
        };
        if limiter.len() >= self.max_keys {
            limiter.retain_recent();
            if limiter.len() >= self.max_keys {
                return Verdict::Refused {
                    retry_after: policy.refill(),
                };
            }
        }
        match limiter.check_key(&key.to_owned()) {
            Ok(snapshot) => Verdict::Allowed {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Verdict::Refused {
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        }
    }

    fn sweep(&self) -> usize {
        self.limiters
            .iter()
            .map(|(_, limiter)| {
                limiter.retain_recent();
                limiter.shrink_to_fit();
                limiter.len()
            })
            .sum()
    }
}

/// The limits of one app: its policies and the limiter that keeps them.
pub struct Limits {
    pub settings: LimitSettings,
    writes_per_ip: Option<Policy>,
    signups_per_email: Option<Policy>,
    changes_per_registration: Option<Policy>,
    uploads_per_ip: Option<Policy>,
    limiter: Arc<dyn Limiter>,
}

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3_600);
const DAY: Duration = Duration::from_secs(86_400);

impl Limits {
    /// The configured policies, kept in this process's memory.
    pub fn in_memory(settings: LimitSettings) -> Self {
        let policy = |name, quota, window| (settings.enabled && quota > 0).then_some(Policy { name, quota, window });
        let writes_per_ip = policy("writes-per-ip", settings.writes_per_ip_per_minute, MINUTE);
        let signups_per_email = policy("signups-per-email", settings.signups_per_email_per_hour, HOUR);
        let changes_per_registration = policy(
            "changes-per-registration",
            settings.changes_per_registration_per_day,
            DAY,
        );
        let uploads_per_ip = policy("uploads-per-ip", settings.uploads_per_ip_per_hour, HOUR);
        let policies: Vec<Policy> = [
            writes_per_ip,
            signups_per_email,
            changes_per_registration,
            uploads_per_ip,
        ]
        .into_iter()
        .flatten()
        .collect();
        Self {
            settings,
            writes_per_ip,
            signups_per_email,
            changes_per_registration,
            uploads_per_ip,
            limiter: Arc::new(InMemoryLimiter::new(&policies, MAX_KEYS)),
        }
    }

    fn check(&self, policy: Option<Policy>, key: &str) -> Result<Option<(Policy, u32)>, ApiError> {
        let Some(policy) = policy else { return Ok(None) };
        match self.limiter.hit(&policy, key) {
            Verdict::Allowed { remaining } => Ok(Some((policy, remaining))),
            Verdict::Refused { retry_after } => {
                metrics::counter!("turnout_rate_limited_total", "policy" => policy.name).increment(1);
                Err(ApiError::RateLimited {
                    policy: policy.name,
                    policy_header: policy.header(),
                    retry_after,
                })
            }
        }
    }

    /// Spends one of the client address's public writes; the policy and
    /// what is left of it, for the answer's headers, unless that limit is off.
    pub(crate) fn write(&self, client: ClientIp) -> Result<Option<(Policy, u32)>, ApiError> {
        self.check(self.writes_per_ip, &client.limit_key())
    }

    /// Spends one of the email address's sign-ups (a lead, or a
    /// registration with its lead inline).
    pub fn signup(&self, normalised_email: &str) -> Result<(), ApiError> {
        self.check(self.signups_per_email, normalised_email).map(drop)
    }

    /// Whether changes to a registration are limited (and so its manage
    /// token must be checked before one is spent).
    pub fn limits_changes(&self) -> bool {
        self.changes_per_registration.is_some()
    }

    /// Spends one of the registration's changes for the day. Only after its
    /// manage token was checked, so nobody else can use up its owner's.
    pub fn change(&self, registration_id: uuid::Uuid) -> Result<(), ApiError> {
        self.check(self.changes_per_registration, &registration_id.to_string())
            .map(drop)
    }

    /// Spends one of the client's uploads for the hour.
    pub fn upload(&self, client: Option<ClientIp>) -> Result<(), ApiError> {
        match client {
            Some(client) => self.check(self.uploads_per_ip, &client.limit_key()).map(drop),
            None => Ok(()),
        }
    }

    /// Starts the task that forgets refilled budgets every `every`, for as
    /// long as these limits are in use.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration) {
        let limits: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(limits) = limits.upgrade() else { return };
                let kept = limits.limiter.sweep();
                metrics::gauge!("turnout_rate_limit_keys").set(kept as f64);
            }
        });
    }
}

/// The headers of an answer that spent from `policy`'s budget.
pub(crate) fn rate_limit_headers(headers: &mut HeaderMap, policy: &Policy, remaining: u32) {
    let spent = policy.quota.saturating_sub(remaining);
    let reset = (policy.refill() * spent).as_secs_f64().ceil() as u64;
    let name = policy.name;
    for (header, value) in [
        ("ratelimit-policy", policy.header()),
        ("ratelimit", format!("\"{name}\";r={remaining};t={reset}")),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(header), value);
        }
    }
}

/// Whether a request is a public write: anything that is not a read and
/// not under the authenticated admin and advisor APIs, nor a provider's
/// signed callback (`/api/v1/hooks/`: one provider's addresses send them
/// all). New public routes are limited without anyone having to remember
/// to.
pub(crate) fn is_public_write(request: &Request) -> bool {
    is_public_write_to(request.method(), request.uri().path())
}

/// The same rule by method and path, for the OpenAPI document, which
/// declares the 429 on exactly the operations the middleware limits.
pub(crate) fn is_public_write_to(method: &Method, path: &str) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && !path.starts_with("/api/v1/admin/")
        && !path.starts_with("/api/v1/advisor/")
        && !path.starts_with("/api/v1/hooks/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(quota: u32, window: Duration) -> Policy {
        Policy {
            name: "test",
            quota,
            window,
        }
    }

    #[test]
    fn a_budget_lets_its_quota_through_then_says_when_to_retry() {
        let policy = policy(3, HOUR);
        let limiter = InMemoryLimiter::new(&[policy], 10);
        for remaining in [2, 1, 0] {
            assert_eq!(limiter.hit(&policy, "a"), Verdict::Allowed { remaining });
        }
        let Verdict::Refused { retry_after } = limiter.hit(&policy, "a") else {
            panic!("the fourth is refused")
        };
        assert!(retry_after > Duration::from_secs(19 * 60) && retry_after <= Duration::from_secs(20 * 60));
        assert_eq!(
            limiter.hit(&policy, "b"),
            Verdict::Allowed { remaining: 2 },
            "keys are separate"
        );
    }

    #[test]
    fn the_number_of_keys_is_bounded_and_refilled_ones_are_forgotten() {
        let policy = policy(1, Duration::from_millis(20));
        let limiter = InMemoryLimiter::new(&[policy], 3);
        for key in ["a", "b", "c"] {
            assert!(matches!(limiter.hit(&policy, key), Verdict::Allowed { .. }));
        }
        assert!(
            matches!(limiter.hit(&policy, "d"), Verdict::Refused { .. }),
            "a fourth key waits for room"
        );
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(limiter.sweep(), 0, "refilled budgets are dropped");
        assert!(matches!(limiter.hit(&policy, "d"), Verdict::Allowed { .. }));
    }

    #[test]
    fn zero_or_disabled_turns_a_limit_off() {
        let limits = Limits::in_memory(LimitSettings {
            signups_per_email_per_hour: 0,
            ..LimitSettings::default()
        });
        for _ in 0..100 {
            assert!(limits.signup("asha@example.com").is_ok());
        }
        let off = Limits::in_memory(LimitSettings::off());
        for _ in 0..100 {
            assert!(off.change(uuid::Uuid::nil()).is_ok());
        }
    }

    #[test]
    fn policies_are_named_in_the_drafts_syntax() {
        let mut headers = HeaderMap::new();
        rate_limit_headers(&mut headers, &policy(30, MINUTE), 29);
        assert_eq!(headers["ratelimit-policy"], "\"test\";q=30;w=60");
        assert_eq!(headers["ratelimit"], "\"test\";r=29;t=2");
    }
}
