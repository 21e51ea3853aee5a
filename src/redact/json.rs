//! The redacting pass over one JSON text: minifies it and replaces what the
//! rule in [`super`] calls secret, in one pass, without building a tree and
//! without recursion (an explicit stack), so no depth of nesting can make
//! it fail or overflow.

use std::borrow::Cow;

use super::{KeyKind, has_secret_text, is_secret_key, looks_like_secret_key, may_hold_secret_text};

/// The text is not one well-formed JSON value; the byte offset where that
/// became clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub usize);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not well-formed JSON at byte {}", self.0)
    }
}

impl std::error::Error for Malformed {}

const QUOTED_REDACTED: &str = "\"REDACTED\"";

/// What the key of the member being read says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Plain,
    /// Secret by its key.
    Secret,
    /// `credentials`: secret when a string.
    Credentials,
    /// The `name` of a possible name/value pair.
    PairName,
    /// The `value` of a possible name/value pair.
    PairValue,
}

/// One open object or array.
struct Frame {
    object: bool,
    member: Member,
    /// Where the current `value` member's output starts, while it is read.
    value_start: Option<usize>,
    /// The output span of the `value` member, once read.
    value_span: Option<(usize, usize)>,
    /// An earlier `name` member named a secret.
    secret_pair: bool,
    /// The latest `name` member's string token (its span in the text),
    /// judged only if the object turns out to have a `value`: most such
    /// names (S3's object `key`) never need it.
    pair_name: Option<(usize, usize)>,
}

impl Frame {
    /// Whether a `name` member of this object names a secret.
    fn names_a_secret(&self, text: &str) -> bool {
        self.secret_pair
            || self
                .pair_name
                .is_some_and(|(a, b)| is_secret_name(&text[a..b]))
    }
}

/// Whether a `name` member's string token names a secret.
fn is_secret_name(token: &str) -> bool {
    decode_token(token).is_ok_and(|name| is_secret_key(&name))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    Value,
    KeyOrEnd,
    Key,
    ValueOrEnd,
    AfterValue,
}

/// `text` as minified JSON with every secret replaced by `"REDACTED"`.
pub fn redact_json(text: &str) -> Result<String, Malformed> {
    Redactor::new(text, may_hold_secret_text(text)).run()
}

struct Redactor<'t> {
    src: &'t [u8],
    text: &'t str,
    pos: usize,
    out: String,
    stack: Vec<Frame>,
    /// While a secret object or array is read, the stack depth it opened
    /// at: nothing is written until it closes.
    muted_at: Option<usize>,
    /// Whether any string may hold secret text (else only the key shape,
    /// a length compare for most strings, is looked for).
    texts: bool,
}

