//! The page's charts, drawn by plotters' SVG backend into strings that the
//! page inlines. Text from the trail does not go into a chart (legends are
//! HTML); plotters escapes what text it writes all the same.

use std::collections::BTreeMap;
use std::io;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::kpi::{Stats, WeekKeys};
use crate::policy::BusinessHours;

/// Width and height of a chart, in SVG units (the page scales it).
const WIDE: (u32, u32) = (960, 300);

const SUCCESS: RGBColor = RGBColor(46, 125, 50);
/// Failure causes, in the order of their first appearance.
const FAILURES: [RGBColor; 8] = [
    RGBColor(198, 40, 40),
    RGBColor(239, 108, 0),
    RGBColor(106, 27, 154),
    RGBColor(173, 20, 87),
    RGBColor(0, 131, 143),
    RGBColor(249, 168, 37),
    RGBColor(78, 52, 46),
    RGBColor(84, 110, 122),
];
const INK: RGBColor = RGBColor(40, 40, 40);

/// The colour of an outcome, as `#rrggbb`, for the HTML legend.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn svg_err<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

/// An axis label for bars or points at whole positions: `name(i)` there,
/// nothing between.
fn at_index(name: impl Fn(usize) -> Option<String>) -> impl Fn(&f64) -> String {
    move |x| {
        let i = x.round();
        match name(i.max(0.0) as usize) {
            Some(n) if (x - i).abs() < 1e-6 => n,
            _ => String::new(),
        }
    }
}

/// A count axis's label: whole numbers only.
fn whole_number(y: &f64) -> String {
    if (y - y.round()).abs() < 1e-6 {
        format!("{}", y.round() as i64)
    } else {
        String::new()
    }
}

/// Draws into a fresh SVG of `size` and returns it.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> io::Result<()>,
) -> io::Result<String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(svg_err)?;
        draw(&root)?;
        root.present().map_err(svg_err)?;
    }
    Ok(buf)
}

/// The outcomes of `stats`, success first, then failures by count, each
/// with its colour.
pub fn outcome_colours(stats: &Stats) -> Vec<(String, RGBColor)> {
    let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &stats.per_day {
        *totals.entry(d.outcome.as_str()).or_default() += d.count;
    }
    let mut failures: Vec<(&str, u64)> = totals
        .iter()
        .filter(|(o, _)| **o != "success")
        .map(|(o, n)| (*o, *n))
        .collect();
    failures.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut v = vec![("success".to_string(), SUCCESS)];
    v.extend(
        failures
            .into_iter()
            .enumerate()
            .map(|(i, (o, _))| (o.to_string(), FAILURES[i % FAILURES.len()])),
    );
    v
}

