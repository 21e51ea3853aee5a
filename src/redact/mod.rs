//! Secrets never leave ctaudit: the one rule that decides what is redacted
//! before anything from the trail is kept, stored or printed.
//!
//! **Keys.** A value is secret when its key, compared without case and
//! without separators (`session_token`, `x-amz-security-token` and
//! `SessionToken` are one key), contains `password`, `passwd`,
//! `passphrase`, `secretaccesskey`, `secretkey`, `privatekey`,
//! `sessiontoken`, `securitytoken`, `clientsecret`, `apikey`,
//! `secretstring` or `secretbinary`; ends in `token` or `secret`; or is
//! `authorization` or `cookie`. `credentials` given as a string (not the
//! usual object, whose `accessKeyId` is kept) is secret too.
//!
//! **Name/value pairs.** In an object such as `{"name":"DB_PASSWORD",
//! "value":…}` or `{"key":"password","value":…}` (as ECS task definitions,
//! tags and parameters log them), the `value` is secret when the `name` or
//! `key` is a secret key by the rule above.
//!
//! **Values.** Anywhere, under any key, a string (as decoded, however it
//! was escaped) is secret when it holds a PEM private key (`-----BEGIN …
//! PRIVATE KEY-----`), an AWS session token, a JSON web token, a GitHub
//! token, or is shaped like an AWS secret access key (40 base64 characters
//! mixing upper case, lower case and digits).
//! Free text (`errorMessage`, the user agent) keeps its words; only the
//! secret part is replaced, as is the value of `password=…`-like pairs. An
//! ARN's resource (`…:secret:prod/db-AbCdEf`, Secrets Manager's) is a name,
//! not such a pair.
//!
//! **Nesting.** A string that holds JSON (a payload encoded as a string,
//! twice encoded, a policy document) is parsed and redacted by the same
//! rule, at any depth; a payload that cannot be parsed is withheld whole
//! ([`WITHHELD`]), never kept as text.
//!
//! A secret becomes `"REDACTED"`; `null` stays `null`. This module knows
//! nothing of CloudTrail's fields: callers decide which text is a payload
//! and which is free text.

mod json;
mod keys;

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

pub use json::{Malformed, redact_json};
use keys::KeyKind;
pub use keys::is_secret_key;

/// What replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// What is stored instead of a payload that could not be parsed (a JSON
/// string, so the column stays JSON).
pub const WITHHELD: &str = "\"(withheld by ctaudit: not well-formed JSON)\"";

/// Secret material recognisable in any text: PEM private keys (to their
/// end, or the end of the text), AWS session tokens, JSON web tokens,
/// GitHub tokens, and the values of `password=…`-like pairs.
static SECRET_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "{}|{SECRET_PAIR}",
        concat!(
            r"-----BEGIN[ A-Z0-9]*PRIVATE KEY-----(?s:.*?)(?:-----END[ A-Z0-9]*PRIVATE KEY-----|\z)",
            r"|(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9+/=]*",
            r"|eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
            r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}",
        )
    ))
    .expect("a valid pattern")
});

/// [`SECRET_TEXT`]'s `password=…`-like pair form. ASCII case only, as
/// SECRET_TEXT_STARTS finds them (Unicode case would also take `ſecret`
/// and the Kelvin sign's `to\u{212a}en`).
const SECRET_PAIR: &str =
    r#"(?i-u:password|passwd|secret|token|api[_-]?key)["']?\s*[=:]\s*["']?[^\s"',;&]+"#;

/// A match of [`SECRET_TEXT`] that is its pair form.
static SECRET_PAIR_MATCH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^(?:{SECRET_PAIR})$")).expect("a valid pattern"));

/// The literal starts of [`SECRET_TEXT`]'s patterns: a text with none of
/// them cannot match it, and one pass of a SIMD multi-string search says
/// so. The words matched without case are given in every case of their
/// first three letters.
static SECRET_TEXT_STARTS: LazyLock<Starts> = LazyLock::new(|| Starts::new(true));

