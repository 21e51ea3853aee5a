//! One DataFrame cell as text or JSON: times as RFC 3339 UTC, lists joined.

use polars::prelude::*;

use crate::time::format_millis;

/// How many list items a text cell shows before `(+N more)`.
const LIST_ITEMS_SHOWN: usize = 5;

/// How many characters of one list item a text cell shows.
const LIST_ITEM_CHARS: usize = 72;

fn shorten(s: String) -> String {
    match s.char_indices().nth(LIST_ITEM_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

fn datetime_millis(v: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
        TimeUnit::Microseconds => v.div_euclid(1_000),
        TimeUnit::Milliseconds => v,
    }
}

/// The non-null items of a list cell, as text.
fn list_items(s: &Series) -> Vec<String> {
    (0..s.len())
        .filter_map(|i| s.get(i).ok().filter(|v| !v.is_null()))
        .map(|v| cell_text(&v))
        .collect()
}

/// A cell for a table a person reads: long lists are cut to their first
/// items (each shortened) and `(+N more)`, joined by `sep`; the text of
/// each item passes through `escape` (the format's escaping) before the
/// separators are added.
pub fn cell_display(v: &AnyValue<'_>, sep: &str, escape: impl Fn(&str) -> String) -> String {
    match v {
        AnyValue::List(s) => {
            let items = list_items(s);
            let mut shown: Vec<String> = items
                .iter()
                .take(LIST_ITEMS_SHOWN)
                .cloned()
                .map(shorten)
                .map(|item| escape(&item))
                .collect();
            if items.len() > LIST_ITEMS_SHOWN {
                shown.push(format!("(+{} more)", items.len() - LIST_ITEMS_SHOWN));
            }
            shown.join(sep)
        }
        other => escape(&cell_text(other)),
    }
}

/// A cell as text, complete; null is empty, lists are joined by `, `.
pub fn cell_text(v: &AnyValue<'_>) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::Datetime(t, unit, _) => format_millis(datetime_millis(*t, *unit)),
        AnyValue::DatetimeOwned(t, unit, _) => format_millis(datetime_millis(*t, *unit)),
        AnyValue::List(s) => list_items(s).join(", "),
        other => other.to_string(),
    }
}

/// A cell as JSON: numbers stay numbers, times become RFC 3339 strings,
/// lists arrays of their non-null items. Serialized straight from the cell,
/// strings borrowed (a finding's JSON is most of a large report's output).
pub struct JsonCell<'a>(pub AnyValue<'a>);

impl serde::Serialize for JsonCell<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            AnyValue::Null => s.serialize_unit(),
            AnyValue::Boolean(b) => s.serialize_bool(*b),
            AnyValue::String(v) => s.serialize_str(v),
            AnyValue::StringOwned(v) => s.serialize_str(v),
            AnyValue::UInt8(n) => s.serialize_u8(*n),
            AnyValue::UInt16(n) => s.serialize_u16(*n),
            AnyValue::UInt32(n) => s.serialize_u32(*n),
            AnyValue::UInt64(n) => s.serialize_u64(*n),
            AnyValue::Int8(n) => s.serialize_i8(*n),
            AnyValue::Int16(n) => s.serialize_i16(*n),
            AnyValue::Int32(n) => s.serialize_i32(*n),
            AnyValue::Int64(n) => s.serialize_i64(*n),
            AnyValue::Float32(n) => s.serialize_f32(*n),
            AnyValue::Float64(n) => s.serialize_f64(*n),
            AnyValue::Datetime(..) | AnyValue::DatetimeOwned(..) => {
                s.serialize_str(&cell_text(&self.0))
            }
            AnyValue::List(items) => s.collect_seq(
                (0..items.len())
                    .filter_map(|i| items.get(i).ok().filter(|v| !v.is_null()))
                    .map(JsonCell),
            ),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn cell_json(v: &AnyValue<'_>) -> Value {
        serde_json::to_value(JsonCell(v.clone())).unwrap()
    }

    #[test]
    fn times_and_lists() {
        let t = AnyValue::Datetime(1_763_000_000_000, TimeUnit::Milliseconds, None);
        assert_eq!(cell_text(&t), "2025-11-13T02:13:20Z");
        assert_eq!(cell_json(&t), json!("2025-11-13T02:13:20Z"));
        let s = Series::new("x".into(), ["a", "b", "c", "d", "e", "f", "g"]);
        let same = |s: &str| s.to_string();
        assert_eq!(
            cell_display(&AnyValue::List(s.clone()), ", ", same),
            "a, b, c, d, e, (+2 more)"
        );
        assert_eq!(cell_text(&AnyValue::List(s.clone())), "a, b, c, d, e, f, g");
        let long = Series::new("x".into(), ["x".repeat(100)]);
        assert_eq!(
            cell_display(&AnyValue::List(long), "\n", same)
                .chars()
                .count(),
            LIST_ITEM_CHARS + 1
        );
        assert_eq!(cell_json(&AnyValue::List(s)).as_array().unwrap().len(), 7);
        assert_eq!(cell_text(&AnyValue::Null), "");
        assert_eq!(cell_json(&AnyValue::UInt32(3)), json!(3));
        let with_null = Series::new("x".into(), [Some("a"), None]);
        assert_eq!(cell_text(&AnyValue::List(with_null.clone())), "a");
        assert_eq!(cell_json(&AnyValue::List(with_null)), json!(["a"]));
    }
}
