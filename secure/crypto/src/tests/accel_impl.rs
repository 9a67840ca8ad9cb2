//! A portable implementation of [`Accel`] for the host tests, modelled on
//! the Armv8 instructions the OS uses: AES rounds from the round keys the
//! crate computes (`AESE`/`AESMC` with `enc`, `AESD`/`AESIMC` with the
//! equivalent inverse cipher's `dec`), so the key schedule is checked too;
//! SHA compression from RustCrypto; GHASH from the `ghash` crate.

use crate::accel::{Accel, AesKeys, SBOX};
use ::cipher::array::Array;
use ghash::universal_hash::UniversalHash;

pub(crate) struct TestAccel;

pub(crate) static TEST_ACCEL: TestAccel = TestAccel;

const INV_SBOX: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[SBOX[i] as usize] = i as u8;
        i += 1;
    }
    t
};

fn xtime(a: u8) -> u8 {
    (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 }
}

fn mul(a: u8, b: u8) -> u8 {
    let (mut a, mut b, mut r) = (a, b, 0u8);
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        a = xtime(a);
        b >>= 1;
    }
    r
}

fn add_key(s: &mut [u8; 16], k: &[u8; 16]) {
    for (a, b) in s.iter_mut().zip(k) {
        *a ^= b;
    }
}

/// `AESE` without the key: ShiftRows, SubBytes.
fn aese(s: &mut [u8; 16]) {
    let o = *s;
    for c in 0..4 {
        for r in 0..4 {
            s[r + 4 * c] = SBOX[o[r + 4 * ((c + r) % 4)] as usize];
        }
    }
}

/// `AESD` without the key: InvShiftRows, InvSubBytes.
fn aesd(s: &mut [u8; 16]) {
    let o = *s;
    for c in 0..4 {
        for r in 0..4 {
            s[r + 4 * ((c + r) % 4)] = INV_SBOX[o[r + 4 * c] as usize];
        }
    }
}

fn aesmc(s: &mut [u8; 16]) {
    for c in 0..4 {
        let a: [u8; 4] = s[4 * c..4 * c + 4].try_into().unwrap();
        for r in 0..4 {
            s[4 * c + r] = mul(a[r], 2) ^ mul(a[(r + 1) % 4], 3) ^ a[(r + 2) % 4] ^ a[(r + 3) % 4];
        }
    }
}

fn aesimc(s: &mut [u8; 16]) {
    for c in 0..4 {
        let a: [u8; 4] = s[4 * c..4 * c + 4].try_into().unwrap();
        for r in 0..4 {
            s[4 * c + r] = mul(a[r], 14) ^ mul(a[(r + 1) % 4], 11) ^ mul(a[(r + 2) % 4], 13) ^ mul(a[(r + 3) % 4], 9);
        }
    }
}

fn enc_block(k: &AesKeys, b: &mut [u8]) {
    let mut s: [u8; 16] = b.try_into().unwrap();
    for i in 0..k.rounds - 1 {
        add_key(&mut s, &k.enc[i]);
        aese(&mut s);
        aesmc(&mut s);
    }
    add_key(&mut s, &k.enc[k.rounds - 1]);
    aese(&mut s);
    add_key(&mut s, &k.enc[k.rounds]);
    b.copy_from_slice(&s);
}

fn dec_block(k: &AesKeys, b: &mut [u8]) {
    let mut s: [u8; 16] = b.try_into().unwrap();
    for i in 0..k.rounds - 1 {
        add_key(&mut s, &k.dec[i]);
        aesd(&mut s);
        aesimc(&mut s);
    }
    add_key(&mut s, &k.dec[k.rounds - 1]);
    aesd(&mut s);
    add_key(&mut s, &k.dec[k.rounds]);
    b.copy_from_slice(&s);
}

impl Accel for TestAccel {
    fn aes_ecb_encrypt(&self, keys: &AesKeys, data: &mut [u8]) {
        assert!(data.len().is_multiple_of(16));
        data.chunks_exact_mut(16).for_each(|b| enc_block(keys, b));
    }
    fn aes_ecb_decrypt(&self, keys: &AesKeys, data: &mut [u8]) {
        assert!(data.len().is_multiple_of(16));
        data.chunks_exact_mut(16).for_each(|b| dec_block(keys, b));
    }
    fn aes_cbc_encrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]) {
        assert!(data.len().is_multiple_of(16));
        for b in data.chunks_exact_mut(16) {
            b.iter_mut().zip(iv.iter()).for_each(|(x, y)| *x ^= y);
            enc_block(keys, b);
            iv.copy_from_slice(b);
        }
    }
    fn aes_cbc_decrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]) {
        assert!(data.len().is_multiple_of(16));
        for b in data.chunks_exact_mut(16) {
            let c: [u8; 16] = (&*b).try_into().unwrap();
            dec_block(keys, b);
            b.iter_mut().zip(iv.iter()).for_each(|(x, y)| *x ^= y);
            *iv = c;
        }
    }
    fn aes_ctr(&self, keys: &AesKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
        assert!(data.len().is_multiple_of(16));
        for b in data.chunks_exact_mut(16) {
            let mut k = *ctr;
            enc_block(keys, &mut k);
            b.iter_mut().zip(k).for_each(|(x, y)| *x ^= y);
            *ctr = u128::from_be_bytes(*ctr).wrapping_add(1).to_be_bytes();
        }
    }
    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]) {
        assert!(blocks.len().is_multiple_of(64));
        sha2::block_api::compress256(state, blocks.as_chunks::<64>().0);
    }
    fn sha1_blocks(&self, state: &mut [u32; 5], blocks: &[u8]) {
        assert!(blocks.len().is_multiple_of(64));
        sha1::block_api::compress(state, blocks.as_chunks::<64>().0);
    }
    fn ghash(&self, h: &[u8; 16], acc: &mut [u8; 16], blocks: &[u8]) {
        assert!(blocks.len().is_multiple_of(16));
        if blocks.is_empty() {
            return;
        }
        // From a zero state, the first block XOR acc gives (acc ^ X1) * H.
        let mut g = ghash::GHash::new(&(*h).into());
        let mut first: [u8; 16] = blocks[..16].try_into().unwrap();
        first.iter_mut().zip(acc.iter()).for_each(|(x, y)| *x ^= y);
        g.update(&[first.into()]);
        g.update(Array::slice_as_chunks(&blocks[16..]).0);
        *acc = g.finalize().into();
    }
}

#[test]
fn test_accel_aes_matches_aes_crate() {
    use ::cipher::{BlockCipherEncrypt, KeyInit};
    let mut rng = super::Prng::new(7);
    for klen in [16, 24, 32] {
        for _ in 0..20 {
            let key = rng.bytes(klen);
            let keys = AesKeys::new(&key).unwrap();
            let pt = rng.bytes(16);
            let mut a = pt.clone();
            TEST_ACCEL.aes_ecb_encrypt(&keys, &mut a);
            let mut b = Array::try_from(&pt[..]).unwrap();
            match klen {
                16 => aes::Aes128::new_from_slice(&key).unwrap().encrypt_block(&mut b),
                24 => aes::Aes192::new_from_slice(&key).unwrap().encrypt_block(&mut b),
                _ => aes::Aes256::new_from_slice(&key).unwrap().encrypt_block(&mut b),
            }
            assert_eq!(&a[..], &b[..]);
            TEST_ACCEL.aes_ecb_decrypt(&keys, &mut a);
            assert_eq!(a, pt);
        }
    }
}