/// [`SECRET_TEXT_STARTS`]' searcher. Teddy (`aho_corasick::packed`) where
/// the processor has it: six times faster here on CloudTrail payloads than
/// an automaton, which gives up its own Teddy prefilter when the three-letter
/// starts (`sec`, `api`) come up often, and walks a byte at a time (as it
/// does when asked to ignore case). The automaton elsewhere, same patterns.
enum Starts {
    Packed(aho_corasick::packed::Searcher),
    Automaton(aho_corasick::AhoCorasick),
}

impl Starts {
    fn new(packed: bool) -> Starts {
        let exact = [
            "-----BEGIN",
            "IQoJb3JpZ2luX2Vj",
            "FwoGZXIvYXdz",
            "FQoGZXIvYXdz",
            "eyJ",
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "github_pat_",
        ];
        let any_case = ["pas", "sec", "tok", "api"].into_iter().flat_map(|word| {
            (0..8u8).map(move |mask| {
                word.bytes()
                    .enumerate()
                    .map(|(i, b)| match mask & (1 << i) {
                        0 => b as char,
                        _ => b.to_ascii_uppercase() as char,
                    })
                    .collect::<String>()
            })
        });
        let patterns: Vec<String> = exact
            .into_iter()
            .map(str::to_owned)
            .chain(any_case)
            .collect();
        match packed
            .then(|| aho_corasick::packed::Searcher::new(&patterns))
            .flatten()
        {
            Some(searcher) => Starts::Packed(searcher),
            None => Starts::Automaton(
                aho_corasick::AhoCorasick::new(&patterns).expect("valid patterns"),
            ),
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Starts::Packed(searcher) => searcher.find(text).is_some(),
            Starts::Automaton(automaton) => automaton.is_match(text),
        }
    }
}

/// Whether `text` holds something [`SECRET_TEXT`] matches.
fn has_secret_text(text: &str) -> bool {
    SECRET_TEXT_STARTS.is_match(text) && secret_spans(text).next().is_some()
}

/// Where [`SECRET_TEXT`] matches in `text`, left to right, less ARNs'
/// resource types ([`is_arn_resource_type`]). The text after such a type
/// is searched again, so that a secret inside the ARN's name is not hidden
/// by the longer match that was set aside.
fn secret_spans(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(m) = SECRET_TEXT.find_at(text, at) {
            if is_arn_resource_type(text, m.start(), m.as_str()) {
                at = m.start() + m.as_str().chars().next().map_or(1, char::len_utf8);
            } else {
                at = m.end().max(m.start() + 1);
                return Some(m.range());
            }
        }
        None
    })
}

/// Whether a match of [`SECRET_TEXT`]'s `word: value` form at `start` is
/// in fact an ARN's resource type and name: Secrets Manager names its
/// resources `arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf`,
/// and `secret:prod/db-AbCdEf` reads like a pair. That ARN names a secret
/// (which secret a session read is what an investigation asks); it holds
/// none. The other forms (keys, tokens) are secret wherever they stand.
fn is_arn_resource_type(text: &str, start: usize, matched: &str) -> bool {
    // The ARN up to the resource: `arn:partition:service:region:account:`,
    // region and account possibly empty, or wildcards in a policy.
    let before = &text[..start];
    let from = before
        .char_indices()
        .rfind(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '*' | '?')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let arn = &before[from..];
    arn.starts_with("arn:")
        && arn.ends_with(':')
        && arn.matches(':').count() == 5
        && SECRET_PAIR_MATCH.is_match(matched)
}

/// Whether a whole string value is secret by the value rule.
pub fn is_secret_value(s: &str) -> bool {
    looks_like_secret_key(s) || has_secret_text(s)
}

