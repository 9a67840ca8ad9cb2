//! The Armv8 Cryptographic Extensions behind `oxtee_crypto::accel`: AES
//! (ECB, CBC, CTR), SHA-1, SHA-256 and GHASH in `ce.S`, registered at boot
//! when the CPU has them and a known-answer self-test passes.
//!
//! The kernel is soft-float, so the SIMD registers are never the kernel's:
//! they may hold the normal world's or a TA's live state. Each assembly
//! function masks IRQ and FIQ, keeps every SIMD register it is handed on
//! its stack and puts them all back before it unmasks, so it works in any
//! context (cold boot, a fast call, a trusted thread) without touching the
//! saved-state bookkeeping of `user.rs`, and leaves no key or data in a
//! register. Long buffers go in chunks of [`CHUNK`] bytes, one call each:
//! interrupts are open between chunks (if the caller had them open), and
//! everything a chunk hands to the next (IV, counter, hash state, GHASH
//! accumulator) is in memory, so a thread suspended between chunks may go
//! on on another CPU.

use core::arch::{asm, global_asm};
use log::{info, warn};
use oxtee_crypto::accel::{self, Accel, AesKeys};

global_asm!(include_str!("ce.S"), options(raw));

unsafe extern "C" {
    fn ce_aes_ecb_enc(keys: *const [u8; 16], rounds: usize, data: *mut u8, blocks: usize);
    fn ce_aes_ecb_dec(keys: *const [u8; 16], rounds: usize, data: *mut u8, blocks: usize);
    fn ce_aes_cbc_enc(keys: *const [u8; 16], rounds: usize, data: *mut u8, blocks: usize, iv: *mut [u8; 16]);
    fn ce_aes_cbc_dec(keys: *const [u8; 16], rounds: usize, data: *mut u8, blocks: usize, iv: *mut [u8; 16]);
    fn ce_aes_ctr(keys: *const [u8; 16], rounds: usize, data: *mut u8, blocks: usize, ctr: *mut [u8; 16]);
    fn ce_sha256(state: *mut [u32; 8], data: *const u8, blocks: usize);
    fn ce_sha1(state: *mut [u32; 5], data: *const u8, blocks: usize);
    fn ce_ghash(h: *const [u8; 16], acc: *mut [u8; 16], data: *const u8, blocks: usize);
    fn ce_probe(
        regs_in: *const Regs,
        regs_out: *mut Regs,
        func: usize,
        a0: usize,
        a1: usize,
        a2: usize,
        a3: usize,
        a4: usize,
    );
}

/// Bytes per assembly call (a multiple of every block size): bounds the
/// time interrupts stay masked.
pub const CHUNK: usize = 4096;

/// The extensions' implementation of [`Accel`].
pub struct Ce;

/// What `accel::set` is given.
pub static CE: Ce = Ce;

/// The extensions this CPU reports (ID_AA64ISAR0_EL1).
#[derive(Clone, Copy, Debug)]
pub struct Features {
    pub aes: bool,
    pub pmull: bool,
    pub sha1: bool,
    pub sha256: bool,
}

impl Features {
    pub fn read() -> Features {
        let isar0: u64;
        // SAFETY: reading an ID register has no side effects.
        unsafe { asm!("mrs {}, id_aa64isar0_el1", out(reg) isar0, options(nomem, nostack)) };
        Features::from_isar0(isar0)
    }

    /// AES in bits 7:4 (1: AES, 2: AES and PMULL), SHA1 in 11:8, SHA2 in
    /// 15:12 (1: SHA-256, 2: also SHA-512).
    pub fn from_isar0(isar0: u64) -> Features {
        let field = |lsb: u32| (isar0 >> lsb) & 0xf;
        Features { aes: field(4) >= 1, pmull: field(4) >= 2, sha1: field(8) >= 1, sha256: field(12) >= 1 }
    }

    fn all(self) -> bool {
        self.aes && self.pmull && self.sha1 && self.sha256
    }
}

/// Registers the extensions if the CPU has all of them and they pass the
/// self-test; otherwise the algorithms keep their portable code. Cold
/// boot, MMU on (the assembly does unaligned accesses).
pub fn init() {
    let f = Features::read();
    if !f.all() {
        info!(
            "crypto extensions incomplete (AES {}, PMULL {}, SHA-1 {}, SHA-256 {}): portable crypto only",
            f.aes, f.pmull, f.sha1, f.sha256
        );
        return;
    }
    match self_test() {
        Ok(()) => {
            accel::set(&CE);
            info!("crypto extensions registered: AES (ECB, CBC, CTR), GHASH (PMULL), SHA-1, SHA-256; self-test passed");
        }
        Err(what) => warn!("crypto extensions NOT used: self-test failed ({what}); portable crypto only"),
    }
}

