//! The crypto module's block buffering (`crypto/buffer.rs`) against a
//! model kernel that takes whole blocks only: every chunking of the input
//! gives the same output stream, each update writes exactly the length
//! the size check predicts (so SHORT_BUFFER checks are exact), and the
//! bytes held back are what the final call needs (less than a block; for
//! CTS/XTS between one block plus one byte and two blocks).

use crate::buffer::{update, update_len};
use std::vec;
use std::vec::Vec;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 as usize
    }
}

fn run(block_size: usize, two_blocks: bool, input: &[u8], chunks: &[usize]) {
    let mut buf = vec![0u8; block_size * if two_blocks { 2 } else { 1 }];
    let mut offs = 0;
    let mut out = Vec::new();
    let mut fed = 0;
    let mut kernel = |data: &[u8], dst: &mut [u8]| {
        assert!(data.len().is_multiple_of(block_size) && !data.is_empty(), "kernel got {} bytes", data.len());
        assert!(dst.len() >= data.len(), "kernel output space {} < {}", dst.len(), data.len());
        dst[..data.len()].copy_from_slice(data);
        data.len()
    };
    for &c in chunks {
        let src = &input[fed..fed + c];
        let need = update_len(offs, block_size, two_blocks, c);
        let mut dst = vec![0xAAu8; need];
        let n = update(&mut buf, &mut offs, block_size, two_blocks, src, &mut dst, &mut kernel);
        assert_eq!(n, need, "bs {block_size} two {two_blocks} chunks {chunks:?}");
        out.extend_from_slice(&dst[..n]);
        fed += c;
        // Output so far is the input's prefix; the rest is buffered.
        assert_eq!(out[..], input[..out.len()]);
        assert_eq!(out.len() + offs, fed);
        assert_eq!(buf[..offs], input[out.len()..fed]);
        if two_blocks {
            if fed > 2 * block_size {
                assert!(offs > block_size && offs <= 2 * block_size, "kept {offs} of {fed}");
            } else {
                assert_eq!(offs, fed);
            }
        } else {
            assert_eq!(offs, fed % block_size);
        }
    }
}

#[test]
fn every_chunking_gives_the_same_stream() {
    let input: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    for &(bs, two) in &[(16, false), (8, false), (16, true)] {
        // Byte at a time, block at a time, all at once.
        for step in [1, bs - 1, bs, bs + 1, 2 * bs, 2 * bs + 1, 200] {
            let mut chunks = Vec::new();
            let mut left = 200;
            while left > 0 {
                let c = step.min(left);
                chunks.push(c);
                left -= c;
            }
            run(bs, two, &input, &chunks);
        }
        for _ in 0..2000 {
            let mut chunks = Vec::new();
            let mut left = rng.next() % 200;
            let total = left;
            while left > 0 {
                let c = (rng.next() % (3 * bs + 2)).min(left);
                chunks.push(c);
                left -= c;
            }
            run(bs, two, &input[..total], &chunks);
        }
    }
}

#[test]
fn size_checks() {
    // One block buffering: whole blocks of what is buffered plus the input.
    assert_eq!(update_len(0, 16, false, 15), 0);
    assert_eq!(update_len(15, 16, false, 1), 16);
    assert_eq!(update_len(3, 16, false, 40), 32);
    // CTS/XTS: nothing until more than two blocks are in.
    assert_eq!(update_len(0, 16, true, 32), 0);
    assert_eq!(update_len(0, 16, true, 33), 16);
    assert_eq!(update_len(20, 16, true, 45), 48);
    // Stream modes (block size 1): all of it.
    assert_eq!(update_len(0, 1, false, 7), 7);
}