/// Assumptions per day, stacked by outcome.
pub fn per_day(stats: &Stats) -> io::Result<String> {
    let mut days: Vec<&str> = stats.per_day.iter().map(|d| d.day.as_str()).collect();
    days.dedup();
    let colours = outcome_colours(stats);
    let total = |day: &str| -> u64 {
        stats
            .per_day
            .iter()
            .filter(|d| d.day == day)
            .map(|d| d.count)
            .sum()
    };
    let top = days.iter().map(|d| total(d)).max().unwrap_or(0).max(1);
    let n = days.len().max(1) as f64;
    svg(WIDE, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..top as f64 * 1.1)
            .map_err(svg_err)?;
        let label = at_index(|i| days.get(i).map(|d| d[5..].to_string()));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(days.len().min(31))
            .x_label_formatter(&label)
            .y_desc("role assumptions")
            .y_label_formatter(&whole_number)
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .draw()
            .map_err(svg_err)?;
        for (i, day) in days.iter().enumerate() {
            let mut base = 0u64;
            for (outcome, colour) in &colours {
                let count: u64 = stats
                    .per_day
                    .iter()
                    .filter(|d| d.day == *day && &d.outcome == outcome)
                    .map(|d| d.count)
                    .sum();
                if count == 0 {
                    continue;
                }
                let x = i as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.35, base as f64), (x + 0.35, (base + count) as f64)],
                        colour.filled(),
                    )))
                    .map_err(svg_err)?;
                base += count;
            }
        }
        Ok(())
    })
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The hour × weekday heat map, Monday at the top, business hours (when the
/// policy has them) outlined.
pub fn heat_map(stats: &Stats, hours: Option<&BusinessHours>) -> io::Result<String> {
    let counts = &stats.peak_hours.counts;
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1);
    svg((960, 290), |root| {
        // Cells are centred on whole hours and days, where the labels are.
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..23.5f64, 6.5f64..-0.5f64)
            .map_err(svg_err)?;
        let whole = |v: f64| (v - v.round()).abs() < 1e-6;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(24)
            .y_labels(7)
            .x_label_formatter(&|x| {
                if whole(*x) {
                    format!("{:02}", x.round() as u32)
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| match WEEKDAYS.get(y.round() as usize) {
                Some(d) if whole(*y) => d.to_string(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .draw()
            .map_err(svg_err)?;
        for (d, row) in counts.iter().enumerate() {
            for (h, &n) in row.iter().enumerate() {
                let shade = n as f64 / max as f64;
                let fill = if n == 0 {
                    RGBColor(245, 245, 245)
                } else {
                    let mix = |lo: u8, hi: u8| (lo as f64 + (hi as f64 - lo as f64) * shade) as u8;
                    RGBColor(mix(198, 13), mix(219, 71), mix(239, 161))
                };
                let (x, y) = (h as f64, d as f64);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.46, y - 0.44), (x + 0.46, y + 0.44)],
                        fill.filled(),
                    )))
                    .map_err(svg_err)?;
                if n > 0 {
                    let ink = if shade > 0.5 { WHITE } else { INK };
                    chart
                        .draw_series(std::iter::once(Text::new(
                            n.to_string(),
                            (x, y),
                            ("sans-serif", 12)
                                .into_font()
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        )))
                        .map_err(svg_err)?;
                }
            }
        }
        if let Some(b) = hours {
            let start = b.start.signed_duration_since(chrono::NaiveTime::MIN);
            let start = start.num_minutes() as f64 / 60.0;
            let end = b.end.map_or(24.0, |e| {
                e.signed_duration_since(chrono::NaiveTime::MIN)
                    .num_minutes() as f64
                    / 60.0
            });
            for d in &b.days {
                let y = *d as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(start - 0.5, y - 0.48), (end - 0.5, y + 0.48)],
                        INK.stroke_width(2),
                    )))
                    .map_err(svg_err)?;
            }
        }
        Ok(())
    })
}

/// Long-lived keys (and their identities) in use per week.
pub fn key_trend(weeks: &[WeekKeys]) -> io::Result<String> {
    let top = weeks.iter().map(|w| w.keys).max().unwrap_or(0).max(1) as f64;
    let n = weeks.len().max(1) as f64;
    svg((960, 260), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..top * 1.15)
            .map_err(svg_err)?;
        let label = at_index(|i| weeks.get(i).map(|w| w.week_start[5..].to_string()));
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(weeks.len().min(26))
            .x_label_formatter(&label)
            .y_desc("in use that week")
            .y_label_formatter(&whole_number)
            .light_line_style(TRANSPARENT)
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .draw()
            .map_err(svg_err)?;
        let keys = FAILURES[0];
        let people = FAILURES[7];
        // Identities first, thinner: where the lines meet, the keys' shows.
        for (colour, width, value) in [
            (
                people,
                2,
                (|w: &WeekKeys| w.identities) as fn(&WeekKeys) -> u64,
            ),
            (keys, 3, |w: &WeekKeys| w.keys),
        ] {
            let points: Vec<(f64, f64)> = weeks
                .iter()
                .enumerate()
                .map(|(i, w)| (i as f64, value(w) as f64))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(width)))
                .map_err(svg_err)?;
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| Circle::new(p, 4, colour.filled())),
                )
                .map_err(svg_err)?;
        }
        Ok(())
    })
}

/// The key trend's line colours (keys, identities), for the legend.
pub fn key_trend_colours() -> [RGBColor; 2] {
    [FAILURES[0], FAILURES[7]]
}
