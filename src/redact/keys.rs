//! The key rule (the module above states it): whether a value is secret
//! by its key, compared without case and separators, and which keys make
//! a name/value pair or hold `credentials`.

/// Key fragments whose values are secrets, in normalised form.
const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secretaccesskey",
    "secretkey",
    "privatekey",
    "sessiontoken",
    "securitytoken",
    "clientsecret",
    "apikey",
    "secretstring",
    "secretbinary",
];

/// Key endings whose values are secrets, in normalised form.
const SECRET_KEY_ENDINGS: &[&str] = &["token", "secret"];

/// Whole keys whose values are secrets, in normalised form.
const SECRET_KEYS: &[&str] = &["authorization", "cookie", "setcookie"];

/// A key lower-cased with everything but letters and digits removed, in a
/// small buffer (keys are short; a long one is cut, which can only miss
/// fragments past its first 64 characters).
struct Normal {
    buf: [u8; 64],
    len: usize,
}

impl Normal {
    fn of(key: &str) -> Normal {
        let mut n = Normal {
            buf: [0; 64],
            len: 0,
        };
        for b in key.bytes().filter(u8::is_ascii_alphanumeric) {
            if n.len == n.buf.len() {
                break;
            }
            n.buf[n.len] = b.to_ascii_lowercase();
            n.len += 1;
        }
        n
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Whether values under `key` are secrets.
pub fn is_secret_key(key: &str) -> bool {
    KeyKind::of(key) == KeyKind::Secret
}

/// What a key says about its value, by the rule above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    Plain,
    Secret,
    /// `credentials`: secret when a string, read through when an object.
    Credentials,
    /// The member of a name/value pair that names it.
    PairName,
    /// The member of a name/value pair that holds its value.
    PairValue,
}

impl KeyKind {
    pub(super) fn of(key: &str) -> KeyKind {
        let n = Normal::of(key);
        let k = n.as_bytes();
        if holds_a_gate_fragment(k)
            && (SECRET_KEY_PARTS.iter().any(|p| holds(k, p.as_bytes()))
                || SECRET_KEY_ENDINGS.iter().any(|e| k.ends_with(e.as_bytes()))
                || SECRET_KEYS.iter().any(|w| k == w.as_bytes()))
        {
            return KeyKind::Secret;
        }
        match k {
            b"credentials" | b"credential" => KeyKind::Credentials,
            b"name" | b"key" | b"parametername" | b"attributename" | b"variablename" => {
                KeyKind::PairName
            }
            b"value" | b"parametervalue" | b"attributevalue" => KeyKind::PairValue,
            _ => KeyKind::Plain,
        }
    }
}

/// Every secret key part, ending and whole key holds one of these: most
/// keys hold none and stop there. Their first bytes differ.
const GATE: [&[u8]; 6] = [b"pass", b"secret", b"key", b"token", b"auth", b"cookie"];

/// For each byte, 1 + the index of the [`GATE`] fragment starting with it,
/// or 0.
static GATE_BY_FIRST: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < GATE.len() {
        assert!(
            table[GATE[i][0] as usize] == 0,
            "gate fragments start alike"
        );
        table[GATE[i][0] as usize] = i as u8 + 1;
        i += 1;
    }
    table
};

/// Whether `k` holds a [`GATE`] fragment: one pass, one table look-up per
/// byte, where a search per fragment would pass over the key six times.
fn holds_a_gate_fragment(k: &[u8]) -> bool {
    k.iter()
        .enumerate()
        .any(|(i, &b)| match GATE_BY_FIRST[usize::from(b)] {
            0 => false,
            g => k[i..].starts_with(GATE[usize::from(g) - 1]),
        })
}

/// Whether `h` holds `n`: for the short keys and fragments of
/// the key rule, comparing where the first byte matches costs a third of
/// setting up a substring searcher (`str::contains`) for each of them.
fn holds(h: &[u8], n: &[u8]) -> bool {
    let Some((&first, _)) = n.split_first() else {
        return true;
    };
    h.len() >= n.len()
        && h[..=h.len() - n.len()]
            .iter()
            .enumerate()
            .any(|(i, &b)| b == first && h[i..].starts_with(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_is_contains() {
        for (h, n) in [
            ("sessiontoken", "token"),
            ("token", "token"),
            ("toke", "token"),
            ("ttoken", "token"),
            ("tokentoken", "oke"),
            ("", "a"),
            ("abc", ""),
            ("passpasswd", "passwd"),
            ("apikeyx", "key"),
            ("xkex", "key"),
        ] {
            assert_eq!(holds(h.as_bytes(), n.as_bytes()), h.contains(n), "{h} {n}");
        }
    }

    /// The one-pass gate finds a fragment where searching for each does,
    /// on keys made of the fragments' pieces, their first letters and
    /// others, fragments overlapping and cut short.
    #[test]
    fn the_gate_is_a_search_for_each_fragment() {
        let pieces = [
            "pas", "s", "secre", "t", "ke", "y", "toke", "n", "aut", "h", "cooki", "e", "p", "c",
            "a", "k", "x", "0",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x2545_f491_4f6c_dd1d);
        let (mut with, mut without) = (0, 0);
        for _ in 0..50_000 {
            let mut key = String::new();
            let r = rng.next();
            for part in 0..(r % 6) {
                key.push_str(pieces[((r >> (8 * part + 3)) % pieces.len() as u64) as usize]);
            }
            let each = GATE.iter().any(|f| holds(key.as_bytes(), f));
            assert_eq!(holds_a_gate_fragment(key.as_bytes()), each, "{key}");
            if each { with += 1 } else { without += 1 }
        }
        assert!(with > 1_000 && without > 10_000, "{with} {without}");
    }

    #[test]
    fn key_rule_ignores_case_and_separators() {
        for k in [
            "sessionToken",
            "session_token",
            "SessionToken",
            "secretAccessKey",
            "secret_access_key",
            "AWS_SECRET_ACCESS_KEY",
            "private_key",
            "client_secret",
            "x-amz-security-token",
            "token",
            "accessToken",
            "idToken",
            "refreshToken",
            "webIdentityToken",
            "secret",
            "secretString",
            "SecretBinary",
            "apiKey",
            "password",
            "DB_PASSWORD",
            "masterUserPassword",
            "Authorization",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "accessKeyId",
            "roleArn",
            "secretId",
            "userName",
            "tokenType",
            "name",
            "credentials",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
