//! Times: parsing CloudTrail's `eventTime` in the shapes real trails use, the
//! `--since`/`--until` window, and formatting times for output.
//!
//! All instants are milliseconds since the Unix epoch, UTC. Nothing here
//! knows about business hours (see `policy`).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const MS_PER_DAY: i64 = 86_400_000;

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

/// The civil date `YYYY-MM-DD` as days since the epoch.
pub fn parse_day(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (
        digits(&b[0..4])? as i64,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    );
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Parses an event time: `2026-01-02T03:04:05Z`, with optional fraction,
/// a `Z`/`±hh:mm`/`±hhmm` offset or none (read as UTC), `T` or a space
/// between date and time. Returns `None` for anything else.
pub fn parse_event_time(s: &str) -> Option<Millis> {
    let b = s.trim().as_bytes();
    if b.len() < 19
        || (b[10] != b'T' && b[10] != b' ' && b[10] != b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return parse_fallback(s);
    }
    let days = parse_day(&b[..10])?;
    let (h, mi, sec) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut ms = 0i64;
    let mut rest = &b[19..];
    if let Some((&b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut scale = 100;
        for &c in &frac[..n.min(3)] {
            ms += (c - b'0') as i64 * scale;
            scale /= 10;
        }
        rest = &frac[n..];
    }
    let offset_min: i64 = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), hh @ ..] => {
            let (oh, om) = match hh {
                [a, b2, b':', c, d] => (digits(&[*a, *b2])?, digits(&[*c, *d])?),
                [a, b2, c, d] => (digits(&[*a, *b2])?, digits(&[*c, *d])?),
                [a, b2] => (digits(&[*a, *b2])?, 0),
                _ => return None,
            };
            let m = (oh * 60 + om) as i64;
            if *sign == b'+' { m } else { -m }
        }
        _ => return None,
    };
    Some(
        days * MS_PER_DAY + (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * 1000 + ms
            - offset_min * 60_000,
    )
}

fn parse_fallback(s: &str) -> Option<Millis> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    // Epoch seconds, as the LookupEvents API returns `EventTime`.
    if let Ok(secs) = s.parse::<f64>()
        && (1.0e8..1.0e11).contains(&secs)
    {
        return Some((secs * 1000.0) as i64);
    }
    None
}

/// Formats an instant as RFC 3339 UTC with second precision (`…Z`), adding
/// milliseconds only when there are any.
pub fn format_millis(ms: Millis) -> String {
    let whole = ms % 1000 == 0;
    match Utc.timestamp_millis_opt(ms).single() {
        // chrono's RFC 3339 writer parses no format string (the output
        // writes one of these per time cell); it takes four-digit years only.
        Some(t) if (0..=9999).contains(&t.year()) => {
            let digits = if whole {
                SecondsFormat::Secs
            } else {
                SecondsFormat::Millis
            };
            t.to_rfc3339_opts(digits, true)
        }
        Some(t) if whole => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Which end of the window a `--since`/`--until` value is for: a bare date
/// means the start of that day for `--since` and the end of it for `--until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    Since,
    Until,
}

/// Parses a window bound: RFC 3339 (`2026-11-15T08:00:00Z`), a date
/// (`2026-11-15`, UTC), or a duration before `now` (`90m`, `24h`, `7d`, `2w`).
pub fn parse_bound(text: &str, bound: Bound, now: Millis) -> Result<Millis, String> {
    let t = text.trim();
    if let Some(days) = parse_day(t.as_bytes()) {
        let start = days * MS_PER_DAY;
        return Ok(match bound {
            Bound::Since => start,
            Bound::Until => start + MS_PER_DAY,
        });
    }
    if let Some(ms) = parse_event_time(t) {
        return Ok(ms);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad_bound(text))?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => MS_PER_DAY,
        "w" => 7 * MS_PER_DAY,
        _ => return Err(bad_bound(text)),
    };
    Ok(now - n * unit_ms)
}

/// A length of time written as digits and one unit of `units` (`s`, `m`,
/// `h`, `d`, `w`): `90d`, `5m`. Its milliseconds, when that is more than 0.
pub fn parse_length(text: &str, units: &[char]) -> Option<Millis> {
    let t = text.trim();
    // The last character, which may be several bytes (`5é`).
    let (at, unit) = t.char_indices().next_back()?;
    let digits = &t[..at];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !units.contains(&unit) {
        return None;
    }
    let ms = -parse_bound(t, Bound::Since, 0).ok()?;
    (ms > 0).then_some(ms)
}

fn bad_bound(text: &str) -> String {
    format!(
        "`{text}` is not a time: use RFC 3339 (2026-11-15T08:00:00Z), a date (2026-11-15) \
         or a duration before now (90m, 24h, 7d, 2w)"
    )
}

/// The current time.
pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

/// A half-open window `[since, until)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
}

impl Window {
    /// Whether an instant falls inside the window.
    pub fn contains(&self, t: Millis) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Whether any instant in `[start, end)` can fall inside the window.
    pub fn overlaps(&self, start: Millis, end: Millis) -> bool {
        self.since.is_none_or(|s| end > s) && self.until.is_none_or(|u| start < u)
    }

    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// The window in words, for report headers.
    pub fn describe(&self) -> String {
        match (self.since, self.until) {
            (None, None) => "all events".to_string(),
            (Some(s), None) => format!("from {}", format_millis(s)),
            (None, Some(u)) => format!("before {}", format_millis(u)),
            (Some(s), Some(u)) => format!("{} to {}", format_millis(s), format_millis(u)),
        }
    }
}