/// Whether any string of the JSON text `json` may hold secret text
/// ([`SECRET_TEXT`]) once decoded: a quick test on the whole payload, so
/// that its strings need not each be searched. Without a backslash, each
/// string's decoded text is a piece of `json`, and a match in a piece is a
/// match in the whole (the pattern's word boundaries and its end-of-text
/// alternative hold in both); with one, any string may decode to anything.
/// The key shape needs no such test: a length compare rules out nearly
/// every string.
fn may_hold_secret_text(json: &str) -> bool {
    memchr::memchr(b'\\', json.as_bytes()).is_some() || has_secret_text(json)
}

/// Whether some maximal run of base64 characters is exactly 40 long (the
/// length of an AWS secret access key): one pass, no allocation.
fn has_base64_run_of_40(text: &str) -> bool {
    let mut run = 0usize;
    for &b in text.as_bytes() {
        if is_base64(b) {
            run += 1;
        } else {
            if run == 40 {
                return true;
            }
            run = 0;
        }
    }
    run == 40
}

/// 40 base64 characters mixing upper case, lower case and digits: the
/// shape of an AWS secret access key. Hex digests (no upper case) and
/// words are not.
fn looks_like_secret_key(s: &str) -> bool {
    s.len() == 40
        && s.bytes().all(is_base64)
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// The maximal runs of base64 characters in `text`.
fn base64_runs(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii() || !is_base64(c as u8))
        .filter(|r| !r.is_empty())
}

/// Free text with the secret parts replaced by `REDACTED` and the rest
/// kept: what `errorMessage` and user agents get.
pub fn scrub_text(text: &str) -> Cow<'_, str> {
    if clean::contains(text) {
        return Cow::Borrowed(text);
    }
    if !has_base64_run_of_40(text) && !SECRET_TEXT_STARTS.is_match(text) {
        clean::remember(text);
        return Cow::Borrowed(text);
    }
    let mut replaced = String::new();
    let mut kept = 0;
    for span in secret_spans(text) {
        replaced.push_str(&text[kept..span.start]);
        replaced.push_str(REDACTED);
        kept = span.end;
    }
    let mut out = if kept == 0 {
        Cow::Borrowed(text)
    } else {
        replaced.push_str(&text[kept..]);
        Cow::Owned(replaced)
    };
    if has_base64_run_of_40(&out) && base64_runs(&out).any(looks_like_secret_key) {
        let keys: Vec<String> = base64_runs(&out)
            .filter(|r| looks_like_secret_key(r))
            .map(str::to_owned)
            .collect();
        let mut s = out.into_owned();
        for k in keys {
            s = s.replace(&k, REDACTED);
        }
        out = Cow::Owned(s);
    }
    out
}

/// Free texts each thread has found to hold nothing secret, most recent
/// few thousand: a trail repeats the same few user agents and error
/// messages millions of times, and hashing one is cheaper than searching
/// it again. Only the verdict "nothing to scrub" is remembered, for the
/// exact text.
mod clean {
    use std::cell::RefCell;
    use std::collections::HashSet;

    use xxhash_rust::xxh3::Xxh3DefaultBuilder;

    /// Texts remembered per thread before the memory starts over.
    const CAPACITY: usize = 4096;
    /// Longer texts are searched every time (they rarely repeat).
    const LONGEST: usize = 512;

    thread_local! {
        static CLEAN: RefCell<HashSet<Box<str>, Xxh3DefaultBuilder>> =
            const { RefCell::new(HashSet::with_hasher(Xxh3DefaultBuilder::new())) };
    }

    pub fn contains(text: &str) -> bool {
        text.len() <= LONGEST && CLEAN.with_borrow(|set| set.contains(text))
    }

    pub fn remember(text: &str) {
        if text.len() > LONGEST {
            return;
        }
        CLEAN.with_borrow_mut(|set| {
            if set.len() >= CAPACITY {
                set.clear();
            }
            set.insert(text.into());
        })
    }
}

