//! A JSON reader that sees what `serde_json::Value` hides: a key given twice
//! in one object. IAM keeps the last of them, so a trust policy with two
//! `"StringEquals"` blocks in one `Condition` silently loses the first;
//! this reader keeps every member in order, with where it stands, so the
//! `duplicate-key` check can say so and the other checks can judge the
//! document as IAM does ([`Json::get`] answers with the last).
//!
//! Errors name the line and column. Nesting is limited (trust documents are
//! shallow; a limit keeps a hostile file from exhausting the stack).

use std::fmt;

/// A JSON value with its members in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<Member>),
}

/// One member of an object, with the line and column of its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub value: Json,
    pub line: usize,
    pub column: usize,
}

/// Where and why a text is not JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for JsonError {}

/// Deeper than any policy document; keeps recursion bounded.
const MAX_DEPTH: usize = 128;

impl Json {
    /// Parses one JSON document (a UTF-8 byte-order mark is allowed).
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut p = Parser {
            s: text.as_bytes(),
            text,
            pos: 0,
        };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.pos != p.s.len() {
            return Err(p.error("text after the JSON value"));
        }
        Ok(v)
    }

    /// The value of `key` as IAM reads it: the last member of that name.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members
                .iter()
                .rev()
                .find(|m| m.key == key)
                .map(|m| &m.value),
            _ => None,
        }
    }

    /// [`Json::get`] comparing keys without case (IAM's element names are
    /// case-sensitive, but tools write `statement`; both are read).
    pub fn get_any_case(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members
                .iter()
                .rev()
                .find(|m| m.key.eq_ignore_ascii_case(key))
                .map(|m| &m.value),
            _ => None,
        }
    }

    /// The members, as IAM reads them: one per key, the last one, in the
    /// order of their last appearance.
    pub fn members(&self) -> Vec<&Member> {
        match self {
            Json::Obj(members) => members
                .iter()
                .enumerate()
                .filter(|(i, m)| !members[i + 1..].iter().any(|n| n.key == m.key))
                .map(|(_, m)| m)
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A string or a list of strings (IAM's "one or many"), as a list.
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Json::Str(s) => vec![s.as_str()],
            Json::Arr(items) => items.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// Every key given more than once in one object, anywhere in the
    /// value: the key, and the line and column of each of its appearances.
    pub fn duplicate_keys(&self) -> Vec<(String, Vec<(usize, usize)>)> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            match v {
                Json::Obj(members) => {
                    let mut seen: Vec<&str> = Vec::new();
                    for m in members {
                        if seen.contains(&m.key.as_str()) {
                            continue;
                        }
                        let at: Vec<(usize, usize)> = members
                            .iter()
                            .filter(|n| n.key == m.key)
                            .map(|n| (n.line, n.column))
                            .collect();
                        if at.len() > 1 {
                            out.push((m.key.clone(), at));
                        }
                        seen.push(&m.key);
                    }
                    stack.extend(members.iter().map(|m| &m.value));
                }
                Json::Arr(items) => stack.extend(items.iter()),
                _ => {}
            }
        }
        out.sort_by_key(|(_, at)| at[0]);
        out
    }

    /// The value as compact JSON text, members in document order.
    pub fn to_text(&self) -> String {
        match self {
            Json::Null => "null".into(),
            Json::Bool(b) => b.to_string(),
            Json::Num(n) => n.clone(),
            Json::Str(s) => serde_json::to_string(s).expect("a string serializes"),
            Json::Arr(items) => {
                let parts: Vec<String> = items.iter().map(Json::to_text).collect();
                format!("[{}]", parts.join(","))
            }
            Json::Obj(members) => {
                let parts: Vec<String> = members
                    .iter()
                    .map(|m| {
                        format!(
                            "{}:{}",
                            serde_json::to_string(&m.key).expect("a string serializes"),
                            m.value.to_text()
                        )
                    })
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
        }
    }
}

struct Parser<'t> {
    s: &'t [u8],
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> JsonError {
        let (line, column) = line_column(self.text, self.pos);
        JsonError {
            line,
            column,
            message: message.to_string(),
        }
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply for a policy document"));
        }
        match self.s.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("the text ends where a value was expected")),
        }
    }

    fn word(&mut self, w: &str, v: Json) -> Result<Json, JsonError> {
        if self.s[self.pos..].starts_with(w.as_bytes()) {
            self.pos += w.len();
            Ok(v)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
        {
            self.pos += 1;
        }
        let n = &self.text[start..self.pos];
        if serde_json::from_str::<serde_json::Number>(n).is_err() {
            self.pos = start;
            return Err(self.error("not a number"));
        }
        Ok(Json::Num(n.to_string()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        let mut i = start + 1;
        loop {
            match self.s.get(i) {
                Some(b'"') => break,
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
                None => return Err(self.error("a string that never ends")),
            }
        }
        let token = &self.text[start..=i];
        let (fixed, _) = crate::ingest::decode::repair_surrogate_escapes(token.as_bytes());
        match serde_json::from_slice::<String>(&fixed) {
            Ok(s) => {
                self.pos = i + 1;
                Ok(s)
            }
            Err(e) => Err(self.error(&format!("a bad string: {e}"))),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Json::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Arr(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Json::Obj(members));
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a key in quotes"));
            }
            let (line, column) = line_column(self.text, self.pos);
            let key = self.string()?;
            self.ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.pos += 1;
            self.ws();
            let value = self.value(depth + 1)?;
            members.push(Member {
                key,
                value,
                line,
                column,
            });
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Obj(members));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..pos.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_seen_and_the_last_wins() {
        let j = Json::parse(
            "{\"Condition\": {\n  \"StringEquals\": {\"a\": \"1\"},\n  \"StringEquals\": {\"b\": \"2\"}\n}}",
        )
        .unwrap();
        let c = j.get("Condition").unwrap();
        assert_eq!(
            c.get("StringEquals").unwrap().get("b").unwrap().as_str(),
            Some("2")
        );
        assert!(c.get("StringEquals").unwrap().get("a").is_none());
        assert_eq!(
            j.duplicate_keys(),
            [("StringEquals".to_string(), vec![(2, 3), (3, 3)])]
        );
        assert_eq!(c.members().len(), 1);
    }

    #[test]
    fn errors_say_where() {
        let e = Json::parse("{\n  \"a\": [1, 2,\n}").unwrap_err();
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(Json::parse("{\"a\":1} x").is_err());
        assert!(Json::parse(&"[".repeat(1000)).is_err());
        assert_eq!(
            Json::parse("\u{feff}{\"k\":[true,null,-1.5e3,\"\\u00e9\"]}")
                .unwrap()
                .to_text(),
            "{\"k\":[true,null,-1.5e3,\"é\"]}"
        );
    }
}
