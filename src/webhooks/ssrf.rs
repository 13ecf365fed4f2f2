//! Checks on webhook target URLs against server-side request forgery (SSRF).
//!
//! Two layers, both needed:
//!
//! 1. [`check_url`] when an endpoint is registered *and* again before each delivery:
//!    `http`/`https` only, a host, no `user:pass@`, and, when the host is an IP
//!    literal, that IP must not be forbidden. The `url` crate (WHATWG parser)
//!    normalises the odd IPv4 spellings (`http://2130706433/`, `http://0x7f.1/`,
//!    `http://0177.0.0.1/`, `http://127.1/`) to `Host::Ipv4`, so they are caught here.
//! 2. [`resolve_checked`] at connection time for host *names*: resolve once, refuse if
//!    ANY address is forbidden, and connect only to the addresses returned.
//!
//! # DNS rebinding
//!
//! Checking a name and then letting the HTTP client resolve it again is racy: a
//! hostile DNS server can answer a public IP to the check and `127.0.0.1` to the
//! client (TTL 0). The sender must therefore connect to exactly the addresses that
//! were checked. With reqwest 0.12 the robust way is a custom
//! `reqwest::dns::Resolve` installed with `ClientBuilder::dns_resolver`, whose
//! `resolve` calls [`resolve_checked`] (on a blocking thread) and returns those
//! addresses; every connection, including each retry and each new pooled
//! connection, then goes through the check (see `client.rs` in this crate).
//! The per-request alternative is to build a client with
//! `ClientBuilder::resolve_to_addrs(host, &checked_addrs)`, which pins the name for
//! that client only (costly: one client, one pool, one TLS config per request).
//!
//! Caveats of either way:
//! * reqwest (hyper-util's `HttpConnector`) does **not** call the resolver for IP
//!   literals, so [`check_url`] must run before every request, not only at
//!   registration time;
//! * proxies bypass the resolver for the target: build the client with
//!   `.no_proxy()` (and without reqwest's `system-proxy` feature);
//! * redirects must be off (`redirect::Policy::none()`), or a public endpoint can
//!   redirect to an internal one.
//!
//! Dependencies: `url` 2 and std only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use url::{Host, Url};

/// IPv4 blocks that a webhook must never reach (address, prefix length).
/// Sources: RFC 6890 special-purpose registry (IANA ipv4-address-space /
/// iana-ipv4-special-registry) plus multicast and the reserved class E.
const FORBIDDEN_V4: &[(Ipv4Addr, u8)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8),      // "this network" (0.0.0.0 reaches localhost on Linux)
    (Ipv4Addr::new(10, 0, 0, 0), 8),     // private, RFC 1918
    (Ipv4Addr::new(100, 64, 0, 0), 10),  // shared address space / CGNAT, RFC 6598
    (Ipv4Addr::new(127, 0, 0, 0), 8),    // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16), // link-local (cloud metadata 169.254.169.254)
    (Ipv4Addr::new(172, 16, 0, 0), 12),  // private, RFC 1918
    (Ipv4Addr::new(192, 0, 0, 0), 24),   // IETF protocol assignments
    (Ipv4Addr::new(192, 0, 2, 0), 24),   // documentation TEST-NET-1
    (Ipv4Addr::new(192, 88, 99, 0), 24), // 6to4 relay anycast (deprecated)
    (Ipv4Addr::new(192, 168, 0, 0), 16), // private, RFC 1918
    (Ipv4Addr::new(198, 18, 0, 0), 15),  // benchmarking, RFC 2544
    (Ipv4Addr::new(198, 51, 100, 0), 24), // documentation TEST-NET-2
    (Ipv4Addr::new(203, 0, 113, 0), 24), // documentation TEST-NET-3
    (Ipv4Addr::new(224, 0, 0, 0), 4),    // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),    // reserved, includes broadcast 255.255.255.255
];

