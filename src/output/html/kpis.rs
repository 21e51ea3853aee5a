//! The KPI sections of the page: the headline figures beside the previous
//! period's, assumptions per day, success rates, the peak-usage heat map,
//! the inventory, the long-lived keys and their weekly trend, and where
//! callers came from. Each figure carries a `data-*` attribute with its
//! number, so a test can compare the page with the JSON.

use std::collections::HashMap;
use std::io;

use maud::{Markup, PreEscaped, html};

use super::{charts, text};
use crate::kpi::{Rate, Summary};
use crate::policy::BusinessHours;

/// A previous period's counts by row.
type Counts<K> = HashMap<K, u64>;
/// Role, repository, kind and ref or environment.
type InventoryRow<'a> = (&'a str, &'a str, &'a str, &'a str);
/// Network class, ASN and country.
type OriginRow<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

pub(super) fn sections(sum: &Summary, hours: Option<&BusinessHours>) -> io::Result<Markup> {
    let s = &sum.stats;
    let per_day = charts::per_day(s)?;
    let heat = charts::heat_map(s, hours)?;
    let trend = (!sum.key_trend.is_empty())
        .then(|| charts::key_trend(&sum.key_trend))
        .transpose()?;
    let previous = sum.previous.as_ref().map(|p| &p.stats);
    // The previous period's counts, looked up per row.
    let inventory_before: Option<Counts<InventoryRow>> = previous.map(|p| {
        p.inventory
            .iter()
            .map(|b| {
                (
                    (
                        b.role_arn.as_str(),
                        b.repository.as_str(),
                        b.kind.as_str(),
                        b.context.as_str(),
                    ),
                    b.count,
                )
            })
            .collect()
    });
    let keys_before: Option<HashMap<(&str, &str), u64>> = previous.map(|p| {
        p.long_lived_keys
            .iter()
            .map(|b| ((b.identity.as_str(), b.access_key_id.as_str()), b.calls))
            .collect()
    });
    Ok(html! {
        section #headline {
            h2 { "Key figures" }
            @match &sum.previous {
                Some(p) => p.note { "Beside each: the previous period of the same length, " (&p.since[..10]) " to " (&p.until[..10]) "." }
                None => {}
            }
            (headline(sum))
            @if let Some(note) = &sum.previous_note { p.note data-note="previous" { (text(note)) } }
        }
        section #per-day {
            h2 { "Role assumptions per day, by outcome" }
            @if s.assumptions == 0 {
                p.note { "No AssumeRoleWithWebIdentity calls in the window." }
            } @else {
                figure.chart data-chart="per-day" {
                    (PreEscaped(per_day))
                    figcaption { "Each bar is a day (UTC), stacked by outcome." }
                }
                ul.legend {
                    @for (outcome, colour) in charts::outcome_colours(s) {
                        li { (swatch(&charts::hex(colour))) (text(&outcome)) }
                    }
                }
                details {
                    summary { "The numbers" }
                    div.scroll { table.sortable data-table="per-day" {
                        thead { tr { th { "day" } th { "outcome" } th.num { "count" } } }
                        tbody { @for d in &s.per_day {
                            tr { td.nowrap { (d.day) } td { (text(&d.outcome)) } td.num { (d.count) } }
                        } }
                    } }
                }
            }
        }
        section #rates {
            h2 { "Success rate per repository and per workflow" }
            p.note { "A workflow is its job_workflow_ref where the token carries it, else the role session name." }
            h3 { "Per repository" }
            (rates(&s.by_repository, previous.map(|p| &p.by_repository), "by-repository"))
            h3 { "Per workflow" }
            (rates(&s.by_workflow, previous.map(|p| &p.by_workflow), "by-workflow"))
        }
        section #peak {
            h2 { "Peak usage" }
            p.note {
                "Role assumptions by weekday and hour, in " (s.peak_hours.timezone) ". "
                @if hours.is_some() { "Business hours, as the policy sets them, are outlined." }
                @else { "No business hours in the policy: none outlined." }
            }
            figure.chart data-chart="peak-hours" { (PreEscaped(heat)) }
        }
        section #inventory {
            h2 { "Inventory: which repositories assumed which roles" }
            p.note { "Successful assumptions, by role, repository and ref or environment. \"Policy allows\" is the ctaudit policy's verdict on the subject for that role." }
            @if s.inventory.is_empty() { p.note { "No successful role assumptions from GitHub in the window." } }
            @else {
                div.scroll { table.sortable data-table="inventory" {
                    thead { tr { th { "role" } th { "repository" } th { "kind" } th { "ref or environment" } th.num { "count" } th { "last seen" } th { "policy allows" }
                        @if inventory_before.is_some() { th.num { "previous count" } } } }
                    tbody { @for i in &s.inventory {
                        tr {
                            td { (text(&i.role_arn)) } td { (text(&i.repository)) } td.nowrap { (text(&i.kind)) }
                            td { (text(&i.context)) } td.num { (i.count) } td.nowrap { (i.last_seen) }
                            @match i.allowed {
                                Some(true) => td.yes data-allowed="yes" { "yes" },
                                Some(false) => td.no data-allowed="no" { "no" },
                                None => td.muted { "no policy roles" },
                            }
                            @if let Some(b) = &inventory_before {
                                (before(b.get(&(i.role_arn.as_str(), i.repository.as_str(), i.kind.as_str(), i.context.as_str())).copied()))
                            }
                        }
                    } }
                } }
            }
        }
        section #keys {
            h2 { "Long-lived keys" }
            @if s.long_lived_keys.is_empty() { p { "No long-lived (AKIA\u{2026}) keys used in the window." } }
            @else {
                p { (s.long_lived_keys.len()) " long-lived keys used in the window, by identity:" }
                div.scroll { table.sortable data-table="long-lived-keys" {
                    thead { tr { th { "identity" } th { "access key" } th.num { "calls" } th { "last used" } th { "CI" }
                        @if keys_before.is_some() { th.num { "previous calls" } } } }
                    tbody { @for k in &s.long_lived_keys {
                        tr {
                            td { (text(&k.identity)) } td { code { (text(&k.access_key_id)) } }
                            td.num { (k.calls) } td.nowrap { (k.last_used) }
                            td { (k.ci.unwrap_or("no sign of CI")) }
                            @if let Some(b) = &keys_before {
                                (before(b.get(&(k.identity.as_str(), k.access_key_id.as_str())).copied()))
                            }
                        }
                    } }
                } }
            }
            h3 { "Keys in use per week" }
            p.note { "From " (text(&sum.key_trend_source)) "." }
            @if let (Some(first), Some(last)) = (sum.key_trend.first(), sum.key_trend.last()) {
                @if sum.key_trend.len() > 1 {
                    p data-trend-first=(first.keys) data-trend-last=(last.keys) {
                        b { (first.keys) } " long-lived keys in use " (sum.key_trend.len() - 1) " weeks ago, "
                        b { (last.keys) } " in the last week."
                    }
                }
            }
            @if let Some(svg) = trend {
                figure.chart data-chart="key-trend" { (PreEscaped(svg)) }
                @let [k, i] = charts::key_trend_colours();
                ul.legend {
                    li { (swatch(&charts::hex(k))) "keys" }
                    li { (swatch(&charts::hex(i))) "identities using them" }
                }
                details {
                    summary { "The numbers" }
                    div.scroll { table.sortable data-table="key-trend" {
                        thead { tr { th { "week from" } th.num { "keys" } th.num { "identities" } th.num { "calls" } th { "partial week" } } }
                        tbody { @for w in &sum.key_trend {
                            tr { td.nowrap { (w.week_start) } td.num { (w.keys) } td.num { (w.identities) } td.num { (w.calls) }
                                 td { @if w.partial { "yes: the data begins inside it" } } }
                        } }
                    } }
                }
            }
        }
        (origins(sum))
    })
}

