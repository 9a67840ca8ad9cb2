//! The TA ELF loader core: checks a TA's ELF file (AArch64, 64-bit
//! little-endian, position-independent `ET_DYN`, as upstream's TA dev kit
//! and our SDK link them) and lays it out into the memory it will run from.
//!
//! Every byte here is hostile even after the signature check (a signature
//! proves who built the file, not that it is well formed), so every offset,
//! size and sum is checked, and anything that doesn't fit the narrow shape
//! we load is refused rather than guessed at: `TEE_ERROR_BAD_FORMAT` for a
//! malformed file, as upstream's `ldelf` answers, `TEE_ERROR_NOT_SUPPORTED`
//! for well-formed features this loader lacks (shared-library dependencies,
//! thread-local storage, segments that can't be read).
//!
//! Layout rules: loadable segments don't share pages, the lowest starts in
//! the first page (the image spans `[0, span)` from its load base), none is
//! both writable and executable, and the entry point is in an executable
//! one. Relocations are `R_AARCH64_RELATIVE` only (static PIE). Like
//! upstream, the relocation tables are the file's `SHT_RELA` sections when
//! it has section headers: GNU ld with upstream's TA link script emits
//! `.rela.dyn` and `.rela.got` apart while `DT_RELASZ` counts both, so the
//! dynamic section can't be trusted to describe them. A file without
//! section headers falls back to `DT_RELA`/`DT_RELASZ` (and `DT_JMPREL`).
//! The TA header is at the dynamic symbol `ta_head` when the file exports
//! one (upstream's layout puts it after `.rodata`), else at the load base.

use alloc::vec::Vec;
use oxtee_abi::ta::TaHead;
use oxtee_abi::tee::TeeResult;
use zerocopy::FromBytes;

/// Pages are 4 KiB: segments are laid out and protected at this grain.
pub const PAGE_SIZE: u64 = 4096;
/// Largest image (`span`) we agree to lay out.
pub const MAX_SPAN: u64 = 64 << 20;

const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const SHDR_SIZE: usize = 64;
const DYN_SIZE: u64 = 16;
const RELA_SIZE: u64 = 24;
const SYM_SIZE: u64 = 24;

const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const EV_CURRENT: u8 = 1;
const ELFOSABI_NONE: u8 = 0;
const ET_DYN: u16 = 3;
const EM_AARCH64: u16 = 183;

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_TLS: u32 = 7;

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

const SHT_RELA: u32 = 4;
const SHT_DYNSYM: u32 = 11;
const SHT_REL: u32 = 9;
const SHF_ALLOC: u64 = 2;
const SHN_UNDEF: u16 = 0;

const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_PLTRELSZ: u64 = 2;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_REL: u64 = 17;
const DT_RELSZ: u64 = 18;
const DT_PLTREL: u64 = 20;
const DT_JMPREL: u64 = 23;
const DT_RELACOUNT: u64 = 0x6fff_fff9;

const R_AARCH64_NONE: u32 = 0;
const R_AARCH64_RELATIVE: u32 = 1027;

const TA_HEAD_SYMBOL: &[u8] = b"ta_head";
/// libutee's record of the loaded objects' program headers.
const PHDR_INFO_SYMBOL: &[u8] = b"__elf_phdr_info";
const TA_HEAD_SIZE: u64 = size_of::<TaHead>() as u64;

const BAD: TeeResult = TeeResult::ERROR_BAD_FORMAT;

/// A loadable segment, relative to the load base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub file_offset: u64,
    pub filesz: u64,
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Segment {
    fn end(&self) -> u64 {
        // Parse checked vaddr + memsz, page-rounded, fits in MAX_SPAN.
        self.vaddr + self.memsz
    }

    /// Whether `[addr, addr + len)` lies in this segment's memory.
    fn holds(&self, addr: u64, len: u64) -> bool {
        addr >= self.vaddr && addr.checked_add(len).is_some_and(|end| end <= self.end())
    }

    /// The file bytes backing `[addr, addr + len)`, if all of it lies in
    /// this segment's file-backed part.
    fn file_bytes<'a>(&self, bytes: &'a [u8], addr: u64, len: u64) -> Option<&'a [u8]> {
        let rel = addr.checked_sub(self.vaddr)?;
        if rel.checked_add(len)? > self.filesz {
            return None;
        }
        let start = usize::try_from(self.file_offset.checked_add(rel)?).ok()?;
        bytes.get(start..start.checked_add(usize::try_from(len).ok()?)?)
    }
}

/// A checked TA ELF: what to copy where and what to relocate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Elf {
    /// `PT_LOAD` segments with a non-empty memory image, sorted by `vaddr`,
    /// on pages of their own.
    pub segments: Vec<Segment>,
    /// Entry point, relative to the load base; inside an executable segment.
    pub entry: u64,
    /// Page-rounded end of the highest segment: the image occupies
    /// `[0, span)` relative to the load base.
    pub span: u64,
    /// `R_AARCH64_RELATIVE` relocations as (offset, addend): each writes
    /// `base + addend` as a little-endian u64 at image offset `offset`,
    /// which has 8 bytes of room inside a segment.
    pub relocs: Vec<(u64, u64)>,
    /// Image offset of the 32-byte `ta_head`: the exported `ta_head`
    /// symbol's value, or 0 without one. Inside a segment.
    pub head: u64,
    /// Image offset of libutee's `__elf_phdr_info` (16 bytes in a writable
    /// segment), if the TA exports it: upstream's loader fills it in so the
    /// TA's runtime can find its program headers (constructors, TLS).
    pub phdr_info: Option<u64>,
    /// The program header table as in the file, and its entry count.
    pub phdrs: Vec<u8>,
    pub phnum: u16,
    /// `PT_TLS` (vaddr, filesz, memsz), inside a segment. The TA's runtime
    /// sets up its thread pointer from the program headers.
    pub tls: Option<(u64, u64, u64)>,
}

/// Little-endian field reads that fail instead of panicking.
trait ReadLe {
    fn u16_at(&self, off: usize) -> Result<u16, TeeResult>;
    fn u32_at(&self, off: usize) -> Result<u32, TeeResult>;
    fn u64_at(&self, off: usize) -> Result<u64, TeeResult>;
}

impl ReadLe for [u8] {
    fn u16_at(&self, off: usize) -> Result<u16, TeeResult> {
        u16::read_from_prefix(self.get(off..).ok_or(BAD)?).map(|(v, _)| u16::from_le(v)).map_err(|_| BAD)
    }
    fn u32_at(&self, off: usize) -> Result<u32, TeeResult> {
        u32::read_from_prefix(self.get(off..).ok_or(BAD)?).map(|(v, _)| u32::from_le(v)).map_err(|_| BAD)
    }
    fn u64_at(&self, off: usize) -> Result<u64, TeeResult> {
        u64::read_from_prefix(self.get(off..).ok_or(BAD)?).map(|(v, _)| u64::from_le(v)).map_err(|_| BAD)
    }
}

