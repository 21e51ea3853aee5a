//! The grammar by pairs of tokens, for processors with AVX-512 VBMI and
//! VBMI2: a block's tokens are packed side by side (one compress), each
//! given its class by a table, and each checked against the token before
//! it with two more lookups. [`super::grammar::Chains`] carries six sets of
//! positions through every block for the same verdicts; this does a dozen
//! vector instructions, whatever the block holds.
//!
//! The one rule that needs more than the token before is which strings are
//! keys: a string whose opening quote follows `{` or a comma in an object.
//! Its closing quote looks two tokens back, and is classed [`KEY_CLOSE`]
//! (which only a colon may follow) before the pairs are checked.

use std::arch::x86_64::*;

use super::grammar::{Grammar, Tokens};

// The classes of tokens. `START` stands before the first; `BAD` is any byte
// no token starts with (the scanner never packs one: a stray byte outside
// strings was refused as a scalar already), which nothing may follow.
const START: u8 = 0;
const OPEN_BRACE: u8 = 1;
const OPEN_BRACKET: u8 = 2;
const SHUT: u8 = 3;
const COLON: u8 = 4;
const OBJECT_COMMA: u8 = 5;
const ARRAY_COMMA: u8 = 6;
const OPEN: u8 = 7;
const CLOSE: u8 = 8;
const KEY_CLOSE: u8 = 9;
const SCALAR: u8 = 10;
const BAD: u8 = 11;

// What stands in the packed bytes for a closing quote and a comma inside
// an object, which the byte alone does not tell apart: control bytes,
// which no token starts with.
const CLOSE_BYTE: u8 = 0x01;
const OBJECT_COMMA_BYTE: u8 = 0x02;

/// A token's class by the low six bits of its packed byte (what `vpermb`
/// indexes by). The slots must not collide: a `const` assertion holds it.
static CLASS: [u8; 64] = {
    let mut t = [BAD; 64];
    let tokens: [(u8, u8); 9] = [
        (b'{', OPEN_BRACE),
        (b'[', OPEN_BRACKET),
        (b'}', SHUT),
        (b']', SHUT),
        (b':', COLON),
        (b',', ARRAY_COMMA),
        (b'"', OPEN),
        (CLOSE_BYTE, CLOSE),
        (OBJECT_COMMA_BYTE, OBJECT_COMMA),
    ];
    let mut i = 0;
    while i < tokens.len() {
        let slot = (tokens[i].0 & 63) as usize;
        assert!(t[slot] == BAD, "two tokens share a slot");
        t[slot] = tokens[i].1;
        i += 1;
    }
    // A scalar starts with `t`, `f`, `n`, `-` or a digit (`t` shares its
    // slot with `4`: both scalars).
    let scalars = b"tfn-0123456789";
    let mut i = 0;
    while i < scalars.len() {
        let slot = (scalars[i] & 63) as usize;
        assert!(
            t[slot] == BAD || t[slot] == SCALAR,
            "a scalar shares a slot"
        );
        t[slot] = SCALAR;
        i += 1;
    }
    t
};

// A class as the token it is, one bit each (both commas are a comma, both
// closing quotes a closing quote).
const IS_OPEN_BRACE: u8 = 1 << 0;
const IS_OPEN_BRACKET: u8 = 1 << 1;
const IS_SHUT: u8 = 1 << 2;
const IS_COLON: u8 = 1 << 3;
const IS_COMMA: u8 = 1 << 4;
const IS_OPEN: u8 = 1 << 5;
const IS_CLOSE: u8 = 1 << 6;
const IS_SCALAR: u8 = 1 << 7;
const VALUE: u8 = IS_OPEN_BRACE | IS_OPEN_BRACKET | IS_OPEN | IS_SCALAR;

/// Builds a 64-entry table by class from `(class, entry)` pairs; every
/// other class gets zero.
const fn by_class(entries: &[(u8, u8)]) -> [u8; 64] {
    let mut t = [0; 64];
    let mut i = 0;
    while i < entries.len() {
        t[entries[i].0 as usize] = entries[i].1;
        i += 1;
    }
    t
}

/// Each class as the token it is.
static IS: [u8; 64] = by_class(&[
    (OPEN_BRACE, IS_OPEN_BRACE),
    (OPEN_BRACKET, IS_OPEN_BRACKET),
    (SHUT, IS_SHUT),
    (COLON, IS_COLON),
    (OBJECT_COMMA, IS_COMMA),
    (ARRAY_COMMA, IS_COMMA),
    (OPEN, IS_OPEN),
    (CLOSE, IS_CLOSE),
    (KEY_CLOSE, IS_CLOSE),
    (SCALAR, IS_SCALAR),
]);

