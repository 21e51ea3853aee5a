//! One escaping function per format: every string from the trail passes
//! through the one for where it is written, because every string in a
//! trail (user agents, subjects, ARNs, error messages, file names) was
//! chosen by whoever made the call.
//!
//! - [`terminal`]: control characters (ESC, OSC, BEL, CR, C1) and the
//!   invisible characters that reorder or hide text (bidirectional
//!   overrides, zero-width characters) are written as visible escapes
//!   (`\x1b`, `\r`, `\u{202e}`), so no cell or message can drive a
//!   terminal, forge a line, or hide text.
//! - [`markdown`]: the same, then HTML's `<`, `>` and `&` as entities and
//!   Markdown's inline syntax (and GitHub's mentions, references and math)
//!   behind a backslash, so a cell is literal text on GitHub: no table
//!   break, heading, link, image, comment or script.
//! - [`csv`]: the same visible controls, and a cell that a spreadsheet
//!   would run as a formula (`=`, `+`, `-`, `@`, TAB, CR, and their
//!   full-width forms) gets a leading `'`, as OWASP advises; `--csv-raw`
//!   writes the bytes as they are.
//!
//! JSON needs nothing here: serde_json escapes every control character.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as it is.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `s` with every control and invisible character written visibly.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(hidden) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && hidden(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters a Markdown renderer (GitHub's included) gives meaning to
/// inside a table cell: emphasis, code, links and images (`[`, `]`, `!`),
/// tables, strikethrough, headings' and references' `#`, mentions' `@`,
/// math's `$`, and the backslash itself.
const MARKDOWN_SYNTAX: &[char] = &['\\', '`', '*', '_', '[', ']', '!', '|', '~', '#', '@', '$'];

/// `s` as literal text in a Markdown table cell (or list item). URLs are
/// kept from becoming links by escaping the `:` of `://` and the `.` of
/// `www.`; ARNs, times and prose otherwise read as they are.
pub fn markdown(s: &str) -> String {
    let visible = terminal(s);
    let mut out = String::with_capacity(visible.len() + 16);
    for (i, c) in visible.char_indices() {
        let rest = &visible[i..];
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c if MARKDOWN_SYNTAX.contains(&c) => {
                out.push('\\');
                out.push(c);
            }
            ':' if rest.starts_with("://") => out.push_str("\\:"),
            '.' if i >= 3 && visible.as_bytes()[i - 3..i].eq_ignore_ascii_case(b"www") => {
                out.push_str("\\.")
            }
            c => out.push(c),
        }
    }
    out
}

/// Leading characters that make a spreadsheet read a cell as a formula.
const FORMULA_START: &[char] = &[
    '=', '+', '-', '@', '\t', '\r', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}',
];

/// A CSV text cell: controls visible, and a formula neutralised with a
/// leading `'`. With `raw`, the text as it is.
pub fn csv(s: &str, raw: bool) -> Cow<'_, str> {
    if raw {
        return Cow::Borrowed(s);
    }
    let visible = terminal(s);
    if s.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{visible}"))
    } else {
        visible
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (hostile input 12): terminal escapes are shown, not run.
    #[test]
    fn terminal_escapes_are_shown_not_run() {
        assert_eq!(terminal("plain"), "plain");
        assert_eq!(terminal("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(
            terminal("\x1b]0;owned\x07\x1b]8;;http://x\x1b\\link"),
            "\\x1b]0;owned\\x07\\x1b]8;;http://x\\x1b\\link"
        );
        assert_eq!(terminal("ok\rctaudit: forged"), "ok\\rctaudit: forged");
        assert_eq!(terminal("a\nb\tc\u{7f}"), "a\\nb\\tc\\x7f");
        assert_eq!(terminal("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(terminal("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(terminal("zero\u{200b}width"), "zero\\u{200b}width");
        assert_eq!(terminal("é ü 中文 😀"), "é ü 中文 😀");
    }

    /// Regression (hostile input 13): Markdown cells are literal text.
    #[test]
    fn markdown_cells_are_literal_text() {
        let m = markdown(
            "x\r\n# All clear\n![i](http://evil/p.png) <!-- <script>alert(1)</script> | `c`",
        );
        for live in ["\r", "\n", "<", ">", "![", "|"] {
            assert!(
                !m.replace("\\|", "").contains(live) || live == "|",
                "{live}: {m}"
            );
        }
        assert!(
            m.contains("&lt;script&gt;") && m.contains("&lt;\\!--"),
            "{m}"
        );
        assert!(m.contains("\\!\\[i\\](http\\://evil"), "{m}");
        assert_eq!(markdown("see www.evil.test"), "see www\\.evil.test");
        assert_eq!(
            markdown("arn:aws:iam::1:role/r repo:a/b:pull_request"),
            "arn:aws:iam::1:role/r repo:a/b:pull\\_request"
        );
        assert!(m.contains("\\|") && m.contains("\\`c\\`"), "{m}");
        assert_eq!(markdown("a & b"), "a &amp; b");
        assert_eq!(markdown("@team #12 $x$"), "\\@team \\#12 \\$x\\$");
        assert_eq!(markdown("esc\x1b[31m"), "esc\\\\x1b\\[31m");
    }

    /// Regression (hostile input 14): formulas are neutralised.
    #[test]
    fn csv_formulas_are_neutralised() {
        for f in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "＝1+1",
        ] {
            let c = csv(f, false);
            assert!(c.starts_with('\''), "{f}: {c}");
        }
        assert_eq!(csv("=1", true), "=1");
        assert_eq!(csv("arn:aws:iam::1:role/r", false), "arn:aws:iam::1:role/r");
        assert_eq!(csv("a\x1bb", false), "a\\x1bb");
    }
}
