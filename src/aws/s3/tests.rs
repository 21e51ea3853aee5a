use super::list::{day_prefixes, looks_like_log_name};
use super::*;
use crate::time::{Bound, parse_bound};

#[test]
fn s3_urls() {
    let u: S3Url = "s3://trail-bucket/org/AWSLogs/".parse().unwrap();
    assert_eq!(u.bucket, "trail-bucket");
    assert_eq!(u.prefix, "org/AWSLogs/");
    let u: S3Url = "s3://trail-bucket".parse().unwrap();
    assert_eq!(u.prefix, "");
    assert!("trail-bucket/x".parse::<S3Url>().is_err());
    assert!("s3:///x".parse::<S3Url>().is_err());
}

#[test]
fn day_prefixes_cover_the_window_and_late_deliveries_only() {
    let now = parse_bound("2026-11-22T12:00:00Z", Bound::Since, 0).unwrap();
    let scope = Scope {
        window: Window {
            since: Some(parse_bound("2026-11-16", Bound::Since, 0).unwrap()),
            until: Some(parse_bound("2026-11-18", Bound::Until, 0).unwrap()),
        },
        now,
        accounts: vec![],
        regions: vec![],
    };
    let r = "AWSLogs/111122223333/CloudTrail/eu-west-1/";
    assert_eq!(
        day_prefixes(r, &scope),
        [
            format!("{r}2026/11/16/"),
            format!("{r}2026/11/17/"),
            format!("{r}2026/11/18/"),
            // Files delivered just after midnight hold the last events.
            format!("{r}2026/11/19/"),
        ]
    );
    let open_ended = Scope {
        window: Window {
            since: Some(parse_bound("2026-11-21", Bound::Since, 0).unwrap()),
            until: None,
        },
        ..scope.clone()
    };
    assert_eq!(
        day_prefixes(r, &open_ended),
        [format!("{r}2026/11/21/"), format!("{r}2026/11/22/")]
    );
    let no_start = Scope {
        window: Window::default(),
        ..scope
    };
    assert!(day_prefixes(r, &no_start).is_empty());
}

#[test]
fn log_names() {
    assert!(looks_like_log_name(
        "AWSLogs/1/CloudTrail/us-east-1/2026/11/01/1_CloudTrail_us-east-1_20261101T0000Z_x.json.gz"
    ));
    assert!(looks_like_log_name("exports/events.jsonl"));
    assert!(!looks_like_log_name("exports/README.md"));
}
