//! Linking the objects of one TA instance: the main TA and the shared TA
//! libraries it needs (or `dlopen`s), each laid out by [`super::elf`] at
//! its own base.
//!
//! The rules are upstream ldelf's, so a TA built with upstream's dev kit
//! sees the same results: symbols are searched object by object in load
//! order (global definitions before weak ones within an object) through
//! the object's `DT_GNU_HASH` table, or its `DT_HASH` table without one;
//! an undefined weak reference that nothing defines is 0, an undefined
//! strong one refuses the load with `TEE_ERROR_ITEM_NOT_FOUND`.
//! `GLOB_DAT`, `JUMP_SLOT` and `ABS64` of an undefined symbol take the
//! symbol's address (no addend); `ABS64` of a defined one is the sum of
//! base, value and addend. TLS uses variant 1 with a 16-byte TCB head: each object with a
//! `PT_TLS` gets its block at the next offset, in load order, as libutee
//! lays out its TCB; `TLS_TPREL` writes that offset + symbol value +
//! addend, `TLSDESC` a resolver (in a code page the loader provides) and
//! the same offset.
//!
//! Every table is read checked from the laid-out image; a malformed one is
//! `TEE_ERROR_BAD_FORMAT`, never a panic or an endless walk.

use super::elf::{
    DynSyms, R_AARCH64_ABS64, R_AARCH64_GLOB_DAT, R_AARCH64_JUMP_SLOT, R_AARCH64_TLS_TPREL, R_AARCH64_TLSDESC, SymReloc,
};
use alloc::vec::Vec;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

/// Most objects (main TA and libraries) one instance may have.
pub const MAX_OBJECTS: usize = 16;
/// Offset of the first TLS block from the thread pointer (the TCB head:
/// DTV pointer and a reserved word).
pub const TCB_HEAD: u64 = 16;
/// Code of the `TLSDESC` resolver: `bti c; ldr x0, [x0, #8]; ret` (the
/// descriptor's second word is the block offset itself).
pub const TLSDESC_RESOLVER: [u32; 3] = [0xd503_245f, 0xf940_0400, 0xd65f_03c0];

const BAD: TeeResult = TeeResult::ERROR_BAD_FORMAT;
const SYM_SIZE: u64 = 24;
const STB_GLOBAL: u8 = 1;
const STB_WEAK: u8 = 2;
const STT_NOTYPE: u8 = 0;
const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;
const STT_TLS: u8 = 6;
const SHN_UNDEF: u16 = 0;
const SHN_XINDEX: u16 = 0xffff;

/// One object of an instance, as the linker needs to remember it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub uuid: Uuid,
    /// Where the image starts (user address) and its length.
    pub base: u64,
    pub span: u64,
    pub syms: Option<DynSyms>,
    /// `PT_TLS` (vaddr, filesz, memsz) and the block's offset from the
    /// thread pointer.
    pub tls: Option<(u64, u64, u64)>,
    pub tls_offset: u64,
    /// Image offset of the `DT_SONAME` string.
    pub soname: Option<u64>,
    /// Where the kernel keeps the image (an index of the user layer's).
    pub buf: usize,
}

/// A module with its laid-out image.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub module: &'a Module,
    pub image: &'a [u8],
}

fn u32_at(image: &[u8], off: u64) -> Result<u32, TeeResult> {
    let at = usize::try_from(off).map_err(|_| BAD)?;
    let b = image.get(at..at.checked_add(4).ok_or(BAD)?).ok_or(BAD)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(image: &[u8], off: u64) -> Result<u64, TeeResult> {
    Ok(u64::from(u32_at(image, off)?) | u64::from(u32_at(image, off.checked_add(4).ok_or(BAD)?)?) << 32)
}

/// The SysV ELF hash (`DT_HASH`).
pub fn elf_hash(name: &[u8]) -> u32 {
    name.iter().fold(0u32, |h, &c| {
        let h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        (if g != 0 { h ^ (g >> 24) } else { h }) & !g
    })
}

/// The GNU hash (`DT_GNU_HASH`): djb2.
pub fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(u32::from(c)))
}

/// The fields of one `Elf64_Sym`.
struct Sym {
    name: u32,
    bind: u8,
    typ: u8,
    shndx: u16,
    value: u64,
}

