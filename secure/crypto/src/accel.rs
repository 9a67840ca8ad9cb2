//! The hook through which the OS supplies the Armv8 cryptographic
//! extensions. The OS registers one [`Accel`] at boot ([`set`]); the
//! algorithms ask [`get`] and fall back to portable code when there is
//! none (host tests, a CPU without the extensions).
//!
//! Every method works on whole blocks and must give exactly the result of
//! the portable code: host tests drive the same mode logic through a
//! portable implementation of this trait, and the QEMU suite through the
//! OS's.

/// AES round keys in the byte order the Armv8 `AESE`/`AESD` instructions
/// consume (each round key as the 16 state bytes, FIPS-197 order).
#[derive(Clone)]
pub struct AesKeys {
    /// Encryption round keys 0..=rounds.
    pub enc: [[u8; 16]; 15],
    /// Decryption round keys for the equivalent inverse cipher, in the
    /// order `AESD` uses them: `enc[rounds]`, then `InvMixColumns(enc[i])`
    /// for i = rounds-1 down to 1, then `enc[0]`.
    pub dec: [[u8; 16]; 15],
    /// 10, 12 or 14.
    pub rounds: usize,
}

impl Drop for AesKeys {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.enc.zeroize();
        self.dec.zeroize();
    }
}

/// Accelerated primitives. Lengths are whole blocks (16 bytes for AES and
/// GHASH, 64 for SHA-1 and SHA-256); callers guarantee it.
pub trait Accel: Sync {
    /// AES-ECB encryption in place.
    fn aes_ecb_encrypt(&self, keys: &AesKeys, data: &mut [u8]);
    /// AES-ECB decryption in place.
    fn aes_ecb_decrypt(&self, keys: &AesKeys, data: &mut [u8]);
    /// AES-CBC encryption in place; `iv` becomes the last ciphertext block.
    fn aes_cbc_encrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]);
    /// AES-CBC decryption in place; `iv` becomes the last ciphertext block.
    fn aes_cbc_decrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]);
    /// AES-CTR in place with a 128-bit big-endian counter block, which is
    /// advanced by the number of blocks processed.
    fn aes_ctr(&self, keys: &AesKeys, ctr: &mut [u8; 16], data: &mut [u8]);
    /// SHA-256 compression of whole 64-byte blocks.
    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]);
    /// SHA-1 compression of whole 64-byte blocks.
    fn sha1_blocks(&self, state: &mut [u32; 5], blocks: &[u8]);
    /// GHASH: for each 16-byte block X, `acc = (acc ^ X) * h` in GF(2^128)
    /// with GCM's bit order (`h` and `acc` as the bytes GCM defines).
    fn ghash(&self, h: &[u8; 16], acc: &mut [u8; 16], blocks: &[u8]);
}

static ACCEL: spin::Once<&'static dyn Accel> = spin::Once::new();

/// Registers the accelerated primitives (once, at boot).
pub fn set(accel: &'static dyn Accel) {
    ACCEL.call_once(|| accel);
}

/// The registered accelerated primitives, if any.
pub fn get() -> Option<&'static dyn Accel> {
    ACCEL.get().copied()
}

/// The AES S-box, computed at compile time: the multiplicative inverse in
/// GF(2^8) (0 for 0, through log/antilog tables of generator 3) followed
/// by FIPS-197's affine transformation.
pub(crate) const SBOX: [u8; 256] = {
    let mut exp = [0u8; 256];
    let mut log = [0u8; 256];
    let mut x = 1u8;
    let mut i = 0;
    while i < 255 {
        exp[i] = x;
        log[x as usize] = i as u8;
        x = gf_mul(x, 3);
        i += 1;
    }
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = if i == 0 { 0 } else { exp[(255 - log[i] as usize) % 255] };
        t[i] = b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63;
        i += 1;
    }
    t
};

/// Multiplication in AES's GF(2^8) (polynomial x^8 + x^4 + x^3 + x + 1).
const fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut r = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    r
}

const fn xtime(a: u8) -> u8 {
    (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 }
}

