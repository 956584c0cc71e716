//! Who is on the other end: the client's IP address, read from the socket
//! or, when the socket is one of the `trusted_proxies`, from the
//! `X-Forwarded-For` / `Forwarded` chain those proxies appended. Limits and
//! the consent record both use this one answer.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use ipnet::IpNet;

/// The networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses CIDRs (`10.0.0.0/8`) or single addresses (`127.0.0.1`).
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry:?} is not an IP address or network"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&address))
    }

    /// The client behind `peer`: the last address in the forwarding chain
    /// that is not one of ours. A chain a client wrote itself can only add
    /// addresses to the left of what our proxy appended, so they are never
    /// reached while the proxy's own entry is untrusted.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut chain = forwarded_chain(headers);
        let mut client = peer;
        while let Some(hop) = chain.pop() {
            client = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        client
    }
}

/// Addresses from `Forwarded: for=` or else `X-Forwarded-For`, left to
/// right (client first). Anything unreadable ends the chain there: an
/// address we cannot parse is not believed.
fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    let entries: Vec<String> = if forwarded.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|entry| entry.trim().to_owned())
            .collect()
    } else {
        forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.eq_ignore_ascii_case("for")
                        .then(|| value.trim().trim_matches('"').to_owned())
                })
            })
            .collect()
    };
    let mut chain = Vec::with_capacity(entries.len());
    for entry in entries.iter().rev() {
        match parse_hop(entry) {
            Some(address) => chain.push(address),
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    if let Ok(address) = entry.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|inner| inner.parse().ok())
}

/// The client's address, in every request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The key a per-address limit counts under: the address itself for
    /// IPv4, its /64 for IPv6 (one subscriber is usually given a whole /64,
    /// so counting single addresses would let them rotate freely).
    pub fn limit_key(&self) -> String {
        match self.0 {
            IpAddr::V4(address) => address.to_string(),
            IpAddr::V6(address) => {
                let segments = address.segments();
                format!(
                    "{:x}:{:x}:{:x}:{:x}::/64",
                    segments[0], segments[1], segments[2], segments[3]
                )
            }
        }
    }
}

/// Resolves the client once per request and leaves it in the extensions,
/// where limits and the consent record find it.
pub(crate) fn resolve(proxies: &TrustedProxies, request: &mut Request) -> Option<ClientIp> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip())?;
    let client = ClientIp(proxies.client(peer, request.headers()));
    request.extensions_mut().insert(client);
    Some(client)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_ignored_from_an_untrusted_peer() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into()]).unwrap();
        let sent = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(proxies.client(ip("203.0.113.9"), &sent), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &sent),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_last_untrusted_hop_is_the_client_and_spoofed_entries_to_its_left_are_not() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "127.0.0.1".into()]).unwrap();
        let sent = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.1.1.1")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &sent), ip("203.0.113.7"));
        let forwarded = headers(&[("forwarded", "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &forwarded), ip("2001:db8::7"));
    }

    #[test]
    fn an_unreadable_hop_ends_the_chain() {
        let proxies = TrustedProxies::parse(&["127.0.0.1".into()]).unwrap();
        let sent = headers(&[("x-forwarded-for", "203.0.113.7, unknown")]);
        assert_eq!(proxies.client(ip("127.0.0.1"), &sent), ip("127.0.0.1"));
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(ClientIp(ip("2001:db8:1:2:3:4:5:6")).limit_key(), "2001:db8:1:2::/64");
        assert_eq!(ClientIp(ip("203.0.113.7")).limit_key(), "203.0.113.7");
    }

    #[test]
    fn bad_entries_are_named() {
        assert!(
            TrustedProxies::parse(&["not-an-ip".into()])
                .unwrap_err()
                .contains("not-an-ip")
        );
    }
}
