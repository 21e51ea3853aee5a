//! The scanner's bit arithmetic on 64-byte blocks: which bytes an escape
//! covers, prefix XOR (what lies inside strings), and "the next significant
//! position" carried from block to block. Pure functions of masks and a
//! carry; what the positions mean is the scanner's ([`super`]).

/// The bytes an odd run of backslashes escapes (simdjson's branchless
/// form); `carry` is whether the previous block ended in such a run.
#[inline]
pub(super) fn escaped(backslash: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let backslash = backslash & !*carry;
    let follows_escape = (backslash << 1) | *carry;
    let odd_starts = backslash & !EVEN & !follows_escape;
    let (even_starts, overflow) = odd_starts.overflowing_add(backslash);
    *carry = u64::from(overflow);
    (EVEN ^ (even_starts << 1)) & follows_escape
}

/// Bit `i` of the result: the XOR of bits `0..=i` of `x`.
#[inline]
pub(super) fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// [`prefix_xor`] in one instruction: the carry-less product of `x` and
/// all ones is, bit by bit, the XOR of every bit at or below it.
///
/// # Safety
/// The processor must have PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
#[inline]
pub(super) unsafe fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::*;
    let product = _mm_clmulepi64_si128(_mm_cvtsi64_si128(x as i64), _mm_set1_epi8(-1), 0);
    _mm_cvtsi128_si64(product) as u64
}

/// "The next significant position" for one set of positions, carried from
/// block to block: each bit of `a` moved to the first bit of `s` after it.
/// `s` holds every position that is not white space, not inside a string
/// and not a scalar's second byte or later; adding `a`'s successors to the
/// complement of `s` carries each through the white space (and string
/// interiors) to the next significant position.
///
/// One carry bit crosses to the next block, for the one search that may
/// still be under way: the position at bit 63 was in `a` (its successor is
/// the next block's bit 0), or a search ran through bit 63 without landing
/// (the add overflowed). The two never happen together while `a` lies
/// within `s`, as every caller's does: a search that reaches bit 63 passed
/// a run of positions outside `s`, and bit 63 would be in it.
#[derive(Default)]
pub(super) struct Next {
    carry: bool,
}

impl Next {
    #[inline]
    pub(super) fn of(&mut self, a: u64, s: u64) -> u64 {
        debug_assert_eq!(a & !s, 0, "the positions are significant ones");
        let (sum, overflow) = add_with_carry(!s, a << 1, self.carry);
        self.carry = overflow | (a >> 63 != 0);
        sum & s
    }

    /// Something is still looking for its next position past the end.
    pub(super) fn pending(&self) -> bool {
        self.carry
    }
}

/// `x + y + carry`, and whether it overflowed: one `adc` on x86-64, where
/// LLVM otherwise pairs the scanner's sums into vector registers and
/// detects each overflow with a vector compare.
#[inline(always)]
fn add_with_carry(x: u64, y: u64, carry: bool) -> (u64, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        let mut sum = 0;
        let out = std::arch::x86_64::_addcarry_u64(u8::from(carry), x, y, &mut sum);
        (sum, out != 0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (sum, o1) = x.overflowing_add(y);
        let (sum, o2) = sum.overflowing_add(u64::from(carry));
        (sum, o1 | o2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn carry_less_prefix_xor_is_the_shifts() {
        if !std::is_x86_feature_detected!("pclmulqdq") {
            eprintln!("skipped: this processor has no PCLMULQDQ");
            return;
        }
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let edges = [0, 1, 1 << 63, u64::MAX, 0x5555_5555_5555_5555];
        for v in edges.into_iter().chain((0..10_000).map(|_| rng.next())) {
            // SAFETY: PCLMULQDQ was detected above.
            assert_eq!(unsafe { prefix_xor_clmul(v) }, prefix_xor(v), "{v:#x}");
        }
    }
}