/// A previous period's count, or `new` when it had none.
fn before(count: Option<u64>) -> Markup {
    match count {
        Some(n) => html! { td.num { (n) } },
        None => html! { td.num.muted data-v="0" { "new" } },
    }
}

/// A small square of `colour` for a legend (an SVG attribute, not a style,
/// so the page's policy needs no `unsafe-inline`).
fn swatch(colour: &str) -> Markup {
    html! {
        svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" {
            rect width="12" height="12" rx="2" fill=(colour) {}
        }
    }
}

fn headline(sum: &Summary) -> Markup {
    let now = sum.headline.figures();
    let before = sum.previous.as_ref().map(|p| p.headline.figures());
    html! {
        div.kpis {
            @for (i, f) in now.iter().enumerate() {
                div.kpi data-kpi=(f.name) data-value=(f.value) {
                    span.value { (f.show()) }
                    span.label { (f.name) }
                    @if let Some(b) = before.as_ref().and_then(|b| b.get(i)) {
                        @let class = match f.improved_from(b) { Some(true) => "good", Some(false) => "bad", None => "" };
                        span.prev data-previous=(b.value) {
                            "previous " (b.show()) ", " span class=(class) { (f.change_from(b)) }
                        }
                    }
                }
            }
        }
    }
}

fn rates(now: &[Rate], before: Option<&Vec<Rate>>, name: &str) -> Markup {
    if now.is_empty() {
        return html! { p.note { "No role assumptions in the window." } };
    }
    let before: Option<HashMap<&str, &Rate>> =
        before.map(|b| b.iter().map(|r| (r.name.as_str(), r)).collect());
    html! {
        div.scroll { table.sortable data-table=(name) {
            thead { tr {
                th { "name" } th.num { "calls" } th.num { "succeeded" } th.num { "failed" } th { "success rate" }
                @if before.is_some() { th.num { "previous calls" } th { "previous rate" } }
            } }
            tbody { @for r in now {
                tr {
                    td { (text(&r.name)) } td.num { (r.success + r.failed) } td.num { (r.success) } td.num { (r.failed) }
                    td data-v=(r.success_rate) {
                        meter min="0" max="1" low="0.9" optimum="1" value=(r.success_rate) {}
                        (format!("{:.1} %", r.success_rate * 100.0))
                    }
                    @if let Some(b) = &before {
                        @match b.get(r.name.as_str()) {
                            Some(p) => { td.num { (p.success + p.failed) } td data-v=(p.success_rate) { (format!("{:.1} %", p.success_rate * 100.0)) } }
                            None => { td.num data-v="0" { "0" } td.muted { "new" } }
                        }
                    }
                }
            } }
        } }
    }
}

