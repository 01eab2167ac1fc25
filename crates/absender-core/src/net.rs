//! Addresses absender must not be steered to by DNS that others control,
//! and whom a per-client limit counts.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whom a per-client limit counts: an IPv4 address, or an IPv6 /64 (one
/// host usually has a whole /64 to pick addresses from); an IPv4-mapped
/// IPv6 address counts as the IPv4 one.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// Whether `ip` is a special-purpose address (RFC 6890) that is no place for
/// mail to the internet: loopback, private, shared, link-local, unspecified,
/// documentation, benchmarking, multicast, reserved. A recipient domain whose
/// MX points there would have absender talk to its own network.
pub fn is_special_purpose(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| embedded_v4(v6)) {
            Some(v4) => special_v4(v4),
            None => special_v6(v6),
        },
    }
}

fn special_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGN)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

/// The IPv4 address a translation prefix carries: NAT64 (`64:ff9b::/96`,
/// RFC 6052) and 6to4 (`2002::/16`, RFC 3056) reach it through a gateway.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        Some(v4(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(v4(s[1], s[2]))
    } else {
        None
    }
}

fn special_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only
        || segments[..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated)
        || segments[0] & 0xffc0 == 0xfec0 // site-local (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_purpose_addresses_are_known_and_public_ones_are_not() {
        for special in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "ff02::1",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
            "fec0::1",
        ] {
            assert!(is_special_purpose(special.parse().unwrap()), "{special}");
        }
        for public in [
            "8.8.8.8",
            "193.99.144.80",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!is_special_purpose(public.parse().unwrap()), "{public}");
        }
    }
}