impl<'t> Redactor<'t> {
    fn new(text: &'t str, texts: bool) -> Redactor<'t> {
        Redactor {
            src: text.as_bytes(),
            text,
            pos: 0,
            out: String::with_capacity(text.len()),
            stack: Vec::new(),
            muted_at: None,
            texts,
        }
    }

    fn run(mut self) -> Result<String, Malformed> {
        let mut next = Next::Value;
        loop {
            self.skip_ws();
            let Some(&b) = self.src.get(self.pos) else {
                return Err(Malformed(self.pos));
            };
            next = match next {
                Next::KeyOrEnd if b == b'}' => self.close(true)?,
                Next::KeyOrEnd | Next::Key => self.key()?,
                Next::ValueOrEnd if b == b']' => self.close(false)?,
                Next::Value | Next::ValueOrEnd => self.value(b)?,
                Next::AfterValue => {
                    if let Some(top) = self.stack.last_mut()
                        && let Some(start) = top.value_start.take()
                    {
                        top.value_span = Some((start, self.out.len()));
                    }
                    match (b, self.stack.last().map(|f| f.object)) {
                        (b',', Some(object)) => {
                            self.pos += 1;
                            self.write(",");
                            if object { Next::Key } else { Next::Value }
                        }
                        (b'}', Some(true)) => self.close(true)?,
                        (b']', Some(false)) => self.close(false)?,
                        _ => return Err(Malformed(self.pos)),
                    }
                }
            };
            if next == Next::AfterValue && self.stack.is_empty() {
                self.skip_ws();
                return if self.pos == self.src.len() {
                    Ok(self.out)
                } else {
                    Err(Malformed(self.pos))
                };
            }
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.src.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn write(&mut self, s: &str) {
        if self.muted_at.is_none() {
            self.out.push_str(s);
        }
    }

    /// What the member whose value is about to be read says.
    fn member(&self) -> Member {
        match self.stack.last() {
            Some(f) if f.object => f.member,
            _ => Member::Plain,
        }
    }

    fn value(&mut self, b: u8) -> Result<Next, Malformed> {
        let member = self.member();
        if member == Member::PairValue && self.muted_at.is_none() {
            let at = self.out.len();
            if let Some(top) = self.stack.last_mut() {
                top.value_start = Some(at);
            }
        }
        match b {
            b'{' | b'[' => {
                if member == Member::Secret && self.muted_at.is_none() {
                    self.muted_at = Some(self.stack.len());
                }
                self.pos += 1;
                self.write(if b == b'{' { "{" } else { "[" });
                self.stack.push(Frame {
                    object: b == b'{',
                    member: Member::Plain,
                    value_start: None,
                    value_span: None,
                    secret_pair: false,
                    pair_name: None,
                });
                Ok(if b == b'{' {
                    Next::KeyOrEnd
                } else {
                    Next::ValueOrEnd
                })
            }
            b'"' => {
                let (start, end) = self.string()?;
                let token = &self.text[start..end];
                let decoded = decode_token(token).map_err(|_| Malformed(start))?;
                if member == Member::PairName
                    && let Some(top) = self.stack.last_mut()
                    && let Some((a, b)) = top.pair_name.replace((start, end))
                {
                    // A second name in one object: the first is judged now.
                    top.secret_pair |= is_secret_name(&self.text[a..b]);
                }
                // JSON in a string is redacted member by member (its keys
                // catch what the text pattern would find across its tokens);
                // any other string is judged whole by the value rule.
                let by_key = matches!(member, Member::Secret | Member::Credentials);
                let nested = if by_key { None } else { nested_json(&decoded) };
                if let Some(inner) = nested {
                    match inner {
                        Ok(inner) => {
                            let quoted =
                                serde_json::to_string(&inner).expect("a string serializes");
                            self.write(&quoted);
                        }
                        // Looks like JSON, is not: no rule can see into it.
                        Err(_) => self.write(super::WITHHELD),
                    }
                } else if by_key
                    || looks_like_secret_key(&decoded)
                    || (self.texts && has_secret_text(&decoded))
                {
                    self.write(QUOTED_REDACTED);
                } else {
                    self.write(token);
                }
                Ok(Next::AfterValue)
            }
            _ => {
                let start = self.pos;
                while self
                    .src
                    .get(self.pos)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
                {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                let ok = matches!(word, "true" | "false" | "null")
                    || (word.starts_with(|c: char| c == '-' || c.is_ascii_digit())
                        && word.parse::<f64>().is_ok());
                if !ok {
                    return Err(Malformed(start));
                }
                if member == Member::Secret && word != "null" {
                    self.write(QUOTED_REDACTED);
                } else {
                    self.write(word);
                }
                Ok(Next::AfterValue)
            }
        }
    }

    /// Reads a member's key and its colon, and classifies the member.
    fn key(&mut self) -> Result<Next, Malformed> {
        if self.src.get(self.pos) != Some(&b'"') {
            return Err(Malformed(self.pos));
        }
        let (start, end) = self.string()?;
        let token = &self.text[start..end];
        let key = decode_token(token).map_err(|_| Malformed(start))?;
        let member = match KeyKind::of(&key) {
            KeyKind::Secret => Member::Secret,
            KeyKind::Credentials => Member::Credentials,
            KeyKind::PairName => Member::PairName,
            KeyKind::PairValue => Member::PairValue,
            KeyKind::Plain => Member::Plain,
        };
        if let Some(top) = self.stack.last_mut() {
            top.member = member;
        }
        self.write(token);
        self.skip_ws();
        if self.src.get(self.pos) != Some(&b':') {
            return Err(Malformed(self.pos));
        }
        self.pos += 1;
        self.write(":");
        Ok(Next::Value)
    }

    /// Closes the innermost object or array: redacts a secret pair's value,
    /// and ends a muted (secret) value.
    fn close(&mut self, object: bool) -> Result<Next, Malformed> {
        self.pos += 1;
        self.write(if object { "}" } else { "]" });
        let frame = self.stack.pop().ok_or(Malformed(self.pos))?;
        if self.muted_at.is_none()
            && let Some((a, b)) = frame.value_span
            && frame.names_a_secret(self.text)
            && &self.out[a..b] != "null"
        {
            self.out.replace_range(a..b, QUOTED_REDACTED);
        }
        if self.muted_at == Some(self.stack.len()) {
            self.muted_at = None;
            self.write(QUOTED_REDACTED);
        }
        Ok(Next::AfterValue)
    }

    /// Reads a string token at `pos` (its opening quote); returns its span,
    /// quotes included.
    fn string(&mut self) -> Result<(usize, usize), Malformed> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match memchr::memchr2(b'"', b'\\', &self.src[i.min(self.src.len())..]) {
                Some(off) if self.src[i + off] == b'"' => {
                    self.pos = i + off + 1;
                    return Ok((start, self.pos));
                }
                Some(off) => i += off + 2,
                None => return Err(Malformed(start)),
            }
        }
    }
}

/// A string token's text: borrowed when it has no escapes. Lone surrogate
/// escapes are repaired first (they would otherwise fail the payload).
pub fn decode_string(token: &str) -> Result<String, serde_json::Error> {
    decode_token(token).map(Cow::into_owned)
}

fn decode_token(token: &str) -> Result<Cow<'_, str>, serde_json::Error> {
    let inner = &token[1..token.len() - 1];
    if !inner.contains('\\') {
        return Ok(Cow::Borrowed(inner));
    }
    let (fixed, _) = crate::ingest::decode::repair_surrogate_escapes(token.as_bytes());
    serde_json::from_slice::<String>(&fixed).map(Cow::Owned)
}

/// A string value that starts like JSON, redacted by the same rule (or
/// why it could not be); `None` when it does not start like JSON.
fn nested_json(s: &str) -> Option<Result<String, Malformed>> {
    let t = s.trim_start();
    t.starts_with(['{', '[']).then(|| redact_json(s))
}

#[cfg(test)]
mod tests {
    use super::super::REDACTED;
    use super::*;

