//! The scanner's bracket walk: the few brackets outside strings, one by
//! one, for nesting, matching, where each element begins and ends, and which
//! positions lie directly inside an object. The rest of the grammar is the
//! block loop's ([`super`]).

use std::ops::Range;

use super::{Mode, Refused, is_ws};

/// Nesting deeper than this is left to serde.
const MAX_DEPTH: usize = 512;

/// The brackets, walked one by one: nesting, matching, the elements, and
/// which positions lie directly inside an object.
pub(super) struct Brackets<'a> {
    bytes: &'a [u8],
    mode: Mode,
    /// `true` per open object, `false` per open array.
    stack: Vec<bool>,
    element_depth: usize,
    /// Where the gap before the next element begins, and whether a comma
    /// must be in it.
    gap_from: usize,
    elements: Vec<Range<usize>>,
    /// In `Records` mode: where the `Records` array opens and closes.
    array: Range<usize>,
    /// The position before the block's first byte lies directly inside an
    /// object.
    in_object: bool,
}

impl<'a> Brackets<'a> {
    /// Before the first block; `array` is where the `Records` array opens
    /// and closes (the whole text for a list).
    pub(super) fn new(bytes: &'a [u8], mode: Mode, array: Range<usize>) -> Self {
        Brackets {
            bytes,
            mode,
            stack: Vec::with_capacity(16),
            element_depth: if mode == Mode::Records { 2 } else { 0 },
            gap_from: if mode == Mode::Records {
                array.start + 1
            } else {
                0
            },
            elements: Vec::new(),
            array,
            in_object: false,
        }
    }

    /// After the last block: the elements, once every bracket is closed
    /// and nothing but white space follows the last element.
    pub(super) fn finish(self) -> Result<Vec<Range<usize>>, Refused> {
        if !self.stack.is_empty() {
            return Err(Refused::Invalid);
        }
        self.gap(self.array.end, true)?;
        Ok(self.elements)
    }

    /// The gap before an element (or, with `end`, after the last) holds
    /// white space and, between two elements, one comma; anything else
    /// means the list holds something other than objects, which serde
    /// reads.
    fn gap(&self, to: usize, end: bool) -> Result<(), Refused> {
        let comma = !end && !self.elements.is_empty();
        let mut it = self.bytes[self.gap_from..to].iter().filter(|b| !is_ws(b));
        match (comma, it.next(), it.next()) {
            (false, None, _) | (true, Some(b','), None) => Ok(()),
            _ => Err(Refused::Unsupported),
        }
    }

    /// One block's brackets (`brackets`, outside strings); returns the
    /// positions where being directly inside an object starts or stops.
    pub(super) fn walk(&mut self, base: usize, mut brackets: u64) -> Result<u64, Refused> {
        let mut flips = 0u64;
        while brackets != 0 {
            let bit = brackets.trailing_zeros();
            brackets &= brackets - 1;
            let pos = base + bit as usize;
            let b = self.bytes[pos];
            if b == b'{' || b == b'[' {
                let depth = self.stack.len();
                if depth == self.element_depth {
                    if b != b'{' {
                        return Err(Refused::Unsupported);
                    }
                    self.gap(pos, false)?;
                    self.gap_from = pos;
                }
                if self.mode == Mode::Records && depth == 1 && pos != self.array.start {
                    return Err(Refused::Unsupported);
                }
                if depth >= MAX_DEPTH {
                    return Err(Refused::Unsupported);
                }
                self.stack.push(b == b'{');
            } else {
                if self.stack.pop() != Some(b == b'}') {
                    return Err(Refused::Invalid);
                }
                let depth = self.stack.len();
                if depth == self.element_depth {
                    self.elements.push(self.gap_from..pos + 1);
                    self.gap_from = pos + 1;
                }
                if self.mode == Mode::Records && depth == 1 && pos != self.array.end {
                    return Err(Refused::Unsupported);
                }
            }
            let inside = self.stack.last() == Some(&true);
            if inside != self.in_object {
                flips |= 1 << bit;
                self.in_object = inside;
            }
        }
        Ok(flips)
    }
}