impl View<'_> {
    fn syms(&self) -> Result<&DynSyms, TeeResult> {
        self.module.syms.as_ref().ok_or(BAD)
    }

    fn sym(&self, n: u64) -> Result<Sym, TeeResult> {
        let s = self.syms()?;
        if n >= s.count {
            return Err(BAD);
        }
        let at = s.symtab.checked_add(n * SYM_SIZE).ok_or(BAD)?;
        let info = u32_at(self.image, at.checked_add(4).ok_or(BAD)?)?;
        Ok(Sym {
            name: u32_at(self.image, at)?,
            bind: (info as u8) >> 4,
            typ: (info as u8) & 0xf,
            shndx: (info >> 16) as u16,
            value: u64_at(self.image, at + 8)?,
        })
    }

    /// The name of a symbol: NUL-terminated inside the string table.
    fn name(&self, st_name: u32) -> Result<&[u8], TeeResult> {
        let s = self.syms()?;
        if u64::from(st_name) >= s.strsz {
            return Err(BAD);
        }
        let start = usize::try_from(s.strtab.checked_add(u64::from(st_name)).ok_or(BAD)?).map_err(|_| BAD)?;
        let end = usize::try_from(s.strtab.checked_add(s.strsz).ok_or(BAD)?).map_err(|_| BAD)?;
        let strs = self.image.get(start..end).ok_or(BAD)?;
        Ok(&strs[..strs.iter().position(|&b| b == 0).ok_or(BAD)?])
    }

    /// Whether symbol `n` is a definition of `name` this pass takes, and
    /// its value (upstream's comparison, in its order).
    fn matches(&self, n: u64, name: &[u8], weak_ok: bool) -> Result<Option<u64>, TeeResult> {
        let sym = self.sym(n)?;
        if sym.name == 0 || self.name(sym.name)? != name {
            return Ok(None);
        }
        if !(sym.bind == STB_GLOBAL || (weak_ok && sym.bind == STB_WEAK)) {
            return Ok(None);
        }
        if sym.bind == STB_WEAK && sym.shndx == SHN_UNDEF {
            return Ok(Some(0));
        }
        if sym.shndx == SHN_UNDEF || sym.shndx == SHN_XINDEX {
            return Ok(None);
        }
        match sym.typ {
            STT_NOTYPE | STT_OBJECT | STT_FUNC => {
                if sym.value > self.module.span {
                    return Err(BAD);
                }
                Ok(Some(self.module.base + sym.value))
            }
            STT_TLS => Ok(Some(sym.value)),
            _ => Err(TeeResult::ERROR_NOT_SUPPORTED),
        }
    }

    /// Looks `name` up in this object's hash table.
    fn find(&self, name: &[u8], weak_ok: bool) -> Result<Option<u64>, TeeResult> {
        let Some(s) = self.module.syms.as_ref() else { return Ok(None) };
        let img = self.image;
        if let Some((at, size)) = s.gnu_hash {
            let end = at.checked_add(size).ok_or(BAD)?;
            let (nbuckets, symoffset) = (u32_at(img, at)?, u32_at(img, at + 4)?);
            let (bloom_size, bloom_shift) = (u32_at(img, at + 8)?, u32_at(img, at + 12)?);
            if nbuckets == 0 || bloom_size == 0 {
                return Err(BAD);
            }
            let hash = gnu_hash(name);
            let word = u64_at(img, at + 16 + 8 * u64::from((hash / 64) % bloom_size))?;
            let mask = (1u64 << (hash % 64)) | (1u64 << ((hash >> (bloom_shift % 32)) % 64));
            if word & mask != mask {
                return Ok(None);
            }
            let buckets = at + 16 + 8 * u64::from(bloom_size);
            let chain = buckets + 4 * u64::from(nbuckets);
            let mut n = u64::from(u32_at(img, buckets + 4 * u64::from(hash % nbuckets))?);
            if n < u64::from(symoffset) {
                return Ok(None);
            }
            loop {
                let entry = chain + 4 * (n - u64::from(symoffset));
                if entry.checked_add(4).is_none_or(|e| e > end) {
                    return Ok(None);
                }
                let h = u32_at(img, entry)?;
                if (h | 1) == (hash | 1)
                    && let Some(v) = self.matches(n, name, weak_ok)?
                {
                    return Ok(Some(v));
                }
                if h & 1 != 0 {
                    return Ok(None);
                }
                n += 1;
            }
        } else if let Some(at) = s.hash {
            let (nbuckets, nchains) = (u32_at(img, at)?, u32_at(img, at + 4)?);
            if nbuckets == 0 {
                return Ok(None);
            }
            let chain = at + 8 + 4 * u64::from(nbuckets);
            let mut n = u32_at(img, at + 8 + 4 * u64::from(elf_hash(name) % nbuckets))?;
            // A chain visits each symbol at most once; longer is a loop.
            for _ in 0..=nchains {
                if n == 0 {
                    return Ok(None);
                }
                if n >= nchains {
                    return Err(BAD);
                }
                if let Some(v) = self.matches(u64::from(n), name, weak_ok)? {
                    return Ok(Some(v));
                }
                n = u32_at(img, chain + 4 * u64::from(n))?;
            }
            return Err(BAD);
        }
        Ok(None)
    }

    /// `name` defined in this object: global definitions, then weak ones.
    fn find_any(&self, name: &[u8]) -> Result<Option<u64>, TeeResult> {
        match self.find(name, false)? {
            Some(v) => Ok(Some(v)),
            None => self.find(name, true),
        }
    }
}

