//! Which kind of network a caller is in: GitHub's Actions ranges, AWS's
//! published ranges, private address space, an AWS service (CloudTrail
//! writes a service's name, not an address, when one calls for you), or
//! anything else.
//!
//! GitHub's Actions ranges are Azure-wide blocks: `github-actions` means
//! "GitHub-hosted, or elsewhere on Azure". A mismatch is the signal.

use std::borrow::Cow;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

use super::ranges::{RangeSet, parse_net};

/// A caller's network class, as the `source_network` column names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetClass {
    GithubActions,
    Aws,
    Private,
    AwsService,
    Other,
}

impl NetClass {
    pub fn as_str(self) -> &'static str {
        match self {
            NetClass::GithubActions => "github-actions",
            NetClass::Aws => "aws",
            NetClass::Private => "private",
            NetClass::AwsService => "aws-service",
            NetClass::Other => "other",
        }
    }
}

/// Where a set of ranges came from, for the report header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RangesSource {
    /// `built-in snapshot of 2026-08-12` or the file given.
    pub name: String,
    pub blocks: usize,
}

/// The ranges the classes are judged by.
#[derive(Debug, Clone)]
pub struct Classes {
    github: RangeSet,
    aws: RangeSet,
    private: RangeSet,
    pub github_source: RangesSource,
    pub aws_source: RangesSource,
}

const GITHUB_V4: &str = include_str!("data/ipv4_mini.txt");
const GITHUB_V6: &str = include_str!("data/ipv6_mini.txt");
const AWS_GZ: &[u8] = include_bytes!("data/aws-ip-ranges.json.gz");
/// When the built-in GitHub list last changed.
pub const GITHUB_SNAPSHOT: &str = "2026-08-12";
/// AWS's `createDate` of the built-in file.
pub const AWS_SNAPSHOT: &str = "2026-08-22";

/// Address space that is nobody's on the internet: RFC 1918, loopback,
/// link-local, carrier-grade NAT, unique local and IPv6 link-local.
const PRIVATE: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

impl Classes {
    /// The built-in snapshots, or the files given instead.
    pub fn load(github: Option<&Path>, aws: Option<&Path>) -> anyhow::Result<Classes> {
        let (github, github_source) = match github {
            Some(p) => {
                let text = read(p)?;
                let nets =
                    github_nets(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                (nets, p.display().to_string())
            }
            None => {
                let text = format!("{GITHUB_V4}\n{GITHUB_V6}");
                let nets = plain_list(&text).expect("the built-in GitHub ranges parse");
                (nets, format!("built-in snapshot of {GITHUB_SNAPSHOT}"))
            }
        };
        let (aws, aws_source) = match aws {
            Some(p) => {
                let text = read(p)?;
                let nets = aws_nets(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
                (nets, p.display().to_string())
            }
            None => {
                let mut text = String::new();
                flate2::read::GzDecoder::new(AWS_GZ)
                    .read_to_string(&mut text)
                    .expect("the built-in AWS ranges decompress");
                let nets = aws_nets(&text).expect("the built-in AWS ranges parse");
                (nets, format!("built-in snapshot of {AWS_SNAPSHOT}"))
            }
        };
        let source = |name, n: usize| RangesSource { name, blocks: n };
        Ok(Classes {
            github_source: source(github_source, github.len()),
            aws_source: source(aws_source, aws.len()),
            github: RangeSet::from_nets(github),
            aws: RangeSet::from_nets(aws),
            private: RangeSet::from_nets(PRIVATE.iter().map(|n| parse_net(n).expect("valid"))),
        })
    }

    /// The class of a `sourceIPAddress` value.
    pub fn classify(&self, source: &str) -> NetClass {
        match source.trim().parse::<IpAddr>() {
            Ok(ip) => self.of_ip(ip),
            Err(_) if is_aws_service(source) => NetClass::AwsService,
            Err(_) => NetClass::Other,
        }
    }

    pub fn of_ip(&self, ip: IpAddr) -> NetClass {
        if self.private.contains(ip) {
            NetClass::Private
        } else if self.github.contains(ip) {
            NetClass::GithubActions
        } else if self.aws.contains(ip) {
            NetClass::Aws
        } else {
            NetClass::Other
        }
    }
}

/// `sts.amazonaws.com`, `AWS Internal`: a service calling for the caller.
pub fn is_aws_service(source: &str) -> bool {
    let s = source.trim();
    s.eq_ignore_ascii_case("AWS Internal") || s.to_ascii_lowercase().ends_with(".amazonaws.com")
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))
}