/// The AES round count as the assembly takes it. Anything but 10, 12 or
/// 14 is a broken `AesKeys` (built by the crypto crate, never from
/// outside input): a bug, so a panic (the call is aborted).
fn rounds(keys: &AesKeys) -> usize {
    match keys.rounds {
        r @ (10 | 12 | 14) => r,
        r => panic!("AesKeys with {r} rounds"),
    }
}

/// The whole blocks of `data` (callers pass whole blocks; a stray tail is
/// never touched).
fn whole_mut(data: &mut [u8], block: usize) -> &mut [u8] {
    let n = data.len() / block * block;
    &mut data[..n]
}

fn whole(data: &[u8], block: usize) -> &[u8] {
    &data[..data.len() / block * block]
}

impl Accel for Ce {
    fn aes_ecb_encrypt(&self, keys: &AesKeys, data: &mut [u8]) {
        let r = rounds(keys);
        for c in whole_mut(data, 16).chunks_mut(CHUNK) {
            // SAFETY: `keys.enc` holds r + 1 <= 15 round keys; `c` is a
            // valid, exclusive buffer of c.len() / 16 whole blocks. The
            // function keeps the caller's SIMD registers and DAIF.
            unsafe { ce_aes_ecb_enc(keys.enc.as_ptr(), r, c.as_mut_ptr(), c.len() / 16) };
        }
    }

    fn aes_ecb_decrypt(&self, keys: &AesKeys, data: &mut [u8]) {
        let r = rounds(keys);
        for c in whole_mut(data, 16).chunks_mut(CHUNK) {
            // SAFETY: as in aes_ecb_encrypt, with the decryption keys.
            unsafe { ce_aes_ecb_dec(keys.dec.as_ptr(), r, c.as_mut_ptr(), c.len() / 16) };
        }
    }

    fn aes_cbc_encrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]) {
        let r = rounds(keys);
        for c in whole_mut(data, 16).chunks_mut(CHUNK) {
            // SAFETY: as in aes_ecb_encrypt; `iv` is a valid, exclusive
            // 16-byte block the function reads and rewrites.
            unsafe { ce_aes_cbc_enc(keys.enc.as_ptr(), r, c.as_mut_ptr(), c.len() / 16, iv) };
        }
    }

    fn aes_cbc_decrypt(&self, keys: &AesKeys, iv: &mut [u8; 16], data: &mut [u8]) {
        let r = rounds(keys);
        for c in whole_mut(data, 16).chunks_mut(CHUNK) {
            // SAFETY: as in aes_cbc_encrypt, with the decryption keys.
            unsafe { ce_aes_cbc_dec(keys.dec.as_ptr(), r, c.as_mut_ptr(), c.len() / 16, iv) };
        }
    }

    fn aes_ctr(&self, keys: &AesKeys, ctr: &mut [u8; 16], data: &mut [u8]) {
        let r = rounds(keys);
        for c in whole_mut(data, 16).chunks_mut(CHUNK) {
            // SAFETY: as in aes_ecb_encrypt; `ctr` is a valid, exclusive
            // 16-byte counter block the function reads and advances.
            unsafe { ce_aes_ctr(keys.enc.as_ptr(), r, c.as_mut_ptr(), c.len() / 16, ctr) };
        }
    }

    fn sha256_blocks(&self, state: &mut [u32; 8], blocks: &[u8]) {
        for c in whole(blocks, 64).chunks(CHUNK) {
            // SAFETY: `state` is a valid, exclusive [u32; 8]; `c` holds
            // c.len() / 64 whole blocks the function only reads. It keeps
            // the caller's SIMD registers and DAIF.
            unsafe { ce_sha256(state, c.as_ptr(), c.len() / 64) };
        }
    }

    fn sha1_blocks(&self, state: &mut [u32; 5], blocks: &[u8]) {
        for c in whole(blocks, 64).chunks(CHUNK) {
            // SAFETY: as in sha256_blocks, with a [u32; 5] state.
            unsafe { ce_sha1(state, c.as_ptr(), c.len() / 64) };
        }
    }

    fn ghash(&self, h: &[u8; 16], acc: &mut [u8; 16], blocks: &[u8]) {
        for c in whole(blocks, 16).chunks(CHUNK) {
            // SAFETY: `h` is read, `acc` a valid, exclusive 16-byte block
            // read and rewritten; `c` holds c.len() / 16 whole blocks the
            // function only reads. It keeps the caller's SIMD registers
            // and DAIF.
            unsafe { ce_ghash(h, acc, c.as_ptr(), c.len() / 16) };
        }
    }
}

