//! Which addresses a webhook may reach. A URL that resolves to a loopback,
//! private, link-local or otherwise internal address is refused unless the
//! address is allowlisted: otherwise anyone with an admin token could make
//! the server call into its own network. The check runs when an endpoint is
//! saved and again at every connection, through the HTTP client's resolver,
//! so a name that later resolves elsewhere (DNS rebinding) is still caught.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The allowlist: networks a webhook may reach although they are internal.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

impl AddressPolicy {
    /// Parses entries such as `127.0.0.1` or `10.1.0.0/16`.
    pub fn new(entries: &[String]) -> Result<Self, String> {
        let allowed = entries
            .iter()
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not an IP address or network"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// Checks a URL an admin gives: http(s), a host, and every address the
    /// host resolves to permitted.
    pub async fn check_url(&self, text: &str) -> Result<Url, String> {
        let url = Url::parse(text).map_err(|error| format!("Not a URL: {error}"))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("Must be an http or https URL".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("Must not carry credentials".into());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<IpAddr> = match url.host() {
            None => return Err("Must name a host".into()),
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| format!("The host {name} does not resolve"))?
                .map(|address| address.ip())
                .collect(),
        };
        match addresses.iter().find(|ip| !self.permits(**ip)) {
            Some(ip) => Err(format!(
                "Resolves to {ip}, an internal address; allowlist it in webhooks.allowed_networks to use it"
            )),
            None => Ok(url),
        }
    }
}

/// Loopback, private, link-local, shared (CGNAT), benchmarking, reserved,
/// documentation, unspecified and multicast addresses; IPv6 unique-local
/// ones; and IPv4 addresses carried inside IPv6 (mapped, compatible, NAT64,
/// 6to4), judged as the IPv4 address they carry. Teredo is refused whole.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || (a == 192 && b == 0 && c == 0)
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let embedded = |high: u16, low: u16| {
                let [h1, h2] = high.to_be_bytes();
                let [l1, l2] = low.to_be_bytes();
                std::net::Ipv4Addr::new(h1, h2, l1, l2)
            };
            if let Some(v4) = v6.to_ipv4() {
                return is_internal(IpAddr::V4(v4));
            }
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_internal(IpAddr::V4(embedded(segments[6], segments[7])));
            }
            if segments[0] == 0x2002 {
                return is_internal(IpAddr::V4(embedded(segments[1], segments[2])));
            }
            let first = segments[0];
            v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first == 0x2001 && segments[1] == 0)
        }
    }
}

/// The webhook client's resolver: the system's, keeping only permitted
/// addresses.
pub(crate) struct GuardedResolver {
    pub(crate) policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.into_iter().filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowlisted() {
        let none = AddressPolicy::default();
        for internal in [
            "127.0.0.1",
            "10.2.3.4",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "2001:0:4136:e378::1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.8",
        ] {
            assert!(!none.permits(internal.parse().unwrap()), "{internal}");
        }
        assert!(none.permits("93.184.216.34".parse().unwrap()));
        assert!(none.permits("2606:2800:220:1::1".parse().unwrap()));
        assert!(
            none.permits("64:ff9b::5db8:d822".parse().unwrap()),
            "NAT64 of a public address"
        );

        let some = AddressPolicy::new(&["127.0.0.1".into(), "10.1.0.0/16".into()]).unwrap();
        assert!(some.permits("127.0.0.1".parse().unwrap()));
        assert!(some.permits("10.1.9.9".parse().unwrap()));
        assert!(!some.permits("10.2.0.1".parse().unwrap()));
        assert!(AddressPolicy::new(&["localhost".into()]).is_err());
    }

    #[tokio::test]
    async fn urls_are_checked_before_they_are_saved() {
        let policy = AddressPolicy::new(&["127.0.0.1".into()]).unwrap();
        assert!(policy.check_url("http://127.0.0.1:9/hook").await.is_ok());
        assert!(policy.check_url("http://[::1]:9/hook").await.is_err());
        assert!(policy.check_url("http://169.254.169.254/latest").await.is_err());
        assert!(policy.check_url("ftp://example.com/").await.is_err());
        assert!(policy.check_url("https://user:pw@example.com/").await.is_err());
        assert!(policy.check_url("not a url").await.is_err());
    }
}
