//! Bearer secrets (manage tokens, lead tokens, API tokens). Only their
//! SHA-256 is ever stored: they carry 256 random bits, so a fast hash is
//! enough and a slow password hash would only cost latency.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A freshly generated secret, shown to its owner once.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a token presented by a client.
    pub fn from_presented(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

/// The installation's key for tokens that must be made again later: a
/// registration's manage token is the HMAC of its id, so the worker can put
/// the same token in the confirmation email that the API handed out,
/// while the database still stores only its hash.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl LinkKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// The stored form: URL-safe base64.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    pub fn decode(text: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| "the link key is not base64".to_owned())?;
        let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| "the link key is not 32 bytes".to_owned())?;
        Ok(Self(key))
    }

    /// The manage token of one registration: it opens, cancels and moves it.
    pub fn manage_token(&self, registration: Uuid) -> SecretToken {
        self.token(b"turnout manage token\0", registration)
    }

    /// The calendar token of one registration: it opens the `.ics` invite
    /// and nothing else, so a calendar app's subscription URL, which is
    /// stored and shared far more freely than an email, cannot cancel.
    pub fn calendar_token(&self, registration: Uuid) -> SecretToken {
        self.token(b"turnout calendar token\0", registration)
    }

    /// Whether `presented` is the calendar token of `registration`,
    /// compared in constant time.
    pub fn is_calendar_token(&self, registration: Uuid, presented: &str) -> bool {
        let Ok(presented) = URL_SAFE_NO_PAD.decode(presented) else {
            return false;
        };
        self.mac(b"turnout calendar token\0", registration)
            .verify_slice(&presented)
            .is_ok()
    }

    /// The join token of one registration, the last segment of its
    /// personal join link: the registration's id and a MAC of it, so the
    /// link names its registration without anything stored, and cannot be
    /// made for another.
    pub fn join_token(&self, registration: Uuid) -> String {
        let mac = self.mac(JOIN_PURPOSE, registration).finalize().into_bytes();
        let mut bytes = [0u8; 16 + JOIN_MAC_BYTES];
        bytes[..16].copy_from_slice(registration.as_bytes());
        bytes[16..].copy_from_slice(&mac[..JOIN_MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The registration a genuine join token names; `None` for anything
    /// else, compared in constant time.
    pub fn join_registration(&self, token: &str) -> Option<Uuid> {
        if token.len() != JOIN_TOKEN_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let (id, mac) = bytes.split_at_checked(16)?;
        let registration = Uuid::from_slice(id).ok()?;
        self.mac(JOIN_PURPOSE, registration).verify_truncated_left(mac).ok()?;
        Some(registration)
    }

    /// The links a registrant is handed, under `public_url`: the manage
    /// page, the personal join link and the calendar invite. Every message
    /// and answer builds them here, so they cannot drift apart.
    pub fn manage_link(&self, public_url: &str, registration: Uuid) -> String {
        format!(
            "{public_url}/registrations/{registration}?token={}",
            self.manage_token(registration).expose()
        )
    }

    pub fn join_link(&self, public_url: &str, registration: Uuid) -> String {
        format!("{public_url}/join/{}", self.join_token(registration))
    }

    pub fn calendar_link(&self, public_url: &str, registration: Uuid) -> String {
        format!(
            "{public_url}/api/v1/registrations/{registration}/calendar.ics?token={}",
            self.calendar_token(registration).expose()
        )
    }

    /// The token of a place on a waiting list: it shows the place, leaves
    /// the list and claims an offered seat. Like a manage token, made again
    /// from the place's id, so the offer email carries the one handed out.
    pub fn waitlist_token(&self, entry: Uuid) -> SecretToken {
        self.token(b"turnout waitlist token\0", entry)
    }

    /// Whether `presented` is the token of waiting-list place `entry`,
    /// compared in constant time.
    pub fn is_waitlist_token(&self, entry: Uuid, presented: &str) -> bool {
        let Ok(presented) = URL_SAFE_NO_PAD.decode(presented) else {
            return false;
        };
        self.mac(b"turnout waitlist token\0", entry)
            .verify_slice(&presented)
            .is_ok()
    }

    /// The page of a place on a waiting list: its status, the offer to
    /// claim, a way to leave.
    pub fn waitlist_link(&self, public_url: &str, entry: Uuid) -> String {
        format!(
            "{public_url}/waitlist/{entry}?token={}",
            self.waitlist_token(entry).expose()
        )
    }

    /// A form token: when the form was handed out, signed, so a
    /// submission can show it was filled in over some seconds rather than
    /// posted by a script at once. `<unix milliseconds>.<signature>`.
    pub fn form_token(&self, issued_at: jiff::Timestamp) -> String {
        let issued = issued_at.as_millisecond();
        let signature = URL_SAFE_NO_PAD.encode(self.form_mac(issued).finalize().into_bytes());
        format!("{issued}.{signature}")
    }

    /// When a genuine form token was handed out; `None` for anything else.
    pub fn form_token_issued(&self, token: &str) -> Option<jiff::Timestamp> {
        let (issued, signature) = token.split_once('.')?;
        let issued: i64 = issued.parse().ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.form_mac(issued).verify_slice(&signature).ok()?;
        jiff::Timestamp::from_millisecond(issued).ok()
    }

    fn form_mac(&self, issued: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes 32-byte keys");
        mac.update(b"turnout form token\0");
        mac.update(&issued.to_be_bytes());
        mac
    }

    fn mac(&self, purpose: &[u8], registration: Uuid) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes 32-byte keys");
        mac.update(purpose);
        mac.update(registration.as_bytes());
        mac
    }

    fn token(&self, purpose: &[u8], registration: Uuid) -> SecretToken {
        SecretToken(URL_SAFE_NO_PAD.encode(self.mac(purpose, registration).finalize().into_bytes()))
    }
}

const JOIN_PURPOSE: &[u8] = b"turnout join token\0";
/// 128 bits of MAC: enough that guessing one is hopeless, short enough for
/// a link people may read out.
const JOIN_MAC_BYTES: usize = 16;
/// Base64 of the id and the MAC, unpadded.
const JOIN_TOKEN_CHARS: usize = (16 + JOIN_MAC_BYTES) * 4 / 3 + 1;

impl fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkKey(<redacted>)")
    }
}