// ------------------------------------------------------------ self-test

/// q0..q31 as `ce_probe` loads and stores them.
#[repr(C, align(16))]
struct Regs([u8; 512]);

/// Hex digits to bytes, at compile time.
const fn hex<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    assert!(b.len() == 2 * N, "hex length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("hex digit"),
    }
}

/// GF(2^8) product modulo x^8 + x^4 + x^3 + x + 1.
fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        a = (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 };
        b >>= 1;
    }
    p
}

/// The AES S-box entry for `x`, from its definition (inverse, then the
/// affine map), so the test does not trust a table or the hardware.
fn sbox(x: u8) -> u8 {
    // x^254 is x's inverse (0 for 0).
    let mut inv = 1u8;
    for _ in 0..254 {
        inv = gmul(inv, x);
    }
    inv ^ inv.rotate_left(1) ^ inv.rotate_left(2) ^ inv.rotate_left(3) ^ inv.rotate_left(4) ^ 0x63
}

fn inv_mix_column(c: [u8; 4]) -> [u8; 4] {
    let m = |a: u8, b: u8, d: u8, e: u8| gmul(c[0], a) ^ gmul(c[1], b) ^ gmul(c[2], d) ^ gmul(c[3], e);
    [m(14, 11, 13, 9), m(9, 14, 11, 13), m(13, 9, 14, 11), m(11, 13, 9, 14)]
}

/// FIPS-197 key expansion into the layout of [`AesKeys`] (self-test only;
/// the crypto crate builds the keys the algorithms use).
fn expand(key: &[u8]) -> AesKeys {
    let nk = key.len() / 4;
    let rounds = nk + 6;
    let mut w = [[0u8; 4]; 60];
    for (i, word) in key.chunks(4).enumerate() {
        w[i].copy_from_slice(word);
    }
    let mut rcon = 1u8;
    for i in nk..4 * (rounds + 1) {
        let mut t = w[i - 1];
        if i % nk == 0 {
            t = [sbox(t[1]) ^ rcon, sbox(t[2]), sbox(t[3]), sbox(t[0])];
            rcon = gmul(rcon, 2);
        } else if nk > 6 && i % nk == 4 {
            t = t.map(sbox);
        }
        for j in 0..4 {
            w[i][j] = w[i - nk][j] ^ t[j];
        }
    }
    let mut keys = AesKeys { enc: [[0; 16]; 15], dec: [[0; 16]; 15], rounds };
    for r in 0..=rounds {
        for c in 0..4 {
            keys.enc[r][4 * c..][..4].copy_from_slice(&w[4 * r + c]);
        }
    }
    keys.dec[0] = keys.enc[rounds];
    keys.dec[rounds] = keys.enc[0];
    for i in 1..rounds {
        for c in 0..4 {
            let col = keys.enc[rounds - i][4 * c..][..4].try_into().unwrap_or([0; 4]);
            keys.dec[i][4 * c..][..4].copy_from_slice(&inv_mix_column(col));
        }
    }
    keys
}

/// Merkle-Damgard padding of a short message (at most 119 bytes) into
/// whole 64-byte blocks; returns how many bytes of `out` are used.
fn md_pad(msg: &[u8], out: &mut [u8; 128]) -> usize {
    let n = if msg.len() < 56 { 64 } else { 128 };
    out.fill(0);
    out[..msg.len()].copy_from_slice(msg);
    out[msg.len()] = 0x80;
    out[n - 8..n].copy_from_slice(&(msg.len() as u64 * 8).to_be_bytes());
    n
}

fn be_words<const N: usize>(state: &[u32; N], out: &mut [u8]) {
    for (o, w) in out.chunks_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
}

/// SP 800-38A F.1: the AES-128 key and plaintext shared by its examples.
const SP_KEY: [u8; 16] = hex("2b7e151628aed2a6abf7158809cf4f3c");
const SP_PT: [u8; 64] = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
     30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");