    fn r(s: &str) -> String {
        redact_json(s).unwrap()
    }

    #[test]
    fn keys_values_and_pairs() {
        assert_eq!(
            r(
                r#"{"credentials": {"accessKeyId": "ASIAX", "sessionToken": "T", "secretAccessKey": "K"}}"#
            ),
            r#"{"credentials":{"accessKeyId":"ASIAX","sessionToken":"REDACTED","secretAccessKey":"REDACTED"}}"#
        );
        assert_eq!(
            r(r#"{"credentials":"AKIA:secret"}"#),
            r#"{"credentials":"REDACTED"}"#
        );
        assert_eq!(
            r(r#"{"pass\u0077ord":"p"}"#),
            r#"{"pass\u0077ord":"REDACTED"}"#
        );
        assert_eq!(
            r(r#"{"password":null,"token":7}"#),
            r#"{"password":null,"token":"REDACTED"}"#
        );
        assert_eq!(
            r(r#"{"secret":{"a":[1,{"b":"c"}]},"x":1}"#),
            r#"{"secret":"REDACTED","x":1}"#
        );
        assert_eq!(
            r(
                r#"[{"name":"DB_PASSWORD","value":"hunter2"},{"value":{"a":"b"},"key":"apiKey"},{"name":"REGION","value":"eu"}]"#
            ),
            r#"[{"name":"DB_PASSWORD","value":"REDACTED"},{"value":"REDACTED","key":"apiKey"},{"name":"REGION","value":"eu"}]"#
        );
        // Two names in one object: either naming a secret is enough.
        for pair in [
            r#"{"name":"password","key":"region","value":"v"}"#,
            r#"{"key":"region","name":"password","value":"v"}"#,
            r#"{"value":"v","key":"region","name":"pass\u0077ord"}"#,
        ] {
            assert!(r(pair).contains(r#""value":"REDACTED""#), "{pair}");
        }
        assert_eq!(
            r(r#"{"key":"reports/a.parquet","value":"v","bucketName":"b"}"#),
            r#"{"key":"reports/a.parquet","value":"v","bucketName":"b"}"#
        );
        assert_eq!(
            r(r#"{"cert":"-----BEGIN EC PRIVATE KEY-----\nAAA\n-----END EC PRIVATE KEY-----"}"#),
            r#"{"cert":"REDACTED"}"#
        );
    }

    #[test]
    fn nested_json_strings_are_redacted() {
        let once = r#"{"p":"{\"sessionToken\":\"T\",\"a\":1}"}"#;
        assert_eq!(
            r(once),
            r#"{"p":"{\"sessionToken\":\"REDACTED\",\"a\":1}"}"#
        );
        let twice = serde_json::to_string(&serde_json::json!({
            "outer": serde_json::to_string(&serde_json::json!({
                "inner": serde_json::to_string(&serde_json::json!({"password": "deep"})).unwrap()
            })).unwrap()
        }))
        .unwrap();
        let got = r(&twice);
        assert!(!got.contains("deep") && got.contains(REDACTED), "{got}");
    }

    /// The value rule applies to each string as decoded, however it was
    /// escaped: a key shape with `/` written `\/` (as PHP writes it), and a
    /// `password` pair inside a string that is not itself JSON.
    #[test]
    fn secret_values_are_found_through_escapes() {
        for text in [
            r#"{"k":"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY"}"#,
            r#"{"k":"wJalrXUtnFEMI\u002fK7MDENG/bPxRfiCYEXAMPLEKEY"}"#,
            r#"{"cmd":"echo {\"password\":\"hunter2\"}"}"#,
            r#"{"k":["a",{"b":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}]}"#,
        ] {
            let got = r(text);
            assert!(
                !got.contains("hunter2") && !got.contains("EXAMPLEKEY") && got.contains(REDACTED),
                "{text} -> {got}"
            );
        }
    }

    /// The quick test on the whole text only ever spares work: with it or
    /// without it (every string searched), the output is the same, for
    /// secrets and look-alikes written plain, with `\/`, with `\u`
    /// escapes at every position, and nested in strings.
    #[test]
    fn the_quick_test_never_changes_the_output() {
        let pieces = [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "password=hunter2",
            "say {\"token\": \"t0k\"}",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYiJ9.c2ln",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE",
            "IQoJb3JpZ2luX2VjEJr",
            "nextToken",
            "arn:aws:iam::111122223333:role/deploy",
        ];
        let mut encodings = Vec::new();
        for p in pieces {
            let plain = serde_json::to_string(p).unwrap();
            encodings.push(plain.replace('/', "\\/"));
            for at in 1..plain.len() - 1 {
                let c = plain.as_bytes()[at];
                if c.is_ascii_alphanumeric() {
                    let mut e = plain.clone();
                    e.replace_range(at..at + 1, &format!("\\u{:04x}", c));
                    encodings.push(e);
                }
            }
            encodings.push(plain);
        }
        let mut checked = 0;
        for (i, a) in encodings.iter().enumerate() {
            let b = &encodings[(i * 7 + 3) % encodings.len()];
            let nested = serde_json::to_string(&format!("{{\"x\":{a}}}")).unwrap();
            for text in [
                format!("{{\"a\":{a}}}"),
                format!("[{a},{{\"b\":[{b}]}}]"),
                format!("{{\"n\":{nested},\"c\":{b}}}"),
            ] {
                let gated = redact_json(&text).unwrap();
                let every = Redactor::new(&text, true).run().unwrap();
                assert_eq!(gated, every, "{text}");
                checked += 1;
            }
        }
        assert!(checked > 500, "{checked}");
    }

    #[test]
    fn any_depth() {
        let depth = 100_000;
        let text = format!(
            "{}{{\"sessionToken\":\"SECRET\"}}{}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let got = r(&text);
        assert!(!got.contains("SECRET") && got.contains(REDACTED));
    }

    #[test]
    fn malformed_is_refused() {
        for bad in [
            "",
            "{",
            "{\"a\"}",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "tru",
            "\"x",
            "{} {}",
            "[}",
        ] {
            assert!(redact_json(bad).is_err(), "{bad}");
        }
        for good in ["1", "-0.5e3", "\"s\"", "[]", "{}", " [ true , null ] "] {
            assert!(redact_json(good).is_ok(), "{good}");
        }
    }
}