/// FIPS-197 InvMixColumns of one 16-byte state (four columns), as
/// MixColumns after multiplying by {04}x^2 + {05} (the usual factoring).
fn inv_mix_columns(s: &[u8; 16]) -> [u8; 16] {
    let mut o = [0u8; 16];
    for c in 0..4 {
        let mut a = [s[4 * c], s[4 * c + 1], s[4 * c + 2], s[4 * c + 3]];
        let u = xtime(xtime(a[0] ^ a[2]));
        let v = xtime(xtime(a[1] ^ a[3]));
        a[0] ^= u;
        a[1] ^= v;
        a[2] ^= u;
        a[3] ^= v;
        let t = a[0] ^ a[1] ^ a[2] ^ a[3];
        for r in 0..4 {
            o[4 * c + r] = a[r] ^ t ^ xtime(a[r] ^ a[(r + 1) % 4]);
        }
    }
    o
}

impl AesKeys {
    /// The FIPS-197 key schedule of a 16-, 24- or 32-byte AES key, and the
    /// equivalent inverse cipher's keys; `None` for another key length.
    pub fn new(key: &[u8]) -> Option<AesKeys> {
        let nk = match key.len() {
            16 | 24 | 32 => key.len() / 4,
            _ => return None,
        };
        let rounds = nk + 6;
        let total = 4 * (rounds + 1);
        let mut w = [[0u8; 4]; 60];
        for (i, word) in w.iter_mut().take(nk).enumerate() {
            word.copy_from_slice(&key[4 * i..4 * i + 4]);
        }
        let mut rcon = 1u8;
        for i in nk..total {
            let mut t = w[i - 1];
            if i % nk == 0 {
                t = [SBOX[t[1] as usize] ^ rcon, SBOX[t[2] as usize], SBOX[t[3] as usize], SBOX[t[0] as usize]];
                rcon = gf_mul(rcon, 2);
            } else if nk > 6 && i % nk == 4 {
                t = [SBOX[t[0] as usize], SBOX[t[1] as usize], SBOX[t[2] as usize], SBOX[t[3] as usize]];
            }
            for b in 0..4 {
                w[i][b] = w[i - nk][b] ^ t[b];
            }
        }
        let mut keys = AesKeys { enc: [[0u8; 16]; 15], dec: [[0u8; 16]; 15], rounds };
        for r in 0..=rounds {
            for c in 0..4 {
                keys.enc[r][4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c]);
            }
        }
        {
            use zeroize::Zeroize;
            w.zeroize();
        }
        keys.dec[0] = keys.enc[rounds];
        for i in 1..rounds {
            keys.dec[i] = inv_mix_columns(&keys.enc[rounds - i]);
        }
        keys.dec[rounds] = keys.enc[0];
        Some(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbox_known_entries() {
        assert_eq!(SBOX[0x00], 0x63);
        assert_eq!(SBOX[0x01], 0x7c);
        assert_eq!(SBOX[0x53], 0xed);
        assert_eq!(SBOX[0xff], 0x16);
    }

    #[test]
    fn key_expansion_fips197_appendix_a() {
        // FIPS-197 A.1: last round key of the AES-128 example key.
        let k = AesKeys::new(&[
            0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
        ])
        .unwrap();
        assert_eq!(k.rounds, 10);
        assert_eq!(
            k.enc[10],
            [0xd0, 0x14, 0xf9, 0xa8, 0xc9, 0xee, 0x25, 0x89, 0xe1, 0x3f, 0x0c, 0xc8, 0xb6, 0x63, 0x0c, 0xa6]
        );
        // A.3: AES-256, w[56..60].
        let key256: [u8; 32] = core::array::from_fn(|i| {
            [
                0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81, 0x1f,
                0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
            ][i]
        });
        let k = AesKeys::new(&key256).unwrap();
        assert_eq!(k.rounds, 14);
        assert_eq!(
            k.enc[14],
            [0xfe, 0x48, 0x90, 0xd1, 0xe6, 0x18, 0x8d, 0x0b, 0x04, 0x6d, 0xf3, 0x44, 0x70, 0x6c, 0x63, 0x1e]
        );
        assert_eq!(k.dec[0], k.enc[14]);
        assert_eq!(k.dec[14], k.enc[0]);
        assert!(AesKeys::new(&[0; 20]).is_none());
    }
}
