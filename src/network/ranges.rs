//! Sets of CIDR blocks as sorted, merged, disjoint address intervals, one
//! table per family: membership is a binary search, whatever the number of
//! blocks (GitHub publishes thousands). Parsing is `ipnet`'s.

use std::net::IpAddr;

use ipnet::IpNet;

/// A set of networks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

fn merge<T: Ord + Copy>(mut ranges: Vec<(T, T)>, next: impl Fn(T) -> Option<T>) -> Vec<(T, T)> {
    ranges.sort_unstable();
    let mut out: Vec<(T, T)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match out.last_mut() {
            // Overlapping or adjacent: one interval.
            Some(last) if next(last.1).is_none_or(|n| start <= n) => {
                last.1 = last.1.max(end);
            }
            _ => out.push((start, end)),
        }
    }
    out
}

fn find<T: Ord + Copy>(table: &[(T, T)], x: T) -> bool {
    // The last interval starting at or before `x`.
    let i = table.partition_point(|(start, _)| *start <= x);
    i > 0 && x <= table[i - 1].1
}

impl RangeSet {
    pub fn from_nets(nets: impl IntoIterator<Item = IpNet>) -> RangeSet {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for net in nets {
            match net {
                IpNet::V4(n) => v4.push((u32::from(n.network()), u32::from(n.broadcast()))),
                IpNet::V6(n) => v6.push((u128::from(n.network()), u128::from(n.broadcast()))),
            }
        }
        RangeSet {
            v4: merge(v4, |x: u32| x.checked_add(1)),
            v6: merge(v6, |x: u128| x.checked_add(1)),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => find(&self.v4, u32::from(a)),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => find(&self.v4, u32::from(v4)),
                None => find(&self.v6, u128::from(a)),
            },
        }
    }

    /// Intervals in the table (after merging), IPv4 and IPv6.
    pub fn intervals(&self) -> (usize, usize) {
        (self.v4.len(), self.v6.len())
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }
}

/// Parses one CIDR (or a bare address, as a /32 or /128).
pub fn parse_net(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    t.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{t}` is not a CIDR block or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(nets: &[&str]) -> RangeSet {
        RangeSet::from_nets(nets.iter().map(|n| parse_net(n).unwrap()))
    }

    #[test]
    fn membership_at_the_edges_and_merging() {
        let s = set(&[
            "10.0.0.0/24",
            "10.0.1.0/24",
            "10.0.0.128/25",
            "192.0.2.7",
            "2001:db8::/32",
        ]);
        assert_eq!(s.intervals(), (2, 1), "adjacent and nested blocks merge");
        for (ip, inside) in [
            ("10.0.0.0", true),
            ("10.0.1.255", true),
            ("10.0.2.0", false),
            ("9.255.255.255", false),
            ("192.0.2.7", true),
            ("192.0.2.8", false),
            ("2001:db8:ffff::1", true),
            ("2001:db9::", false),
            ("::ffff:10.0.0.5", true),
        ] {
            assert_eq!(s.contains(ip.parse().unwrap()), inside, "{ip}");
        }
        assert!(set(&["0.0.0.0/0"]).contains("255.255.255.255".parse().unwrap()));
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("sts.amazonaws.com").is_err());
    }
}
