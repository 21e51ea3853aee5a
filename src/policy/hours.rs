//! `[business_hours]`: the working days and hours, in a time zone, and the
//! holidays, by which `off-hours` judges a call.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use chrono::format::{Item, StrftimeItems};
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::SpanError;
use crate::time::Millis;

/// Why an instant is outside business hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OffHoursReason {
    /// Not one of the working days.
    DayOff(Weekday),
    /// A listed holiday.
    Holiday(NaiveDate),
    /// Before the day's start.
    Early,
    /// At or after the day's end.
    Late,
}

impl OffHoursReason {
    /// A short machine-friendly kind: `weekend`, `holiday` or `night`.
    pub fn kind(&self) -> &'static str {
        match self {
            OffHoursReason::DayOff(_) => "day-off",
            OffHoursReason::Holiday(_) => "holiday",
            OffHoursReason::Early | OffHoursReason::Late => "outside-hours",
        }
    }
}

/// `[business_hours]`.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    pub timezone: Tz,
    pub days: BTreeSet<u32>,
    pub start: NaiveTime,
    /// `None` means midnight at the end of the day (`24:00`).
    pub end: Option<NaiveTime>,
    pub holidays: BTreeSet<NaiveDate>,
}

impl BusinessHours {
    /// The local wall-clock time of an instant, e.g. `2026-11-21 23:14 Sat CET`.
    pub fn local_time(&self, t: Millis) -> String {
        // Parsed once: `format` would parse the string for every call.
        static LOCAL: LazyLock<Vec<Item<'static>>> =
            LazyLock::new(|| StrftimeItems::new("%Y-%m-%d %H:%M %a %Z").collect());
        match self.timezone.timestamp_millis_opt(t).single() {
            Some(local) => local.format_with_items(LOCAL.iter()).to_string(),
            None => String::new(),
        }
    }

    /// `None` inside business hours; otherwise why not.
    pub fn check(&self, t: Millis) -> Option<OffHoursReason> {
        let local = self.timezone.timestamp_millis_opt(t).single()?;
        let date = local.date_naive();
        if self.holidays.contains(&date) {
            return Some(OffHoursReason::Holiday(date));
        }
        if !self.days.contains(&local.weekday().num_days_from_monday()) {
            return Some(OffHoursReason::DayOff(local.weekday()));
        }
        let time = local.time().with_nanosecond(0)?;
        if time < self.start {
            return Some(OffHoursReason::Early);
        }
        if self.end.is_some_and(|end| time >= end) {
            return Some(OffHoursReason::Late);
        }
        None
    }

    /// The reason in words, with the rule it broke.
    pub fn describe(&self, reason: &OffHoursReason) -> String {
        match reason {
            OffHoursReason::DayOff(d) => format!("{d} is not a working day"),
            OffHoursReason::Holiday(d) => format!("{d} is a holiday"),
            OffHoursReason::Early => format!("before {}", self.start.format("%H:%M")),
            OffHoursReason::Late => format!(
                "after {}",
                self.end
                    .map_or("24:00".to_string(), |e| e.format("%H:%M").to_string())
            ),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BusinessHoursFile {
    timezone: Spanned<String>,
    days: Option<Spanned<Vec<Spanned<String>>>>,
    start: Option<Spanned<String>>,
    end: Option<Spanned<String>>,
    #[serde(default)]
    holidays: Vec<Spanned<String>>,
}

fn parse_clock(s: &Spanned<String>) -> Result<Option<NaiveTime>, SpanError> {
    if s.get_ref() == "24:00" {
        return Ok(None);
    }
    NaiveTime::parse_from_str(s.get_ref(), "%H:%M")
        .map(Some)
        .map_err(|_| {
            SpanError::new(
                s.span(),
                format!(
                    "`{}` is not a time of day: use HH:MM (00:00 to 24:00)",
                    s.get_ref()
                ),
            )
        })
}

fn parse_weekday(s: &Spanned<String>) -> Result<u32, SpanError> {
    let day = match s.get_ref().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        other => {
            return Err(SpanError::new(
                s.span(),
                format!("`{other}` is not a day: use mon, tue, wed, thu, fri, sat or sun"),
            ));
        }
    };
    Ok(day.num_days_from_monday())
}

impl BusinessHoursFile {
    pub(super) fn check(self) -> Result<BusinessHours, SpanError> {
        let timezone: Tz = self.timezone.get_ref().parse().map_err(|_| {
            SpanError::new(
                self.timezone.span(),
                format!(
                    "unknown time zone `{}`: use an IANA name such as Europe/Berlin or America/New_York",
                    self.timezone.get_ref()
                ),
            )
        })?;
        let days = match &self.days {
            Some(days) => {
                let set = days
                    .get_ref()
                    .iter()
                    .map(parse_weekday)
                    .collect::<Result<BTreeSet<_>, _>>()?;
                if set.is_empty() {
                    return Err(SpanError::new(
                        days.span(),
                        "`days` is empty: name at least one working day",
                    ));
                }
                set
            }
            None => (0..5).collect(),
        };
        let start = match &self.start {
            Some(s) => parse_clock(s)?
                .ok_or_else(|| SpanError::new(s.span(), "`start` cannot be 24:00"))?,
            None => NaiveTime::from_hms_opt(9, 0, 0).expect("valid"),
        };
        let end = match &self.end {
            Some(e) => {
                let end = parse_clock(e)?;
                if end.is_some_and(|end| end <= start) {
                    return Err(SpanError::new(
                        e.span(),
                        format!(
                            "`end` ({}) must be later than `start` ({})",
                            e.get_ref(),
                            start.format("%H:%M")
                        ),
                    ));
                }
                end
            }
            None => Some(NaiveTime::from_hms_opt(17, 0, 0).expect("valid")),
        };
        let holidays = self
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h.get_ref(), "%Y-%m-%d").map_err(|_| {
                    SpanError::new(
                        h.span(),
                        format!("`{}` is not a date: use YYYY-MM-DD", h.get_ref()),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(BusinessHours {
            timezone,
            days,
            start,
            end,
            holidays,
        })
    }
}
