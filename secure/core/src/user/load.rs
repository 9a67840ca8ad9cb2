//! Getting a TA image from tee-supplicant and turning it into an address
//! space: signature check, ELF load with relocations, stack with a guard.

use super::space::{PAGE_SIZE, PageBuf, UserSpace};
use crate::env::{UserMmu, UserPerm};
use crate::msg::{Dir, Param};
use crate::rpc::Rpc;
use crate::ta::{elf, image};
use alloc::vec::Vec;
use log::{debug, info, warn};
use oxtee_abi::addr::UserVirt;
use oxtee_abi::rpc;
use oxtee_abi::ta as abi;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_guard::Ledger;

/// Largest TA image we accept from the normal world.
pub(super) const MAX_IMAGE: u64 = 16 << 20;

/// The signed image of `uuid` into `copy`, from the TA stores in
/// upstream's order: the TAs installed in secure storage
/// ([`super::ta_store`]) first, then tee-supplicant (LOAD_TA). An entry
/// in secure storage that fails authentication is the answer, as
/// upstream (no other copy is tried in its place); any other failure
/// there (none installed, a normal world that serves no file system or
/// cannot give it the buffer) goes on to the supplicant.
pub fn fetch_any(os: &crate::Os, rpc: &mut Rpc, uuid: Uuid, copy: &mut Vec<u8>) -> Result<(), TeeResult> {
    match super::ta_store::read_installed(os, rpc, uuid, copy) {
        Ok(()) => {
            debug!("TA {uuid}: from secure storage");
            return Ok(());
        }
        Err(e @ (TeeResult::ERROR_CORRUPT_OBJECT | TeeResult::ERROR_CORRUPT_OBJECT_2)) => {
            warn!("TA {uuid}: its entry in secure storage is damaged: {e}");
            return Err(e);
        }
        Err(TeeResult::ERROR_ITEM_NOT_FOUND) => {}
        Err(e) => debug!("TA {uuid}: secure storage not available ({e})"),
    }
    copy.clear();
    fetch(rpc, uuid, copy)
}

/// Asks the supplicant for the signed image of `uuid` (size query, then
/// the image into application shared memory) and leaves a secure copy in
/// `copy` (a buffer in an armed frame of the caller's).
pub fn fetch(rpc: &mut Rpc, uuid: Uuid, copy: &mut Vec<u8>) -> Result<(), TeeResult> {
    let (a, b) = uuid.to_msg_value();
    let id = Param::Value { dir: Dir::In, a, b, c: 0 };
    let mut query = [id, Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false }];
    // A supplicant that cannot find the TA says ITEM_NOT_FOUND; a normal
    // world that does not serve LOAD_TA at all has no TA store either.
    rpc.cmd(rpc::CMD_LOAD_TA, &mut query).map_err(|e| {
        debug!("LOAD_TA {uuid}: {e:?}");
        match e {
            TeeResult::ERROR_NOT_SUPPORTED | TeeResult::ERROR_NOT_IMPLEMENTED | TeeResult::ERROR_ITEM_NOT_FOUND => {
                // At the default level: the usual mistake of a new TA's
                // author (wrong UUID, or the file not where the supplicant
                // looks).
                info!("TA {uuid}: not found (the normal world's supplicant has no image for it)");
                TeeResult::ERROR_ITEM_NOT_FOUND
            }
            e => e,
        }
    })?;
    let size = match query[1] {
        Param::Tmem { size, .. } | Param::Rmem { size, .. } => size,
        _ => return Err(TeeResult::ERROR_COMMUNICATION),
    };
    if size == 0 || size > MAX_IMAGE {
        warn!("LOAD_TA {uuid}: refusing an image of {size} bytes");
        return Err(TeeResult::ERROR_BAD_FORMAT);
    }
    if !oxtee_guard::heap::room_for(size as usize) {
        return Err(TeeResult::ERROR_OUT_OF_MEMORY);
    }
    let t = rpc.t;
    crate::hold!(shm = None, in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    rpc.shm_alloc(rpc::SHM_TYPE_APPL, size, shm.as_mut())?;
    let Some(alloc) = shm.as_mut().get().as_mut() else {
        return Err(TeeResult::ERROR_GENERIC);
    };
    let mut load = [id, Param::Rmem { dir: Dir::Out, offs: 0, size, shm_ref: alloc.cookie() }];
    let r = rpc.cmd(rpc::CMD_LOAD_TA, &mut load).and_then(|()| match (load[1], alloc.pages()) {
        (Param::Rmem { size: got, .. }, Some(pages)) if got == size => {
            copy.try_reserve_exact(size as usize).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
            copy.resize(size as usize, 0);
            pages.read(rpc.mem, 0, copy).map_err(|_| TeeResult::ERROR_COMMUNICATION)
        }
        // The file changed size between the two requests.
        _ => Err(TeeResult::ERROR_COMMUNICATION),
    });
    let _ = alloc.free(rpc);
    r
}