/// One CIDR per line (or separated by white space or commas); `#` starts
/// a comment.
pub fn plain_list(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for item in line.split(|c: char| c.is_whitespace() || c == ',') {
            if !item.is_empty() {
                out.push(parse_net(item).map_err(|e| format!("line {}: {e}", n + 1))?);
            }
        }
    }
    if out.is_empty() {
        return Err("no CIDR blocks in it".into());
    }
    Ok(out)
}

/// GitHub's meta JSON (its `actions` list) or a plain list.
fn github_nets(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    if !text.trim_start().starts_with('{') {
        return plain_list(text);
    }
    let meta: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let actions = meta["actions"]
        .as_array()
        .ok_or("no `actions` list: is this GitHub's meta JSON (https://api.github.com/meta)?")?;
    actions
        .iter()
        .map(|v| parse_net(v.as_str().unwrap_or("")))
        .collect()
}

/// AWS's `ip-ranges.json` (the `AMAZON` service's prefixes) or a plain list.
fn aws_nets(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    if !text.trim_start().starts_with('{') {
        return plain_list(text);
    }
    // Borrowed from the text (the file has some 17,000 prefixes, and
    // `report` reads it on every run): owned only where a string has escapes.
    #[derive(serde::Deserialize)]
    struct Ranges<'a> {
        #[serde(borrow)]
        prefixes: Vec<Prefix<'a>>,
        #[serde(default, borrow)]
        ipv6_prefixes: Vec<Prefix<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Prefix<'a> {
        #[serde(borrow)]
        ip_prefix: Option<Cow<'a, str>>,
        #[serde(borrow)]
        ipv6_prefix: Option<Cow<'a, str>>,
        #[serde(borrow)]
        service: Cow<'a, str>,
    }
    let r: Ranges = serde_json::from_str(text).map_err(|e| {
        format!("not AWS's ip-ranges.json ({e}): https://ip-ranges.amazonaws.com/ip-ranges.json")
    })?;
    r.prefixes
        .iter()
        .chain(&r.ipv6_prefixes)
        .filter(|p| p.service == "AMAZON")
        .filter_map(|p| p.ip_prefix.as_deref().or(p.ipv6_prefix.as_deref()))
        .map(parse_net)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_snapshots_classify_known_addresses() {
        let c = Classes::load(None, None).unwrap();
        assert_eq!(c.github_source.blocks, 3_930 + 1_454);
        for (ip, class) in [
            ("10.20.1.5", NetClass::Private),
            ("100.64.1.1", NetClass::Private),
            ("fd00::1", NetClass::Private),
            ("sts.amazonaws.com", NetClass::AwsService),
            ("AWS Internal", NetClass::AwsService),
            ("203.0.113.9", NetClass::Other),
            ("console.example.com", NetClass::Other),
        ] {
            assert_eq!(c.classify(ip), class, "{ip}");
        }
    }

    #[test]
    fn the_built_in_aws_file_is_aws_s_own() {
        use sha2::Digest;
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(AWS_GZ)
            .read_to_end(&mut text)
            .unwrap();
        let sum = sha2::Sha256::digest(&text);
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "752894ac9db21ac9e4c274246f43f3c4b0257eb0b098b0420160db10e756c965"
        );
    }

    #[test]
    fn given_lists_and_their_mistakes() {
        assert_eq!(
            plain_list("# ours\n10.0.0.0/8, 192.0.2.1\n\n")
                .unwrap()
                .len(),
            2
        );
        assert!(
            plain_list("10.0.0.0/8\nnot-a-net\n")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(
            github_nets(r#"{"hooks":["1.2.3.4/32"]}"#)
                .unwrap_err()
                .contains("no `actions`")
        );
        let aws = r#"{"prefixes":[{"ip_prefix":"3.0.0.0/15","service":"AMAZON"},{"ip_prefix":"3.0.0.0/16","service":"EC2"}],"ipv6_prefixes":[]}"#;
        assert_eq!(aws_nets(aws).unwrap().len(), 1);
    }
}
