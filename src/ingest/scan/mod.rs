//! A record scanner in the spirit of simdjson's first stage: the bytes are
//! classified 64 at a time ([`classify`]), escapes and the in-string mask
//! derived with bit arithmetic (an odd run of backslashes escapes the next
//! byte; a prefix XOR of the unescaped quotes marks what lies inside
//! strings). The few brackets left are walked one by one ([`brackets`]:
//! nesting, and where each element of the `Records` array begins and ends),
//! and the order of the tokens is checked against JSON's grammar
//! ([`grammar`]: by bit arithmetic on the block's masks, or by pairs of
//! packed tokens where the processor has AVX-512 VBMI2).
//!
//! It validates everything serde_json checks when it skips a value (escapes,
//! control characters in strings, literals, numbers, nesting, commas and
//! colons), so a file it accepts is one serde_json accepts, with the same
//! elements; anything it does not accept (damage, or a shape it does not
//! handle) is left to the serde reader, which locates damage. It reads no
//! values: the records a report needs are parsed by serde afterwards. It
//! does note what the skim looks for ([`marks`]: the `\u` escapes, which it
//! checks anyway, and the strings that start a name a report keeps), so
//! that the skim need not search each record's text.

mod bits;
mod brackets;
pub mod classify;
mod grammar;
mod marks;
#[cfg(target_arch = "x86_64")]
mod pairs;

use std::ops::Range;

use bits::{escaped, prefix_xor};
use brackets::Brackets;
pub use classify::Kind;
use classify::Masks;
use grammar::{Chains, Grammar, Tokens};
pub use marks::{Mark, MarkSet};

/// Why a text was not scanned to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not well-formed JSON (serde_json rejects it too).
    Invalid,
    /// Well-formed or not, a shape the scanner leaves to serde: not a lone
    /// `{"Records":[…]}` object, a string element, deep nesting.
    Unsupported,
}

/// A well-formed text's elements, and what the skim must know of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// The elements, as byte ranges of the text, in order.
    pub elements: Vec<Range<usize>>,
    /// Every [`Mark`], by position, ascending.
    pub marks: Vec<(usize, Mark)>,
}

/// The elements of a lone `{"Records":[…]}` object (CloudTrail's delivery
/// format, white space allowed around every token), once the whole text is
/// known to be well-formed.
pub fn records(text: &str) -> Result<Scanned, Refused> {
    scan(text.as_bytes(), Mode::Records, Kind::detect())
}

/// [`records`] by a given implementation (one of [`Kind::available`]):
/// for tests that hold them all to the same answers.
pub fn records_by(kind: Kind, text: &str) -> Result<Scanned, Refused> {
    assert!(
        Kind::available().contains(&kind),
        "{kind:?} is not available on this processor"
    );
    scan(text.as_bytes(), Mode::Records, kind)
}

