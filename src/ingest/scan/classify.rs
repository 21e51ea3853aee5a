//! The first step of the scanner: 64 bytes at a time, one bit per byte for
//! each class of character the JSON structure depends on. AVX-512 (BW) or
//! AVX2 when the processor has it (found at run time), else SSE2 (every
//! x86-64), else a byte loop; all four give the same masks (a property test
//! holds them to it). Other architectures take the byte loop.

/// Bit `i` is set when byte `i` of the block is of the class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// `{`
    pub open_brace: u64,
    /// `[`
    pub open_bracket: u64,
    /// `}` or `]`: which one is the bracket walk's to check, since it reads
    /// each bracket's byte anyway (one mask less to carry through a block).
    pub close: u64,
    pub colon: u64,
    pub comma: u64,
    /// JSON's white space: space, tab, line feed, carriage return.
    pub ws: u64,
    /// Below 0x20: never allowed inside a string.
    pub control: u64,
    /// `A`: how the names the skim looks for start.
    pub letter_a: u64,
}

/// The byte loop: the reference the vector versions are held to.
pub fn portable(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match b {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b'{' => m.open_brace |= bit,
            b'[' => m.open_bracket |= bit,
            b'}' | b']' => m.close |= bit,
            b':' => m.colon |= bit,
            b',' => m.comma |= bit,
            b' ' | b'\t' | b'\n' | b'\r' => m.ws |= bit,
            b'A' => m.letter_a |= bit,
            _ => {}
        }
        if b < 0x20 {
            m.control |= bit;
        }
    }
    m
}

/// AVX2 and the instructions that come with it: bit manipulation, and the
/// carry-less multiply for prefix XOR (the scanner is compiled for all four
/// together).
#[cfg(target_arch = "x86_64")]
fn avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("bmi1")
        && std::is_x86_feature_detected!("bmi2")
        && std::is_x86_feature_detected!("pclmulqdq")
}

/// AVX-512 with byte compares (BW) on top of [`avx2`]'s set: a block is
/// one register, and each class compares straight into its 64-bit mask.
#[cfg(target_arch = "x86_64")]
fn avx512() -> bool {
    avx2() && std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")
}

/// [`avx512`]'s set, VBMI and VBMI2 (byte permutes and compress), and
/// POPCNT: the scanner checks the grammar by pairs of packed tokens
/// ([`super::pairs`]).
#[cfg(target_arch = "x86_64")]
fn avx512_vbmi() -> bool {
    avx512()
        && std::is_x86_feature_detected!("avx512vbmi")
        && std::is_x86_feature_detected!("avx512vbmi2")
        && std::is_x86_feature_detected!("popcnt")
}

/// Which implementation the scanner uses on this machine: how
/// [`classify`] classifies, and (with VBMI) how the grammar is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// [`Kind::Avx512`]'s classification, the grammar by token pairs.
    Avx512Vbmi,
    Avx512,
    Avx2,
    Sse2,
    Portable,
}

impl Kind {
    /// The fastest this processor has; `CTAUDIT_SCAN=avx2` or `=avx512`
    /// keeps to that where faster ones are there too (to compare them).
    pub fn detect() -> Kind {
        static KIND: std::sync::LazyLock<Kind> = std::sync::LazyLock::new(|| {
            let available = Kind::available();
            let fastest = available.last().copied().unwrap_or(Kind::Portable);
            let wanted = match std::env::var("CTAUDIT_SCAN").as_deref() {
                Ok("avx2") => Some(Kind::Avx2),
                Ok("avx512") => Some(Kind::Avx512),
                _ => None,
            };
            wanted.filter(|k| available.contains(k)).unwrap_or(fastest)
        });
        *KIND
    }

    /// Whether this kind is one of the vector scanners compiled for AVX2's
    /// set (BMI and PCLMULQDQ included).
    pub fn has_avx2(self) -> bool {
        matches!(self, Kind::Avx2 | Kind::Avx512 | Kind::Avx512Vbmi)
    }

