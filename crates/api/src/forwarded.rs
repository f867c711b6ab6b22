//! The client's address behind trusted proxies, from `X-Forwarded-For` or `Forwarded` (RFC 7239).
//!
//! Every line of the header is read, joined in order (RFC 9110 §5.3: several lines of a field are
//! one comma-separated list), and the list is walked from the right, the end the nearest proxy
//! wrote: addresses of trusted proxies are skipped, and the first address that is not one is the
//! client. A hop that is not an address (junk, `unknown`, an obfuscated `_name`, a `Forwarded`
//! element without `for=`) stops the walk: nothing to its left can be believed, so the answer is the
//! hop to its right, the nearest address a trusted proxy itself reported (the peer when the junk is
//! the last hop). When every hop is a trusted proxy the leftmost one is the client (a request from
//! inside the trusted networks).
//!
//! Hops may carry ports: `1.2.3.4:5678`, `[2001:db8::1]:443`, `[2001:db8::1]`, bare `2001:db8::1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// Which header the trusted proxies write. Only that one is read: a client behind a proxy that
/// appends to `X-Forwarded-For` can send any `Forwarded` it likes, and the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (load balancers, nginx, most proxies).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client;proto=https, for="[2001:db8::1]:443"` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// One hop of the list: an address, or something that is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Addr(IpAddr),
    NotAnAddress,
}

/// The client's address: `peer` unless it is in `trusted`, else the walk over `lines` (every line
/// of the header in order).
pub(crate) fn client_ip<'a>(
    peer: IpAddr,
    trusted: &[IpNet],
    header: ForwardedHeader,
    lines: impl IntoIterator<Item = &'a [u8]>,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut joined = String::new();
    for line in lines {
        // A line that is not text is junk at its place in the list.
        let text = std::str::from_utf8(line).unwrap_or("\u{0}");
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(text);
    }
    let hops = match header {
        ForwardedHeader::XForwardedFor => xff_hops(&joined),
        ForwardedHeader::Forwarded => forwarded_hops(&joined),
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Hop::NotAnAddress => return client,
            Hop::Addr(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    return ip;
                }
            }
        }
    }
    client
}

/// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, a dual-stack socket's peer) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// `X-Forwarded-For`: comma-separated nodes; empty elements (`a,,b`, a trailing comma) are skipped,
/// as RFC 9110 lists allow.
fn xff_hops(list: &str) -> Vec<Hop> {
    list.split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| node(h).map_or(Hop::NotAnAddress, |ip| Hop::Addr(canonical(ip))))
        .collect()
}

/// `Forwarded`: comma-separated elements of `;`-separated `name=value` pairs, values tokens or
/// quoted strings; each element's `for=` is its hop. An element without one, or with a malformed
/// pair, is not an address.
fn forwarded_hops(list: &str) -> Vec<Hop> {
    split_outside_quotes(list, ',')
        .into_iter()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|element| {
            let mut found = None;
            for pair in split_outside_quotes(element, ';') {
                let pair = pair.trim();
                if pair.is_empty() {
                    continue;
                }
                let Some((name, value)) = pair.split_once('=') else {
                    return Hop::NotAnAddress;
                };
                if !name.trim().eq_ignore_ascii_case("for") {
                    continue;
                }
                if found.is_some() {
                    return Hop::NotAnAddress; // two `for=` in one element
                }
                let Some(value) = unquote(value.trim()) else {
                    return Hop::NotAnAddress;
                };
                found = Some(node(&value));
            }
            match found {
                Some(Some(ip)) => Hop::Addr(canonical(ip)),
                _ => Hop::NotAnAddress,
            }
        })
        .collect()
}

/// Splits on `sep` where it is not inside a quoted string (`\` escapes within quotes).
fn split_outside_quotes(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

/// A token as it is, or a quoted string without its quotes and escapes; `None` when a quote is
/// not closed.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.contains('"')).then(|| value.to_string());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// A node: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`.
/// `unknown`, obfuscated identifiers (`_hidden`, ports like `:_p`) and anything else are `None`.
fn node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let ip = inside.parse::<Ipv6Addr>().ok()?;
        return (after.is_empty() || after.strip_prefix(':').is_some_and(is_port))
            .then_some(IpAddr::V6(ip));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let (host, port) = s.rsplit_once(':')?;
    let ip = host.parse::<Ipv4Addr>().ok()?;
    is_port(port).then_some(IpAddr::V4(ip))
}