/// The elements of a comma-separated list of JSON values (a run of records
/// cut from a `Records` array), once every one is known to be well-formed.
pub fn values(text: &str) -> Result<Scanned, Refused> {
    scan(text.as_bytes(), Mode::List, Kind::detect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// One object whose only key is `Records`, an array: its elements.
    Records,
    /// Values separated by commas at the top: each value.
    List,
}

/// JSON's white space.
fn is_ws(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Whether `b` may follow a scalar: white space, a structural character, a
/// quote, or the end.
fn ends_scalar(b: Option<&u8>) -> bool {
    matches!(
        b,
        None | Some(b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"')
    ) || b.is_some_and(is_ws)
}

/// The length of the literal (`true`, `false`, `null`) or number at the
/// start of `s`, when it is one and is followed by a delimiter: the grammar
/// serde_json checks when it skips a value.
fn scalar_len(s: &[u8]) -> Option<usize> {
    for lit in [&b"true"[..], b"false", b"null"] {
        if s.starts_with(lit) {
            return ends_scalar(s.get(lit.len())).then_some(lit.len());
        }
    }
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut i = usize::from(s.first() == Some(&b'-'));
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return None,
    }
    if s.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    ends_scalar(s.get(i)).then_some(i)
}

/// Whether the escape whose escaped byte is at `pos` is one JSON allows.
fn valid_escape(bytes: &[u8], pos: usize) -> bool {
    match bytes.get(pos) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => true,
        Some(b'u') => bytes
            .get(pos + 1..pos + 5)
            .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
        _ => false,
    }
}

/// In `Records` mode, where the `Records` array opens and closes, read off
/// the text's two ends: `{ "Records" : [` … `] }`, white space between.
fn records_array(bytes: &[u8]) -> Option<Range<usize>> {
    let mut i = bytes.iter().position(|b| !is_ws(b))?;
    let expect = |at: &mut usize, token: &[u8]| -> Option<()> {
        bytes[*at..].starts_with(token).then_some(())?;
        *at += token.len();
        *at += bytes[*at..].iter().take_while(|b| is_ws(b)).count();
        Some(())
    };
    expect(&mut i, b"{")?;
    expect(&mut i, b"\"Records\"")?;
    expect(&mut i, b":")?;
    bytes.get(i).filter(|b| **b == b'[')?;
    let mut j = bytes.iter().rposition(|b| !is_ws(b))?;
    (bytes[j] == b'}').then_some(())?;
    j = bytes[..j].iter().rposition(|b| !is_ws(b))?;
    (bytes[j] == b']' && j > i).then_some(i..j)
}

fn scan(bytes: &[u8], mode: Mode, kind: Kind) -> Result<Scanned, Refused> {
    match kind {
        // SAFETY: `Kind::Avx512Vbmi` is only made where the processor has
        // AVX-512 VBMI and VBMI2 besides all that `Kind::Avx512` needs.
        #[cfg(target_arch = "x86_64")]
        Kind::Avx512Vbmi => unsafe { scan_avx512_vbmi(bytes, mode) },
        // SAFETY: `Kind::Avx512` is only made where the processor has
        // AVX-512 F and BW besides all that `Kind::Avx2` needs.
        #[cfg(target_arch = "x86_64")]
        Kind::Avx512 => unsafe { scan_avx512(bytes, mode) },
        // SAFETY: `Kind::Avx2` is only made where the processor has AVX2,
        // BMI1, BMI2 and PCLMULQDQ.
        #[cfg(target_arch = "x86_64")]
        Kind::Avx2 => unsafe { scan_avx2(bytes, mode) },
        _ => scan_with(bytes, mode, kind, Chains::default()),
    }
}

/// The whole scan compiled for AVX2, BMI and PCLMULQDQ: the classification
/// inlines, and the bit arithmetic uses the newer instructions.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,bmi1,bmi2,pclmulqdq")]
unsafe fn scan_avx2(bytes: &[u8], mode: Mode) -> Result<Scanned, Refused> {
    scan_with(bytes, mode, Kind::Avx2, Chains::default())
}

/// The same with AVX-512's byte compares for the classification.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2,bmi1,bmi2,pclmulqdq")]
unsafe fn scan_avx512(bytes: &[u8], mode: Mode) -> Result<Scanned, Refused> {
    scan_with(bytes, mode, Kind::Avx512, Chains::default())
}

/// The same with the grammar checked by pairs of packed tokens.
#[cfg(target_arch = "x86_64")]
#[target_feature(
    enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,avx2,bmi1,bmi2,pclmulqdq,popcnt"
)]
unsafe fn scan_avx512_vbmi(bytes: &[u8], mode: Mode) -> Result<Scanned, Refused> {
    // SAFETY: this function runs only where the processor has all that
    // `Pairs` needs.
    let grammar = unsafe { pairs::Pairs::new() };
    scan_with(bytes, mode, Kind::Avx512Vbmi, grammar)
}

