//! Message digests: MD5, SHA-1, SHA-224/256/384/512, SHA3-224/256/384/512,
//! SHAKE128/256 and SM3.
//!
//! SHA-1, SHA-224 and SHA-256 compress through the registered
//! [`crate::accel::Accel`] when there is one. SHAKE is an extendable
//! output: as upstream, its digest length is 0 and `finish` writes as
//! many bytes as the caller asks for.

use crate::accel::Accel;
use crate::cipher::sym::{Sha32, ShaKind};
use crate::{Result, ids};
use alloc::boxed::Box;
use digest::{Digest, ExtendableOutputReset, FixedOutputReset, Update};

/// A running digest.
pub trait Hash: Send {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// Writes the digest into `out` (its length is [`Hash::out_len`], or
    /// any length for SHAKE) and resets to the initial state.
    fn finish(&mut self, out: &mut [u8]);
    /// The digest's length in bytes (SHAKE: 0, as upstream reports it;
    /// its output is as long as the caller's buffer).
    fn out_len(&self) -> usize;
    /// The block length in bytes (for HMAC).
    fn block_len(&self) -> usize;
    /// An independent copy of the running state.
    fn box_clone(&self) -> Box<dyn Hash>;
}

/// A RustCrypto fixed-output digest.
#[derive(Clone)]
struct Fixed<D>(D);

impl<D> Hash for Fixed<D>
where
    D: Digest + FixedOutputReset + digest::block_api::BlockSizeUser + Clone + Send + 'static,
{
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }
    fn finish(&mut self, out: &mut [u8]) {
        let d = self.0.finalize_reset();
        let n = d.len().min(out.len());
        out[..n].copy_from_slice(&d[..n]);
    }
    fn out_len(&self) -> usize {
        <D as Digest>::output_size()
    }
    fn block_len(&self) -> usize {
        <D as digest::block_api::BlockSizeUser>::block_size()
    }
    fn box_clone(&self) -> Box<dyn Hash> {
        Box::new(self.clone())
    }
}

/// SHAKE128/256: any output length.
#[derive(Clone)]
struct Shake<D> {
    xof: D,
    rate: usize,
}

impl<D> Hash for Shake<D>
where
    D: Update + ExtendableOutputReset + Clone + Send + 'static,
{
    fn update(&mut self, data: &[u8]) {
        self.xof.update(data);
    }
    fn finish(&mut self, out: &mut [u8]) {
        self.xof.finalize_xof_reset_into(out);
    }
    fn out_len(&self) -> usize {
        0
    }
    fn block_len(&self) -> usize {
        self.rate
    }
    fn box_clone(&self) -> Box<dyn Hash> {
        Box::new(self.clone())
    }
}

/// A new digest for a `TEE_ALG_*` digest algorithm; NOT_SUPPORTED for
/// others.
pub fn new(algo: u32) -> Result<Box<dyn Hash>> {
    new_with(algo, crate::accel::get())
}

/// [`new`] with an explicit accelerator (or none).
pub(crate) fn new_with(algo: u32, accel: Option<&'static dyn Accel>) -> Result<Box<dyn Hash>> {
    Ok(match algo {
        ids::ALG_MD5 => Box::new(Fixed(md5::Md5::new())),
        ids::ALG_SHA1 => Box::new(Sha32::new(ShaKind::Sha1, accel)),
        ids::ALG_SHA224 => Box::new(Sha32::new(ShaKind::Sha224, accel)),
        ids::ALG_SHA256 => Box::new(Sha32::new(ShaKind::Sha256, accel)),
        ids::ALG_SHA384 => Box::new(Fixed(sha2::Sha384::new())),
        ids::ALG_SHA512 => Box::new(Fixed(sha2::Sha512::new())),
        ids::ALG_SHA3_224 => Box::new(Fixed(sha3::Sha3_224::new())),
        ids::ALG_SHA3_256 => Box::new(Fixed(sha3::Sha3_256::new())),
        ids::ALG_SHA3_384 => Box::new(Fixed(sha3::Sha3_384::new())),
        ids::ALG_SHA3_512 => Box::new(Fixed(sha3::Sha3_512::new())),
        ids::ALG_SHAKE128 => Box::new(Shake { xof: shake::Shake128::default(), rate: 168 }),
        ids::ALG_SHAKE256 => Box::new(Shake { xof: shake::Shake256::default(), rate: 136 }),
        ids::ALG_SM3 => Box::new(Fixed(sm3::Sm3::new())),
        _ => return Err(crate::TeeResult::ERROR_NOT_SUPPORTED),
    })
}
