//! The scanner's grammar check: once a block's bytes are classified and
//! its strings known, whether its tokens follow one another as JSON allows
//! (a key and one colon after `{` or a comma in an object, a value after a
//! colon or a comma, a comma or a closing bracket after a value). Which
//! bracket closes which is the bracket walk's ([`super::brackets`]).
//!
//! Two implementations give the same verdict on every text: [`Chains`],
//! bit arithmetic on the block's masks that runs anywhere, and
//! [`super::pairs::Pairs`], which packs the tokens side by side and looks
//! each pair up, on processors with AVX-512 VBMI and VBMI2.

use super::bits::Next;

/// A block's tokens, one bit per byte: everything outside strings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tokens {
    /// Opening and closing quotes.
    pub open: u64,
    pub close: u64,
    /// `{` and `[`.
    pub open_brace: u64,
    pub open_bracket: u64,
    /// `}` or `]`.
    pub shut: u64,
    pub colon: u64,
    pub comma: u64,
    /// The first byte of a literal or a number.
    pub scalar: u64,
    /// The positions directly inside an object (from the bracket walk).
    pub in_object: u64,
}

impl Tokens {
    /// Every position a token starts at.
    #[inline(always)]
    pub fn all(&self) -> u64 {
        self.open
            | self.close
            | self.open_brace
            | self.open_bracket
            | self.shut
            | self.colon
            | self.comma
            | self.scalar
    }

    /// The positions where a value starts.
    #[inline(always)]
    pub fn value_start(&self) -> u64 {
        self.open | self.open_brace | self.open_bracket | self.scalar
    }
}

/// The grammar, checked block by block.
pub(super) trait Grammar {
    /// Whether the block's tokens (`block` is its bytes) follow the tokens
    /// before them as JSON allows.
    fn block(&mut self, block: &[u8; 64], tokens: &Tokens) -> bool;
    /// Whether the last token may end the text: nothing is still waiting
    /// for what follows it (a value, a key, a colon), save a value for its
    /// comma.
    fn complete(&self) -> bool;
}

/// The grammar as "what may come next" for each kind of token, each a set
/// of positions carried to the next token by [`Next`].
#[derive(Default)]
pub(super) struct Chains {
    key_open: Next,
    key_close: Next,
    after_key: Next,
    after_sep: Next,
    after_array: Next,
    after_value: Next,
}

impl Grammar for Chains {
    #[inline(always)]
    fn block(&mut self, _block: &[u8; 64], t: &Tokens) -> bool {
        let significant = t.all();
        let value_start = t.value_start();
        // After `{` or a comma in an object: a key (or `}` after `{`).
        let first = self
            .key_open
            .of(t.open_brace | (t.comma & t.in_object), significant);
        let keys = first & t.open;
        let bad_first = first & !(t.open | t.shut);
        // A key's closing quote, then exactly one colon.
        let key_end = self.key_close.of(keys, significant);
        let colon_next = self.after_key.of(key_end, significant);
        // After a colon or a comma: a value. After `[`: a value or `]`.
        let after = self.after_sep.of(t.colon | t.comma, significant);
        let array_first = self.after_array.of(t.open_bracket, significant);
        // After a value: a comma or a closing bracket.
        let value_end = (t.close & !key_end) | t.shut | t.scalar;
        let next = self.after_value.of(value_end, significant);
        bad_first
            | (colon_next ^ t.colon)
            | (after & !value_start)
            | (array_first & !(value_start | t.shut))
            | (next & !(t.comma | t.shut))
            == 0
    }

    fn complete(&self) -> bool {
        ![
            &self.key_open,
            &self.key_close,
            &self.after_key,
            &self.after_sep,
            &self.after_array,
        ]
        .iter()
        .any(|n| n.pending())
    }
}