/// The UTC instant a civil date starts.
pub fn day_start(date: NaiveDate) -> Millis {
    NaiveDateTime::from(date).and_utc().timestamp_millis()
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths() {
        let hms = ['s', 'm', 'h'];
        assert_eq!(super::parse_length("5m", &hms), Some(300_000));
        assert_eq!(super::parse_length(" 90s ", &hms), Some(90_000));
        assert_eq!(super::parse_length("2d", &hms), None, "a unit not allowed");
        // Regression (found by the policy parser's fuzz test): a last
        // character of several bytes is a unit, not a place to cut.
        for bad in [
            "0m",
            "m",
            "",
            "5",
            "-5m",
            "1.5h",
            "2026-01-01",
            "5\u{fffd}",
            "é",
            "5mé",
        ] {
            assert_eq!(super::parse_length(bad, &hms), None, "{bad}");
        }
    }

    use super::*;

    /// The RFC 3339 writer gives what the format string gave, whole
    /// seconds or not, before 1970 and after, and the years it does not
    /// take still format.
    #[test]
    fn times_format_as_before() {
        let by_format = |ms: Millis| match Utc.timestamp_millis_opt(ms).single() {
            Some(t) if ms % 1000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            None => ms.to_string(),
        };
        let mut rng = crate::test_rng::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut values = vec![
            0,
            1,
            -1,
            999,
            -1000,
            -1001,
            1_700_000_000_000,
            253_402_300_799_999,
        ];
        values.extend((0..20_000).map(|_| {
            let x = rng.next();
            // From about 1900 to 2100, a third of them whole seconds.
            let ms = (x % 6_311_390_400_000) as i64 - 2_208_988_800_000;
            if x.is_multiple_of(3) {
                ms - ms.rem_euclid(1000)
            } else {
                ms
            }
        }));
        for ms in values {
            assert_eq!(format_millis(ms), by_format(ms), "{ms}");
        }
        assert_eq!(format_millis(1_763_251_207_000), "2025-11-16T00:00:07Z");
        assert_eq!(format_millis(1_763_251_207_120), "2025-11-16T00:00:07.120Z");
        // Year 10000 and before year 0: not RFC 3339, formatted all the same.
        assert_eq!(format_millis(253_402_300_800_000), "+10000-01-01T00:00:00Z");
        assert!(format_millis(-62_167_219_200_001).starts_with("-0001-12-31T23:59:59.999"));
    }

    fn t(s: &str) -> Millis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn event_time_shapes() {
        assert_eq!(
            parse_event_time("2023-07-10T11:42:18Z"),
            Some(t("2023-07-10T11:42:18Z"))
        );
        assert_eq!(
            parse_event_time("2023-07-10T11:42:18.250Z"),
            Some(t("2023-07-10T11:42:18.250Z"))
        );
        assert_eq!(
            parse_event_time("2025-01-21 17:49:47.000000000"),
            Some(t("2025-01-21T17:49:47Z"))
        );
        assert_eq!(
            parse_event_time("2026-03-29T03:30:00+02:00"),
            Some(t("2026-03-29T01:30:00Z"))
        );
        assert_eq!(
            parse_event_time("2026-03-29T03:30:00-0130"),
            Some(t("2026-03-29T05:00:00Z"))
        );
        assert_eq!(parse_event_time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_event_time("ThisIsAWrongEventTime"), None);
        assert_eq!(parse_event_time("2023-02-30T00:00:00Z"), None);
        assert_eq!(parse_event_time("2023-07-10T25:00:00Z"), None);
        assert_eq!(parse_event_time(""), None);
    }

    #[test]
    fn civil_days_match_chrono() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (2024, 12, 31),
            (1969, 12, 31),
            (2100, 3, 1),
        ] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                days_from_civil(y as i64, m, d) * MS_PER_DAY,
                day_start(date)
            );
        }
    }

    #[test]
    fn bounds() {
        let now = t("2026-11-22T12:00:00Z");
        assert_eq!(
            parse_bound("7d", Bound::Since, now),
            Ok(t("2026-11-15T12:00:00Z"))
        );
        assert_eq!(
            parse_bound("24h", Bound::Since, now),
            Ok(t("2026-11-21T12:00:00Z"))
        );
        assert_eq!(
            parse_bound("2w", Bound::Since, now),
            Ok(t("2026-11-08T12:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-11-15", Bound::Since, now),
            Ok(t("2026-11-15T00:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-11-15", Bound::Until, now),
            Ok(t("2026-11-16T00:00:00Z"))
        );
        assert_eq!(
            parse_bound("2026-11-15T08:00:00Z", Bound::Until, now),
            Ok(t("2026-11-15T08:00:00Z"))
        );
        assert!(
            parse_bound("yesterday", Bound::Since, now)
                .unwrap_err()
                .contains("`yesterday`")
        );
        assert!(parse_bound("7y", Bound::Since, now).is_err());
    }

    #[test]
    fn window() {
        let w = Window {
            since: Some(10),
            until: Some(20),
        };
        assert!(w.contains(10) && w.contains(19) && !w.contains(20) && !w.contains(9));
        assert!(w.overlaps(0, 11) && !w.overlaps(0, 10) && !w.overlaps(20, 30));
        assert!(Window::default().contains(i64::MIN));
    }

    #[test]
    fn formatting() {
        assert_eq!(
            format_millis(t("2026-11-22T12:00:00Z")),
            "2026-11-22T12:00:00Z"
        );
        assert_eq!(
            format_millis(t("2026-11-22T12:00:00.5Z")),
            "2026-11-22T12:00:00.500Z"
        );
    }
}