#[inline(always)]
fn scan_with(
    bytes: &[u8],
    mode: Mode,
    kind: Kind,
    mut grammar: impl Grammar,
) -> Result<Scanned, Refused> {
    let array = match mode {
        Mode::Records => records_array(bytes).ok_or(Refused::Unsupported)?,
        Mode::List => 0..bytes.len(),
    };
    let mut brackets = Brackets::new(bytes, mode, array);
    let (mut escape_carry, mut in_string_carry, mut scalar_carry, mut object_carry) =
        (0u64, 0u64, 0u64, 0u64);
    let prefix_xor = |x: u64| -> u64 {
        #[cfg(target_arch = "x86_64")]
        if kind.has_avx2() {
            // SAFETY: `Kind::Avx2` and `Kind::Avx512` are only made where
            // the processor has PCLMULQDQ.
            return unsafe { bits::prefix_xor_clmul(x) };
        }
        prefix_xor(x)
    };
    let mut marks = Vec::new();
    // The previous block ended in an opening quote.
    let mut open_carry = 0u64;
    let mut padded = [b' '; 64];
    for (n, chunk) in bytes.chunks(64).enumerate() {
        let base = n * 64;
        let block: &[u8; 64] = match chunk.try_into() {
            Ok(block) => block,
            Err(_) => {
                padded[..chunk.len()].copy_from_slice(chunk);
                &padded
            }
        };
        let c: Masks = classify::classify(kind, block);
        let esc = escaped(c.backslash, &mut escape_carry);
        let quote = c.quote & !esc;
        let in_string = prefix_xor(quote) ^ in_string_carry;
        in_string_carry = ((in_string as i64) >> 63) as u64;
        // A backslash that starts an escape must be inside a string; the
        // byte it escapes must make a valid escape; no control characters
        // inside strings.
        if c.backslash & !esc & !in_string != 0 || c.control & in_string != 0 {
            return Err(Refused::Invalid);
        }
        let mut e = esc;
        while e != 0 {
            let pos = base + e.trailing_zeros() as usize;
            if !valid_escape(bytes, pos) {
                return Err(Refused::Invalid);
            }
            if bytes[pos] == b'u' {
                marks.push((pos - 1, Mark::UnicodeEscape));
            }
            e &= e - 1;
        }
        let outside = !in_string;
        let (ob, oa) = (c.open_brace & outside, c.open_bracket & outside);
        // `}` or `]`: the walk checks which, against what it closes.
        let shut = c.close & outside;
        let (colon, comma) = (c.colon & outside, c.comma & outside);
        let (open, close) = (quote & in_string, quote & outside);
        // Strings that start with `A`: where a long-lived key or the
        // web-identity event name may begin.
        let mut named = ((open << 1) | open_carry) & c.letter_a;
        open_carry = open >> 63;
        while named != 0 {
            let pos = base + named.trailing_zeros() as usize;
            if let Some(mark) = marks::name_at(&bytes[pos..]) {
                marks.push((pos, mark));
            }
            named &= named - 1;
        }
        let ops = c.open_brace | c.open_bracket | c.close | c.colon | c.comma;
        let scalar = !(c.ws | ops | quote | in_string);
        let scalar_start = scalar & !((scalar << 1) | scalar_carry);
        scalar_carry = scalar >> 63;
        let mut s = scalar_start;
        while s != 0 {
            let pos = base + s.trailing_zeros() as usize;
            scalar_len(&bytes[pos..]).ok_or(Refused::Invalid)?;
            s &= s - 1;
        }
        // Which positions lie directly inside an object. Most blocks of a
        // record hold no bracket: those skip the walk's call.
        let block_brackets = ob | oa | shut;
        let flips = if block_brackets == 0 {
            0
        } else {
            brackets.walk(base, block_brackets)?
        };
        let in_object = prefix_xor(flips) ^ object_carry;
        object_carry = ((in_object as i64) >> 63) as u64;

        let tokens = Tokens {
            open,
            close,
            open_brace: ob,
            open_bracket: oa,
            shut,
            colon,
            comma,
            scalar: scalar_start,
            in_object,
        };
        if !grammar.block(block, &tokens) {
            return Err(Refused::Invalid);
        }
    }
    // Everything closed; nothing but the last value still waiting for what
    // follows it.
    if in_string_carry != 0 || escape_carry != 0 || !grammar.complete() {
        return Err(Refused::Invalid);
    }
    // Within a block the escapes were noted before the names.
    if !marks.is_sorted_by_key(|(pos, _)| *pos) {
        marks.sort_unstable_by_key(|(pos, _)| *pos);
    }
    Ok(Scanned {
        elements: brackets.finish()?,
        marks,
    })
}

#[cfg(test)]
mod tests;
