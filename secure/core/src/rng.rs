//! The secure world's random numbers: a ChaCha20 DRBG seeded at boot from
//! the platform's entropy (on QEMU, the `rng-seed` the firmware finds in
//! `/secure-chosen`) and the counter, with every request stirring in the
//! counter again and rekeying the generator from its own output, so an
//! observed output says nothing about earlier ones.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

pub struct Rng {
    state: oxtee_guard::SpinLock<ChaCha20Rng>,
}

impl Rng {
    /// A generator keyed by SHA-256 over all of `material`.
    pub fn new(material: &[&[u8]]) -> Rng {
        let mut h = Sha256::new();
        for m in material {
            h.update(m);
        }
        Rng { state: oxtee_guard::SpinLock::new(ChaCha20Rng::from_seed(h.finalize().into())) }
    }

    /// Fills `out`; `stir` (e.g. the counter) is mixed into the next key.
    pub fn fill(&self, out: &mut [u8], stir: u64) {
        let mut g = self.state.lock();
        g.fill_bytes(out);
        let mut next = [0u8; 32];
        g.fill_bytes(&mut next);
        let mut h = Sha256::new();
        h.update(next);
        h.update(stir.to_le_bytes());
        *g = ChaCha20Rng::from_seed(h.finalize().into());
    }

    /// Mixes `data` (entropy from outside, e.g. the system PTA's
    /// ADD_RNG_ENTROPY) into the generator: the next key is a hash of
    /// fresh output and `data`, so the input can only add uncertainty.
    pub fn add_entropy(&self, data: &[u8]) {
        let mut g = self.state.lock();
        let mut next = [0u8; 32];
        g.fill_bytes(&mut next);
        let mut h = Sha256::new();
        h.update(next);
        h.update(data);
        *g = ChaCha20Rng::from_seed(h.finalize().into());
    }
}

impl Default for Rng {
    /// Without platform entropy: deterministic, for tests and for platforms
    /// that seed it later.
    fn default() -> Self {
        Rng::new(&[b"oxtee unseeded"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_differ_across_calls_and_seeds() {
        let a = Rng::new(&[b"seed one"]);
        let b = Rng::new(&[b"seed two"]);
        let (mut x, mut y, mut z) = ([0u8; 32], [0u8; 32], [0u8; 32]);
        a.fill(&mut x, 0);
        a.fill(&mut y, 0);
        b.fill(&mut z, 0);
        assert_ne!(x, y);
        assert_ne!(x, z);
        assert_ne!(x, [0; 32]);
        // Added entropy changes what follows.
        let (c, d) = (Rng::new(&[b"same"]), Rng::new(&[b"same"]));
        d.add_entropy(b"more");
        let (mut p, mut q) = ([0u8; 32], [0u8; 32]);
        c.fill(&mut p, 0);
        d.fill(&mut q, 0);
        assert_ne!(p, q);
        // Same seed, same stream: the generator is deterministic given its
        // inputs (the entropy is in the seed).
        let c = Rng::new(&[b"seed one"]);
        let mut w = [0u8; 32];
        c.fill(&mut w, 0);
        assert_eq!(w, x);
    }

    #[test]
    fn odd_lengths_are_filled() {
        let r = Rng::default();
        let mut v = [0u8; 1000];
        r.fill(&mut v, 7);
        assert!(v.iter().filter(|b| **b == 0).count() < 20);
    }
}
