//! Whole-buffer gzip decompression with libdeflate: CloudTrail delivers
//! small gzip files that are read whole anyway, and libdeflate inflates a
//! whole buffer about twice as fast as a streaming inflater. Every member
//! of a multi-member file is inflated. Anything libdeflate rejects (damage,
//! trailing junk) is [`Inflated::Rejected`], and the caller falls back to
//! the streaming decoder, which says where the damage is and keeps what came
//! before it. Output never passes the caller's cap.

use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};

/// One libdeflate decompressor (each thread has its own).
pub struct Inflater {
    ptr: NonNull<libdeflate_decompressor>,
}

impl Inflater {
    pub fn new() -> Self {
        // SAFETY: allocation has no preconditions; a null return (out of
        // memory) is turned into a panic, as Rust allocations do.
        let ptr = unsafe { libdeflate_alloc_decompressor() };
        Inflater {
            ptr: NonNull::new(ptr).expect("libdeflate could not allocate a decompressor"),
        }
    }

    /// Inflates every gzip member of `gz` into `out` (grown as needed, its
    /// length kept so later calls need not zero it again), never past `cap`
    /// bytes of output: a gzip bomb costs at most `cap` bytes of memory and
    /// about twice that of inflating, then is [`Inflated::TooLarge`].
    ///
    /// The first guess at the size is the last member's trailer (ISIZE):
    /// exact for the usual single-member file, but written by whoever wrote
    /// the file, so it is believed only up to `cap` and to the most deflate
    /// can compress (1032:1); a forged trailer costs nothing.
    pub fn gunzip(&mut self, gz: &[u8], out: &mut Vec<u8>, cap: usize) -> Inflated {
        let plausible = gz.len().saturating_mul(MAX_RATIO).saturating_add(64);
        let hint = gz
            .get(gz.len().saturating_sub(4)..)
            .and_then(|t| t.try_into().ok())
            .map(|t: [u8; 4]| u32::from_le_bytes(t) as usize)
            .filter(|&h| h <= plausible)
            .unwrap_or(0);
        let mut want = hint.max(gz.len().saturating_mul(4)) + 64;
        let (mut read, mut written) = (0usize, 0usize);
        while read < gz.len() {
            let room = cap.saturating_sub(written);
            let at_cap = want >= room;
            want = want.min(room);
            if out.len() < written + want {
                // Exactly what is needed: doubling would leave each thread
                // with up to twice its largest file.
                out.reserve_exact(written + want - out.len());
                out.resize(written + want, 0);
            }
            let (mut used_in, mut used_out) = (0usize, 0usize);
            let input = &gz[read..];
            let output = &mut out[written..written + want];
            // SAFETY: the pointers and lengths describe live, non-overlapping
            // slices; libdeflate writes at most `output.len()` bytes and
            // reads at most `input.len()`.
            let result = unsafe {
                libdeflate_gzip_decompress_ex(
                    self.ptr.as_ptr(),
                    input.as_ptr().cast(),
                    input.len(),
                    output.as_mut_ptr().cast(),
                    output.len(),
                    &mut used_in,
                    &mut used_out,
                )
            };
            if result == libdeflate_result_LIBDEFLATE_SUCCESS {
                read += used_in;
                written += used_out;
                want = hint.max(64);
            } else if result == libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE {
                if at_cap {
                    return Inflated::TooLarge;
                }
                want = want.saturating_mul(2);
            } else {
                return Inflated::Rejected;
            }
        }
        Inflated::Done(written)
    }
}

/// The most deflate can compress: 258 bytes from about two bits.
const MAX_RATIO: usize = 1032;

/// What [`Inflater::gunzip`] made of a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Inflated {
    /// Every member inflated: this many bytes of output.
    Done(usize),
    /// The output would pass the cap.
    TooLarge,
    /// libdeflate rejects the data (damage, trailing junk).
    Rejected,
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: the pointer came from libdeflate_alloc_decompressor and is
        // freed once.
        unsafe { libdeflate_free_decompressor(self.ptr.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const CAP: usize = 1 << 30;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn single_and_multi_member_files() {
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let a = br#"{"Records":[{"eventID":"a"}]}"#.repeat(100);
        let Inflated::Done(n) = inf.gunzip(&gzip(&a), &mut out, CAP) else {
            panic!()
        };
        assert_eq!(&out[..n], &a[..]);

        // Two members, the second far larger than the first's size hint.
        let b = b"x".repeat(1_000_000);
        let mut both = gzip(&a);
        both.extend(gzip(&b));
        let Inflated::Done(n) = inf.gunzip(&both, &mut out, CAP) else {
            panic!()
        };
        assert_eq!(n, a.len() + b.len());
        assert_eq!(&out[..a.len()], &a[..]);
        assert!(out[a.len()..n].iter().all(|&c| c == b'x'));
    }

    #[test]
    fn damage_is_left_to_the_streaming_decoder() {
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let gz = gzip(&b"hello ".repeat(1000));
        assert_eq!(
            inf.gunzip(&gz[..gz.len() / 2], &mut out, CAP),
            Inflated::Rejected
        );
        let mut corrupt = gz.clone();
        corrupt[20] ^= 0xff;
        assert_eq!(inf.gunzip(&corrupt, &mut out, CAP), Inflated::Rejected);
        let mut junk = gz;
        junk.extend_from_slice(b"junk");
        assert_eq!(inf.gunzip(&junk, &mut out, CAP), Inflated::Rejected);
    }
}

#[cfg(test)]
mod bomb_tests {
    use std::io::Write;

    use super::*;

    /// Regression (hostile input 5): a gzip bomb stops at the cap instead
    /// of growing its buffer until the allocation fails.
    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..64 {
            e.write_all(&zeros).unwrap();
        }
        let bomb = e.finish().unwrap();
        let mut out = Vec::new();
        let cap = 8 << 20;
        assert_eq!(
            Inflater::new().gunzip(&bomb, &mut out, cap),
            Inflated::TooLarge
        );
        assert!(out.capacity() <= cap, "{}", out.capacity());
        // Under the cap, the same data inflates.
        assert_eq!(
            Inflater::new().gunzip(&bomb, &mut out, 64 << 20),
            Inflated::Done(64 << 20)
        );
    }

    /// Regression (hostile input 6): a trailer that claims 4 GiB is not
    /// believed; nothing near that is allocated.
    #[test]
    fn forged_gzip_trailer_is_not_believed() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(b"{}").unwrap();
        let mut gz = e.finish().unwrap();
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut out = Vec::new();
        // The forged size makes libdeflate's check fail: damage, found
        // without allocating what the trailer claims.
        let got = Inflater::new().gunzip(&gz, &mut out, 1 << 30);
        assert_eq!(got, Inflated::Rejected);
        assert!(out.capacity() < 1 << 20, "{}", out.capacity());
    }
}
