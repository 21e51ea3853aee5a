//! Whole-buffer gzip decompression with libdeflate: CloudTrail delivers
//! small gzip files that are read whole anyway, and libdeflate inflates a
//! whole buffer about twice as fast as a streaming inflater. Every member
//! of a multi-member file is inflated. Anything libdeflate rejects (damage,
//! trailing junk) returns `None`, and the caller falls back to the
//! streaming decoder, which says where the damage is and keeps what came
//! before it.

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
    /// length kept so later calls need not zero it again) and returns the
    /// decompressed length, or `None` when libdeflate rejects the data.
    pub fn gunzip(&mut self, gz: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        // The last member's trailer holds its size (mod 2^32): exact for the
        // usual single-member file, a first guess otherwise.
        let hint = gz
            .get(gz.len().saturating_sub(4)..)
            .and_then(|t| t.try_into().ok())
            .map(|t: [u8; 4]| u32::from_le_bytes(t) as usize)
            .unwrap_or(0);
        let mut want = hint.max(gz.len().saturating_mul(4)) + 64;
        let (mut read, mut written) = (0usize, 0usize);
        while read < gz.len() {
            if out.len() < written + want {
                // Exactly what is needed: doubling would leave each thread
                // with up to twice its largest file.
                out.reserve_exact(written + want - out.len());
                out.resize(written + want, 0);
            }
            let (mut used_in, mut used_out) = (0usize, 0usize);
            let input = &gz[read..];
            let output = &mut out[written..];
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
                want = want.saturating_mul(2);
            } else {
                return None;
            }
        }
        Some(written)
    }
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
        let n = inf.gunzip(&gzip(&a), &mut out).unwrap();
        assert_eq!(&out[..n], &a[..]);

        // Two members, the second far larger than the first's size hint.
        let b = b"x".repeat(1_000_000);
        let mut both = gzip(&a);
        both.extend(gzip(&b));
        let n = inf.gunzip(&both, &mut out).unwrap();
        assert_eq!(n, a.len() + b.len());
        assert_eq!(&out[..a.len()], &a[..]);
        assert!(out[a.len()..n].iter().all(|&c| c == b'x'));
    }

    #[test]
    fn damage_is_left_to_the_streaming_decoder() {
        let mut inf = Inflater::new();
        let mut out = Vec::new();
        let gz = gzip(&b"hello ".repeat(1000));
        assert!(inf.gunzip(&gz[..gz.len() / 2], &mut out).is_none());
        let mut corrupt = gz.clone();
        corrupt[20] ^= 0xff;
        assert!(inf.gunzip(&corrupt, &mut out).is_none());
        let mut junk = gz;
        junk.extend_from_slice(b"junk");
        assert!(inf.gunzip(&junk, &mut out).is_none());
    }
}