/// What may follow each class: the rules [`super::grammar::Chains`]
/// checks, pair by pair. The first token may be anything but a colon.
static MAY_FOLLOW: [u8; 64] = by_class(&[
    (START, !IS_COLON),
    (OPEN_BRACE, IS_OPEN | IS_SHUT),
    (OPEN_BRACKET, VALUE | IS_SHUT),
    (SHUT, IS_COMMA | IS_SHUT),
    (COLON, VALUE),
    (OBJECT_COMMA, IS_OPEN),
    (ARRAY_COMMA, VALUE),
    (OPEN, IS_CLOSE),
    (CLOSE, IS_COMMA | IS_SHUT),
    (KEY_CLOSE, IS_COLON),
    (SCALAR, IS_COMMA | IS_SHUT),
]);

/// Indexes for `vpermt2b` that move each token one (`BACK1`) or two
/// (`BACK2`) places on; the first places take the tokens carried from the
/// block before (from the second operand: the one before last at byte 0,
/// the last at byte 1).
static BACK1: [u8; 64] = back(1);
static BACK2: [u8; 64] = back(2);

const fn back(n: usize) -> [u8; 64] {
    let mut t = [0; 64];
    let mut i = 0;
    while i < 64 {
        t[i] = if i >= n {
            (i - n) as u8
        } else {
            (64 + 2 - n + i) as u8
        };
        i += 1;
    }
    t
}

/// The grammar by pairs. The last two tokens' classes carry to the next
/// block.
pub(super) struct Pairs {
    before_last: u8,
    last: u8,
}

impl Pairs {
    /// # Safety
    /// The processor must have AVX-512 F, BW, VBMI and VBMI2, BMI2 and
    /// POPCNT.
    pub(super) unsafe fn new() -> Pairs {
        Pairs {
            before_last: START,
            last: START,
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi2,popcnt")]
    #[inline]
    unsafe fn check(&mut self, block: &[u8; 64], t: &Tokens) -> bool {
        let tokens = t.all();
        let n = tokens.count_ones() as usize;
        if n == 0 {
            return true;
        }
        let load = |table: &[u8; 64]| {
            // SAFETY: 64 bytes, one unaligned load.
            unsafe { _mm512_loadu_si512(table.as_ptr().cast()) }
        };
        let splat = |b: u8| _mm512_set1_epi8(b as i8);
        // The block's bytes at its tokens, packed, then classed.
        let bytes = load(block);
        let bytes = _mm512_mask_mov_epi8(bytes, t.close, splat(CLOSE_BYTE));
        let bytes = _mm512_mask_mov_epi8(bytes, t.comma & t.in_object, splat(OBJECT_COMMA_BYTE));
        let packed = _mm512_maskz_compress_epi8(tokens, bytes);
        let class = _mm512_permutexvar_epi8(packed, load(&CLASS));
        // Bytes 0 and 1 (and every even and odd one after): the two
        // tokens carried from before.
        let carried = _mm512_set1_epi16(i16::from_le_bytes([self.before_last, self.last]));
        // A closing quote two tokens after `{` or a comma in an object
        // closes a key.
        let two_back = _mm512_permutex2var_epi8(class, load(&BACK2), carried);
        let after_key_start = _mm512_cmpeq_epi8_mask(two_back, splat(OPEN_BRACE))
            | _mm512_cmpeq_epi8_mask(two_back, splat(OBJECT_COMMA));
        let key_close = _mm512_cmpeq_epi8_mask(class, splat(CLOSE)) & after_key_start;
        let class = _mm512_mask_mov_epi8(class, key_close, splat(KEY_CLOSE));
        // Each token against the one before it.
        let one_back = _mm512_permutex2var_epi8(class, load(&BACK1), carried);
        let may_follow = _mm512_permutexvar_epi8(one_back, load(&MAY_FOLLOW));
        let is = _mm512_permutexvar_epi8(class, load(&IS));
        let fits = _mm512_test_epi8_mask(may_follow, is);
        let mut classes = [0u8; 64];
        // SAFETY: 64 bytes, one unaligned store.
        unsafe { _mm512_storeu_si512(classes.as_mut_ptr().cast(), class) };
        self.before_last = if n >= 2 { classes[n - 2] } else { self.last };
        self.last = classes[n - 1];
        _bzhi_u64(u64::MAX, n as u32) & !fits == 0
    }
}

impl Grammar for Pairs {
    #[inline(always)]
    fn block(&mut self, block: &[u8; 64], tokens: &Tokens) -> bool {
        // SAFETY: a `Pairs` is only made where the processor has what
        // `check` needs (see `new`).
        unsafe { self.check(block, tokens) }
    }

    fn complete(&self) -> bool {
        matches!(self.last, START | SHUT | CLOSE | SCALAR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_agree_with_the_bytes() {
        for (b, class) in [
            (b'{', OPEN_BRACE),
            (b']', SHUT),
            (b'7', SCALAR),
            (b't', SCALAR),
        ] {
            assert_eq!(CLASS[usize::from(b & 63)], class);
        }
        assert_eq!(&BACK1[..3], &[65, 0, 1]);
        assert_eq!(&BACK2[..4], &[64, 65, 0, 1]);
        // Nothing may follow a byte that starts no token.
        assert_eq!(MAY_FOLLOW[usize::from(BAD)], 0);
        assert_eq!(IS[usize::from(BAD)], 0);
    }
}