    /// Every implementation this processor can run, slowest first.
    pub fn available() -> Vec<Kind> {
        let mut v = vec![Kind::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            v.push(Kind::Sse2);
            if avx2() {
                v.push(Kind::Avx2);
            }
            if avx512() {
                v.push(Kind::Avx512);
            }
            if avx512_vbmi() {
                v.push(Kind::Avx512Vbmi);
            }
        }
        v
    }
}

/// The masks of `block`, by `kind` (which must be available: see
/// [`Kind::detect`]). Inlined, so that in the scanner compiled for AVX2
/// the vector code joins the rest.
#[inline(always)]
pub fn classify(kind: Kind, block: &[u8; 64]) -> Masks {
    match kind {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kind::Avx512` and `Kind::Avx512Vbmi` are only made
        // where the processor has AVX-512 F and BW.
        Kind::Avx512 | Kind::Avx512Vbmi => unsafe { x86::avx512(block) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kind::Avx2` is only made where the processor has AVX2.
        Kind::Avx2 => unsafe { x86::avx2(block) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of x86-64.
        Kind::Sse2 => unsafe { x86::sse2(block) },
        _ => portable(block),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Masks;

    /// `x`, hidden from the optimiser. Seen through, LLVM treats a mask
    /// made by `vpmovmskb` as a vector of 64 booleans and, where the
    /// scanner mixes it with its own bit arithmetic, builds it back bit by
    /// bit with byte inserts (`vpinsrb`): about 150 instructions a block,
    /// which made the scanner slower than serde_json. Behind an empty
    /// `asm` block each mask is an ordinary register.
    #[inline(always)]
    fn opaque(mut x: u64) -> u64 {
        // SAFETY: an empty template: no instruction, no memory, no flags.
        unsafe {
            std::arch::asm!("/* {0} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
        };
        x
    }

    /// Generates the classification for one vector width: `$load` reads a
    /// vector, `$eq` compares bytes, `$max` is the unsigned byte maximum,
    /// `$mask` turns a comparison into bits, `$ws` finds white space.
    macro_rules! classify_with {
        ($name:ident, $feature:literal, $vec:ty, $width:literal, $load:ident, $set1:ident,
         $eq:ident, $or:ident, $max:ident, $mask:ident, $ws:ident) => {
            #[target_feature(enable = $feature)]
            #[inline]
            pub unsafe fn $name(block: &[u8; 64]) -> Masks {
                let mut m = Masks::default();
                let mut i = 0;
                while i < 64 {
                    // SAFETY: `i + $width <= 64`: the load stays in the block.
                    let v: $vec = unsafe { $load(block.as_ptr().add(i) as *const $vec) };
                    // Macros, not closures: a closure would not carry the
                    // target feature, and its intrinsics would not inline.
                    macro_rules! is {
                        ($c:expr) => {
                            $eq(v, $set1($c as i8))
                        };
                    }
                    macro_rules! bits {
                        ($x:expr) => {
                            ($mask($x) as u32 as u64) << i
                        };
                    }
                    m.quote |= bits!(is!(b'"'));
                    m.backslash |= bits!(is!(b'\\'));
                    m.open_brace |= bits!(is!(b'{'));
                    m.open_bracket |= bits!(is!(b'['));
                    // `}` and `]` differ only in bit 5 (0x7d, 0x5d), and
                    // no other byte has either value once it is set.
                    m.close |= bits!($eq($or(v, $set1(0x20)), $set1(b'}' as i8)));
                    m.colon |= bits!(is!(b':'));
                    m.comma |= bits!(is!(b','));
                    m.ws |= bits!(unsafe { $ws(v) });
                    m.letter_a |= bits!(is!(b'A'));
                    // v <= 0x1f, unsigned: max(v, 0x1f) == 0x1f.
                    let low = $set1(0x1f);
                    m.control |= bits!($eq($max(v, low), low));
                    i += $width;
                }
                Masks {
                    quote: opaque(m.quote),
                    backslash: opaque(m.backslash),
                    open_brace: opaque(m.open_brace),
                    open_bracket: opaque(m.open_bracket),
                    close: opaque(m.close),
                    colon: opaque(m.colon),
                    comma: opaque(m.comma),
                    ws: opaque(m.ws),
                    control: opaque(m.control),
                    letter_a: opaque(m.letter_a),
                }
            }
        };
    }

    /// White space by table (simdjson's): the four bytes have distinct low
    /// nibbles (0x20, 0x09, 0x0a, 0x0d), so a byte is white space when the
    /// table entry at its low nibble is the byte itself. The other entries
    /// are zero, which no byte with their nibble is; a byte with its top
    /// bit set looks up zero too.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn ws_avx2(v: __m256i) -> __m256i {
        #[rustfmt::skip]
        let table = _mm256_setr_epi8(
            0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x0a, 0, 0, 0x0d, 0, 0,
            0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x0a, 0, 0, 0x0d, 0, 0,
        );
        _mm256_cmpeq_epi8(_mm256_shuffle_epi8(table, v), v)
    }

    /// White space by four comparisons (a table lookup needs SSSE3, which
    /// not every x86-64 has).
    #[target_feature(enable = "sse2")]
    #[inline]
    unsafe fn ws_sse2(v: __m128i) -> __m128i {
        let is = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
        _mm_or_si128(
            _mm_or_si128(is(b' '), is(b'\t')),
            _mm_or_si128(is(b'\n'), is(b'\r')),
        )
    }

    /// The whole block in one register: each class is one compare into a
    /// mask register, one move out; no halves to join.
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    pub unsafe fn avx512(block: &[u8; 64]) -> Masks {
        // SAFETY: the block is 64 bytes, one unaligned load.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        macro_rules! is {
            ($c:expr) => {
                opaque(_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8($c as i8)))
            };
        }
        // White space by [`ws_avx2`]'s table, in each 128-bit lane.
        #[rustfmt::skip]
        let table = _mm512_broadcast_i32x4(_mm_setr_epi8(
            0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0x09, 0x0a, 0, 0, 0x0d, 0, 0,
        ));
        let close = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
        Masks {
            quote: is!(b'"'),
            backslash: is!(b'\\'),
            open_brace: is!(b'{'),
            open_bracket: is!(b'['),
            close: opaque(_mm512_cmpeq_epi8_mask(close, _mm512_set1_epi8(b'}' as i8))),
            colon: is!(b':'),
            comma: is!(b','),
            ws: opaque(_mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(table, v), v)),
            control: opaque(_mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x1f))),
            letter_a: is!(b'A'),
        }
    }

    classify_with!(
        avx2,
        "avx2",
        __m256i,
        32,
        _mm256_loadu_si256,
        _mm256_set1_epi8,
        _mm256_cmpeq_epi8,
        _mm256_or_si256,
        _mm256_max_epu8,
        _mm256_movemask_epi8,
        ws_avx2
    );
    classify_with!(
        sse2,
        "sse2",
        __m128i,
        16,
        _mm_loadu_si128,
        _mm_set1_epi8,
        _mm_cmpeq_epi8,
        _mm_or_si128,
        _mm_max_epu8,
        _mm_movemask_epi8,
        ws_sse2
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_implementation_classifies_every_byte_alike() {
        // Each byte value at each position of a block.
        for b in 0..=255u8 {
            for at in [0, 15, 16, 31, 32, 47, 48, 63] {
                let mut block = [b'a'; 64];
                block[at] = b;
                let expected = portable(&block);
                for kind in Kind::available() {
                    assert_eq!(
                        classify(kind, &block),
                        expected,
                        "{kind:?} byte {b:#x} at {at}"
                    );
                }
            }
        }
    }
}