fn check(ok: bool, what: &'static str) -> Result<(), &'static str> {
    if ok { Ok(()) } else { Err(what) }
}

/// Known answers for every primitive and both code paths of the AES modes
/// (four blocks at a time, and single blocks), counter carries, chaining
/// state across calls, and that every SIMD register comes back unchanged.
pub fn self_test() -> Result<(), &'static str> {
    let ce = &CE;
    // FIPS-197 C.1-C.3: one block each key size (single-block path).
    let fips_pt: [u8; 16] = hex("00112233445566778899aabbccddeeff");
    let fips_key: [u8; 32] = hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    let fips_ct: [[u8; 16]; 3] = [
        hex("69c4e0d86a7b0430d8cdb78070b4c55a"),
        hex("dda97ca4864cdfe06eaf70a0ec0d7191"),
        hex("8ea2b7ca516745bfeafc49904b496089"),
    ];
    for (i, ct) in fips_ct.iter().enumerate() {
        let keys = expand(&fips_key[..16 + 8 * i]);
        let mut b = fips_pt;
        ce.aes_ecb_encrypt(&keys, &mut b);
        check(&b == ct, "AES FIPS-197 encryption")?;
        ce.aes_ecb_decrypt(&keys, &mut b);
        check(b == fips_pt, "AES FIPS-197 decryption")?;
    }

    // SP 800-38A F.1.1, F.2.1, F.5.1 (AES-128, four blocks).
    let keys = expand(&SP_KEY);
    let ecb_ct: [u8; 64] = hex("3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf\
         43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4");
    let mut b = SP_PT;
    ce.aes_ecb_encrypt(&keys, &mut b);
    check(b == ecb_ct, "AES-ECB encryption")?;
    ce.aes_ecb_decrypt(&keys, &mut b);
    check(b == SP_PT, "AES-ECB decryption")?;

    let iv0: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f");
    let cbc_ct: [u8; 64] = hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
         73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
    let (mut b, mut iv) = (SP_PT, iv0);
    ce.aes_cbc_encrypt(&keys, &mut iv, &mut b);
    check(b == cbc_ct && iv[..] == cbc_ct[48..], "AES-CBC encryption")?;
    // Decrypt as 4 blocks (four-at-a-time path) and as 1 + 3 (single
    // blocks, the IV carried between calls).
    let mut iv = iv0;
    ce.aes_cbc_decrypt(&keys, &mut iv, &mut b);
    check(b == SP_PT && iv[..] == cbc_ct[48..], "AES-CBC decryption")?;
    let (mut b, mut iv) = (cbc_ct, iv0);
    let (first, rest) = b.split_at_mut(16);
    ce.aes_cbc_decrypt(&keys, &mut iv, first);
    ce.aes_cbc_decrypt(&keys, &mut iv, rest);
    check(b == SP_PT && iv[..] == cbc_ct[48..], "AES-CBC decryption in pieces")?;

    let ctr0: [u8; 16] = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
    let ctr_ct: [u8; 64] = hex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\
         5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee");
    let ctr4: [u8; 16] = hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdff03");
    let (mut b, mut ctr) = (SP_PT, ctr0);
    ce.aes_ctr(&keys, &mut ctr, &mut b);
    check(b == ctr_ct && ctr == ctr4, "AES-CTR")?;
    let (mut b, mut ctr) = (SP_PT, ctr0);
    let (first, rest) = b.split_at_mut(48);
    ce.aes_ctr(&keys, &mut ctr, first);
    ce.aes_ctr(&keys, &mut ctr, rest);
    check(b == ctr_ct && ctr == ctr4, "AES-CTR in pieces")?;
    // Carries across the 64-bit halves and past 2^128 (expected values
    // from an independent AES-CTR implementation).
    let carries: [([u8; 16], [u8; 64], [u8; 16]); 2] = [
        (
            hex("0000000000000000fffffffffffffffe"),
            hex("393993cf1e6593644880765e7f951dda41aabde09dc756147830813822a8b13f\
                 ecc227852555267e8ad1a2ba86fdbc7c3374b251626cc364521c305ea579336c"),
            hex("00000000000000010000000000000002"),
        ),
        (
            hex("fffffffffffffffffffffffffffffffe"),
            hex("ba76aa54d5b56067c1a7903b3fddfa8924df0c565cf42a68978713b67ad124fd\
                 4d3f774ab9e47da2dbb9315ea3110680a18d5905ebfe25a803df27c2211e58d6"),
            hex("00000000000000000000000000000002"),
        ),
    ];
    for (start, ct, end) in &carries {
        let (mut b, mut ctr) = (SP_PT, *start);
        ce.aes_ctr(&keys, &mut ctr, &mut b);
        check(b == *ct && ctr == *end, "AES-CTR counter carry")?;
    }

    // FIPS 180 examples: one block and two.
    let mut buf = [0u8; 128];
    let mut digest = [0u8; 32];
    let msgs: [(&[u8], [u8; 32], [u8; 20]); 2] = [
        (
            b"abc",
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            hex("a9993e364706816aba3e25717850c26c9cd0d89d"),
        ),
        (
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            hex("84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ),
    ];
    for (msg, sha256, sha1) in &msgs {
        let n = md_pad(msg, &mut buf);
        let mut s256 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        ce.sha256_blocks(&mut s256, &buf[..n]);
        be_words(&s256, &mut digest);
        check(digest == *sha256, "SHA-256")?;
        let mut s1 = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
        ce.sha1_blocks(&mut s1, &buf[..n]);
        be_words(&s1, &mut digest[..20]);
        check(digest[..20] == sha1[..], "SHA-1")?;
    }

    // GHASH: GCM's test case 2 (H, then C and the length block), and five
    // blocks with a non-zero accumulator and a dense H (expected value
    // from an independent bit-by-bit implementation), whole and in pieces.
    let h: [u8; 16] = hex("66e94bd4ef8a2c3b884cfa59ca342b2e");
    let blocks: [u8; 32] = hex("0388dace60b6a392f328c2b971b2fe7800000000000000000000000000000080");
    let mut acc = [0u8; 16];
    ce.ghash(&h, &mut acc, &blocks);
    check(acc == hex("f38cbb1ad69223dcc3457ae5b6b0f885"), "GHASH (GCM test case 2)")?;
    let h: [u8; 16] = hex("aaa9402664f1a41f40ebbc52c9993eb6");
    let acc0: [u8; 16] = hex("ca978112ca1bbdcafac231b39a23dc4d");
    let data: [u8; 80] = hex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d\
         4bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a\
         dbc1b4c900ffe48d575b5da5c6380401");
    let want: [u8; 16] = hex("1fbcbc2a083dcf2bdc5aa17d720cac2b");
    let mut acc = acc0;
    ce.ghash(&h, &mut acc, &data);
    check(acc == want, "GHASH")?;
    let mut acc = acc0;
    ce.ghash(&h, &mut acc, &data[..16]);
    ce.ghash(&h, &mut acc, &data[16..]);
    check(acc == want, "GHASH in pieces")?;

    registers_kept(&keys)
}

/// Every SIMD register survives an AES and a SHA-1 call (the property
/// that keeps the normal world's and the TAs' registers intact).
fn registers_kept(keys: &AesKeys) -> Result<(), &'static str> {
    let mut regs_in = Regs([0; 512]);
    for (i, b) in regs_in.0.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(151).wrapping_add(7);
    }
    let mut regs_out = Regs([0; 512]);
    let mut data = SP_PT;
    let mut ctr = [0u8; 16];
    let mut state = [0u32; 5];
    // SAFETY: ce_probe loads and stores 512 bytes at the two Regs, keeps
    // its caller's SIMD registers and DAIF, and calls the given function
    // with its argument list: ce_aes_ctr with a key schedule of r + 1
    // round keys, 4 whole blocks of `data` and a 16-byte counter; ce_sha1
    // with a [u32; 5] state and one 64-byte block of `data`.
    unsafe {
        ce_probe(
            &regs_in,
            &mut regs_out,
            ce_aes_ctr as *const () as usize,
            keys.enc.as_ptr() as usize,
            rounds(keys),
            data.as_mut_ptr() as usize,
            4,
            &raw mut ctr as usize,
        );
    }
    check(regs_out.0 == regs_in.0, "SIMD registers changed by AES")?;
    regs_out.0.fill(0);
    // SAFETY: see above.
    unsafe {
        ce_probe(
            &regs_in,
            &mut regs_out,
            ce_sha1 as *const () as usize,
            &raw mut state as usize,
            data.as_ptr() as usize,
            1,
            0,
            0,
        );
    }
    check(regs_out.0 == regs_in.0, "SIMD registers changed by SHA-1")
}
