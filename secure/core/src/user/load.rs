//! Getting a TA image from tee-supplicant and turning it into an address
//! space: signature check, ELF load with relocations, stack with a guard.

use super::dynlink::Linked;
use super::space::{PAGE_SIZE, PageBuf, UserSpace};
use crate::env::{UserMmu, UserPerm};
use crate::msg::{Dir, Param};
use crate::rpc::Rpc;
use crate::ta::{dl, elf, image};
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
    objs: Vec<Obj>,
    space: Option<UserSpace>,
}

/// Checks and loads `signed` (a private copy) for `uuid` at `base`, with
/// its stack ending at `stack_top`, and the shared libraries it needs
/// (fetched through `rpc`), into `out` (a cell of the caller's, armed).
/// What is built on the way is armed in `ledger`.
#[allow(clippy::too_many_arguments)]
pub fn build(
    os: &crate::Os,
    rpc: &mut Rpc,
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
    let Staging { objs, space: space_slot } = staging.as_mut().get();
    objs.try_reserve_exact(dl::MAX_OBJECTS).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    let parsed = elf::parse(verified.elf).map_err(elf_reject)?;
    let mut img = PageBuf::new(parsed.span)?;
    parsed.load_into(verified.elf, img.bytes_mut(), base.get())?;
    let head = parsed.ta_head(img.bytes())?;
    elf::check_head(&head, &uuid).map_err(elf_reject)?;
    let entry = base.checked_add(parsed.entry).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    // The stack, with the page below it left unmapped as a guard; the
    // libraries must end below that guard.
    let stack_len = page_ceil(head.stack_size as u64).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    let stack_base = stack_top.get().checked_sub(stack_len).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
    let space = space_slot.insert(UserSpace::new(mmu));
    let info_va = base.get() + parsed.span + PAGE_SIZE as u64;
    let tlsdesc = info_va + INFO_SIZE + PAGE_SIZE as u64;
    space.dl = Linked {
        info_va,
        tlsdesc,
        next_va: tlsdesc + 2 * PAGE_SIZE as u64,
        limit: stack_base - PAGE_SIZE as u64,
        tls_next: dl::TCB_HEAD,
        ..Linked::default()
    };
    objs.push(Obj { uuid, parsed, img, base: base.get() });
    stage_needed(os, rpc, keys.ta, ledger, &space.dl, objs, 0)?;
    // The loader's own pages: the dl_phdr_info area and the TLSDESC
    // resolver.
    let info = PageBuf::new(INFO_SIZE)?;
    let info_idx = space.add(info, &[(0, UserVirt::new(info_va), INFO_SIZE, UserPerm::ReadOnly)])?;
    space.dl.info_buf = info_idx;
    let mut code = PageBuf::new(PAGE_SIZE as u64)?;
    for (i, w) in dl::TLSDESC_RESOLVER.iter().enumerate() {
        code.bytes_mut()[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    space.add(code, &[(0, UserVirt::new(tlsdesc), PAGE_SIZE as u64, UserPerm::ReadExec)])?;
    link_and_map(space, objs)?;
    let stack = PageBuf::new(stack_len)?;
    space.add(stack, &[(0, UserVirt::new(stack_base), stack_len, UserPerm::ReadWrite)])?;
    space.activate()?;
    let footprint = space.footprint();
    let Some(space) = space_slot.take() else {
        return Err(TeeResult::ERROR_GENERIC);
    };
    *out = Some(Loaded { space, head, entry, footprint, ta_version, subkeys });
    Ok(())
}

/// Bytes of the area holding the `dl_phdr_info` array (room for
/// `MAX_OBJECTS`) and the copies of the objects' program headers.
pub const INFO_SIZE: u64 = 4 * PAGE_SIZE as u64;
const PHDRS_AT: usize = dl::MAX_OBJECTS * dl::DL_PHDR_INFO_SIZE;

/// One object on its way into an instance.
pub struct Obj {
    pub uuid: Uuid,
    pub parsed: elf::Elf,
    pub img: PageBuf,
    pub base: u64,
}

/// libutee's record of the loaded objects' program headers.
const PHDR_INFO_SYMBOL: &[u8] = b"__elf_phdr_info";

/// Fetches and lays out, breadth first, the libraries the objects
/// `objs[from..]` need that neither `linked` nor `objs` has yet, each once,
/// at `linked.next_va` and up (a guard page after each).
pub fn stage_needed(
    os: &crate::Os,
    rpc: &mut Rpc,
    key: &image::TaKey,
    ledger: &Ledger,
    linked: &Linked,
    objs: &mut Vec<Obj>,
    from: usize,
) -> Result<(), TeeResult> {
    let mut next =
        linked.next_va.max(objs.iter().map(|o| o.base + o.parsed.span + PAGE_SIZE as u64).max().unwrap_or(0));
    let mut i = from;
    while i < objs.len() {
        let mut j = 0;
        while let Some(&uuid) = objs[i].parsed.needed.get(j) {
            j += 1;
            if linked.modules.iter().any(|m| m.uuid == uuid) || objs.iter().any(|o| o.uuid == uuid) {
                continue;
            }
            if linked.modules.len() + objs.len() >= dl::MAX_OBJECTS {
                warn!("TA library {uuid}: more than {} objects in one instance", dl::MAX_OBJECTS);
                return Err(TeeResult::ERROR_OUT_OF_MEMORY);
            }
            let obj = stage_lib(os, rpc, key, ledger, uuid, next, linked.limit)?;
            next = obj.base + obj.parsed.span + PAGE_SIZE as u64;
            objs.try_reserve(1).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
            objs.push(obj);
        }
        i += 1;
    }
    Ok(())
}

/// Fetches the signed library `uuid` (from where TAs come, in the same
/// order) and lays it out at `base` (below `limit`).
pub fn stage_lib(
    os: &crate::Os,
    rpc: &mut Rpc,
    key: &image::TaKey,
    ledger: &Ledger,
    uuid: Uuid,
    base: u64,
    limit: u64,
) -> Result<Obj, TeeResult> {
    crate::hold!(signed = Vec::new(), in ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    fetch_any(os, rpc, uuid, signed.as_mut().get())?;
    let signed = signed.as_mut().get();
    let verified = image::verify(signed, key, &uuid).map_err(|e| {
        warn!("TA library {uuid}: image rejected: {e} ({})", e.code());
        e.code()
    })?;
    let parsed = elf::parse_lib(verified.elf).map_err(|e| {
        warn!("TA library {uuid}: ELF rejected: {e} ({})", e.code());
        e.code()
    })?;
    if base.checked_add(parsed.span).is_none_or(|end| end > limit) {
        warn!("TA library {uuid}: no room in the instance's address space");
        return Err(TeeResult::ERROR_OUT_OF_MEMORY);
    }
    let mut img = PageBuf::new(parsed.span)?;
    parsed.load_into(verified.elf, img.bytes_mut(), base)?;
    debug!("TA library {uuid} staged at {base:#x}");
    Ok(Obj { uuid, parsed, img, base })
}

/// Links the new objects `objs` against what `space` already has and
/// against each other, maps them, and records them (their
/// `dl_phdr_info`, and `__elf_phdr_info` once found). On error nothing of
/// them stays mapped.
pub fn link_and_map(space: &mut UserSpace, objs: &mut Vec<Obj>) -> Result<(), TeeResult> {
    let old = space.dl.modules.len();
    let mut modules = Vec::new();
    modules.try_reserve_exact(objs.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    let mut tls_next = space.dl.tls_next;
    for o in objs.iter() {
        let tls_offset = match o.parsed.tls {
            Some((_, _, memsz)) => {
                let at = tls_next;
                tls_next = tls_next.checked_add(memsz).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
                at
            }
            None => 0,
        };
        modules.push(dl::Module {
            uuid: o.uuid,
            base: o.base,
            span: o.parsed.span,
            syms: o.parsed.syms,
            tls: o.parsed.tls,
            tls_offset,
            soname: o.parsed.soname,
            buf: usize::MAX,
        });
    }
    // Everything each new object's relocations write, computed before any
    // image changes.
    let mut writes: Vec<Vec<(u64, u64)>> = Vec::new();
    writes.try_reserve_exact(objs.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    let mut record = None;
    {
        let mut views = Vec::new();
        views.try_reserve_exact(old + objs.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for m in &space.dl.modules {
            let image = space.buf(m.buf).ok_or(TeeResult::ERROR_GENERIC)?.bytes();
            views.push(dl::View { module: m, image });
        }
        for (m, o) in modules.iter().zip(objs.iter()) {
            views.push(dl::View { module: m, image: o.img.bytes() });
        }
        for (k, o) in objs.iter().enumerate() {
            let mut w = Vec::new();
            dl::resolve(&views, old + k, &o.parsed.sym_relocs, space.dl.tlsdesc, &mut w)?;
            writes.push(w);
        }
        if space.dl.record.is_none()
            && let Some((va, i)) = dl::lookup(&views, PHDR_INFO_SYMBOL)?
            && va != 0
        {
            record = Some((va, i));
        }
    }
    for (o, w) in objs.iter_mut().zip(&writes) {
        dl::apply(o.img.bytes_mut(), w)?;
    }
    drop(writes);
    let count = u16::try_from(old + objs.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    // libutee's record: in a writable segment of a new object (at the
    // first load), its reserved word zero.
    if let Some((va, i)) = record {
        let k = i.checked_sub(old).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
        let o = objs.get_mut(k).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
        let at = va - o.base;
        if !o.parsed.segments.iter().any(|s| s.write && at >= s.vaddr && at + 16 <= s.vaddr + s.memsz) {
            warn!("TA: __elf_phdr_info not in a writable segment");
            return Err(TeeResult::ERROR_BAD_FORMAT);
        }
        let at = at as usize;
        let rec = o.img.bytes_mut().get_mut(at..at + 16).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
        if rec[..4] != [0; 4] {
            return Err(TeeResult::ERROR_NOT_SUPPORTED);
        }
        rec[4..6].copy_from_slice(&count.to_le_bytes());
        rec[8..16].copy_from_slice(&space.dl.info_va.to_le_bytes());
    }
    let record_va = record.map(|(va, _)| va).or(space.dl.record);
    // The program header copies and dl_phdr_info entries go into the
    // loader's area (which the TA only reads).
    let mut phdr_next = space.dl.phdr_next.max(PHDRS_AT);
    let mut entries = Vec::new();
    entries.try_reserve_exact(objs.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    for (m, o) in modules.iter().zip(objs.iter_mut()) {
        let len = o.parsed.phdrs.len();
        if phdr_next + len > INFO_SIZE as usize {
            warn!("TA: program headers of its objects exceed {INFO_SIZE} bytes");
            return Err(TeeResult::ERROR_OUT_OF_MEMORY);
        }
        let phdr_va = space.dl.info_va + phdr_next as u64;
        let entry = dl::phdr_info(m, phdr_va, o.parsed.phnum, record_va.unwrap_or(0) + 7);
        entries.push((phdr_next, entry, core::mem::take(&mut o.parsed.phdrs)));
        phdr_next += len.next_multiple_of(8);
    }
    // Map; on failure, unmap what this call mapped.
    let mut mapped = 0;
    let r = (|| -> Result<(), TeeResult> {
        for (m, o) in modules.iter_mut().zip(objs.drain(..)) {
            let mut ranges = Vec::new();
            ranges.try_reserve_exact(o.parsed.segments.len()).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
            for s in &o.parsed.segments {
                let start = page_floor(s.vaddr);
                let end = page_ceil(s.vaddr + s.memsz).ok_or(TeeResult::ERROR_BAD_FORMAT)?;
                let perm = match (s.write, s.exec) {
                    (false, false) => UserPerm::ReadOnly,
                    (true, false) => UserPerm::ReadWrite,
                    (false, true) => UserPerm::ReadExec,
                    (true, true) => return Err(TeeResult::ERROR_BAD_FORMAT),
                };
                ranges.push((start, UserVirt::new(o.base + start), end - start, perm));
            }
            m.buf = space.add(o.img, &ranges)?;
            mapped += 1;
        }
        Ok(())
    })();
    // A dlopen updates the count libutee reads (the pointer stays).
    let r = r.and_then(|()| match (record, space.dl.record) {
        (None, Some(va)) => space.write(UserVirt::new(va + 4), &count.to_le_bytes()),
        _ => Ok(()),
    });
    if let Err(e) = r {
        for m in &modules[..mapped] {
            drop(space.remove(m.buf));
        }
        return Err(e);
    }
    let info = space.buf_mut(space.dl.info_buf).ok_or(TeeResult::ERROR_GENERIC)?.bytes_mut();
    for (k, (at, entry, phdrs)) in entries.iter().enumerate() {
        let slot = (old + k) * dl::DL_PHDR_INFO_SIZE;
        info[slot..slot + dl::DL_PHDR_INFO_SIZE].copy_from_slice(entry);
        info[*at..*at + phdrs.len()].copy_from_slice(phdrs);
    }
    space.dl.modules.extend(modules);
    space.dl.tls_next = tls_next;
    space.dl.phdr_next = phdr_next;
    space.dl.record = record_va;
    if let Some(last) = space.dl.modules.last() {
        space.dl.next_va = space.dl.next_va.max(last.base + last.span + PAGE_SIZE as u64);
    }
    Ok(())
}
