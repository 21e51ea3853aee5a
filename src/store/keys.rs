//! The keys of the events a store holds, per day partition, for telling
//! new events from ones already stored.

/// A digest of a row's identifying columns ([`crate::frame::event_keys`]).
pub type RowKey = u128;

/// The keys of one day partition, sorted: 16 bytes a key (a hash set
/// takes more than twice that), looked up by binary search, merged in
/// linear time as batches add to it.
#[derive(Debug, Default)]
pub struct KeyIndex {
    sorted: Vec<RowKey>,
}

impl KeyIndex {
    pub fn contains(&self, key: RowKey) -> bool {
        self.sorted.binary_search(&key).is_ok()
    }

    /// Adds keys, merging from the back in place: no second copy of the
    /// index is ever held.
    pub fn add(&mut self, mut keys: Vec<RowKey>) {
        keys.sort_unstable();
        keys.dedup();
        keys.retain(|k| !self.contains(*k));
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_key_index_merges_and_finds() {
        let mut index = super::KeyIndex::default();
        index.add(vec![5, 1, 9]);
        index.add(vec![4, 9, 2]);
        index.add(vec![]);
        assert_eq!(index.sorted, [1, 2, 4, 5, 9]);
        assert!(index.contains(4) && !index.contains(3));
    }
}
