//! What the skim must know of a record, noted while it is scanned: where a
//! string starts that names what a report keeps (a long-lived key, the
//! web-identity event), and where a `\u` escape could spell one in a way no
//! look at the raw bytes sees. The scanner finds every string start and
//! every escape anyway; noting these costs a comparison a block.

use std::ops::Range;

use super::Scanned;
use crate::ingest::{LONG_LIVED_KEY_PREFIX, WEB_IDENTITY};

/// One thing noted at a position of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A `\u` escape (at its backslash; a `\\` followed by `u` is an
    /// escaped backslash, not one).
    UnicodeEscape,
    /// A string, key or value, that starts `AKIA` (at its first letter):
    /// a long-lived access key.
    LongLivedKey,
    /// The string `AssumeRoleWithWebIdentity`, key or value (at its first
    /// letter).
    WebIdentity,
}

/// Some marks, one bit each.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MarkSet(u8);

impl MarkSet {
    pub fn contains(self, mark: Mark) -> bool {
        self.0 & Self::bit(mark) != 0
    }

    pub fn insert(&mut self, mark: Mark) {
        self.0 |= Self::bit(mark);
    }

    fn bit(mark: Mark) -> u8 {
        1 << mark as u8
    }
}

impl FromIterator<Mark> for MarkSet {
    fn from_iter<I: IntoIterator<Item = Mark>>(marks: I) -> Self {
        let mut set = MarkSet::default();
        for m in marks {
            set.insert(m);
        }
        set
    }
}

/// The mark for a string whose text (after its opening quote) starts
/// `s`, which starts with `A`: by the same names the reports keep records
/// by ([`crate::ingest::RowFilter`]), the event name as the whole string.
#[inline]
pub(super) fn name_at(s: &[u8]) -> Option<Mark> {
    if s.starts_with(LONG_LIVED_KEY_PREFIX.as_bytes()) {
        Some(Mark::LongLivedKey)
    } else if s
        .strip_prefix(WEB_IDENTITY.as_bytes())
        .is_some_and(|rest| rest.first() == Some(&b'"'))
    {
        Some(Mark::WebIdentity)
    } else {
        None
    }
}

impl Scanned {
    /// Each element with the marks inside it.
    pub fn elements_with_marks(&self) -> impl Iterator<Item = (Range<usize>, MarkSet)> + '_ {
        let mut at = 0;
        self.elements.iter().map(move |range| {
            let marks = &self.marks;
            while at < marks.len() && marks[at].0 < range.start {
                at += 1;
            }
            let inside = marks[at..]
                .iter()
                .take_while(|(pos, _)| *pos < range.end)
                .map(|(_, m)| *m)
                .collect();
            (range.clone(), inside)
        })
    }
}