/// IPv6 blocks that a webhook must never reach. Blocks that embed an IPv4 address
/// (mapped, NAT64, 6to4) are handled separately by checking the embedded address.
const FORBIDDEN_V6: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96), // ::/128, ::1/128 and IPv4-compatible ::a.b.c.d
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64, RFC 8215
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only, RFC 6666
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments (Teredo, ORCHID, ...)
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation, RFC 9637
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16), // SRv6 SIDs, RFC 9602
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
];

fn in_v4(ip: Ipv4Addr, (net, len): (Ipv4Addr, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len): (Ipv6Addr, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - len) };
    u128::from(ip) & mask == u128::from(net) & mask
}

/// IPv4 address embedded in an IPv6 address that, when routed, reaches that IPv4
/// host: IPv4-mapped `::ffff:a.b.c.d`, NAT64 well-known prefix `64:ff9b::/96`,
/// and 6to4 `2002:AABB:CCDD::/48`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last32 = || Ipv4Addr::from(u128::from(ip) as u32);
    if s[..5] == [0; 5] && s[5] == 0xffff {
        return Some(last32());
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(last32());
    }
    if s[0] == 0x2002 {
        let [a, b] = s[1].to_be_bytes();
        let [c, d] = s[2].to_be_bytes();
        return Some(Ipv4Addr::new(a, b, c, d));
    }
    None
}

/// True for addresses a webhook may not target: loopback, unspecified, private
/// (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10, link-local (169.254/16,
/// fe80::/10), unique-local fc00::/7, multicast, broadcast and the rest of 240/4,
/// documentation and benchmarking ranges, 0.0.0.0/8, and any IPv6 form that embeds
/// such an IPv4 address (`::ffff:127.0.0.1`, `64:ff9b::a00:1`, `2002:7f00:1::`).
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => FORBIDDEN_V4.iter().any(|&b| in_v4(v4, b)),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_forbidden_ip(IpAddr::V4(v4));
            }
            FORBIDDEN_V6.iter().any(|&b| in_v6(v6, b))
        }
    }
}

/// Addresses that are never a valid unicast TCP destination, refused even with
/// `allow_private` (0.0.0.0 and :: would reach the local host).
fn is_never_valid(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ip.is_unspecified() || ip.is_multicast() || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
}

fn check_ip(ip: IpAddr, allow_private: bool) -> Result<(), String> {
    if is_never_valid(ip) || (!allow_private && is_forbidden_ip(ip)) {
        return Err(format!("webhook target address {ip} is not allowed"));
    }
    Ok(())
}

/// Names that resolve to loopback by definition (RFC 6761 §6.3); refused without
/// asking DNS.
fn is_localhost_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h == "localhost" || h.ends_with(".localhost")
}

/// Parses and checks a webhook target URL.
///
/// Accepts only `http` and `https`, with a host, without user info, with any port
/// but 0. IP-literal hosts (after WHATWG normalisation) are checked with
/// [`is_forbidden_ip`], as is `localhost`, unless `allow_private` (tests, on-premise
/// installs). Host *names* are only checked syntactically here: resolve them with
/// [`resolve_checked`] at delivery time.
pub fn check_url(raw: &str, allow_private: bool) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("invalid URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("URL scheme `{other}` is not allowed; use http or https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("URL must not contain a user name or password".into());
    }
    if url.port() == Some(0) {
        return Err("URL port 0 is not allowed".into());
    }
    match url.host() {
        None => return Err("URL has no host".into()),
        Some(Host::Ipv4(v4)) => check_ip(IpAddr::V4(v4), allow_private)?,
        Some(Host::Ipv6(v6)) => check_ip(IpAddr::V6(v6), allow_private)?,
        Some(Host::Domain(d)) => {
            if d.is_empty() {
                return Err("URL has no host".into());
            }
            if !allow_private && is_localhost_name(d) {
                return Err(format!("webhook target host {d} is not allowed"));
            }
        }
    }
    Ok(url)
}

