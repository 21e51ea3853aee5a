//! Turns a file's bytes into UTF-8 JSON text the parser accepts, repairing
//! what an attacker (or a Windows tool) can put there to make a record
//! vanish: a byte-order mark, UTF-16 or UTF-32 text, and lone surrogate
//! escapes (`\ud800`, `\udc00`), which serde_json refuses and which would
//! otherwise hide the record holding them.
//!
//! Nothing is dropped here: invalid UTF-8, undecodable code units and lone
//! surrogates become U+FFFD and are counted, so the summary says that
//! strings were repaired. (Left in place, invalid UTF-8 would hide records
//! from one reader and not another: a full parse skips it inside fields it
//! ignores, a record-by-record one cannot.) This module does not parse JSON.

use std::borrow::Cow;

/// What [`decode`] did to a file's bytes.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The text to parse, valid UTF-8: the input itself where nothing
    /// needed doing.
    pub text: Cow<'a, str>,
    /// The encoding transcoded from, when it was not UTF-8.
    pub transcoded_from: Option<&'static str>,
    /// Code units and escapes replaced by U+FFFD.
    pub repaired: u64,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Strips a UTF-8 byte-order mark, transcodes UTF-16 and UTF-32 (with a
/// byte-order mark, or UTF-16 recognised by the NUL bytes of its first
/// `{` or `[`), then repairs lone surrogate escapes.
pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let (text, transcoded_from, mut repaired): (Cow<'_, str>, _, u64) = match Encoding::sniff(bytes)
    {
        Some((enc, bom)) => {
            let (s, bad) = enc.to_utf8(&bytes[bom..]);
            (Cow::Owned(s), Some(enc.name()), bad)
        }
        None => {
            let raw = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
            match simdutf8::basic::from_utf8(raw) {
                Ok(text) => (Cow::Borrowed(text), None, 0),
                Err(_) => {
                    let bad = raw
                        .utf8_chunks()
                        .filter(|c| !c.invalid().is_empty())
                        .count() as u64;
                    (
                        Cow::Owned(String::from_utf8_lossy(raw).into_owned()),
                        None,
                        bad,
                    )
                }
            }
        }
    };
    // Escapes are ASCII and so are their replacements: the text stays UTF-8.
    let text = match text {
        Cow::Borrowed(t) => match repair_surrogate_escapes(t.as_bytes()) {
            (Cow::Borrowed(_), _) => Cow::Borrowed(t),
            (Cow::Owned(v), n) => {
                repaired += n;
                Cow::Owned(String::from_utf8(v).expect("ASCII replaced by ASCII"))
            }
        },
        Cow::Owned(t) => {
            let mut v = t.into_bytes();
            repaired += repair_in_place(&mut v);
            Cow::Owned(String::from_utf8(v).expect("ASCII replaced by ASCII"))
        }
    };
    Decoded {
        text,
        transcoded_from,
        repaired,
    }
}

/// The first bytes of a file as they read once decoded: what sniffing a
/// file's kind should look at (a BOM or UTF-16 must not hide a log).
pub fn head_text(head: &[u8]) -> Cow<'_, [u8]> {
    match Encoding::sniff(head) {
        // A cut in the middle of a code unit only spoils the last character.
        Some((enc, bom)) => Cow::Owned(enc.to_utf8(&head[bom..]).0.into_bytes()),
        None => Cow::Borrowed(head.strip_prefix(UTF8_BOM).unwrap_or(head)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl Encoding {
    /// The encoding of `bytes` and the length of its byte-order mark, when
    /// it is not UTF-8.
    fn sniff(bytes: &[u8]) -> Option<(Encoding, usize)> {
        // UTF-32 first: its little-endian mark starts like UTF-16's.
        match bytes {
            [0xFF, 0xFE, 0, 0, ..] => Some((Encoding::Utf32Le, 4)),
            [0, 0, 0xFE, 0xFF, ..] => Some((Encoding::Utf32Be, 4)),
            [0xFF, 0xFE, ..] => Some((Encoding::Utf16Le, 2)),
            [0xFE, 0xFF, ..] => Some((Encoding::Utf16Be, 2)),
            // No mark: JSON's first character is ASCII, so NUL bytes beside
            // it give UTF-16 away.
            [b'{' | b'[', 0, c, 0, ..] if *c != 0 => Some((Encoding::Utf16Le, 0)),
            [0, b'{' | b'[', 0, c, ..] if *c != 0 => Some((Encoding::Utf16Be, 0)),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Utf32Le => "UTF-32LE",
            Encoding::Utf32Be => "UTF-32BE",
        }
    }

    /// The text as UTF-8, and how many code units could not be decoded
    /// (each became U+FFFD; an odd trailing byte counts as one).
    fn to_utf8(self, bytes: &[u8]) -> (String, u64) {
        let mut out = String::with_capacity(bytes.len());
        let mut bad = 0u64;
        let mut push = |c: Option<char>| match c {
            Some(c) => out.push(c),
            None => {
                bad += 1;
                out.push(char::REPLACEMENT_CHARACTER);
            }
        };
        match self {
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let le = self == Encoding::Utf16Le;
                let units = bytes.chunks_exact(2).map(|c| {
                    let pair = [c[0], c[1]];
                    if le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }
                });
                for c in char::decode_utf16(units) {
                    push(c.ok());
                }
                if bytes.len() % 2 == 1 {
                    push(None);
                }
            }
            Encoding::Utf32Le | Encoding::Utf32Be => {
                let le = self == Encoding::Utf32Le;
                for c in bytes.chunks_exact(4) {
                    let unit = [c[0], c[1], c[2], c[3]];
                    let v = if le {
                        u32::from_le_bytes(unit)
                    } else {
                        u32::from_be_bytes(unit)
                    };
                    push(char::from_u32(v));
                }
                if !bytes.len().is_multiple_of(4) {
                    push(None);
                }
            }
        }
        (out, bad)
    }
}

/// `text` with every lone surrogate escape (`\uD800`–`\uDFFF` not part of
/// a high-low pair) replaced by `\uFFFD`, and how many were replaced. The
/// replacement has the escape's length, so positions in the text (line and
/// column of later errors) do not move. Borrowed when there is nothing to
/// repair, which is nearly always.
pub fn repair_surrogate_escapes(text: &[u8]) -> (Cow<'_, [u8]>, u64) {
    if lone_surrogates(text).next().is_none() {
        return (Cow::Borrowed(text), 0);
    }
    let mut owned = text.to_vec();
    let n = repair_in_place(&mut owned);
    (Cow::Owned(owned), n)
}

/// [`repair_surrogate_escapes`] on a buffer of our own.
fn repair_in_place(text: &mut [u8]) -> u64 {
    let at: Vec<usize> = lone_surrogates(text).collect();
    for &i in &at {
        text[i..i + 6].copy_from_slice(b"\\uFFFD");
    }
    at.len() as u64
}

/// Where each lone surrogate escape starts (its backslash).
///
/// Looks for backslashes, then at the byte after each: most files have
/// none, and `memchr` for one byte costs less than a search for the two
/// (on 200 k events, `decode` took 64 M instructions instead of 105 M, of
/// `report`'s 3,336 M).
fn lone_surrogates(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(found) = memchr::memchr(b'\\', &text[from..]) {
            let at = from + found;
            if text.get(at + 1) != Some(&b'u') {
                from = at + 1;
                continue;
            }
            from = at + 2;
            // A backslash escaped by another (`\\u`) starts no escape.
            let before = text[..at].iter().rev().take_while(|&&b| b == b'\\').count();
            if before % 2 == 1 {
                continue;
            }
            match surrogate(text, at) {
                Some(Surrogate::High) => {
                    if surrogate(text, at + 6) == Some(Surrogate::Low) {
                        from = at + 12;
                    } else {
                        return Some(at);
                    }
                }
                Some(Surrogate::Low) => return Some(at),
                None => {}
            }
        }
        None
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Surrogate {
    High,
    Low,
}

/// Whether the `\uXXXX` escape at `at` is a surrogate, and which half.
fn surrogate(text: &[u8], at: usize) -> Option<Surrogate> {
    let esc = text.get(at..at + 6)?;
    if &esc[..2] != b"\\u" || !esc[2..].iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let hex = std::str::from_utf8(&esc[2..]).ok()?;
    match u16::from_str_radix(hex, 16).ok()? {
        0xD800..=0xDBFF => Some(Surrogate::High),
        0xDC00..=0xDFFF => Some(Surrogate::Low),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repaired(s: &str) -> (String, u64) {
        let (b, n) = repair_surrogate_escapes(s.as_bytes());
        (String::from_utf8(b.into_owned()).unwrap(), n)
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        assert_eq!(repaired(r#""a\udc00b""#), (r#""a\uFFFDb""#.into(), 1));
        assert_eq!(repaired(r#""\ud800""#), (r#""\uFFFD""#.into(), 1));
        assert_eq!(
            repaired(r#""\uD800\u0041""#),
            (r#""\uFFFD\u0041""#.into(), 1)
        );
        // A high surrogate followed by another high one: both lone.
        assert_eq!(
            repaired(r#""\ud800\ud800""#),
            (r#""\uFFFD\uFFFD""#.into(), 2)
        );
        // A valid pair, an escaped backslash, other escapes: untouched.
        for ok in [
            r#""\ud83d\ude00""#,
            r#""\\udc00""#,
            r#""\\\\ud800""#,
            r#""\u0041\u00e9""#,
            r#""\ud83d\uDE00 \udbff\udfff""#,
        ] {
            let (b, n) = repair_surrogate_escapes(ok.as_bytes());
            assert!(matches!(b, Cow::Borrowed(_)) && n == 0, "{ok}");
        }
        // An escaped backslash, then a real escape.
        assert_eq!(repaired(r#""\\\udc00""#), (r#""\\\uFFFD""#.into(), 1));
        // Every repaired text parses.
        let (text, _) = repaired(r#"{"userAgent":"x\udc00\ud800y\ud800"}"#);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["userAgent"], "x\u{fffd}\u{fffd}y\u{fffd}");
    }

    /// The search by backslash finds what a search for `\u` found (the
    /// way it was written before), on random runs of backslashes, `u`,
    /// surrogate halves and other escapes.
    #[test]
    fn searching_by_backslash_finds_what_searching_for_escapes_did() {
        fn by_escape(text: &[u8]) -> Vec<usize> {
            let escape = memchr::memmem::Finder::new(b"\\u");
            let (mut from, mut out) = (0, Vec::new());
            while let Some(found) = escape.find(&text[from..]) {
                let at = from + found;
                from = at + 2;
                let before = text[..at].iter().rev().take_while(|&&b| b == b'\\').count();
                if before % 2 == 1 {
                    continue;
                }
                match surrogate(text, at) {
                    Some(Surrogate::High) if surrogate(text, at + 6) == Some(Surrogate::Low) => {
                        from = at + 12
                    }
                    Some(_) => out.push(at),
                    None => {}
                }
            }
            out
        }
        let pieces: [&[u8]; 10] = [
            b"\\", b"u", b"\\u", b"d800", b"DC00", b"dbff", b"0041", b"x", b"\"", b"\\\\u",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut found = 0;
        for _ in 0..20_000 {
            let mut text = Vec::new();
            for _ in 0..8 {
                text.extend_from_slice(rng.pick(&pieces));
            }
            let expected = by_escape(&text);
            found += expected.len();
            assert_eq!(
                lone_surrogates(&text).collect::<Vec<_>>(),
                expected,
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
        assert!(found > 1000, "only {found} lone surrogates");
    }

    #[test]
    fn byte_order_marks_and_wide_encodings() {
        let json = r#"{"Records":[{"eventName":"Aé😀"}]}"#;
        let mut bom8 = UTF8_BOM.to_vec();
        bom8.extend_from_slice(json.as_bytes());
        let d = decode(&bom8);
        assert_eq!(&*d.text, json);
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!((d.transcoded_from, d.repaired), (None, 0));

        let utf16 = |le: bool, bom: bool| -> Vec<u8> {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice(if le { &[0xFF, 0xFE] } else { &[0xFE, 0xFF] });
            }
            for u in json.encode_utf16() {
                out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            out
        };
        for (le, bom, name) in [
            (true, true, "UTF-16LE"),
            (false, true, "UTF-16BE"),
            (true, false, "UTF-16LE"),
            (false, false, "UTF-16BE"),
        ] {
            let bytes = utf16(le, bom);
            let d = decode(&bytes);
            assert_eq!(&*d.text, json, "{name}");
            assert_eq!(d.transcoded_from, Some(name));
        }
        for le in [true, false] {
            let mut out: Vec<u8> = if le {
                vec![0xFF, 0xFE, 0, 0]
            } else {
                vec![0, 0, 0xFE, 0xFF]
            };
            for c in json.chars() {
                let c = c as u32;
                out.extend_from_slice(&if le { c.to_le_bytes() } else { c.to_be_bytes() });
            }
            let d = decode(&out);
            assert_eq!(&*d.text, json);
            assert_eq!(d.repaired, 0);
        }
        // A lone surrogate code unit in UTF-16 is repaired and counted.
        let mut bad = utf16(true, true);
        bad.splice(4..4, [0x00, 0xDC]);
        let d = decode(&bad);
        assert_eq!(d.repaired, 1);
        assert!(d.text.contains('\u{fffd}'));
        assert_eq!(&*head_text(&utf16(true, true)[..8]), b"{\"R");
        // Invalid UTF-8 is replaced and counted, one U+FFFD per bad sequence.
        let d = decode(b"{\"a\":\"x\xff\xfey\",\"b\":\"\xc3\"}");
        assert_eq!(d.repaired, 3);
        assert_eq!(
            &*d.text,
            "{\"a\":\"x\u{fffd}\u{fffd}y\",\"b\":\"\u{fffd}\"}"
        );
    }
}