/// `[off, off + count * size)` of `bytes`, or `BAD_FORMAT` if any part of
/// it is missing or the arithmetic overflows.
fn table(bytes: &[u8], off: u64, count: usize, size: usize) -> Result<&[u8], TeeResult> {
    let off = usize::try_from(off).map_err(|_| BAD)?;
    let len = count.checked_mul(size).ok_or(BAD)?;
    bytes.get(off..off.checked_add(len).ok_or(BAD)?).ok_or(BAD)
}

fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

fn page_up(v: u64) -> Option<u64> {
    Some(page_down(v.checked_add(PAGE_SIZE - 1)?))
}

/// A `Vec` that reports allocation failure instead of aborting: the sizes
/// come from the file.
fn vec_with_capacity<T>(n: usize) -> Result<Vec<T>, TeeResult> {
    let mut v = Vec::new();
    v.try_reserve(n).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    Ok(v)
}

/// The fields of one program header we act on.
struct Phdr {
    p_type: u32,
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

impl Phdr {
    fn read(raw: &[u8]) -> Result<Phdr, TeeResult> {
        Ok(Phdr {
            p_type: raw.u32_at(0)?,
            flags: raw.u32_at(4)?,
            offset: raw.u64_at(8)?,
            vaddr: raw.u64_at(16)?,
            filesz: raw.u64_at(32)?,
            memsz: raw.u64_at(40)?,
        })
    }
}

/// The fields of one section header we act on.
struct Section {
    sh_type: u32,
    flags: u64,
    addr: u64,
    size: u64,
    link: u32,
    entsize: u64,
}

impl Section {
    fn read(raw: &[u8]) -> Result<Section, TeeResult> {
        Ok(Section {
            sh_type: raw.u32_at(4)?,
            flags: raw.u64_at(8)?,
            addr: raw.u64_at(16)?,
            size: raw.u64_at(32)?,
            link: raw.u32_at(40)?,
            entsize: raw.u64_at(56)?,
        })
    }
}

/// The ELF header fields we use, after the identity checks.
struct Ehdr {
    entry: u64,
    phoff: u64,
    shoff: u64,
    phnum: usize,
    shnum: usize,
}

fn parse_ehdr(bytes: &[u8]) -> Result<Ehdr, TeeResult> {
    let ident = bytes.get(..16).ok_or(BAD)?;
    // The same identity upstream's ldelf demands of a 64-bit Arm TA.
    if ident[..4] != *b"\x7fELF"
        || ident[4] != ELFCLASS64
        || ident[5] != ELFDATA2LSB
        || ident[6] != EV_CURRENT
        || ident[7] != ELFOSABI_NONE
        || bytes.u16_at(16)? != ET_DYN
        || bytes.u16_at(18)? != EM_AARCH64
        || bytes.u32_at(48)? != 0
        || usize::from(bytes.u16_at(54)?) != PHDR_SIZE
    {
        return Err(BAD);
    }
    let shnum = usize::from(bytes.u16_at(60)?);
    if shnum != 0 && usize::from(bytes.u16_at(58)?) != SHDR_SIZE {
        return Err(BAD);
    }
    Ok(Ehdr {
        entry: bytes.u64_at(24)?,
        phoff: bytes.u64_at(32)?,
        shoff: bytes.u64_at(40)?,
        phnum: usize::from(bytes.u16_at(56)?),
        shnum,
    })
}

/// Checks a TA's ELF file; see the module doc for what is accepted.
pub fn parse(bytes: &[u8]) -> Result<Elf, TeeResult> {
    if bytes.len() < EHDR_SIZE {
        return Err(BAD);
    }
    let ehdr = parse_ehdr(bytes)?;
    let phdrs = table(bytes, ehdr.phoff, ehdr.phnum, PHDR_SIZE)?;

    let mut segments = vec_with_capacity(ehdr.phnum)?;
    let mut dynamic = None;
    let mut tls = None;
    for raw in phdrs.chunks_exact(PHDR_SIZE) {
        let ph = Phdr::read(raw)?;
        match ph.p_type {
            PT_LOAD => {
                if let Some(seg) = load_segment(bytes, &ph)? {
                    segments.push(seg);
                }
            }
            PT_DYNAMIC => {
                // One dynamic section, or we couldn't tell which one rules.
                let previous = dynamic.replace((ph.vaddr, ph.memsz));
                if previous.is_some() {
                    return Err(BAD);
                }
            }
            PT_TLS if ph.memsz != 0 => {
                // One TLS segment, with no more file bytes than memory.
                let previous = tls.replace((ph.vaddr, ph.filesz, ph.memsz));
                if ph.filesz > ph.memsz || previous.is_some() {
                    return Err(BAD);
                }
            }
            _ => {}
        }
    }
    segments.sort_unstable_by_key(|s| s.vaddr);
    let span = check_layout(&segments)?;

    let entry = ehdr.entry;
    if !entry.is_multiple_of(4) || !segments.iter().any(|s| s.exec && s.holds(entry, 4)) {
        return Err(BAD);
    }

    if let Some((va, _, memsz)) = tls
        && !segments.iter().any(|s| s.holds(va, memsz))
    {
        return Err(BAD);
    }
    let phnum = u16::try_from(ehdr.phnum).map_err(|_| BAD)?;
    let mut table_copy = vec_with_capacity(phdrs.len())?;
    table_copy.extend_from_slice(phdrs);
    let mut elf =
        Elf { segments, entry, span, relocs: Vec::new(), head: 0, phdr_info: None, phdrs: table_copy, phnum, tls };
    let dyn_info = match dynamic {
        Some((vaddr, memsz)) => elf.read_dynamic(bytes, vaddr, memsz)?,
        None => DynInfo::default(),
    };
    if ehdr.shnum != 0 {
        let shdrs = table(bytes, ehdr.shoff, ehdr.shnum, SHDR_SIZE)?;
        elf.read_sections(bytes, shdrs)?;
    } else {
        for &(addr, size) in &[dyn_info.rela, dyn_info.jmprel] {
            elf.add_relocs(bytes, addr, size)?;
        }
    }
    if !elf.segments.iter().any(|s| s.holds(elf.head, TA_HEAD_SIZE)) {
        return Err(BAD);
    }
    Ok(elf)
}

/// Validates one `PT_LOAD`; `None` for an empty one (nothing to map).
fn load_segment(bytes: &[u8], ph: &Phdr) -> Result<Option<Segment>, TeeResult> {
    let file_end = ph.offset.checked_add(ph.filesz).ok_or(BAD)?;
    if ph.filesz > ph.memsz || file_end > bytes.len() as u64 {
        return Err(BAD);
    }
    // vaddr + memsz, page-rounded, must not wrap; the span limit comes later.
    ph.vaddr.checked_add(ph.memsz).and_then(page_up).ok_or(BAD)?;
    if ph.vaddr % PAGE_SIZE != ph.offset % PAGE_SIZE {
        return Err(BAD);
    }
    if ph.memsz == 0 {
        return Ok(None);
    }
    if ph.flags & PF_R == 0 {
        // Upstream's ldelf refuses these the same way.
        return Err(TeeResult::ERROR_NOT_SUPPORTED);
    }
    if ph.flags & PF_W != 0 && ph.flags & PF_X != 0 {
        return Err(BAD);
    }
    Ok(Some(Segment {
        vaddr: ph.vaddr,
        memsz: ph.memsz,
        file_offset: ph.offset,
        filesz: ph.filesz,
        read: true,
        write: ph.flags & PF_W != 0,
        exec: ph.flags & PF_X != 0,
    }))
}

/// Checks the sorted segments' placement; returns the span.
fn check_layout(segments: &[Segment]) -> Result<u64, TeeResult> {
    let first = segments.first().ok_or(BAD)?;
    if page_down(first.vaddr) != 0 {
        return Err(BAD);
    }
    for pair in segments.windows(2) {
        let end = pair[0].vaddr.checked_add(pair[0].memsz).and_then(page_up).ok_or(BAD)?;
        if end > page_down(pair[1].vaddr) {
            return Err(BAD);
        }
    }
    let last = segments.last().ok_or(BAD)?;
    let span = last.vaddr.checked_add(last.memsz).and_then(page_up).ok_or(BAD)?;
    if span > MAX_SPAN {
        return Err(BAD);
    }
    Ok(span)
}

/// Relocation tables named by the dynamic section, as (address, size).
#[derive(Default)]
struct DynInfo {
    rela: (u64, u64),
    jmprel: (u64, u64),
}

impl Elf {
    /// The segment file bytes that will sit at `[addr, addr + len)`.
    fn mapped<'a>(&self, bytes: &'a [u8], addr: u64, len: u64) -> Result<&'a [u8], TeeResult> {
        self.segments.iter().find_map(|s| s.file_bytes(bytes, addr, len)).ok_or(BAD)
    }

    /// Reads the dynamic section: refuses dependencies and `REL` tables,
    /// returns where the `RELA` tables are.
    fn read_dynamic(&self, bytes: &[u8], vaddr: u64, memsz: u64) -> Result<DynInfo, TeeResult> {
        if !memsz.is_multiple_of(DYN_SIZE) {
            return Err(BAD);
        }
        let raw = self.mapped(bytes, vaddr, memsz)?;
        let (mut rela, mut relasz, mut relaent, mut relacount) = (None, 0, None, None);
        let (mut jmprel, mut pltrelsz, mut pltrel) = (None, 0, None);
        for d in raw.chunks_exact(DYN_SIZE as usize) {
            let (tag, val) = (d.u64_at(0)?, d.u64_at(8)?);
            match tag {
                DT_NULL => break,
                DT_NEEDED => return Err(TeeResult::ERROR_NOT_SUPPORTED),
                DT_REL | DT_RELSZ => return Err(BAD),
                DT_RELA => rela = Some(val),
                DT_RELASZ => relasz = val,
                DT_RELAENT => relaent = Some(val),
                DT_RELACOUNT => relacount = Some(val),
                DT_JMPREL => jmprel = Some(val),
                DT_PLTRELSZ => pltrelsz = val,
                DT_PLTREL => pltrel = Some(val),
                _ => {}
            }
        }
        let mut info = DynInfo::default();
        if relasz != 0 {
            if relaent != Some(RELA_SIZE) || !relasz.is_multiple_of(RELA_SIZE) {
                return Err(BAD);
            }
            if relacount.is_some_and(|n| n > relasz / RELA_SIZE) {
                return Err(BAD);
            }
            info.rela = (rela.ok_or(BAD)?, relasz);
        }
        if pltrelsz != 0 {
            if pltrel != Some(DT_RELA) || !pltrelsz.is_multiple_of(RELA_SIZE) {
                return Err(BAD);
            }
            info.jmprel = (jmprel.ok_or(BAD)?, pltrelsz);
        }
        Ok(info)
    }

    /// Section-header path: relocations from every allocated `SHT_RELA`
    /// section, and the `ta_head` symbol from the first `SHT_DYNSYM`.
    fn read_sections(&mut self, bytes: &[u8], shdrs: &[u8]) -> Result<(), TeeResult> {
        let mut dynsym = None;
        for raw in shdrs.chunks_exact(SHDR_SIZE) {
            let sh = Section::read(raw)?;
            // Non-allocated sections are link-time leftovers (e.g. from
            // --emit-relocs), not part of the running TA.
            if sh.flags & SHF_ALLOC == 0 || sh.size == 0 {
                continue;
            }
            match sh.sh_type {
                SHT_RELA => {
                    if sh.entsize != RELA_SIZE || !sh.size.is_multiple_of(RELA_SIZE) {
                        return Err(BAD);
                    }
                    self.add_relocs(bytes, sh.addr, sh.size)?;
                }
                SHT_REL => return Err(BAD),
                SHT_DYNSYM if dynsym.is_none() => dynsym = Some(sh),
                _ => {}
            }
        }
        if let Some(sym) = dynsym {
            let strtab =
                usize::try_from(sym.link).ok().and_then(|i| shdrs.chunks_exact(SHDR_SIZE).nth(i)).ok_or(BAD)?;
            let strtab = Section::read(strtab)?;
            if let Some(head) = self.find_symbol(bytes, &sym, &strtab, TA_HEAD_SYMBOL)? {
                self.head = head;
            }
            if let Some(info) = self.find_symbol(bytes, &sym, &strtab, PHDR_INFO_SYMBOL)? {
                if !self.segments.iter().any(|s| s.write && s.holds(info, 16)) {
                    return Err(BAD);
                }
                self.phdr_info = Some(info);
            }
        }
        Ok(())
    }

    /// Value of the defined symbol `name` in a symbol table, if any.
    fn find_symbol(
        &self,
        bytes: &[u8],
        sym: &Section,
        strtab: &Section,
        name: &[u8],
    ) -> Result<Option<u64>, TeeResult> {
        if sym.entsize != SYM_SIZE || !sym.size.is_multiple_of(SYM_SIZE) {
            return Err(BAD);
        }
        let syms = self.mapped(bytes, sym.addr, sym.size)?;
        let strs = self.mapped(bytes, strtab.addr, strtab.size)?;
        for s in syms.chunks_exact(SYM_SIZE as usize) {
            let st_name = usize::try_from(s.u32_at(0)?).map_err(|_| BAD)?;
            if s.u16_at(6)? == SHN_UNDEF {
                continue;
            }
            // The name must be NUL-terminated inside the string table.
            let Some(rest) = strs.get(st_name..) else { return Err(BAD) };
            let len = rest.iter().position(|&b| b == 0).ok_or(BAD)?;
            if &rest[..len] == name {
                return Ok(Some(s.u64_at(8)?));
            }
        }
        Ok(None)
    }

    /// Checks and records the relocation table at `[addr, addr + size)`.
    fn add_relocs(&mut self, bytes: &[u8], addr: u64, size: u64) -> Result<(), TeeResult> {
        if size == 0 {
            return Ok(());
        }
        if !size.is_multiple_of(RELA_SIZE) {
            return Err(BAD);
        }
        let raw = self.mapped(bytes, addr, size)?;
        let count = raw.len() / RELA_SIZE as usize;
        self.relocs.try_reserve(count).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
        for r in raw.chunks_exact(RELA_SIZE as usize) {
            let (offset, info, addend) = (r.u64_at(0)?, r.u64_at(8)?, r.u64_at(16)?);
            // Low half of r_info is the type; the symbol is unused.
            match info as u32 {
                R_AARCH64_NONE => {}
                R_AARCH64_RELATIVE => {
                    if !self.segments.iter().any(|s| s.holds(offset, 8)) {
                        return Err(BAD);
                    }
                    self.relocs.push((offset, addend));
                }
                // Like upstream's loader: an unknown type is a bad file.
                _ => return Err(BAD),
            }
        }
        Ok(())
    }

    /// Lays the TA out in `image` (length `span`, to be mapped at `base`):
    /// each segment's file bytes at its `vaddr`, zeros elsewhere, then
    /// relocated for `base`. `bytes` must be the file `parse` accepted.
    pub fn load_into(&self, bytes: &[u8], image: &mut [u8], base: u64) -> Result<(), TeeResult> {
        if image.len() as u64 != self.span {
            return Err(TeeResult::ERROR_BAD_PARAMETERS);
        }
        image.fill(0);
        for seg in &self.segments {
            let src = seg.file_bytes(bytes, seg.vaddr, seg.filesz).ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            let start = usize::try_from(seg.vaddr).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
            let dst = start
                .checked_add(src.len())
                .and_then(|end| image.get_mut(start..end))
                .ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            dst.copy_from_slice(src);
        }
        for &(offset, addend) in &self.relocs {
            let start = usize::try_from(offset).map_err(|_| TeeResult::ERROR_BAD_PARAMETERS)?;
            let dst = start
                .checked_add(8)
                .and_then(|end| image.get_mut(start..end))
                .ok_or(TeeResult::ERROR_BAD_PARAMETERS)?;
            dst.copy_from_slice(&base.wrapping_add(addend).to_le_bytes());
        }
        Ok(())
    }

    /// The TA header from a laid-out `image` (after [`Elf::load_into`]).
    pub fn ta_head(&self, image: &[u8]) -> Result<TaHead, TeeResult> {
        ta_head_at(image, self.head)
    }
}