/// The stored form of a token: lowercase hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        let digest = Sha256::digest(token.as_bytes());
        Self(hex(&digest))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lowercase hex, used for token hashes and content digests.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// Lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_url_safe_and_hash_stably() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert!(
            a.expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.hash(), SecretToken::from_presented(a.expose()).hash());
        assert_eq!(a.hash().as_str().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn a_join_token_names_its_registration_and_no_other() {
        let key = LinkKey::generate();
        let registration = Uuid::now_v7();
        let token = key.join_token(registration);
        assert_eq!(token.len(), 43);
        assert_eq!(key.join_registration(&token), Some(registration));
        // Another key, another registration's id with this MAC, a changed
        // character, a manage token: none opens anything.
        assert_eq!(LinkKey::generate().join_registration(&token), None);
        let other = URL_SAFE_NO_PAD.decode(key.join_token(Uuid::now_v7())).unwrap();
        let mut forged = URL_SAFE_NO_PAD.decode(&token).unwrap();
        forged[..16].copy_from_slice(&other[..16]);
        assert_eq!(key.join_registration(&URL_SAFE_NO_PAD.encode(&forged)), None);
        let mut changed = token.clone().into_bytes();
        changed[42] = if changed[42] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.join_registration(std::str::from_utf8(&changed).unwrap()), None);
        assert_eq!(key.join_registration(key.manage_token(registration).expose()), None);
        assert_eq!(key.join_registration(""), None);
    }

    #[test]
    fn manage_tokens_are_stable_per_registration_and_key() {
        let key = LinkKey::generate();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(key.manage_token(a), key.manage_token(a));
        assert_ne!(key.manage_token(a), key.manage_token(b));
        assert_ne!(LinkKey::generate().manage_token(a), key.manage_token(a));
        assert_eq!(key.manage_token(a).expose().len(), 43);
        let again = LinkKey::decode(&key.encode()).unwrap();
        assert_eq!(again.manage_token(a), key.manage_token(a));
        assert!(LinkKey::decode("short").is_err());
    }

    #[test]
    fn a_form_token_tells_when_it_was_issued_and_cannot_be_forged() {
        let key = LinkKey::generate();
        let at = jiff::Timestamp::from_millisecond(1_800_000_000_123).unwrap();
        let token = key.form_token(at);
        assert_eq!(key.form_token_issued(&token), Some(at));
        let (_, signature) = token.split_once('.').unwrap();
        assert_eq!(
            key.form_token_issued(&format!("1700000000000.{signature}")),
            None,
            "an older time"
        );
        assert_eq!(LinkKey::generate().form_token_issued(&token), None, "another key");
        assert_eq!(key.form_token_issued("garbage"), None);
    }

    #[test]
    fn a_calendar_token_opens_only_its_own_invite_and_is_no_manage_token() {
        let key = LinkKey::generate();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let calendar = key.calendar_token(a);
        assert!(key.is_calendar_token(a, calendar.expose()));
        assert!(!key.is_calendar_token(b, calendar.expose()));
        assert!(!key.is_calendar_token(a, key.manage_token(a).expose()));
        assert_ne!(calendar, key.manage_token(a));
        assert!(!key.is_calendar_token(a, "not base64 !"));
    }

    #[test]
    fn sha256_matches_the_published_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
