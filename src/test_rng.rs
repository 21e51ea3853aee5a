//! The unit tests' random inputs: a xorshift generator with a fixed seed,
//! so every run draws the same many patterns.

pub struct XorShift(u64);

impl XorShift {
    /// A generator starting from `seed` (not zero).
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed)
    }

    /// The next value.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// One of `items`, by the next value.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[(self.next() % items.len() as u64) as usize]
    }
}
