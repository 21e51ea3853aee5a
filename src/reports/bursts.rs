//! Failure bursts for `failures`: `count` or more failed assumptions of one
//! role, or from one source address, within `within` become one burst
//! ("12 failures in 3 minutes from 203.0.113.7 across 4 roles"): what token
//! guessing, or a misconfigured matrix run, looks like.

use std::collections::BTreeMap;

use crate::policy::Burst;
use crate::time::Millis;

/// One failed call: its time, role and source address.
pub struct Failed<'a> {
    pub time: Option<Millis>,
    pub role: Option<&'a str>,
    pub source: Option<&'a str>,
}

/// Each call's burst, described, or `None`.
pub fn find(calls: &[Failed<'_>], burst: &Burst) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = vec![None; calls.len()];
    // By source address first (one caller trying many roles is the more
    // telling), then by role.
    for by_source in [true, false] {
        let mut keyed: BTreeMap<&str, Vec<(Millis, usize)>> = BTreeMap::new();
        for (i, c) in calls.iter().enumerate() {
            let key = if by_source { c.source } else { c.role };
            if let (Some(k), Some(t)) = (key, c.time) {
                keyed.entry(k).or_default().push((t, i));
            }
        }
        for (key, mut times) in keyed {
            times.sort_unstable();
            for run in runs(&times, burst) {
                let members: Vec<usize> = run.iter().map(|(_, i)| *i).collect();
                if members.iter().any(|i| out[*i].is_some()) {
                    continue;
                }
                let text = describe(calls, run, key, by_source);
                for i in members {
                    out[i] = Some(text.clone());
                }
            }
        }
    }
    out
}

/// The stretches of `times` (sorted) in which some `within` holds at least
/// `count` calls, each stretch extended while calls keep coming within
/// `within` of each other.
fn runs<'t>(times: &'t [(Millis, usize)], burst: &Burst) -> Vec<&'t [(Millis, usize)]> {
    let n = burst.count.max(1);
    let mut hot = vec![false; times.len()];
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].0 - times[start].0 > burst.within {
            start += 1;
        }
        if end + 1 - start >= n {
            hot[start..=end].iter_mut().for_each(|h| *h = true);
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < times.len() {
        if !hot[i] {
            i += 1;
            continue;
        }
        let first = i;
        while i + 1 < times.len() && hot[i + 1] {
            i += 1;
        }
        out.push(&times[first..=i]);
        i += 1;
    }
    out
}

fn describe(calls: &[Failed<'_>], run: &[(Millis, usize)], key: &str, by_source: bool) -> String {
    let span = run.last().map_or(0, |l| l.0) - run.first().map_or(0, |f| f.0);
    let minutes = (span as f64 / 60_000.0).ceil().max(1.0) as i64;
    let distinct = |by_role: bool| {
        let mut v: Vec<&str> = run
            .iter()
            .filter_map(|(_, i)| {
                if by_role {
                    calls[*i].role
                } else {
                    calls[*i].source
                }
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    if by_source {
        format!(
            "{} failures in {} from {key} across {}",
            run.len(),
            plural(minutes as usize, "minute", "minutes"),
            plural(distinct(true), "role", "roles")
        )
    } else {
        format!(
            "{} failures of {key} in {} from {}",
            run.len(),
            plural(minutes as usize, "minute", "minutes"),
            plural(distinct(false), "address", "addresses")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_by_source_across_roles_and_one_by_role() {
        let burst = Burst {
            count: 3,
            within: 5 * 60_000,
        };
        let at = |m: i64| Some(m * 60_000);
        let calls = [
            // One address, three roles, within 4 minutes.
            Failed {
                time: at(0),
                role: Some("r1"),
                source: Some("203.0.113.7"),
            },
            Failed {
                time: at(2),
                role: Some("r2"),
                source: Some("203.0.113.7"),
            },
            Failed {
                time: at(4),
                role: Some("r3"),
                source: Some("203.0.113.7"),
            },
            // One role from two addresses, within 5 minutes.
            Failed {
                time: at(100),
                role: Some("r9"),
                source: Some("198.51.100.1"),
            },
            Failed {
                time: at(103),
                role: Some("r9"),
                source: Some("198.51.100.2"),
            },
            Failed {
                time: at(105),
                role: Some("r9"),
                source: Some("198.51.100.1"),
            },
            // Spread out: no burst.
            Failed {
                time: at(200),
                role: Some("r5"),
                source: Some("192.0.2.1"),
            },
            Failed {
                time: at(210),
                role: Some("r5"),
                source: Some("192.0.2.1"),
            },
            Failed {
                time: at(220),
                role: Some("r5"),
                source: Some("192.0.2.1"),
            },
        ];
        let got = find(&calls, &burst);
        assert_eq!(
            got[0].as_deref(),
            Some("3 failures in 4 minutes from 203.0.113.7 across 3 roles")
        );
        assert_eq!(got[2], got[0]);
        assert_eq!(
            got[3].as_deref(),
            Some("3 failures of r9 in 5 minutes from 2 addresses")
        );
        assert!(got[6..].iter().all(Option::is_none));
    }
}