/// Reads the 32-byte `TaHead` at image offset `offset`.
pub fn ta_head_at(image: &[u8], offset: u64) -> Result<TaHead, TeeResult> {
    let start = usize::try_from(offset).map_err(|_| BAD)?;
    let raw = image.get(start..).ok_or(BAD)?;
    TaHead::read_from_prefix(raw).map(|(head, _)| head).map_err(|_| BAD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use oxtee_abi::ta::{TA_HEAD_NO_DEPR_ENTRY, TeeUuid};
    use zerocopy::IntoBytes;

    const R_AARCH64_ABS64: u32 = 257;
    const R_AARCH64_GLOB_DAT: u32 = 1025;
    const R_AARCH64_JUMP_SLOT: u32 = 1026;
    const R_AARCH64_TLSDESC: u32 = 1031;
    const SHT_STRTAB: u32 = 3;
    const SHT_DYNAMIC: u32 = 6;
    const PT_GNU_STACK: u32 = 0x6474_e551;

    // Canonical test image, shaped like GNU ld's output for upstream's TA
    // link script: headers in their own page, text (R+X) from file 0x1000
    // at vaddr 0, data (RW) from file 0x2000 at vaddr 0x1000 with .bss.
    const TEXT_OFF: u64 = 0x1000;
    const TEXT_SIZE: u64 = 0x400;
    const DATA_OFF: u64 = 0x2000;
    const DATA_VA: u64 = 0x1000;
    const DATA_FILESZ: u64 = 0x200;
    const DATA_MEMSZ: u64 = 0x800;
    const HEAD_VA: u64 = 0x40;
    const ENTRY: u64 = 0x100;
    const RELA_VA: u64 = 0x200; // room for 10 entries, to 0x2f0
    const DYNSYM_VA: u64 = 0x300; // 2 symbols
    const DYNSTR_VA: u64 = 0x340;
    const DYNAMIC_VA: u64 = 0x1000; // room for 12 entries, to 0x10c0
    const DYNAMIC_SIZE: u64 = 0xc0;
    const PTRS_VA: u64 = 0x10c0; // relocation targets
    const RELA2_VA: u64 = 0x1100; // second table (like .rela.got)
    const SHOFF: u64 = 0x3000;
    const BASE: u64 = 0x4000_0000;

    fn test_head() -> TaHead {
        TaHead {
            uuid: TeeUuid {
                time_low: 0x1234_5678,
                time_mid: 0x9abc,
                time_hi_and_version: 0x4def,
                clock_seq_and_node: [7; 8],
            },
            stack_size: 0x2000,
            flags: 0,
            depr_entry: TA_HEAD_NO_DEPR_ENTRY,
        }
    }

    /// Knobs of the canonical image.
    struct Opts {
        /// Emit section headers (relocations then come from SHT_RELA).
        sections: bool,
        /// Export `ta_head` through .dynsym.
        head_sym: bool,
        /// (offset, type, addend) in the first table.
        relocs: Vec<(u64, u32, i64)>,
        /// A second table in the data segment, like GNU ld's .rela.got.
        relocs2: Vec<(u64, u32, i64)>,
        /// Extra dynamic entries before DT_NULL.
        dyn_extra: Vec<(u64, u64)>,
        entry: u64,
    }

    impl Default for Opts {
        fn default() -> Self {
            Opts {
                sections: true,
                head_sym: true,
                relocs: vec![
                    (PTRS_VA, R_AARCH64_RELATIVE, HEAD_VA as i64),
                    (PTRS_VA + 8, R_AARCH64_NONE, 0),
                    (PTRS_VA + 16, R_AARCH64_RELATIVE, 0x1100),
                    // Into .bss, and with a negative addend.
                    (0x1200, R_AARCH64_RELATIVE, -16),
                ],
                relocs2: vec![],
                dyn_extra: vec![],
                entry: ENTRY,
            }
        }
    }

    fn put(buf: &mut Vec<u8>, off: u64, data: &[u8]) {
        let off = off as usize;
        if buf.len() < off + data.len() {
            buf.resize(off + data.len(), 0);
        }
        buf[off..off + data.len()].copy_from_slice(data);
    }

    fn rela_bytes(relocs: &[(u64, u32, i64)]) -> Vec<u8> {
        relocs
            .iter()
            .flat_map(|&(off, ty, add)| [off.to_le_bytes(), u64::from(ty).to_le_bytes(), add.to_le_bytes()].concat())
            .collect()
    }

    fn phdr(p_type: u32, flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&p_type.to_le_bytes());
        v.extend_from_slice(&flags.to_le_bytes());
        for f in [offset, vaddr, vaddr, filesz, memsz, 0x1000] {
            v.extend_from_slice(&f.to_le_bytes());
        }
        v
    }

    #[allow(clippy::too_many_arguments)]
    fn shdr(name: u32, ty: u32, flags: u64, addr: u64, offset: u64, size: u64, link: u32, entsize: u64) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&name.to_le_bytes());
        v.extend_from_slice(&ty.to_le_bytes());
        for f in [flags, addr, offset, size] {
            v.extend_from_slice(&f.to_le_bytes());
        }
        v.extend_from_slice(&link.to_le_bytes());
        v.extend_from_slice(&0u32.to_le_bytes());
        v.extend_from_slice(&8u64.to_le_bytes());
        v.extend_from_slice(&entsize.to_le_bytes());
        v
    }

    /// File offset of a text or data vaddr in the canonical image.
    fn file_off(va: u64) -> u64 {
        if va >= DATA_VA { va - DATA_VA + DATA_OFF } else { va + TEXT_OFF }
    }

    fn build(o: &Opts) -> Vec<u8> {
        let mut f = vec![0u8; SHOFF as usize];
        // ELF header.
        let mut e = Vec::new();
        e.extend_from_slice(b"\x7fELF\x02\x01\x01\x00");
        e.extend_from_slice(&[0; 8]);
        e.extend_from_slice(&ET_DYN.to_le_bytes());
        e.extend_from_slice(&EM_AARCH64.to_le_bytes());
        e.extend_from_slice(&1u32.to_le_bytes());
        e.extend_from_slice(&o.entry.to_le_bytes());
        e.extend_from_slice(&64u64.to_le_bytes()); // phoff
        e.extend_from_slice(&(if o.sections { SHOFF } else { 0 }).to_le_bytes());
        e.extend_from_slice(&0u32.to_le_bytes()); // flags
        e.extend_from_slice(&64u16.to_le_bytes());
        e.extend_from_slice(&56u16.to_le_bytes());
        e.extend_from_slice(&4u16.to_le_bytes()); // phnum
        e.extend_from_slice(&(if o.sections { 64u16 } else { 0 }).to_le_bytes());
        e.extend_from_slice(&(if o.sections { 6u16 } else { 0 }).to_le_bytes());
        e.extend_from_slice(&(if o.sections { 5u16 } else { 0 }).to_le_bytes());
        put(&mut f, 0, &e);
        // Program headers.
        let mut p = Vec::new();
        p.extend(phdr(PT_LOAD, PF_R | PF_X, TEXT_OFF, 0, TEXT_SIZE, TEXT_SIZE));
        p.extend(phdr(PT_LOAD, PF_R | PF_W, DATA_OFF, DATA_VA, DATA_FILESZ, DATA_MEMSZ));
        p.extend(phdr(PT_DYNAMIC, PF_R | PF_W, file_off(DYNAMIC_VA), DYNAMIC_VA, DYNAMIC_SIZE, DYNAMIC_SIZE));
        p.extend(phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0));
        put(&mut f, 64, &p);
        // Text: ta_head, some "code", relocations, symbols.
        put(&mut f, file_off(0), &[0xaa; 0x40]);
        put(&mut f, file_off(HEAD_VA), test_head().as_bytes());
        put(&mut f, file_off(ENTRY), &[0xd5, 0x03, 0x20, 0x1f]);
        let rela = rela_bytes(&o.relocs);
        assert!(rela.len() <= 0xf0);
        put(&mut f, file_off(RELA_VA), &rela);
        let name: &[u8] = if o.head_sym { b"ta_head" } else { b"other_s" };
        let mut sym = vec![0u8; 24];
        sym.extend_from_slice(&1u32.to_le_bytes());
        sym.extend_from_slice(&[0x11, 0, 1, 0]); // GLOBAL OBJECT, shndx 1
        sym.extend_from_slice(&HEAD_VA.to_le_bytes());
        sym.extend_from_slice(&32u64.to_le_bytes());
        put(&mut f, file_off(DYNSYM_VA), &sym);
        let dynstr = [b"\0", name, b"\0"].concat();
        put(&mut f, file_off(DYNSTR_VA), &dynstr);
        // Data: dynamic section, pointers, second relocation table.
        let rela2 = rela_bytes(&o.relocs2);
        let mut dynamic = vec![
            (DT_RELA, RELA_VA),
            // As GNU ld does: the size counts both tables.
            (DT_RELASZ, (rela.len() + rela2.len()) as u64),
            (DT_RELAENT, RELA_SIZE),
        ];
        dynamic.extend_from_slice(&o.dyn_extra);
        dynamic.push((DT_NULL, 0));
        assert!(dynamic.len() <= 12);
        let dyn_bytes: Vec<u8> =
            dynamic.iter().flat_map(|&(t, v)| [t.to_le_bytes(), v.to_le_bytes()].concat()).collect();
        put(&mut f, file_off(DYNAMIC_VA), &dyn_bytes);
        put(&mut f, file_off(PTRS_VA), &[0x55; 0x40]);
        assert!(rela2.len() <= 0x100);
        put(&mut f, file_off(RELA2_VA), &rela2);
        put(&mut f, DATA_OFF + DATA_FILESZ - 1, &[0x66]);
        if o.sections {
            let mut s = vec![0u8; 64];
            let rela_flags = SHF_ALLOC;
            s.extend(shdr(1, SHT_RELA, rela_flags, RELA_VA, file_off(RELA_VA), rela.len() as u64, 2, 24));
            s.extend(shdr(2, SHT_DYNSYM, SHF_ALLOC, DYNSYM_VA, file_off(DYNSYM_VA), 48, 3, 24));
            s.extend(shdr(3, SHT_STRTAB, SHF_ALLOC, DYNSTR_VA, file_off(DYNSTR_VA), dynstr.len() as u64, 0, 0));
            s.extend(shdr(4, SHT_RELA, SHF_ALLOC | 0x40, RELA2_VA, file_off(RELA2_VA), rela2.len() as u64, 2, 24));
            s.extend(shdr(5, SHT_DYNAMIC, SHF_ALLOC | 1, DYNAMIC_VA, file_off(DYNAMIC_VA), DYNAMIC_SIZE, 3, 16));
            put(&mut f, SHOFF, &s);
        }
        f
    }

    fn canonical() -> Vec<u8> {
        build(&Opts::default())
    }

    fn set16(f: &mut [u8], off: usize, v: u16) {
        f[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn set32(f: &mut [u8], off: usize, v: u32) {
        f[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn set64(f: &mut [u8], off: usize, v: u64) {
        f[off..off + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// Byte offset of field `field` (a p_* byte offset) of program header `i`.
    fn ph(i: usize, field: usize) -> usize {
        64 + i * PHDR_SIZE + field
    }
    const P_TYPE: usize = 0;
    const P_FLAGS: usize = 4;
    const P_OFFSET: usize = 8;
    const P_VADDR: usize = 16;
    const P_FILESZ: usize = 32;
    const P_MEMSZ: usize = 40;

    /// Byte offset of field `field` of section header `i`.
    fn sh(i: usize, field: usize) -> usize {
        SHOFF as usize + i * SHDR_SIZE + field
    }

    fn patched(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = canonical();
        f(&mut v);
        v
    }

    fn expected_relocs() -> Vec<(u64, u64)> {
        vec![(PTRS_VA, HEAD_VA), (PTRS_VA + 16, 0x1100), (0x1200, (-16i64) as u64)]
    }

    #[test]
    fn canonical_image_parses() {
        let elf = parse(&canonical()).unwrap();
        assert_eq!(
            elf.segments,
            vec![
                Segment {
                    vaddr: 0,
                    memsz: TEXT_SIZE,
                    file_offset: TEXT_OFF,
                    filesz: TEXT_SIZE,
                    read: true,
                    write: false,
                    exec: true
                },
                Segment {
                    vaddr: DATA_VA,
                    memsz: DATA_MEMSZ,
                    file_offset: DATA_OFF,
                    filesz: DATA_FILESZ,
                    read: true,
                    write: true,
                    exec: false
                },
            ]
        );
        assert_eq!(elf.entry, ENTRY);
        assert_eq!(elf.span, 0x2000);
        assert_eq!(elf.relocs, expected_relocs());
        assert_eq!(elf.head, HEAD_VA);
    }

    #[test]
    fn load_copies_zeroes_and_relocates() {
        let file = canonical();
        let elf = parse(&file).unwrap();
        let mut image = vec![0xccu8; elf.span as usize];
        elf.load_into(&file, &mut image, BASE).unwrap();
        // Text copied, padding after it zero.
        assert_eq!(image[..0x40], [0xaa; 0x40]);
        assert_eq!(image[ENTRY as usize..ENTRY as usize + 4], [0xd5, 0x03, 0x20, 0x1f]);
        assert!(image[TEXT_SIZE as usize..DATA_VA as usize].iter().all(|&b| b == 0));
        // Relocated pointers; the NONE slot kept its file bytes.
        let word = |off: u64| u64::from_le_bytes(image[off as usize..off as usize + 8].try_into().unwrap());
        assert_eq!(word(PTRS_VA), BASE + HEAD_VA);
        assert_eq!(word(PTRS_VA + 8), 0x5555_5555_5555_5555);
        assert_eq!(word(PTRS_VA + 16), BASE + 0x1100);
        assert_eq!(word(0x1200), BASE - 16);
        // Last file byte of data, then .bss zero apart from the relocation.
        assert_eq!(image[(DATA_VA + DATA_FILESZ - 1) as usize], 0x66);
        assert!(image[(DATA_VA + DATA_FILESZ) as usize..0x1200].iter().all(|&b| b == 0));
        assert!(image[0x1208..].iter().all(|&b| b == 0));
        assert_eq!(elf.ta_head(&image), Ok(test_head()));
        // A buffer of the wrong size is the caller's error.
        let mut short = vec![0u8; 0x1000];
        assert_eq!(elf.load_into(&file, &mut short, BASE), Err(TeeResult::ERROR_BAD_PARAMETERS));
    }

    #[test]
    fn without_sections_relocs_come_from_dynamic_and_head_is_at_base() {
        let file = build(&Opts { sections: false, ..Opts::default() });
        let elf = parse(&file).unwrap();
        assert_eq!(elf.relocs, expected_relocs());
        assert_eq!(elf.head, 0);
        let mut image = vec![0u8; elf.span as usize];
        elf.load_into(&file, &mut image, BASE).unwrap();
        assert_eq!(ta_head_at(&image, HEAD_VA), Ok(test_head()));
    }

    #[test]
    fn split_tables_like_gnu_ld_are_all_applied() {
        let got = vec![(PTRS_VA + 24, R_AARCH64_RELATIVE, 0x20), (PTRS_VA + 32, R_AARCH64_RELATIVE, 0x28)];
        let file = build(&Opts { relocs2: got, ..Opts::default() });
        let elf = parse(&file).unwrap();
        let mut want = expected_relocs();
        want.extend([(PTRS_VA + 24, 0x20), (PTRS_VA + 32, 0x28)]);
        assert_eq!(elf.relocs, want);
    }

    #[test]
    fn head_falls_back_to_base_without_the_symbol() {
        let elf = parse(&build(&Opts { head_sym: false, ..Opts::default() })).unwrap();
        assert_eq!(elf.head, 0);
    }

    #[test]
    fn head_symbol_outside_the_image_is_rejected() {
        let f = patched(|f| set64(f, file_off(DYNSYM_VA) as usize + 24 + 8, 0x1ff0));
        assert_eq!(parse(&f), Err(BAD));
        let f = patched(|f| set64(f, file_off(DYNSYM_VA) as usize + 24 + 8, u64::MAX - 8));
        assert_eq!(parse(&f), Err(BAD));
        // Symbol name running off the string table.
        let f = patched(|f| set32(f, file_off(DYNSYM_VA) as usize + 24, 0x1000));
        assert_eq!(parse(&f), Err(BAD));
    }

    #[test]
    fn wrong_identity_is_rejected() {
        let cases: [(usize, &[u8]); 11] = [
            (0, b"\x7fELG"),
            (4, &[1]),           // 32-bit
            (5, &[2]),           // big-endian
            (6, &[0]),           // version
            (7, &[3]),           // OS ABI
            (16, &[2, 0]),       // ET_EXEC
            (18, &[62, 0]),      // x86-64
            (48, &[1, 0, 0, 0]), // e_flags
            (54, &[55, 0]),      // e_phentsize
            (58, &[40, 0]),      // e_shentsize
            (16, &[1, 0]),       // ET_REL
        ];
        for (off, bytes) in cases {
            let mut f = canonical();
            f[off..off + bytes.len()].copy_from_slice(bytes);
            assert_eq!(parse(&f), Err(BAD), "patch at {off}");
        }
    }

    #[test]
    fn header_tables_out_of_bounds_are_rejected() {
        let len = canonical().len() as u64;
        for phoff in [len - 100, len, u64::MAX - 10, u64::MAX] {
            assert_eq!(parse(&patched(|f| set64(f, 32, phoff))), Err(BAD), "phoff {phoff:#x}");
        }
        assert_eq!(parse(&patched(|f| set16(f, 56, 0xffff))), Err(BAD));
        for shoff in [len - 64, u64::MAX - 63] {
            assert_eq!(parse(&patched(|f| set64(f, 40, shoff))), Err(BAD), "shoff {shoff:#x}");
        }
        assert_eq!(parse(&patched(|f| set16(f, 60, 0xffff))), Err(BAD));
    }

    #[test]
    fn every_truncation_is_rejected() {
        let f = canonical();
        for len in 0..f.len() {
            assert_eq!(parse(&f[..len]), Err(BAD), "len {len}");
        }
    }

    #[test]
    fn bad_segment_sizes_are_rejected() {
        let len = canonical().len() as u64;
        let cases: [(usize, u64); 8] = [
            (ph(1, P_FILESZ), DATA_MEMSZ + 1),       // filesz > memsz
            (ph(1, P_OFFSET), len - 0x100),          // file range past the end
            (ph(1, P_OFFSET), u64::MAX - 0x100 + 1), // offset + filesz overflows
            (ph(0, P_MEMSZ), u64::MAX),              // vaddr + memsz overflows
            (ph(1, P_VADDR), u64::MAX - 0xfff),      // rounding up overflows
            (ph(1, P_MEMSZ), MAX_SPAN),              // span over the limit
            (ph(1, P_VADDR), 0x300),                 // shares text's page
            (ph(1, P_VADDR), 0x1008),                // not congruent to offset
        ];
        for (off, v) in cases {
            assert_eq!(parse(&patched(|f| set64(f, off, v))), Err(BAD), "field {off} = {v:#x}");
        }
        // Overlap with the data segment listed first.
        let f = patched(|f| {
            f.copy_within(ph(0, 0)..ph(1, 0), ph(3, 0));
            set64(f, ph(1, P_VADDR), 0);
            set64(f, ph(1, P_OFFSET), 0);
        });
        assert_eq!(parse(&f), Err(BAD));
    }

    #[test]
    fn span_just_under_the_limit_is_accepted() {
        let f = patched(|f| set64(f, ph(1, P_MEMSZ), MAX_SPAN - DATA_VA));
        assert_eq!(parse(&f).unwrap().span, MAX_SPAN);
    }

    #[test]
    fn first_segment_must_be_at_the_base() {
        // Text moved to 0x3000 (congruent with its offset): data is first.
        let f = patched(|f| {
            set64(f, ph(0, P_VADDR), 0x3000);
            set64(f, 24, 0x3100);
        });
        assert_eq!(parse(&f), Err(BAD));
    }

    #[test]
    fn writable_and_executable_is_rejected() {
        assert_eq!(parse(&patched(|f| set32(f, ph(0, P_FLAGS), PF_R | PF_W | PF_X))), Err(BAD));
        assert_eq!(parse(&patched(|f| set32(f, ph(1, P_FLAGS), PF_R | PF_W | PF_X))), Err(BAD));
    }

    #[test]
    fn unreadable_segment_is_not_supported() {
        let f = patched(|f| set32(f, ph(0, P_FLAGS), PF_X));
        assert_eq!(parse(&f), Err(TeeResult::ERROR_NOT_SUPPORTED));
    }

    #[test]
    fn entry_must_be_in_executable_code() {
        for entry in [DATA_VA, PTRS_VA, TEXT_SIZE, TEXT_SIZE - 2, 0x5000, ENTRY + 2, u64::MAX - 1] {
            assert_eq!(parse(&build(&Opts { entry, ..Opts::default() })), Err(BAD), "entry {entry:#x}");
        }
    }

    #[test]
    fn no_loadable_segment_is_rejected() {
        let f = patched(|f| {
            set32(f, ph(0, P_TYPE), 0);
            set32(f, ph(1, P_TYPE), 0);
        });
        assert_eq!(parse(&f), Err(BAD));
        // Empty PT_LOADs are dropped, so this is the same.
        let f = patched(|f| {
            set64(f, ph(0, P_FILESZ), 0);
            set64(f, ph(0, P_MEMSZ), 0);
            set64(f, ph(1, P_FILESZ), 0);
            set64(f, ph(1, P_MEMSZ), 0);
        });
        assert_eq!(parse(&f), Err(BAD));
    }

    #[test]
    fn tls_must_lie_in_a_segment() {
        let f = patched(|f| {
            set32(f, ph(3, P_TYPE), PT_TLS);
            set64(f, ph(3, P_MEMSZ), 8);
        });
        // The patched header's vaddr is 0, inside the first segment.
        let e = parse(&f).expect("TLS inside a segment");
        assert_eq!(e.tls.map(|t| t.2), Some(8));
        let f = patched(|f| {
            set32(f, ph(3, P_TYPE), PT_TLS);
            set64(f, ph(3, P_VADDR), 0x7fff_0000);
            set64(f, ph(3, P_MEMSZ), 8);
        });
        assert_eq!(parse(&f), Err(BAD));
    }

    #[test]
    fn only_relative_relocations_are_accepted() {
        for sections in [true, false] {
            for ty in [R_AARCH64_ABS64, R_AARCH64_GLOB_DAT, R_AARCH64_JUMP_SLOT, R_AARCH64_TLSDESC, 1028, u32::MAX] {
                let relocs = vec![(PTRS_VA, ty, 0)];
                assert_eq!(parse(&build(&Opts { sections, relocs, ..Opts::default() })), Err(BAD), "type {ty}");
            }
        }
    }

    #[test]
    fn relocation_targets_must_be_inside_segments() {
        for off in [TEXT_SIZE - 4, TEXT_SIZE, DATA_VA + DATA_MEMSZ - 7, 0x1800, 0x10_0000, u64::MAX - 3] {
            for sections in [true, false] {
                let relocs = vec![(off, R_AARCH64_RELATIVE, 0)];
                let f = build(&Opts { sections, relocs, ..Opts::default() });
                assert_eq!(parse(&f), Err(BAD), "offset {off:#x}");
            }
        }
        // The last 8 bytes of a segment are fine.
        let relocs = vec![(DATA_VA + DATA_MEMSZ - 8, R_AARCH64_RELATIVE, 0), (TEXT_SIZE - 8, R_AARCH64_RELATIVE, 0)];
        assert!(parse(&build(&Opts { relocs, ..Opts::default() })).is_ok());
    }

    #[test]
    fn shared_library_dependencies_are_not_supported() {
        for sections in [true, false] {
            let f = build(&Opts { sections, dyn_extra: vec![(DT_NEEDED, 1)], ..Opts::default() });
            assert_eq!(parse(&f), Err(TeeResult::ERROR_NOT_SUPPORTED));
        }
    }

    #[test]
    fn rel_tables_are_rejected() {
        for sections in [true, false] {
            for tag in [DT_REL, DT_RELSZ] {
                let f = build(&Opts { sections, dyn_extra: vec![(tag, RELA_VA)], ..Opts::default() });
                assert_eq!(parse(&f), Err(BAD));
            }
        }
        assert_eq!(parse(&patched(|f| set32(f, sh(1, 4), SHT_REL))), Err(BAD));
    }

    #[test]
    fn dynamic_entries_after_null_are_ignored() {
        let f = build(&Opts { sections: false, dyn_extra: vec![(DT_NULL, 0), (DT_NEEDED, 1)], ..Opts::default() });
        assert!(parse(&f).is_ok());
    }

    #[test]
    fn malformed_dynamic_tables_are_rejected() {
        let no_sections = || Opts { sections: false, ..Opts::default() };
        // DT_RELAENT patched in place (third entry).
        let relaent = file_off(DYNAMIC_VA) as usize + 2 * 16 + 8;
        let f = {
            let mut f = build(&no_sections());
            set64(&mut f, relaent, 16);
            f
        };
        assert_eq!(parse(&f), Err(BAD));
        // DT_RELASZ not a multiple of the entry size.
        let relasz = file_off(DYNAMIC_VA) as usize + 16 + 8;
        let mut f = build(&no_sections());
        set64(&mut f, relasz, 4 * 24 + 8);
        assert_eq!(parse(&f), Err(BAD));
        // DT_RELA pointing outside any file-backed part.
        for rela in [0x1300, 0x10_0000, u64::MAX - 8] {
            let mut f = build(&no_sections());
            set64(&mut f, file_off(DYNAMIC_VA) as usize + 8, rela);
            assert_eq!(parse(&f), Err(BAD), "DT_RELA {rela:#x}");
        }
        // DT_RELACOUNT above the table size.
        let f = build(&Opts { dyn_extra: vec![(DT_RELACOUNT, 5)], ..no_sections() });
        assert_eq!(parse(&f), Err(BAD));
        let f = build(&Opts { dyn_extra: vec![(DT_RELACOUNT, 3)], ..no_sections() });
        assert!(parse(&f).is_ok());
        // PLT relocations go through the same checks.
        let jmprel = vec![(DT_JMPREL, RELA_VA), (DT_PLTRELSZ, 24), (DT_PLTREL, DT_RELA)];
        assert!(parse(&build(&Opts { dyn_extra: jmprel.clone(), ..no_sections() })).is_ok());
        let bad_plt = vec![(DT_JMPREL, RELA_VA), (DT_PLTRELSZ, 24), (DT_PLTREL, DT_REL)];
        assert_eq!(parse(&build(&Opts { dyn_extra: bad_plt, ..no_sections() })), Err(BAD));
        // PT_DYNAMIC size not whole entries, or not file-backed.
        assert_eq!(parse(&patched(|f| set64(f, ph(2, P_MEMSZ), DYNAMIC_SIZE - 8))), Err(BAD));
        assert_eq!(parse(&patched(|f| set64(f, ph(2, P_VADDR), 0x1300))), Err(BAD));
        // Two PT_DYNAMICs.
        assert_eq!(parse(&patched(|f| set32(f, ph(3, P_TYPE), PT_DYNAMIC))), Err(BAD));
    }

    #[test]
    fn malformed_sections_are_rejected() {
        // .rela.dyn: wrong entry size, size not whole entries, outside.
        assert_eq!(parse(&patched(|f| set64(f, sh(1, 56), 16))), Err(BAD));
        assert_eq!(parse(&patched(|f| set64(f, sh(1, 32), 4 * 24 + 1))), Err(BAD));
        assert_eq!(parse(&patched(|f| set64(f, sh(1, 16), 0x1300))), Err(BAD));
        // .dynsym: string table link out of range, table outside.
        assert_eq!(parse(&patched(|f| set32(f, sh(2, 40), 99))), Err(BAD));
        assert_eq!(parse(&patched(|f| set64(f, sh(2, 16), 0x10_0000))), Err(BAD));
        assert_eq!(parse(&patched(|f| set64(f, sh(3, 32), 0x10_0000))), Err(BAD));
        // A non-allocated RELA section (--emit-relocs leftovers) is ignored.
        let f = patched(|f| {
            set64(f, sh(1, 8), 0);
            set64(f, sh(1, 16), 0xdead_0000);
        });
        assert_eq!(parse(&f).unwrap().relocs, vec![]);
    }

    #[test]
    fn ta_head_needs_32_bytes() {
        let image = [0u8; 40];
        assert!(ta_head_at(&image, 8).is_ok());
        assert_eq!(ta_head_at(&image, 9), Err(BAD));
        assert_eq!(ta_head_at(&image, u64::MAX), Err(BAD));
    }

    /// xorshift64*: deterministic, dependency-free.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Whatever `parse` accepts must honour its documented invariants, and
    /// loading it must work.
    fn check_invariants(file: &[u8], elf: &Elf) {
        assert!(elf.span <= MAX_SPAN && elf.span.is_multiple_of(PAGE_SIZE));
        assert_eq!(page_down(elf.segments[0].vaddr), 0);
        for w in elf.segments.windows(2) {
            assert!(page_up(w[0].vaddr + w[0].memsz).unwrap() <= page_down(w[1].vaddr));
        }
        for s in &elf.segments {
            assert!(s.filesz <= s.memsz && s.vaddr + s.memsz <= elf.span && !(s.write && s.exec));
            assert!(s.file_offset + s.filesz <= file.len() as u64);
        }
        for &(off, _) in &elf.relocs {
            assert!(elf.segments.iter().any(|s| s.holds(off, 8)));
        }
        if elf.span <= 1 << 20 {
            let mut image = vec![0u8; elf.span as usize];
            elf.load_into(file, &mut image, BASE).unwrap();
            elf.ta_head(&image).unwrap();
        }
    }

    #[test]
    fn fuzzed_images_never_panic() {
        let seeds = [canonical(), build(&Opts { sections: false, ..Opts::default() })];
        let mut rng = Rng(0x0123_4567_89ab_cdef);
        let mut accepted = 0;
        for i in 0..30_000 {
            let mut f = seeds[i % 2].clone();
            match rng.below(4) {
                // Random bytes anywhere.
                0 => {
                    for _ in 0..1 + rng.below(8) {
                        let at = rng.below(f.len());
                        f[at] = rng.next() as u8;
                    }
                }
                // Header fields: bytes in the ELF/program headers.
                1 => {
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(64 + 4 * PHDR_SIZE);
                        f[at] = rng.next() as u8;
                    }
                }
                // A whole aligned word set to an interesting value.
                2 => {
                    let at = rng.below(f.len() / 8) * 8;
                    let v = [0, 1, 0x1000, 0xffff_ffff, u64::MAX, u64::MAX - 7, 1 << 63, rng.next()][rng.below(8)];
                    set64(&mut f, at, v);
                }
                // Truncation, after a mutation.
                _ => {
                    let at = rng.below(f.len());
                    f[at] ^= 1 << rng.below(8);
                    f.truncate(rng.below(f.len() + 1));
                }
            }
            if let Ok(elf) = parse(&f) {
                accepted += 1;
                check_invariants(&f, &elf);
            }
        }
        // Many mutations land in padding; the loop exercised both outcomes.
        assert!(accepted > 100 && accepted < 30_000, "accepted {accepted}");
    }
}
