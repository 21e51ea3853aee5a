use super::*;

fn ranges(text: &str) -> Result<Vec<&str>, Refused> {
    records(text).map(|r| r.elements.into_iter().map(|r| &text[r]).collect())
}

#[test]
fn elements_are_the_records() {
    let text = r#" { "Records" : [ {"a":1,"b":[true,false,null,-0.5e+3]} , {} ,{"s":"x\"y\\\\z\u00e9","o":{"p":[[],{}]}} ] }
"#;
    assert_eq!(
        ranges(text).unwrap(),
        [
            r#"{"a":1,"b":[true,false,null,-0.5e+3]}"#,
            "{}",
            r#"{"s":"x\"y\\\\z\u00e9","o":{"p":[[],{}]}}"#
        ]
    );
    assert_eq!(ranges(r#"{"Records":[]}"#).unwrap(), Vec::<&str>::new());
}

#[test]
fn damage_is_invalid() {
    for bad in [
        r#"{"Records":[{"a":1},]}"#,
        r#"{"Records":[{"a":1}"#,
        r#"{"Records":[{"a" 1}]}"#,
        r#"{"Records":[{"a":01}]}"#,
        r#"{"Records":[{"a":1.}]}"#,
        r#"{"Records":[{"a":tru}]}"#,
        r#"{"Records":[{"a":"\x"}]}"#,
        r#"{"Records":[{"a":"\u12g4"}]}"#,
        "{\"Records\":[{\"a\":\"tab\there\"}]}",
        r#"{"Records":[{"a":"open}]}"#,
        r#"{"Records":[{"a":1}}]}"#,
        r#"{"Records":[{"a":1}]}x"#,
        r#"{"Records":[{"a":1}]} {"Records":[]}"#,
        r#"{"Records":[{"a":1,,"b":2}]}"#,
        r#"{"Records":[{"a":1}] ]"#,
        r#"{"Records":[{"a":-}]}"#,
        r#"{"Records":[{"a":1e}]}"#,
        r#"{"Records":[{"a" : \"x"}]}"#,
    ] {
        // Damage inside the shape is invalid; damage to the shape itself
        // (a missing end) is left to serde. Never accepted.
        assert!(records(bad).is_err(), "{bad}");
    }
}

#[test]
fn other_shapes_are_left_to_serde() {
    for other in [
        r#"{"Records":[{"a":1}],"x":2}"#,
        r#"{"Events":[]}"#,
        r#"{"Records":null}"#,
        r#"{"Records":["a string record"]}"#,
        r#"{"Records":[{"a":1},7]}"#,
        r#"{"Records":[[{"a":1}]]}"#,
        r#"{"R\u0065cords":[]}"#,
        r#"[{"a":1}]"#,
    ] {
        assert_eq!(records(other), Err(Refused::Unsupported), "{other}");
    }
    let deep = format!(r#"{{"Records":[{}{}]}}"#, "[".repeat(600), "]".repeat(600));
    assert_eq!(records(&deep), Err(Refused::Unsupported));
}

#[test]
fn a_list_of_values() {
    let text = r#"{"a":1} , {"b":[2]},{}"#;
    let got: Vec<&str> = values(text)
        .unwrap()
        .elements
        .into_iter()
        .map(|r| &text[r])
        .collect();
    assert_eq!(got, [r#"{"a":1}"#, r#"{"b":[2]}"#, "{}"]);
    // A cut inside a record.
    assert!(values(r#"{"a":1},{"b":"#).is_err());
    assert_eq!(values(r#"{"a":1}},{"b":2}"#), Err(Refused::Invalid));
    assert!(values(r#"{"a":1},,{"b":2}"#).is_err());
    assert!(values(r#"{"a":1}{"b":2}"#).is_err());
}

/// Runs of backslashes and quotes at every offset around the 64-byte
/// block boundaries: escapes that straddle two blocks.
#[test]
fn escapes_across_block_boundaries() {
    for pad in 0..140 {
        for run in 1..6 {
            let slashes = "\\".repeat(run);
            // An even run escapes nothing: the quote after it closes the
            // string. An odd run escapes the quote.
            let body = if run % 2 == 0 {
                format!(r#"{}{slashes}"#, "x".repeat(pad))
            } else {
                format!(r#"{}{slashes}"x"#, "x".repeat(pad))
            };
            let text = format!(r#"{{"Records":[{{"k":"{body}"}},{{"n":2}}]}}"#);
            let expected = serde_json::from_str::<serde_json::Value>(&text).is_ok();
            assert_eq!(
                records(&text).is_ok(),
                expected,
                "pad {pad} run {run}: {text}"
            );
            if expected {
                assert_eq!(records(&text).unwrap().elements.len(), 2);
            }
        }
    }
}

/// Each element is told apart by whether a `\u` escape lies in it: an
/// escaped backslash before a `u` is not one, and an escape is found
/// wherever it falls against the 64-byte blocks.
#[test]
fn unicode_escapes_are_found_per_element() {
    let flags = |text: &str| -> Vec<bool> {
        records(text)
            .unwrap()
            .elements_with_marks()
            .map(|(_, marks)| marks.contains(Mark::UnicodeEscape))
            .collect()
    };
    let text = r#"{"Records":[{"a":"plain"},{"n":"AssumeRoleWith\u0057ebIdentity"},{"b":"C:\\users"},{},{"k":"\u0041KIA","l":"\u00e9"}]}"#;
    assert_eq!(flags(text), [false, true, false, false, true]);
    let scanned = records(text).unwrap();
    assert_eq!(scanned.marks.len(), 3);
    for (at, mark) in &scanned.marks {
        assert_eq!(*mark, Mark::UnicodeEscape);
        assert_eq!(&text[*at..at + 2], "\\u");
    }
    for pad in 0..140 {
        let text = format!(
            r#"{{"Records":[{{"a":"{}"}},{{"k":"{}\u0041"}},{{"z":"\\u"}}]}}"#,
            "x".repeat(pad),
            "y".repeat(pad % 7)
        );
        assert_eq!(flags(&text), [false, true, false], "pad {pad}: {text}");
    }
}

/// Each implementation this processor has scans alike: the same elements,
/// escapes and verdicts (they differ in how they classify bytes and in how
/// they take prefix XORs).
#[test]
fn every_implementation_scans_alike() {
    let mut texts: Vec<String> = vec![
        r#" { "Records" : [ {"a":1,"b":[true,false,null,-0.5e+3]} , {} ,{"s":"x\"y\\\\z\u00e9","o":{"p":[[],{}]}} ] }"#.into(),
        r#"{"Records":[{"a":"\x"}]}"#.into(),
        r#"{"Records":[{"a":1}}]}"#.into(),
        r#"{"Records":[{"a":1},7]}"#.into(),
        "{\"Records\":[{\"a\":\"tab\there\"}]}".into(),
    ];
    for pad in 0..140 {
        for run in 1..4 {
            texts.push(format!(
                r#"{{"Records":[{{"k":"{}{}"x","u":"\u0041"}},{{"n":[{{"m":{pad}}}]}}]}}"#,
                "x".repeat(pad),
                "\\".repeat(run)
            ));
        }
    }
    for text in &texts {
        for mode in [Mode::Records, Mode::List] {
            // Valid and damaged texts alike: only the agreement counts.
            let _ = judged_alike(text, mode);
        }
    }
}

/// What every implementation this processor has makes of `text`, held to
/// the portable one's answer; a text it accepts must be one serde_json
/// accepts (a list inside brackets).
fn judged_alike(text: &str, mode: Mode) -> Result<Scanned, Refused> {
    let expected = scan(text.as_bytes(), mode, Kind::Portable);
    for kind in Kind::available() {
        assert_eq!(
            scan(text.as_bytes(), mode, kind),
            expected,
            "{kind:?} {mode:?}: {text}"
        );
    }
    if expected.is_ok() {
        let whole = match mode {
            Mode::List => format!("[{text}]"),
            Mode::Records => text.to_owned(),
        };
        assert!(
            serde_json::from_str::<serde_json::Value>(&whole).is_ok(),
            "{mode:?} accepted what serde_json rejects: {text}"
        );
    }
    expected
}

/// The tokens the grammar tests put together.
const TOKENS: [&str; 9] = ["{", "}", "[", "]", ":", ",", r#""k""#, "1", "null"];

/// The strings that start a name a report keeps are marked in the element
/// they lie in, keys and values alike, wherever they fall against the
/// 64-byte blocks; an escaped quote does not start a string, and the event
/// name must be the whole string.
#[test]
fn names_a_report_keeps_are_marked_per_element() {
    let marks = |text: &str| -> Vec<Vec<Mark>> {
        records(text)
            .unwrap()
            .elements_with_marks()
            .map(|(_, set)| {
                [Mark::UnicodeEscape, Mark::LongLivedKey, Mark::WebIdentity]
                    .into_iter()
                    .filter(|m| set.contains(*m))
                    .collect()
            })
            .collect()
    };
    let text = r#"{"Records":[{"k":"AKIAX"},{"AKIA":1},{"n":"AssumeRoleWithWebIdentity"},{"n":"AssumeRoleWithWebIdentityX","a":"xAKIA"},{"s":"\"AKIA"},{"n":"AssumeRole","a":"ASIA"},{"u":"\u0041KIA","k":"AKIA"}]}"#;
    use Mark::*;
    assert_eq!(
        marks(text),
        [
            vec![LongLivedKey],
            vec![LongLivedKey],
            vec![WebIdentity],
            vec![],
            vec![],
            vec![],
            vec![UnicodeEscape, LongLivedKey],
        ]
    );
    for pad in 0..140 {
        let text = format!(
            r#"{{"Records":[{{"a":"{}"}},{{"k":"AKIAQ","n":"AssumeRoleWithWebIdentity"}},{{"z":"A"}}]}}"#,
            "x".repeat(pad),
        );
        assert_eq!(
            marks(&text),
            [vec![], vec![LongLivedKey, WebIdentity], vec![]],
            "pad {pad}: {text}"
        );
        let scanned = records(&text).unwrap();
        for (at, mark) in &scanned.marks {
            let name = if *mark == LongLivedKey {
                "AKIA"
            } else {
                "Assume"
            };
            assert!(text[*at..].starts_with(name), "pad {pad}: {mark:?} at {at}");
            assert_eq!(&text[at - 1..*at], "\"");
        }
    }
}

/// Every sequence of up to five tokens, inside a record and on its own,
/// at the start of a block and across a block's edge: every
/// implementation gives the same verdict, and none accepts what serde_json
/// rejects. The grammar has one rule per pair of tokens (and one for
/// keys, two back), so short sequences meet every rule and every way to
/// break it.
#[test]
fn every_short_token_sequence_is_judged_alike() {
    let mut sequences = vec![String::new()];
    let mut all = Vec::new();
    for _ in 0..5 {
        sequences = sequences
            .iter()
            .flat_map(|s| TOKENS.iter().map(move |t| format!("{s}{t}")))
            .collect();
        all.extend(sequences.iter().cloned());
    }
    let (mut accepted, mut checked) = (0, 0);
    for seq in &all {
        for pad in [0, 60] {
            let inner = format!("{}{seq}", " ".repeat(pad));
            let record = format!(r#"{{"Records":[{{"a":{inner}}}]}}"#);
            for (text, mode) in [(&inner, Mode::List), (&record, Mode::Records)] {
                accepted += usize::from(judged_alike(text, mode).is_ok());
                checked += 1;
            }
        }
    }
    // Not a grammar that refuses everything.
    assert!(accepted > 100, "{accepted} of {checked} accepted");
}

/// Random well-formed values, as tokens, with one token replaced, inserted
/// or removed in most of them: longer than the exhaustive sequences, so
/// that a broken rule has room to be followed by an otherwise valid rest
/// (`{"k","k":1}`). Every implementation agrees, and none accepts what
/// serde_json rejects.
#[test]
fn mutated_token_sequences_are_judged_alike() {
    fn value(rng: &mut crate::test_rng::XorShift, depth: u32, out: &mut Vec<&'static str>) {
        let n = rng.next() % 3;
        match rng.next() % if depth == 0 { 2 } else { 4 } {
            0 => out.push(r#""v""#),
            1 => out.push("2"),
            2 => {
                out.push("[");
                for i in 0..n {
                    if i > 0 {
                        out.push(",");
                    }
                    value(rng, depth - 1, out);
                }
                out.push("]");
            }
            _ => {
                out.push("{");
                for i in 0..n {
                    if i > 0 {
                        out.push(",");
                    }
                    out.extend([r#""k""#, ":"]);
                    value(rng, depth - 1, out);
                }
                out.push("}");
            }
        }
    }
    let mut rng = crate::test_rng::XorShift::new(0x2545_f491_4f6c_dd1d);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..20_000 {
        let mut tokens = Vec::new();
        value(&mut rng, 3, &mut tokens);
        let at = (rng.next() % (tokens.len() as u64 + 1)) as usize;
        match rng.next() % 4 {
            0 => {}
            1 if at < tokens.len() => tokens[at] = rng.pick(&TOKENS),
            2 => tokens.insert(at, rng.pick(&TOKENS)),
            _ if at < tokens.len() => {
                tokens.remove(at);
            }
            _ => {}
        }
        let pad = " ".repeat((rng.next() % 64) as usize);
        let text = format!(r#"{{"Records":[{pad}{{"a":{}}}]}}"#, tokens.join(""));
        if judged_alike(&text, Mode::Records).is_ok() {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(
        accepted > 1000 && rejected > 1000,
        "{accepted} accepted, {rejected} rejected"
    );
}