/// Size of an LP64 `struct dl_phdr_info`.
const DL_PHDR_INFO_SIZE: usize = 64;

/// What upstream's loader gives a TA that exports `__elf_phdr_info`: a
/// read-only page (one guard page above the image) holding one
/// `dl_phdr_info` for the TA and a copy of its program headers, and the
/// TA's `__elf_phdr_info` = { reserved 0, count 1, .., pointer to it }.
/// libutee walks it to run constructors and to set up TLS.
fn phdr_info(parsed: &elf::Elf, image: &mut [u8], at: u64, base: UserVirt) -> Result<(PageBuf, UserVirt), TeeResult> {
    let base = base.get();
    let va = base + parsed.span + PAGE_SIZE as u64;
    let mut page = PageBuf::new((DL_PHDR_INFO_SIZE + parsed.phdrs.len()) as u64)?;
    let (tls_modid, tls_data) = match parsed.tls {
        Some((tva, _, _)) => (1u64, base + tva),
        None => (0, 0),
    };
    let fields: [(usize, u64); 6] = [
        (0, base),                           // dlpi_addr
        (8, base + at + 7),                  // dlpi_name: the record's NUL byte
        (16, va + DL_PHDR_INFO_SIZE as u64), // dlpi_phdr
        (32, 1),                             // dlpi_adds
        (48, tls_modid),                     // dlpi_tls_modid
        (56, tls_data),                      // dlpi_tls_data
    ];
    let b = page.bytes_mut();
    for (off, v) in fields {
        b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[24..26].copy_from_slice(&parsed.phnum.to_le_bytes()); // dlpi_phnum
    b[DL_PHDR_INFO_SIZE..DL_PHDR_INFO_SIZE + parsed.phdrs.len()].copy_from_slice(&parsed.phdrs);
    // The parser checked the record lies in a writable segment.
    let at = usize::try_from(at).map_err(|_| TeeResult::ERROR_BAD_FORMAT)?;
    let rec = at.checked_add(16).and_then(|end| image.get_mut(at..end)).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    // A record someone already filled in is not one we understand.
    if rec[..8] != [0; 8] {
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    rec[4..6].copy_from_slice(&1u16.to_le_bytes());
    rec[8..16].copy_from_slice(&va.to_le_bytes());
    Ok((page, UserVirt::new(va)))
}

pub struct Loaded {
    pub space: UserSpace,
    pub head: abi::TaHead,
    pub entry: UserVirt,
    pub footprint: u64,
    /// The signed `ta_version` of a bootstrap or encrypted image (None
    /// for `SHDR_TA`).
    pub ta_version: Option<u32>,
    /// The subkeys that signed the image, for their rollback check.
    pub subkeys: Vec<image::SubkeyVersion>,
}

/// The keys images are checked and decrypted with.
pub struct Keys<'a> {
    /// The OS's TA key, the root of every signature.
    pub ta: &'a image::TaKey,
    /// The key of encrypted images, if this OS has one.
    pub enc: Option<&'a image::TaEncKey>,
}

fn page_floor(v: u64) -> u64 {
    v & !(PAGE_SIZE as u64 - 1)
}

fn page_ceil(v: u64) -> Option<u64> {
    Some(page_floor(v.checked_add(PAGE_SIZE as u64 - 1)?))
}

/// What `build` has made so far, armed in the thread's ledger so that an
/// aborted load gives it back.
#[derive(Default)]
struct Staging {
    parsed: Option<elf::Elf>,
    img: Option<PageBuf>,
    info: Option<(PageBuf, UserVirt)>,
    space: Option<UserSpace>,
}

/// Checks and loads `signed` (a private copy) for `uuid` at `base`, with
/// its stack ending at `stack_top`, into `out` (a cell of the caller's,
/// armed). What is built on the way is armed in `ledger`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    signed: &mut [u8],
    keys: &Keys<'_>,
    uuid: Uuid,
    mmu: &'static dyn UserMmu,
    base: UserVirt,
    stack_top: UserVirt,
    ledger: &Ledger,
    out: &mut Option<Loaded>,
) -> Result<(), TeeResult> {
    let verified = image::verify_in_place(signed, keys.ta, keys.enc, &uuid).map_err(|e| {
        warn!("TA {uuid}: image rejected: {e} ({})", e.code());
        e.code()
    })?;
    let elf_reject = |e: elf::Reject| {
        warn!("TA {uuid}: ELF rejected: {e} ({})", e.code());
        e.code()
    };
    let ta_version = verified.has_version().then_some(verified.ta_version);
    let subkeys = verified.subkeys;
    crate::hold!(staging = Staging::default(), in ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    let Staging { parsed, img: img_slot, info, space: space_slot } = staging.as_mut().get();
    let parsed = parsed.insert(elf::parse(verified.elf).map_err(elf_reject)?);
    let img = img_slot.insert(PageBuf::new(parsed.span)?);
    parsed.load_into(verified.elf, img.bytes_mut(), base.get())?;
    let head = parsed.ta_head(img.bytes())?;
    elf::check_head(&head, &uuid).map_err(elf_reject)?;
    let mut ranges = Vec::new();
    ranges.try_reserve_exact(parsed.segments.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    for s in &parsed.segments {
        let start = page_floor(s.vaddr);
        let end = page_ceil(s.vaddr + s.memsz).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
        let perm = match (s.write, s.exec) {
            (false, false) => UserPerm::ReadOnly,
            (true, false) => UserPerm::ReadWrite,
            (false, true) => UserPerm::ReadExec,
            (true, true) => return Err(TeeResult::ERROR_BAD_FORMAT),
        };
        ranges.push((start, base.add(start), end - start, perm));
    }
    let entry = base.checked_add(parsed.entry).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    if let Some(at) = parsed.phdr_info {
        *info = Some(phdr_info(parsed, img.bytes_mut(), at, base)?);
    }
    let space = space_slot.insert(UserSpace::new(mmu));
    // The image moves into the space (which the staging holds).
    if let Some(img) = img_slot.take() {
        space.add(img, &ranges).map_err(|_| TeeResult::ERROR_BAD_FORMAT)?;
    }
    drop(ranges);
    if let Some((page, va)) = info.take() {
        let len = page.len();
        space.add(page, &[(0, va, len, UserPerm::ReadOnly)])?;
    }
    // The stack, with the page below it left unmapped as a guard.
    let stack_len = page_ceil(head.stack_size as u64).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    let stack = PageBuf::new(stack_len)?;
    let stack_base = stack_top.get().checked_sub(stack_len).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    space.add(stack, &[(0, UserVirt::new(stack_base), stack_len, UserPerm::ReadWrite)])?;
    space.activate()?;
    let footprint = space.footprint();
    let Some(space) = space_slot.take() else {
        return Err(TeeResult::ERROR_GENERIC);
    };
    *out = Some(Loaded { space, head, entry, footprint, ta_version, subkeys });
    Ok(())
}