fn origins(sum: &Summary) -> Markup {
    let o = &sum.stats.origins;
    let previous: Option<Counts<OriginRow>> = sum.previous.as_ref().map(|p| {
        p.stats
            .origins
            .iter()
            .map(|b| {
                (
                    (b.network.as_str(), b.asn.as_deref(), b.country.as_deref()),
                    b.calls,
                )
            })
            .collect()
    });
    let geo = o.iter().any(|o| o.asn.is_some() || o.country.is_some());
    html! {
        section #origins {
            h2 { "Where callers came from" }
            p.note { "Role assumptions and long-lived-key calls by the source address's network class, autonomous system and country." }
            @if !geo {
                p.note data-note="geoip" { "No autonomous system or country: give a GeoIP database (--geoip, see the README) to add them." }
            }
            @if o.is_empty() { p.note { "No calls in the window." } }
            @else {
                div.scroll { table.sortable data-table="origins" {
                    thead { tr { th { "network" } th { "ASN" } th { "AS organisation" } th { "country" } th.num { "calls" }
                        @if previous.is_some() { th.num { "previous calls" } } } }
                    tbody { @for x in o {
                        tr {
                            td { (text(&x.network)) } td { (text(x.asn.as_deref().unwrap_or(""))) }
                            td { (text(x.as_org.as_deref().unwrap_or(""))) } td { (text(x.country.as_deref().unwrap_or(""))) }
                            td.num { (x.calls) }
                            @if let Some(b) = &previous {
                                (before(b.get(&(x.network.as_str(), x.asn.as_deref(), x.country.as_deref())).copied()))
                            }
                        }
                    } }
                } }
            }
        }
    }
}