fn is_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u16>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn trusted() -> Vec<IpNet> {
        vec![
            "10.0.0.0/8".parse().expect("net"),
            "fd00::/8".parse().expect("net"),
        ]
    }

    fn xff(peer: &str, lines: &[&str]) -> IpAddr {
        client_ip(
            ip(peer),
            &trusted(),
            ForwardedHeader::XForwardedFor,
            lines.iter().map(|l| l.as_bytes()),
        )
    }

    fn fwd(peer: &str, lines: &[&str]) -> IpAddr {
        client_ip(
            ip(peer),
            &trusted(),
            ForwardedHeader::Forwarded,
            lines.iter().map(|l| l.as_bytes()),
        )
    }

    #[test]
    fn only_trusted_peers_are_believed() {
        assert_eq!(xff("192.0.2.1", &["203.0.113.9"]), ip("192.0.2.1"));
        assert_eq!(xff("10.0.0.2", &[]), ip("10.0.0.2"));
        assert_eq!(
            xff("::ffff:10.0.0.2", &["203.0.113.9"]),
            ip("203.0.113.9"),
            "a v4-mapped peer is its v4 address"
        );
    }

    #[test]
    fn walks_from_the_right_skipping_trusted_proxies() {
        let chain = ["203.0.113.9, 198.51.100.7, 10.1.1.1"];
        assert_eq!(xff("10.0.0.2", &chain), ip("198.51.100.7"));
        assert_eq!(
            xff("10.0.0.2", &["10.0.0.9, 10.0.0.8"]),
            ip("10.0.0.9"),
            "every hop trusted: the leftmost is the client"
        );
    }

    #[test]
    fn every_line_counts_in_order() {
        // The client sent the first line; the trusted proxy appended the second.
        assert_eq!(
            xff("10.0.0.2", &["6.6.6.6", "198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            xff("10.0.0.2", &["6.6.6.6, 198.51.100.7", "10.0.0.3"]),
            ip("198.51.100.7")
        );
        assert_eq!(xff("10.0.0.2", &["198.51.100.7,", ""]), ip("198.51.100.7"));
    }

    #[test]
    fn ports_are_understood() {
        assert_eq!(xff("10.0.0.2", &["198.51.100.7:5678"]), ip("198.51.100.7"));
        assert_eq!(
            xff("10.0.0.2", &["[2001:db8::1]:443, 10.0.0.3:80"]),
            ip("2001:db8::1")
        );
        assert_eq!(xff("10.0.0.2", &["[2001:db8::1]"]), ip("2001:db8::1"));
        assert_eq!(xff("10.0.0.2", &["2001:db8::1"]), ip("2001:db8::1"));
        assert_eq!(
            xff("10.0.0.2", &["[fd00::5]:1, 203.0.113.1"]),
            ip("203.0.113.1")
        );
        assert_eq!(
            xff("10.0.0.2", &["1.2.3.4:99999"]),
            ip("10.0.0.2"),
            "not a port"
        );
    }

    #[test]
    fn junk_stops_the_walk_at_the_nearest_reported_address() {
        assert_eq!(xff("10.0.0.2", &["junk"]), ip("10.0.0.2"));
        assert_eq!(
            xff("10.0.0.2", &["6.6.6.6, junk, 10.0.0.7"]),
            ip("10.0.0.7"),
            "nothing left of junk is believed"
        );
        assert_eq!(
            xff("10.0.0.2", &["6.6.6.6, 198.51.100.7 junk"]),
            ip("10.0.0.2")
        );
        assert_eq!(xff("10.0.0.2", &["unknown"]), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_rfc_7239() {
        assert_eq!(
            fwd("10.0.0.2", &["for=198.51.100.7;proto=https;by=10.0.0.2"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            fwd("10.0.0.2", &[r#"for="[2001:db8:cafe::17]:4711""#]),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(
            fwd(
                "10.0.0.2",
                &["For=6.6.6.6", "FOR=\"198.51.100.7:80\", for=10.0.0.3"]
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            fwd("10.0.0.2", &["for=6.6.6.6, for=_hidden, for=10.0.0.7"]),
            ip("10.0.0.7"),
            "an obfuscated identifier stops the walk"
        );
        assert_eq!(fwd("10.0.0.2", &["for=unknown"]), ip("10.0.0.2"));
        assert_eq!(fwd("10.0.0.2", &["proto=https"]), ip("10.0.0.2"), "no for=");
        assert_eq!(
            fwd("10.0.0.2", &[r#"for="198.51.100.7;x,y";proto=http"#]),
            ip("10.0.0.2"),
            "quoted separators stay inside their value (which is then junk)"
        );
        assert_eq!(fwd("10.0.0.2", &[r#"for="198.51.100.7"#]), ip("10.0.0.2"));
        assert_eq!(
            fwd("10.0.0.2", &["for=198.51.100.7:_port"]),
            ip("10.0.0.2"),
            "an obfuscated port"
        );
    }

    #[test]
    fn the_other_header_is_ignored() {
        // The proxy appends X-Forwarded-For; a client-made Forwarded is not read.
        let chosen = client_ip(
            ip("10.0.0.2"),
            &trusted(),
            ForwardedHeader::XForwardedFor,
            std::iter::empty(),
        );
        assert_eq!(chosen, ip("10.0.0.2"));
    }
}
