//! Adapters from our [`Rng`] to the `rand_core` traits the crates want:
//! 0.10 (rsa, crypto-bigint, P-256..P-521, SM2, dalek) and 0.6 (P-192,
//! P-224 through elliptic-curve 0.13).

use crate::Rng;
use core::convert::Infallible;

/// Our generator seen as a `rand_core` 0.10 cryptographic RNG.
pub(super) struct Rng10<'a>(pub &'a mut dyn Rng);

impl rand_core::TryRng for Rng10<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for Rng10<'_> {}

/// Our generator seen as a `rand_core` 0.6 cryptographic RNG.
pub(super) struct Rng06<'a>(pub &'a mut dyn Rng);

impl rand_core_06::RngCore for Rng06<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

impl rand_core_06::CryptoRng for Rng06<'_> {}