/// Resolves `host:port` with the system resolver (`ToSocketAddrs`, blocking: call
/// it from `spawn_blocking` in async code) and refuses if ANY address is forbidden,
/// so that a name with one public and one internal address cannot be used.
///
/// `host` may be a name, an IPv4 literal or an IPv6 literal with or without
/// brackets (`url::Url::host_str` gives `[::1]`). The caller must connect only to
/// the returned addresses (see the module docs on DNS rebinding).
pub fn resolve_checked(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if bare.is_empty() {
        return Err("empty host name".into());
    }
    if !allow_private && is_localhost_name(bare) {
        return Err(format!("webhook target host {bare} is not allowed"));
    }
    let addrs: Vec<SocketAddr> = if let Ok(ip) = bare.parse::<IpAddr>() {
        vec![SocketAddr::new(ip, port)]
    } else {
        (bare, port).to_socket_addrs().map_err(|e| format!("cannot resolve {bare}: {e}"))?.collect()
    };
    if addrs.is_empty() {
        return Err(format!("{bare} resolved to no address"));
    }
    for a in &addrs {
        check_ip(a.ip(), allow_private).map_err(|e| format!("{bare} resolves to a forbidden address: {e}"))?;
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(s: &str) -> bool {
        is_forbidden_ip(s.parse().unwrap())
    }

    #[test]
    fn forbidden_ipv4_ranges_and_their_edges() {
        for ip in [
            "0.0.0.0",
            "0.255.255.255", // 0/8
            "10.0.0.0",
            "10.255.255.255", // 10/8
            "100.64.0.0",
            "100.127.255.255", // 100.64/10
            "127.0.0.1",
            "127.255.255.254", // 127/8
            "169.254.0.1",
            "169.254.169.254", // link-local, metadata
            "172.16.0.0",
            "172.31.255.255", // 172.16/12
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1", // 192.0.0/24, TEST-NET-1, 6to4 relay
            "192.168.0.1",
            "192.168.255.255", // 192.168/16
            "198.18.0.1",
            "198.19.255.255", // benchmarking
            "198.51.100.7",
            "203.0.113.9", // TEST-NET-2/3
            "224.0.0.1",
            "239.255.255.255", // multicast
            "240.0.0.1",
            "255.255.255.255", // reserved, broadcast
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.0.3.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "203.0.112.255",
            "203.0.114.0",
            "223.255.255.255",
            "93.184.215.14",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn forbidden_ipv6_ranges() {
        for ip in [
            "::",
            "::1",
            "::7f00:1",
            "::127.0.0.1", // unspecified, loopback, v4-compatible
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::ffff:255.255.255.255",
            "::ffff:100.64.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1", // NAT64
            "2002:7f00:1::",
            "2002:c0a8:101::1", // 6to4 of 127.0.0.1, 192.168.1.1
            "100::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "ff02::1",
            "ff05::2",
        ] {
            assert!(forbidden(ip), "{ip} should be forbidden");
        }
        for ip in [
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:200::1",
            "fbff::1",
            "fe00::1",
        ] {
            assert!(!forbidden(ip), "{ip} should be allowed");
        }
    }

    #[test]
    fn check_url_accepts_ordinary_targets() {
        for ok in [
            "https://example.com/hooks",
            "http://example.com:8080/a?b=c",
            "https://hooks.example.org:443/x#frag",
            "https://8.8.8.8/",
            "https://[2606:4700:4700::1111]:8443/",
            "HTTPS://EXAMPLE.COM/",
        ] {
            let u = check_url(ok, false).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(u.scheme() == "http" || u.scheme() == "https");
        }
        assert_eq!(check_url("http://example.com:8080/", false).unwrap().port(), Some(8080));
    }

    #[test]
    fn check_url_refuses_bad_forms() {
        for bad in [
            "",
            "example.com/hook", // relative, no scheme
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "javascript:alert(1)",
            "data:text/plain,hi",
            "ws://example.com/",
            "http://user:pass@example.com/",
            "http://user@example.com/",
            "http://:pass@example.com/",
            "http://example.com:0/",
            "http://example.com:65536/",
            "http://exa mple.com/",
        ] {
            assert!(check_url(bad, false).is_err(), "accepted {bad:?}");
            assert!(check_url(bad, true).is_err(), "accepted {bad:?} with allow_private");
        }
    }

    #[test]
    fn check_url_refuses_internal_ip_literals_in_all_spellings() {
        for bad in [
            "http://127.0.0.1/",
            "http://127.0.0.1:8080/",
            "http://127.1/",
            "http://2130706433/", // decimal
            "http://0x7f000001/", // hex
            "http://0x7f.1/",     // hex + short form
            "http://0177.0.0.1/", // octal
            "http://0177.1/",
            "http://127.0.0.1./",      // trailing dot
            "http://%31%32%37.0.0.1/", // percent-encoded
            "http://０x7f.1/",         // full-width digit, IDNA-mapped
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[0:0:0:0:0:ffff:7f00:1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://0.0.0.0/",
            "http://0/",
            "http://10.0.0.1/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://192.0.2.1/",
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
        ] {
            assert!(check_url(bad, false).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn url_normalises_numeric_hosts_to_ipv4() {
        for (raw, want) in [
            ("http://2130706433/", "127.0.0.1"),
            ("http://0x7f.1/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://127.0.0.1./", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://%31%32%37.0.0.1/", "127.0.0.1"),
            ("http://０x7f.1/", "127.0.0.1"),
        ] {
            let u = Url::parse(raw).unwrap();
            assert_eq!(u.host(), Some(Host::Ipv4(want.parse().unwrap())), "{raw}");
        }
        let u = Url::parse("http://[::ffff:7f00:1]/").unwrap();
        assert_eq!(u.host(), Some(Host::Ipv6("::ffff:127.0.0.1".parse().unwrap())));
    }

    #[test]
    fn allow_private_lets_local_targets_through_but_not_unspecified_or_multicast() {
        for ok in [
            "http://127.0.0.1:8080/",
            "http://localhost:3000/",
            "http://[::1]/",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
        ] {
            assert!(check_url(ok, true).is_ok(), "{ok}");
        }
        for bad in [
            "http://0.0.0.0/",
            "http://[::]/",
            "http://[::ffff:0.0.0.0]/",
            "http://224.0.0.1/",
            "http://[ff02::1]/",
            "http://255.255.255.255/",
        ] {
            assert!(check_url(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn resolve_checked_ip_literals() {
        assert!(resolve_checked("127.0.0.1", 80, false).is_err());
        assert!(resolve_checked("[::1]", 80, false).is_err());
        assert!(resolve_checked("::ffff:127.0.0.1", 80, false).is_err());
        assert!(resolve_checked("169.254.169.254", 80, false).is_err());
        assert_eq!(
            resolve_checked("127.0.0.1", 8080, true).unwrap(),
            vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(resolve_checked("[::1]", 443, true).unwrap(), vec!["[::1]:443".parse::<SocketAddr>().unwrap()]);
        assert_eq!(resolve_checked("8.8.8.8", 443, false).unwrap(), vec!["8.8.8.8:443".parse::<SocketAddr>().unwrap()]);
        assert!(resolve_checked("0.0.0.0", 80, true).is_err());
        assert!(resolve_checked("", 80, true).is_err());
        assert!(resolve_checked("[]", 80, true).is_err());
    }

    #[test]
    fn resolve_checked_localhost_name() {
        // Refused by name, without DNS.
        let err = resolve_checked("localhost", 80, false).unwrap_err();
        assert!(err.contains("not allowed"), "{err}");
        assert!(resolve_checked("foo.localhost.", 80, false).is_err());
        // With allow_private it resolves through /etc/hosts (no network needed) and
        // every address is loopback.
        let addrs = resolve_checked("localhost", 8080, true).unwrap();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
    }

    #[test]
    fn resolve_checked_unresolvable_name_is_an_error() {
        // .invalid is guaranteed never to resolve (RFC 6761 §6.4).
        assert!(resolve_checked("no-such-host.invalid", 80, false).is_err());
    }
}