/// A payload (`requestParameters`, `responseElements`) as minified JSON
/// text with secrets redacted; `None` for `null`. A payload given as a
/// JSON-encoded string is decoded first. One that cannot be parsed is
/// [`WITHHELD`].
pub fn payload_text(raw: &str) -> Option<String> {
    let text = raw.trim();
    if text == "null" {
        return None;
    }
    if text.starts_with('"')
        && let Ok(inner) = json::decode_string(text)
        && inner.trim_start().starts_with(['{', '['])
        && let Ok(redacted) = redact_json(&inner)
    {
        return Some(redacted);
    }
    Some(redact_json(text).unwrap_or_else(|_| WITHHELD.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rule() {
        assert!(is_secret_value(
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"
        ));
        assert!(is_secret_value(
            "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH"
        ));
        assert!(is_secret_value("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(is_secret_value("ghp_abcdefghijklmnopqrstuvwxyz0123456789"));
        assert!(is_secret_value(
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmEvYiJ9.c2lnbmF0dXJl"
        ));
        for ok in [
            "arn:aws:iam::111122223333:role/deploy",
            "repo:acme/api:ref:refs/heads/main",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
            "ASIAEXAMPLE1234567890",
        ] {
            assert!(!is_secret_value(ok), "{ok}");
        }
    }

    /// The quick test never misses what the pattern matches: every case of
    /// the words, every literal start, in texts built from them at random.
    #[test]
    fn quick_test_finds_every_secret_text_start() {
        let (packed, automaton) = (Starts::new(true), Starts::new(false));
        assert!(matches!(automaton, Starts::Automaton(_)));
        let words = [
            "password", "passwd", "secret", "token", "api_key", "apikey", "API-KEY",
        ];
        for word in words {
            for mask in 0..(1u32 << word.len().min(8)) {
                let cased: String = word
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if mask & (1 << i) != 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect();
                let text = format!("x {cased}=hunter2 y");
                assert!(SECRET_TEXT.is_match(&text), "{text}");
                assert!(
                    packed.is_match(&text) && automaton.is_match(&text),
                    "{text}"
                );
            }
        }
        // Unicode case is not ASCII case: neither the pattern nor the
        // quick test takes these, so they agree.
        for text in ["\u{17f}ecret=x", "to\u{212a}en=x"] {
            assert!(!SECRET_TEXT.is_match(text));
            assert!(!packed.is_match(text) && !automaton.is_match(text));
        }
        let parts = [
            "-----BEGIN RSA PRIVATE KEY-----",
            "IQoJb3JpZ2luX2VjEJr",
            "FwoGZXIvYXdzEJr",
            "FQoGZXIvYXdzEJr",
            "eyJhbGciOiJI.eyJzdWIiOiIx.c2ln",
            "ghp_",
            "ghs_",
            "github_pat_",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "0123456789",
            "ToKeN",
            "pAsSwOrD",
            "=",
            ": ",
            " ",
            "\"",
            "'",
            ",",
            "_",
            "-",
            "api",
            "key",
            "gh",
            "eyJ",
            ".",
            "/",
            "+",
            "arn:aws:secretsmanager:us-east-1:1:",
            "secret:",
            "arn:",
            // Characters that are not ASCII, anywhere (one byte is not one
            // character; see `text_that_is_not_ascii_beside_an_arn_…`).
            "é",
            "\u{fffd}",
            "→",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut matched = 0;
        let mut arns = 0;
        for _ in 0..30_000 {
            let mut text = String::new();
            for _ in 0..6 {
                text.push_str(rng.pick(&parts));
            }
            if SECRET_TEXT.is_match(&text) {
                assert!(packed.is_match(&text), "{text:?}");
                assert!(automaton.is_match(&text), "{text:?}");
                matched += 1;
            }
            // Only an ARN's resource type is set aside: elsewhere the
            // spans are the pattern's matches exactly.
            let spans: Vec<_> = secret_spans(&text).collect();
            let all: Vec<_> = SECRET_TEXT.find_iter(&text).map(|m| m.range()).collect();
            if text.contains("arn:") {
                arns += usize::from(spans != all);
            } else {
                assert_eq!(spans, all, "{text:?}");
            }
        }
        assert!(matched > 1000, "only {matched} texts held a secret");
        assert!(
            arns > 50,
            "only {arns} texts had an ARN's resource set aside"
        );
    }

    /// A Secrets Manager ARN names a secret and is kept (in a payload,
    /// alone, in free text); a secret beside it is still found.
    #[test]
    fn secret_arns_are_names_not_secrets() {
        let arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";
        assert!(!is_secret_value(arn));
        assert!(!is_secret_value(
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:1:secret:x"
        ));
        // As a policy names them.
        assert!(!is_secret_value("arn:aws:secretsmanager:*:*:secret:rds!*"));
        let payload = format!(r#"{{"secretId":"{arn}","versionStage":"AWSCURRENT"}}"#);
        assert_eq!(redact_json(&payload).unwrap(), payload);
        let message = format!(
            "User: arn:aws:sts::111122223333:assumed-role/ci/gh is not authorized to perform: secretsmanager:GetSecretValue on resource: {arn} because no identity-based policy allows it"
        );
        assert_eq!(scrub_text(&message), message.as_str());
        for (text, secret) in [
            (format!("{arn} password=hunter2"), "hunter2"),
            (format!("{arn};secret:hunter2"), "hunter2"),
            ("secret: hunter2".to_string(), "hunter2"),
            ("x secret:hunter2".to_string(), "hunter2"),
            ("arn:secret:hunter2".to_string(), "hunter2"),
            ("arn:aws:sm:r:1:x:secret:hunter2".to_string(), "hunter2"),
            (
                format!("{arn}:ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
                "ghp_",
            ),
            (
                "arn:aws:s:r:1:ghp_abcdefghijklmnopqrstuvwxyz0123456789".to_string(),
                "ghp_",
            ),
        ] {
            assert!(is_secret_value(&text), "{text}");
            let scrubbed = scrub_text(&text);
            assert!(!scrubbed.contains(secret), "{text} -> {scrubbed}");
        }
    }

    /// Regression (found by the fuzz test): the search back for an ARN's
    /// start stepped into the middle of a character that is not ASCII, and
    /// the redactor panicked.
    #[test]
    fn text_that_is_not_ascii_beside_an_arn_is_searched_whole() {
        let arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf";
        for text in [format!("é{arn}"), format!("→ {arn} ✓")] {
            assert!(!is_secret_value(&text), "{text}");
            assert_eq!(scrub_text(&text), text.as_str());
        }
        // No longer an ARN once a character in it is not ASCII (the fuzz
        // test's text), or with one right before the pair: secret.
        for text in [
            "arn:aws:secretsmana\u{fffd}er:cn-1:903144391865:secret:hunter2",
            "€secret:hunter2",
            "arn:é:s:r:1:secret:hunter2",
        ] {
            assert!(is_secret_value(text), "{text}");
            assert!(!scrub_text(text).contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn free_text_keeps_its_words() {
        let t = scrub_text(
            "The security token IQoJb3JpZ2luX2VjEJr/AAAA= is invalid; password=hunter2 rejected",
        );
        assert_eq!(
            t,
            "The security token REDACTED is invalid; REDACTED rejected"
        );
        let t = scrub_text("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked");
        assert_eq!(t, "key REDACTED leaked");
        let t = scrub_text("x -----BEGIN PRIVATE KEY-----\nMIIE");
        assert_eq!(t, "x REDACTED");
        assert!(matches!(scrub_text("aws-cli/2.15.0"), Cow::Borrowed(_)));
        // The second time from memory, the same answer; a secret text is
        // never remembered as clean.
        assert!(matches!(scrub_text("aws-cli/2.15.0"), Cow::Borrowed(_)));
        for _ in 0..2 {
            assert_eq!(scrub_text("x password=hunter2"), "x REDACTED");
        }
        for i in 0..5000 {
            let t = format!("agent/{i}");
            assert!(matches!(scrub_text(&t), Cow::Borrowed(_)));
        }
    }
}