/// Looks `name` up in `mods`, in order: (value, index of the module).
pub fn lookup(mods: &[View], name: &[u8]) -> Result<Option<(u64, usize)>, TeeResult> {
    for (i, m) in mods.iter().enumerate() {
        if let Some(v) = m.find_any(name)? {
            return Ok(Some((v, i)));
        }
    }
    Ok(None)
}

/// `dlsym`: `name` in module `first` if given, else (or if it isn't there)
/// in all of `mods` in order, as upstream.
pub fn lookup_from(mods: &[View], first: Option<usize>, name: &[u8]) -> Result<Option<u64>, TeeResult> {
    if let Some(m) = first.and_then(|i| mods.get(i))
        && let Some(v) = m.find_any(name)?
    {
        return Ok(Some(v));
    }
    Ok(lookup(mods, name)?.map(|(v, _)| v))
}

/// Computes what the symbol relocations `relocs` of `mods[target]` write:
/// (image offset, value) pairs appended to `out`. `tlsdesc` is the user
/// address of the `TLSDESC` resolver.
pub fn resolve(
    mods: &[View],
    target: usize,
    relocs: &[SymReloc],
    tlsdesc: u64,
    out: &mut Vec<(u64, u64)>,
) -> Result<(), TeeResult> {
    let me = mods.get(target).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
    out.try_reserve(relocs.len().saturating_mul(2)).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    // The address of an undefined symbol's definition (0 for a weak one
    // nothing defines), and where it was found.
    let external = |sym: &Sym| -> Result<(u64, usize), TeeResult> {
        let name = me.name(sym.name)?;
        match lookup(mods, name)? {
            Some(found) => Ok(found),
            None if sym.shndx == SHN_UNDEF && sym.bind == STB_WEAK => Ok((0, target)),
            None => {
                log::warn!("TA link: symbol {} not found", core::str::from_utf8(name).unwrap_or("?"));
                Err(TeeResult::ERROR_ITEM_NOT_FOUND)
            }
        }
    };
    for r in relocs {
        match r.rtype {
            R_AARCH64_ABS64 => {
                let sym = me.sym(u64::from(r.sym))?;
                let v = if sym.shndx == SHN_UNDEF {
                    external(&sym)?.0
                } else {
                    me.module.base.wrapping_add(sym.value).wrapping_add(r.addend)
                };
                out.push((r.offset, v));
            }
            R_AARCH64_GLOB_DAT | R_AARCH64_JUMP_SLOT => {
                let sym = me.sym(u64::from(r.sym))?;
                out.push((r.offset, external(&sym)?.0));
            }
            R_AARCH64_TLS_TPREL | R_AARCH64_TLSDESC => {
                let (value, module) = if r.sym != 0 { external(&me.sym(u64::from(r.sym))?)? } else { (0, target) };
                let offset = mods.get(module).map_or(0, |m| m.module.tls_offset);
                let tprel = value.wrapping_add(offset).wrapping_add(r.addend);
                if r.rtype == R_AARCH64_TLSDESC {
                    out.push((r.offset, tlsdesc));
                    out.push((r.offset + 8, tprel));
                } else {
                    out.push((r.offset, tprel));
                }
            }
            _ => return Err(BAD),
        }
    }
    Ok(())
}

/// Writes what [`resolve`] computed into the image.
pub fn apply(image: &mut [u8], writes: &[(u64, u64)]) -> Result<(), TeeResult> {
    for &(off, v) in writes {
        let at = usize::try_from(off).map_err(|_| BAD)?;
        let dst = at.checked_add(8).and_then(|e| image.get_mut(at..e)).ok_or(BAD)?;
        dst.copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// Size of an LP64 `struct dl_phdr_info`.
pub const DL_PHDR_INFO_SIZE: usize = 64;

/// The `dl_phdr_info` upstream's loader gives `m` (whose program header
/// copy is at `phdr`, `phnum` entries; `no_name` the address of an empty
/// string): TLS module id 0 and the unrelocated `PT_TLS` address, as
/// upstream's 64-bit loader leaves them (libutee finds the TLS blocks by
/// position).
pub fn phdr_info(m: &Module, phdr: u64, phnum: u16, no_name: u64) -> [u8; DL_PHDR_INFO_SIZE] {
    let mut b = [0u8; DL_PHDR_INFO_SIZE];
    let name = m.soname.map_or(no_name, |s| m.base + s);
    let tls_data = m.tls.map_or(0, |(va, _, _)| va);
    for (off, v) in [(0, m.base), (8, name), (16, phdr), (32, 1), (40, 0), (48, 0), (56, tls_data)] {
        b[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }
    b[24..26].copy_from_slice(&phnum.to_le_bytes());
    b
}

#[cfg(test)]
mod tests;
