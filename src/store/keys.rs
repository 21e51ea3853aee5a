//! The keys of the events a store holds, per day partition, for telling
//! new events from ones already stored.

/// A digest of a row's identifying columns ([`crate::frame::event_keys`]).
pub type RowKey = u128;

/// The keys of one day partition, sorted: 16 bytes a key (a hash set
/// takes more than twice that), merged in linear time as batches add to it.
#[derive(Debug, Default)]
pub struct KeyIndex {
    sorted: Vec<RowKey>,
}

/// What one row of a batch is to the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not held, and the first row of the batch with its key.
    New,
    /// Held already (every row of the batch with that key).
    Stored,
    /// Not held, but an earlier row of the batch has the same key.
    Repeat,
}

impl KeyIndex {
    /// Judges a batch's keys, in the batch's row order, and adds the new
    /// ones. The batch is sorted by key and walked against the index in
    /// one pass, each lookup galloping on from the last: the index is read
    /// front to back, never probed at random (at hundreds of thousands of
    /// keys a day, a binary search a row missed the cache at every step).
    pub fn admit(&mut self, keys: &[RowKey]) -> Vec<Verdict> {
        let mut by_key: Vec<(RowKey, usize)> = keys.iter().copied().zip(0..).collect();
        // By key, then position: the first row with a key comes first.
        by_key.sort_unstable();
        let mut verdicts = vec![Verdict::New; keys.len()];
        let mut fresh = Vec::with_capacity(keys.len());
        let mut from = 0;
        let mut last: Option<(RowKey, Verdict)> = None;
        for (key, at) in by_key {
            let verdict = match last {
                Some((k, Verdict::Stored)) if k == key => Verdict::Stored,
                Some((k, _)) if k == key => Verdict::Repeat,
                _ => {
                    let verdict = if self.holds(&mut from, key) {
                        Verdict::Stored
                    } else {
                        fresh.push(key);
                        Verdict::New
                    };
                    last = Some((key, verdict));
                    verdict
                }
            };
            verdicts[at] = verdict;
        }
        self.merge(&fresh);
        verdicts
    }

    /// Adds keys (any order, repeats allowed) without judging them: a
    /// day's keys as read from its part files.
    pub fn extend(&mut self, mut keys: Vec<RowKey>) {
        keys.sort_unstable();
        keys.dedup();
        let mut from = 0;
        keys.retain(|key| !self.holds(&mut from, *key));
        self.merge(&keys);
    }

    /// Whether the index holds `key`, looked for from `*from` on (which is
    /// left where the search ended): keys asked for in ascending order read
    /// the index front to back.
    fn holds(&self, from: &mut usize, key: RowKey) -> bool {
        *from = gallop(&self.sorted, *from, key);
        self.sorted.get(*from) == Some(&key)
    }

    /// Merges sorted keys the index does not hold, from the back in place:
    /// no second copy of the index is ever held.
    fn merge(&mut self, keys: &[RowKey]) {
        let (n, m) = (self.sorted.len(), keys.len());
        if m == 0 {
            return;
        }
        self.sorted.reserve_exact(m);
        self.sorted.resize(n + m, 0);
        let (mut i, mut j) = (n, m);
        for k in (0..n + m).rev() {
            if i > 0 && (j == 0 || self.sorted[i - 1] > keys[j - 1]) {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = keys[j - 1];
                j -= 1;
            }
        }
    }
}

/// The first position at or after `from` whose key is not below `key`
/// (`sorted.len()` if none), found by steps that double from `from` and
/// then a binary search of the last step.
fn gallop(sorted: &[RowKey], from: usize, key: RowKey) -> usize {
    let rest = &sorted[from..];
    let (mut lo, mut step) = (0, 1);
    while lo + step <= rest.len() && rest[lo + step - 1] < key {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(rest.len());
    from + lo + rest[lo..hi].partition_point(|k| *k < key)
}

#[cfg(test)]
mod tests {
    use super::{KeyIndex, Verdict::*, gallop};

    #[test]
    fn the_key_index_judges_and_merges() {
        let mut index = KeyIndex::default();
        assert_eq!(index.admit(&[5, 1, 9]), [New, New, New]);
        assert_eq!(
            index.admit(&[4, 9, 2, 4, 9]),
            [New, Stored, New, Repeat, Stored]
        );
        assert_eq!(index.admit(&[]), []);
        assert_eq!(index.sorted, [1, 2, 4, 5, 9]);
        index.extend(vec![7, 2, 7, 0]);
        assert_eq!(index.sorted, [0, 1, 2, 4, 5, 7, 9]);
        assert_eq!(index.admit(&[7, 3, 0]), [Stored, New, Stored]);
    }

    #[test]
    fn galloping_finds_what_a_binary_search_finds() {
        let mut rng = crate::test_rng::XorShift::new(0x006a_110b);
        let mut next = || rng.next();
        for round in 0..300 {
            let mut sorted: Vec<u128> = (0..round % 40).map(|_| u128::from(next() % 64)).collect();
            sorted.sort_unstable();
            for from in 0..=sorted.len() {
                for key in 0..66 {
                    let want = from + sorted[from..].partition_point(|k| *k < key);
                    assert_eq!(
                        gallop(&sorted, from, key),
                        want,
                        "{sorted:?} from {from} key {key}"
                    );
                }
            }
        }
    }

    #[test]
    fn admitting_agrees_with_a_set() {
        let mut rng = crate::test_rng::XorShift::new(0x0add_05e7);
        let mut next = || rng.next();
        let mut index = KeyIndex::default();
        let mut held = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let batch: Vec<u128> = (0..next() % 50).map(|_| u128::from(next() % 500)).collect();
            let mut seen = std::collections::HashSet::new();
            let want: Vec<_> = batch
                .iter()
                .map(|k| {
                    if held.contains(k) {
                        Stored
                    } else if seen.insert(*k) {
                        New
                    } else {
                        Repeat
                    }
                })
                .collect();
            assert_eq!(index.admit(&batch), want);
            held.extend(batch);
            assert!(index.sorted.iter().eq(held.iter()));
        }
    }
}
