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
use digest::{Digest, ExtendableOutput, FixedOutputReset, Update};

/// A running digest.
pub trait Hash: Send {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// Writes the digest into `out` (its length is [`Hash::out_len`]) and
    /// resets to the initial state. SHAKE writes any length and, as
    /// upstream, goes on squeezing the same output at the next call.
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
struct Shake<D: ExtendableOutput> {
    xof: D,
    /// Once output has been taken: where the next bytes come from. Each
    /// `finish` continues the same output stream (GP's
    /// `TEE_DigestExtract`), until the operation is initialised again.
    reader: Option<D::Reader>,
    rate: usize,
}

impl<D> Clone for Shake<D>
where
    D: ExtendableOutput + Clone,
    D::Reader: Clone,
{
    fn clone(&self) -> Self {
        Shake { xof: self.xof.clone(), reader: self.reader.clone(), rate: self.rate }
    }
}

impl<D> Shake<D>
where
    D: ExtendableOutput + Default,
{
    fn new(rate: usize) -> Self {
        Shake { xof: D::default(), reader: None, rate }
    }
}

impl<D> Hash for Shake<D>
where
    D: Update + ExtendableOutput + Clone + Send + 'static,
    D::Reader: Clone + Send,
{
    fn update(&mut self, data: &[u8]) {
        self.xof.update(data);
    }
    fn finish(&mut self, out: &mut [u8]) {
        use digest::XofReader;
        let reader = self.reader.get_or_insert_with(|| self.xof.clone().finalize_xof());
        reader.read(out);
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
        ids::ALG_SHAKE128 => Box::new(Shake::<shake::Shake128>::new(168)),
        ids::ALG_SHAKE256 => Box::new(Shake::<shake::Shake256>::new(136)),
        ids::ALG_SM3 => Box::new(Fixed(sm3::Sm3::new())),
        _ => return Err(crate::TeeResult::ERROR_NOT_SUPPORTED),
    })
}
