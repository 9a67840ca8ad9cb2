//! TAs installed into secure storage (the store behind the secure-storage
//! TA-management PTA, `pta/secstor.rs`), and where loading looks first.
//!
//! Each installed TA is one engine object in an OS-owned store of its own
//! ([`SYSTEM_TA_STORE`], in the REE FS as upstream's `tadb`): the object id
//! is the TA's UUID (16 octets), its data the signed image exactly as it
//! was installed, its attributes the signed `ta_version` (4 bytes, LE).
//! Keeping the signed image, rather than only the ELF as upstream does,
//! means a TA loaded from here goes through the same signature, digest and
//! rollback (`ta_ver.db`) checks as one from tee-supplicant: the store's
//! authentication keeps the normal world from changing it, the signature
//! keeps anyone but the key holder from having put it there.

use super::storage::{self as ustorage, SYSTEM_TA_STORE};
use crate::Os;
use crate::rpc::Rpc;
use crate::storage::engine::ObjMeta;
use crate::storage::ree::ReeFs;
use crate::sync::SleepGuard;
use crate::ta::image;
use alloc::vec::Vec;
use log::{info, warn};
use oxtee_abi::ta::crypto as id;
use oxtee_abi::ta::{SHDR_BOOTSTRAP_TA, SHDR_MAGIC, Shdr, ShdrBootstrapTa};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::{OS_UUID, Uuid};
use zerocopy::FromBytes;

type R<T> = Result<T, TeeResult>;

/// Largest image installed or loaded (the same bound as tee-supplicant's).
pub const MAX_IMAGE: u64 = super::load::MAX_IMAGE;

/// The UUID a bootstrap image says it is for, read without trusting it
/// (the signature check that follows decides): None if `image` is not a
/// signed image with a bootstrap header.
pub fn claimed_uuid(image: &[u8]) -> Option<Uuid> {
    let (shdr, _) = Shdr::read_from_prefix(image).ok()?;
    if shdr.magic != SHDR_MAGIC || shdr.img_type != SHDR_BOOTSTRAP_TA {
        return None;
    }
    let at = shdr.total_size();
    let bs = image.get(at..at.checked_add(size_of::<ShdrBootstrapTa>())?)?;
    let bs = ShdrBootstrapTa::read_from_bytes(bs).ok()?;
    Some(Uuid::from_octets(bs.uuid))
}

/// Installs `image` (a private copy of a signed TA image) as upstream's
/// `PTA_SECSTOR_TA_MGMT_BOOTSTRAP` does: only a bootstrap image that
/// verifies with the OS's TA key, for the UUID it names, is taken
/// (anything else SECURITY); one older than the installed version of its
/// TA is refused with ACCESS_CONFLICT; the same or a newer version
/// replaces it, atomically. Returns the TA's UUID and version.
pub fn install(os: &Os, rpc: &mut Rpc, image: &[u8]) -> R<(Uuid, u32)> {
    let Some(key) = os.user.key.as_ref() else {
        // An OS without user TAs has no key to check images against.
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    };
    let Some(uuid) = claimed_uuid(image) else {
        warn!("secstor: install refused: not a signed image with a bootstrap header");
        return Err(TeeResult::ERROR_SECURITY);
    };
    let v = image::verify(image, key, &uuid).map_err(|e| {
        warn!("secstor: install of TA {uuid} refused: {e}");
        // Upstream answers SECURITY for every image it does not install,
        // encrypted and subkey ones included.
        TeeResult::ERROR_SECURITY
    })?;
    if v.img_type != SHDR_BOOTSTRAP_TA {
        return Err(TeeResult::ERROR_SECURITY);
    }
    let version = v.ta_version;
    let store = os.storage.store(SYSTEM_TA_STORE, &OS_UUID);
    let oid = uuid.to_octets();
    let t = rpc.t;
    crate::hold!(guard = SleepGuard::lock(&os.storage.ta_store_lock, rpc, &os.notif)?, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    let r = ustorage::on_backend(os, rpc, SYSTEM_TA_STORE, |b| {
        // A crash in an earlier install may have left a temporary file.
        let _ = store.recover(b);
        match store.open(b, &oid) {
            Ok(f) => {
                let installed = version_of(f.attrs());
                let _ = f.close(b);
                match installed {
                    Some(old) if old > version => {
                        warn!("secstor: TA {uuid} version {version} refused, version {old} is installed");
                        return Err(TeeResult::ERROR_ACCESS_CONFLICT);
                    }
                    _ => {}
                }
            }
            Err(TeeResult::ERROR_ITEM_NOT_FOUND) => {}
            // A damaged entry is replaced (it could not be loaded anyway).
            Err(TeeResult::ERROR_CORRUPT_OBJECT) => {
                let _ = store.remove_corrupt(b, &oid);
            }
            Err(e) => return Err(e),
        }
        let meta = ObjMeta { obj_type: id::TYPE_DATA, ..Default::default() };
        let mut rand = |out: &mut [u8]| os.rng.fill(out, 0);
        let f = store.create(b, &oid, &meta, &version.to_le_bytes(), image, true, &mut rand)?;
        f.close(b)
    });
    ustorage::mark_dirty(rpc, SYSTEM_TA_STORE, &r);
    let _ = guard.as_mut().get().unlock(rpc);
    r?;
    info!("secstor: TA {uuid} version {version} installed ({} bytes)", image.len());
    Ok((uuid, version))
}

fn version_of(attrs: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(attrs.try_into().ok()?))
}

/// The installed image of `uuid` into `copy` (empty on entry):
/// ITEM_NOT_FOUND if none is installed. Read straight from the REE FS,
/// as the TA version database: a store refused as rolled back does not
/// stop TAs from loading (the image's own checks still apply).
pub fn read_installed(os: &Os, rpc: &mut Rpc, uuid: Uuid, copy: &mut Vec<u8>) -> R<()> {
    let store = os.storage.store(SYSTEM_TA_STORE, &OS_UUID);
    let mut b = ReeFs::new(rpc);
    let mut f = store.open(&mut b, &uuid.to_octets())?;
    let len = f.data_len();
    let r = (|| {
        if len == 0 || len > MAX_IMAGE {
            return Err(TeeResult::ERROR_CORRUPT_OBJECT);
        }
        let len = len as usize;
        if !oxtee_guard::heap::room_for(len) {
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        copy.try_reserve_exact(len).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        copy.resize(len, 0);
        if f.read(&mut b, 0, copy)? != len {
            return Err(TeeResult::ERROR_CORRUPT_OBJECT);
        }
        Ok(())
    })();
    let _ = f.close(&mut b);
    if r.is_err() {
        copy.clear();
    }
    r
}
