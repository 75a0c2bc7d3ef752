//! Streaming MD5 over the C block function.

use std::fmt::Write as _;

const INITIAL_STATE: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

extern "C" {
    fn mlvc_md5_blocks(state: *mut u32, data: *const u8, nblocks: usize);
}

fn compress(state: &mut [u32; 4], blocks: &[u8]) {
    debug_assert_eq!(blocks.len() % 64, 0);
    // SAFETY: `state` points at 4 u32s and `blocks` holds exactly
    // `blocks.len() / 64` whole 64-byte blocks, which is all the C code reads.
    unsafe { mlvc_md5_blocks(state.as_mut_ptr(), blocks.as_ptr(), blocks.len() / 64) }
}

/// An incremental MD5 computation.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    pending: [u8; 64],
    pending_len: usize,
    total_len: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    /// Starts a new digest.
    pub fn new() -> Self {
        Md5 {
            state: INITIAL_STATE,
            pending: [0; 64],
            pending_len: 0,
            total_len: 0,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total_len = self.total_len.wrapping_add(data.len() as u64);
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            compress(&mut self.state, &block);
            self.pending_len = 0;
        }
        let whole = data.len() / 64 * 64;
        if whole > 0 {
            compress(&mut self.state, &data[..whole]);
        }
        let rest = &data[whole..];
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// Finishes and returns the 16-byte digest.
    pub fn finalize(mut self) -> [u8; 16] {
        let bit_len = self.total_len.wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        tail[self.pending_len] = 0x80;
        let end = if self.pending_len < 56 { 64 } else { 128 };
        tail[end - 8..end].copy_from_slice(&bit_len.to_le_bytes());
        compress(&mut self.state, &tail[..end]);
        let mut out = [0u8; 16];
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.state) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }

    /// Finishes and returns the lowercase hex digest.
    pub fn finalize_hex(self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.finalize() {
            write!(s, "{b:02x}").expect("writing to a String cannot fail");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(data: &[u8]) -> String {
        let mut h = Md5::new();
        h.update(data);
        h.finalize_hex()
    }

    #[test]
    fn rfc1321_vectors() {
        assert_eq!(hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(b"a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(b"message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
        assert_eq!(
            hex(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn padding_boundaries_and_split_updates_agree_with_reference() {
        use md5_reference::{Digest, Md5 as Reference};
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in [55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 300] {
            let want: String = Reference::digest(&data[..len])
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(hex(&data[..len]), want, "len {len}");
            for split in [1, 13, 64, 65] {
                let mut h = Md5::new();
                for part in data[..len].chunks(split) {
                    h.update(part);
                }
                assert_eq!(h.finalize_hex(), want, "len {len} split {split}");
            }
        }
    }
}
