//! The TA ELF loader core: checks a TA's ELF file (AArch64, 64-bit
//! little-endian, position-independent `ET_DYN`, as upstream's TA dev kit
//! and our SDK link them) and lays it out into the memory it will run from.
//!
//! Every byte here is hostile even after the signature check (a signature
//! proves who built the file, not that it is well formed), so every offset,
//! size and sum is checked, and anything that doesn't fit the narrow shape
//! we load is refused rather than guessed at: `TEE_ERROR_BAD_FORMAT` for a
//! malformed file, as upstream's `ldelf` answers, `TEE_ERROR_NOT_SUPPORTED`
//! for well-formed features this loader lacks (segments that can't be
//! read).
//!
//! Layout rules: loadable segments don't share pages, the lowest starts in
//! the first page (the image spans `[0, span)` from its load base), none is
//! both writable and executable, and the entry point is in an executable
//! one (a TA's; a shared library's isn't used). `R_AARCH64_RELATIVE`
//! relocations are applied here; the symbol ones (`ABS64`, `GLOB_DAT`,
//! `JUMP_SLOT`, `TLS_TPREL`, `TLSDESC`) are checked and recorded for the
//! linker ([`super::dl`]), with the dynamic symbol, string and hash tables
//! and the `DT_NEEDED` libraries (named by UUID strings). Like
//! upstream, the relocation tables are the file's `SHT_RELA` sections when
//! it has section headers: GNU ld with upstream's TA link script emits
//! `.rela.dyn` and `.rela.got` apart while `DT_RELASZ` counts both, so the
//! dynamic section can't be trusted to describe them. A file without
//! section headers falls back to `DT_RELA`/`DT_RELASZ` (and `DT_JMPREL`).
//! The TA header is at the dynamic symbol `ta_head` when the file exports
//! one (upstream's layout puts it after `.rodata`), else at the load base.
//!
//! A refusal is a [`Reject`] naming the check that failed, for the
//! caller's log and for `cargo xtask sign-ta`; [`Reject::code`] is the
//! answer.

use alloc::vec::Vec;
use core::fmt;
use oxtee_abi::ta::{TA_FLAGS_MASK, TA_HEAD_NO_DEPR_ENTRY, TaHead};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use zerocopy::FromBytes;

/// Pages are 4 KiB: segments are laid out and protected at this grain.
pub const PAGE_SIZE: u64 = 4096;
/// Largest image (`span`) we agree to lay out.
pub const MAX_SPAN: u64 = 64 << 20;
/// Largest stack a TA may ask for in its `ta_head`.
pub const MAX_STACK: u32 = 8 << 20;

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
const SHT_HASH: u32 = 5;
const SHT_GNU_HASH: u32 = 0x6fff_fff6;
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
const DT_HASH: u64 = 4;
const DT_STRTAB: u64 = 5;
const DT_SYMTAB: u64 = 6;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
const DT_GNU_HASH: u64 = 0x6fff_fef5;
const DT_RELACOUNT: u64 = 0x6fff_fff9;

const R_AARCH64_NONE: u32 = 0;
const R_AARCH64_RELATIVE: u32 = 1027;
pub const R_AARCH64_ABS64: u32 = 257;
pub const R_AARCH64_GLOB_DAT: u32 = 1025;
pub const R_AARCH64_JUMP_SLOT: u32 = 1026;
pub const R_AARCH64_TLS_TPREL: u32 = 1030;
pub const R_AARCH64_TLSDESC: u32 = 1031;

/// Most `DT_NEEDED` entries one file may have.
pub const MAX_NEEDED: usize = 16;

const TA_HEAD_SYMBOL: &[u8] = b"ta_head";
/// libutee's record of the loaded objects' program headers.
const PHDR_INFO_SYMBOL: &[u8] = b"__elf_phdr_info";
const TA_HEAD_SIZE: u64 = size_of::<TaHead>() as u64;

const BAD: TeeResult = TeeResult::ERROR_BAD_FORMAT;

/// Why a TA's ELF file (or its `ta_head`) was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reject {
    /// A header, table or field lies (partly) outside the file.
    Truncated(&'static str),
    /// Not what a TA must be: names the ELF identity field that is wrong.
    NotTaElf(&'static str),
    /// A segment's file bytes lie outside the file, or more file than memory.
    SegmentOutsideFile,
    /// A segment whose address and file offset differ within a page.
    SegmentMisaligned(u64),
    /// A segment that is neither empty nor readable.
    UnreadableSegment(u64),
    /// A segment both writable and executable.
    WritableAndExecutable(u64),
    /// Nothing to load.
    NoSegments,
    /// The lowest segment isn't in the first page.
    NotAtZero(u64),
    /// Two segments share a page, or overlap.
    SegmentsSharePage(u64),
    /// Addresses that wrap, or an image larger than `MAX_SPAN`.
    TooLarge,
    /// The entry point isn't 4-aligned inside an executable segment.
    BadEntry(u64),
    /// Two `PT_DYNAMIC` or two `PT_TLS` headers.
    Duplicate(&'static str),
    /// A `PT_TLS` with more file bytes than memory, or outside a segment.
    BadTls,
    /// More `DT_NEEDED` entries than [`MAX_NEEDED`].
    TooManyNeeded,
    /// A `DT_NEEDED` name that is not a UUID string.
    BadNeeded,
    /// A table that isn't where or what it says (dynamic section, `RELA`,
    /// symbol or string table).
    BadTable(&'static str),
    /// A relocation type other than `R_AARCH64_RELATIVE` (or `REL` tables).
    Relocation(u32),
    /// A relocation that writes outside the image.
    RelocationOutside(u64),
    /// `__elf_phdr_info` not in a writable segment.
    BadPhdrInfo,
    /// The `ta_head` isn't inside a segment.
    NoTaHead(u64),
    /// `ta_head` names another TA than the one asked for.
    HeadUuid(Uuid),
    /// `ta_head` in the old format (an entry point instead of the marker).
    HeadEntry(u64),
    /// `ta_head` flags this OS doesn't define.
    HeadFlags(u32),
    /// `ta_head` stack size 0 or over `MAX_STACK`.
    StackSize(u32),
    /// The tables the file describes don't fit in memory.
    OutOfMemory,
}

impl Reject {
    /// `TEE_ERROR_NOT_SUPPORTED` for well-formed features this loader
    /// lacks, `TEE_ERROR_OUT_OF_MEMORY` when the tables don't fit,
    /// `TEE_ERROR_BAD_FORMAT` for the rest.
    pub fn code(self) -> TeeResult {
        match self {
            Reject::UnreadableSegment(_) => TeeResult::ERROR_NOT_SUPPORTED,
            Reject::OutOfMemory | Reject::TooManyNeeded => TeeResult::ERROR_OUT_OF_MEMORY,
            _ => BAD,
        }
    }
}

impl From<Reject> for TeeResult {
    fn from(r: Reject) -> TeeResult {
        r.code()
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reject::Truncated(what) => write!(f, "{what} outside the file"),
            Reject::NotTaElf(what) => write!(f, "not an AArch64 TA ELF (static PIE): {what}"),
            Reject::SegmentOutsideFile => f.write_str("a segment's file bytes lie outside the file"),
            Reject::SegmentMisaligned(va) => write!(f, "segment at {va:#x}: address and file offset differ in page"),
            Reject::UnreadableSegment(va) => write!(f, "segment at {va:#x} is not readable"),
            Reject::WritableAndExecutable(va) => write!(f, "segment at {va:#x} is writable and executable"),
            Reject::NoSegments => f.write_str("no loadable segment"),
            Reject::NotAtZero(va) => write!(f, "lowest segment at {va:#x}, not in the first page"),
            Reject::SegmentsSharePage(va) => write!(f, "segment at {va:#x} shares a page with the one below"),
            Reject::TooLarge => write!(f, "image larger than {MAX_SPAN:#x} bytes, or addresses that wrap"),
            Reject::BadEntry(e) => write!(f, "entry point {e:#x} not in an executable segment"),
            Reject::Duplicate(what) => write!(f, "more than one {what}"),
            Reject::BadTls => f.write_str("bad PT_TLS"),
            Reject::TooManyNeeded => write!(f, "more than {MAX_NEEDED} DT_NEEDED entries"),
            Reject::BadNeeded => f.write_str("a DT_NEEDED name that is not a UUID"),
            Reject::BadTable(what) => write!(f, "bad {what}"),
            Reject::Relocation(t) => write!(f, "relocation type {t} (not one the TA loader knows)"),
            Reject::RelocationOutside(at) => write!(f, "relocation at {at:#x} outside the image"),
            Reject::BadPhdrInfo => f.write_str("__elf_phdr_info not in a writable segment"),
            Reject::NoTaHead(at) => write!(f, "no ta_head: {at:#x} is not inside a segment"),
            Reject::HeadUuid(u) => write!(f, "ta_head names TA {u}"),
            Reject::HeadEntry(e) => write!(f, "ta_head in the old format (entry {e:#x})"),
            Reject::HeadFlags(fl) => write!(f, "ta_head flags {fl:#x} include undefined ones"),
            Reject::StackSize(n) => write!(f, "ta_head stack size {n} (want 1..={MAX_STACK})"),
            Reject::OutOfMemory => f.write_str("out of memory for the file's tables"),
        }
    }
}

/// What the loader demands of the `ta_head` of the TA asked for as `uuid`.
pub fn check_head(head: &TaHead, uuid: &Uuid) -> Result<(), Reject> {
    let named = Uuid::from(head.uuid);
    if named != *uuid {
        return Err(Reject::HeadUuid(named));
    }
    if head.depr_entry != TA_HEAD_NO_DEPR_ENTRY {
        return Err(Reject::HeadEntry(head.depr_entry));
    }
    if head.flags & !TA_FLAGS_MASK != 0 {
        return Err(Reject::HeadFlags(head.flags));
    }
    if head.stack_size == 0 || head.stack_size > MAX_STACK {
        return Err(Reject::StackSize(head.stack_size));
    }
    Ok(())
}

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

/// A relocation that needs a symbol or the TLS layout, applied by the
/// linker ([`super::dl`]) once every object of the instance has its place.
/// `offset` has 8 bytes of room in a segment (16 for `TLSDESC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SymReloc {
    pub offset: u64,
    pub rtype: u32,
    pub sym: u32,
    pub addend: u64,
}

/// Where an object's dynamic symbols are, as image offsets; each table
/// lies in a segment's file bytes (the linker still reads it checked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DynSyms {
    pub symtab: u64,
    /// Entries in the symbol table.
    pub count: u64,
    pub strtab: u64,
    pub strsz: u64,
    /// `SHT_HASH` / `DT_HASH`.
    pub hash: Option<u64>,
    /// `SHT_GNU_HASH` / `DT_GNU_HASH`: (offset, size).
    pub gnu_hash: Option<(u64, u64)>,
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
    /// Relocations other than `R_AARCH64_RELATIVE`, for the linker.
    pub sym_relocs: Vec<SymReloc>,
    /// The shared libraries `DT_NEEDED` names (by UUID), in file order.
    pub needed: Vec<Uuid>,
    /// Image offset of the `DT_SONAME` string (NUL-terminated in a segment).
    pub soname: Option<u64>,
    /// The dynamic symbol table, if the file has one.
    pub syms: Option<DynSyms>,
}

/// Little-endian field reads that fail instead of panicking.
trait ReadLe {
    fn u16_at(&self, off: usize) -> Result<u16, Reject>;
    fn u32_at(&self, off: usize) -> Result<u32, Reject>;
    fn u64_at(&self, off: usize) -> Result<u64, Reject>;
}

const FIELD: Reject = Reject::Truncated("a field");

impl ReadLe for [u8] {
    fn u16_at(&self, off: usize) -> Result<u16, Reject> {
        u16::read_from_prefix(self.get(off..).ok_or(FIELD)?).map(|(v, _)| u16::from_le(v)).map_err(|_| FIELD)
    }
    fn u32_at(&self, off: usize) -> Result<u32, Reject> {
        u32::read_from_prefix(self.get(off..).ok_or(FIELD)?).map(|(v, _)| u32::from_le(v)).map_err(|_| FIELD)
    }
    fn u64_at(&self, off: usize) -> Result<u64, Reject> {
        u64::read_from_prefix(self.get(off..).ok_or(FIELD)?).map(|(v, _)| u64::from_le(v)).map_err(|_| FIELD)
    }
}

/// `[off, off + count * size)` of `bytes`, or `Truncated(what)` if any
/// part of it is missing or the arithmetic overflows.
fn table<'a>(bytes: &'a [u8], off: u64, count: usize, size: usize, what: &'static str) -> Result<&'a [u8], Reject> {
    let bad = Reject::Truncated(what);
    let off = usize::try_from(off).map_err(|_| bad)?;
    let len = count.checked_mul(size).ok_or(bad)?;
    bytes.get(off..off.checked_add(len).ok_or(bad)?).ok_or(bad)
}

fn page_down(v: u64) -> u64 {
    v & !(PAGE_SIZE - 1)
}

fn page_up(v: u64) -> Option<u64> {
    Some(page_down(v.checked_add(PAGE_SIZE - 1)?))
}

/// A `Vec` that reports allocation failure instead of aborting: the sizes
/// come from the file.
fn vec_with_capacity<T>(n: usize) -> Result<Vec<T>, Reject> {
    let mut v = Vec::new();
    v.try_reserve(n).map_err(|_| Reject::OutOfMemory)?;
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
    fn read(raw: &[u8]) -> Result<Phdr, Reject> {
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
    fn read(raw: &[u8]) -> Result<Section, Reject> {
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

fn parse_ehdr(bytes: &[u8]) -> Result<Ehdr, Reject> {
    let ident = bytes.get(..16).ok_or(Reject::Truncated("ELF header"))?;
    // The same identity upstream's ldelf demands of a 64-bit Arm TA.
    let wrong = [
        (ident[..4] != *b"\x7fELF", "not an ELF file"),
        (ident[4] != ELFCLASS64, "not 64-bit"),
        (ident[5] != ELFDATA2LSB, "not little-endian"),
        (ident[6] != EV_CURRENT, "ELF version"),
        (ident[7] != ELFOSABI_NONE, "OS ABI"),
        (bytes.u16_at(16)? != ET_DYN, "not ET_DYN (position independent)"),
        (bytes.u16_at(18)? != EM_AARCH64, "machine is not AArch64"),
        (bytes.u32_at(48)? != 0, "e_flags"),
        (usize::from(bytes.u16_at(54)?) != PHDR_SIZE, "program header size"),
    ];
    if let Some((_, what)) = wrong.iter().find(|(bad, _)| *bad) {
        return Err(Reject::NotTaElf(what));
    }
    let shnum = usize::from(bytes.u16_at(60)?);
    if shnum != 0 && usize::from(bytes.u16_at(58)?) != SHDR_SIZE {
        return Err(Reject::NotTaElf("section header size"));
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
pub fn parse(bytes: &[u8]) -> Result<Elf, Reject> {
    parse_object(bytes, true)
}

/// Checks a shared TA library's ELF file: as [`parse`], but without an
/// entry point or a `ta_head` to find.
pub fn parse_lib(bytes: &[u8]) -> Result<Elf, Reject> {
    parse_object(bytes, false)
}

fn parse_object(bytes: &[u8], main: bool) -> Result<Elf, Reject> {
    if bytes.len() < EHDR_SIZE {
        return Err(Reject::Truncated("ELF header"));
    }
    let ehdr = parse_ehdr(bytes)?;
    let phdrs = table(bytes, ehdr.phoff, ehdr.phnum, PHDR_SIZE, "program headers")?;

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
                    return Err(Reject::Duplicate("PT_DYNAMIC"));
                }
            }
            PT_TLS if ph.memsz != 0 => {
                // One TLS segment, with no more file bytes than memory.
                let previous = tls.replace((ph.vaddr, ph.filesz, ph.memsz));
                if previous.is_some() {
                    return Err(Reject::Duplicate("PT_TLS"));
                }
                if ph.filesz > ph.memsz {
                    return Err(Reject::BadTls);
                }
            }
            _ => {}
        }
    }
    segments.sort_unstable_by_key(|s| s.vaddr);
    let span = check_layout(&segments)?;

    let entry = ehdr.entry;
    if main && (!entry.is_multiple_of(4) || !segments.iter().any(|s| s.exec && s.holds(entry, 4))) {
        return Err(Reject::BadEntry(entry));
    }

    if let Some((va, _, memsz)) = tls
        && !segments.iter().any(|s| s.holds(va, memsz))
    {
        return Err(Reject::BadTls);
    }
    let phnum = u16::try_from(ehdr.phnum).map_err(|_| Reject::NotTaElf("program header count"))?;
    let mut table_copy = vec_with_capacity(phdrs.len())?;
    table_copy.extend_from_slice(phdrs);
    let mut elf = Elf {
        segments,
        entry,
        span,
        relocs: Vec::new(),
        head: 0,
        phdr_info: None,
        phdrs: table_copy,
        phnum,
        tls,
        sym_relocs: Vec::new(),
        needed: Vec::new(),
        soname: None,
        syms: None,
    };
    let dyn_info = match dynamic {
        Some((vaddr, memsz)) => elf.read_dynamic(bytes, vaddr, memsz)?,
        None => DynInfo::default(),
    };
    elf.read_names(bytes, &dyn_info)?;
    if ehdr.shnum != 0 {
        let shdrs = table(bytes, ehdr.shoff, ehdr.shnum, SHDR_SIZE, "section headers")?;
        elf.read_sections(bytes, shdrs)?;
    } else {
        elf.syms_from_dynamic(bytes, &dyn_info)?;
        for &(addr, size) in &[dyn_info.rela, dyn_info.jmprel] {
            elf.add_relocs(bytes, addr, size)?;
        }
    }
    if !elf.sym_relocs.is_empty() && elf.syms.is_none() {
        return Err(Reject::BadTable("dynamic symbol table (relocations need one)"));
    }
    if main && !elf.segments.iter().any(|s| s.holds(elf.head, TA_HEAD_SIZE)) {
        return Err(Reject::NoTaHead(elf.head));
    }
    Ok(elf)
}

/// Validates one `PT_LOAD`; `None` for an empty one (nothing to map).
fn load_segment(bytes: &[u8], ph: &Phdr) -> Result<Option<Segment>, Reject> {
    let file_end = ph.offset.checked_add(ph.filesz).ok_or(Reject::SegmentOutsideFile)?;
    if ph.filesz > ph.memsz || file_end > bytes.len() as u64 {
        return Err(Reject::SegmentOutsideFile);
    }
    // vaddr + memsz, page-rounded, must not wrap; the span limit comes later.
    ph.vaddr.checked_add(ph.memsz).and_then(page_up).ok_or(Reject::TooLarge)?;
    if ph.vaddr % PAGE_SIZE != ph.offset % PAGE_SIZE {
        return Err(Reject::SegmentMisaligned(ph.vaddr));
    }
    if ph.memsz == 0 {
        return Ok(None);
    }
    if ph.flags & PF_R == 0 {
        // Upstream's ldelf refuses these the same way.
        return Err(Reject::UnreadableSegment(ph.vaddr));
    }
    if ph.flags & PF_W != 0 && ph.flags & PF_X != 0 {
        return Err(Reject::WritableAndExecutable(ph.vaddr));
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
fn check_layout(segments: &[Segment]) -> Result<u64, Reject> {
    let first = segments.first().ok_or(Reject::NoSegments)?;
    if page_down(first.vaddr) != 0 {
        return Err(Reject::NotAtZero(first.vaddr));
    }
    for pair in segments.windows(2) {
        let end = pair[0].vaddr.checked_add(pair[0].memsz).and_then(page_up).ok_or(Reject::TooLarge)?;
        if end > page_down(pair[1].vaddr) {
            return Err(Reject::SegmentsSharePage(pair[1].vaddr));
        }
    }
    let last = segments.last().ok_or(Reject::NoSegments)?;
    let span = last.vaddr.checked_add(last.memsz).and_then(page_up).ok_or(Reject::TooLarge)?;
    if span > MAX_SPAN {
        return Err(Reject::TooLarge);
    }
    Ok(span)
}

/// What the dynamic section names: relocation tables as (address, size),
/// the string table, `DT_NEEDED`/`DT_SONAME` string offsets, symbol and
/// hash tables.
#[derive(Default)]
struct DynInfo {
    rela: (u64, u64),
    jmprel: (u64, u64),
    strtab: Option<u64>,
    strsz: u64,
    needed: Vec<u64>,
    soname: Option<u64>,
    symtab: Option<u64>,
    hash: Option<u64>,
    gnu_hash: Option<u64>,
}

impl Elf {
    /// The segment file bytes that will sit at `[addr, addr + len)`.
    fn mapped<'a>(&self, bytes: &'a [u8], addr: u64, len: u64, what: &'static str) -> Result<&'a [u8], Reject> {
        self.segments.iter().find_map(|s| s.file_bytes(bytes, addr, len)).ok_or(Reject::BadTable(what))
    }

    /// Reads the dynamic section: refuses dependencies and `REL` tables,
    /// returns where the `RELA` tables are.
    fn read_dynamic(&self, bytes: &[u8], vaddr: u64, memsz: u64) -> Result<DynInfo, Reject> {
        const DYNAMIC: Reject = Reject::BadTable("dynamic section");
        if !memsz.is_multiple_of(DYN_SIZE) {
            return Err(DYNAMIC);
        }
        let raw = self.mapped(bytes, vaddr, memsz, "dynamic section")?;
        let (mut rela, mut relasz, mut relaent, mut relacount) = (None, 0, None, None);
        let (mut jmprel, mut pltrelsz, mut pltrel) = (None, 0, None);
        let mut info = DynInfo::default();
        for d in raw.chunks_exact(DYN_SIZE as usize) {
            let (tag, val) = (d.u64_at(0)?, d.u64_at(8)?);
            match tag {
                DT_NULL => break,
                DT_NEEDED => {
                    if info.needed.len() == MAX_NEEDED {
                        return Err(Reject::TooManyNeeded);
                    }
                    info.needed.try_reserve(1).map_err(|_| Reject::OutOfMemory)?;
                    info.needed.push(val);
                }
                DT_STRTAB => info.strtab = Some(val),
                DT_STRSZ => info.strsz = val,
                DT_SONAME => info.soname = Some(val),
                DT_SYMTAB => info.symtab = Some(val),
                DT_HASH => info.hash = Some(val),
                DT_GNU_HASH => info.gnu_hash = Some(val),
                DT_REL | DT_RELSZ => return Err(Reject::BadTable("REL table (want RELA)")),
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
        if relasz != 0 {
            if relaent != Some(RELA_SIZE) || !relasz.is_multiple_of(RELA_SIZE) {
                return Err(DYNAMIC);
            }
            if relacount.is_some_and(|n| n > relasz / RELA_SIZE) {
                return Err(DYNAMIC);
            }
            info.rela = (rela.ok_or(DYNAMIC)?, relasz);
        }
        if pltrelsz != 0 {
            if pltrel != Some(DT_RELA) || !pltrelsz.is_multiple_of(RELA_SIZE) {
                return Err(DYNAMIC);
            }
            info.jmprel = (jmprel.ok_or(DYNAMIC)?, pltrelsz);
        }
        Ok(info)
    }

    /// The `DT_NEEDED` UUIDs and the `DT_SONAME` string.
    fn read_names(&mut self, bytes: &[u8], info: &DynInfo) -> Result<(), Reject> {
        const STRTAB: Reject = Reject::BadTable("dynamic string table");
        if info.needed.is_empty() && info.soname.is_none() {
            return Ok(());
        }
        let strtab = info.strtab.ok_or(STRTAB)?;
        let strs = self.mapped(bytes, strtab, info.strsz, "dynamic string table")?;
        self.needed.try_reserve(info.needed.len()).map_err(|_| Reject::OutOfMemory)?;
        for &off in &info.needed {
            let name = c_str(strs, off).ok_or(STRTAB)?;
            let uuid = core::str::from_utf8(name).ok().and_then(Uuid::parse).ok_or(Reject::BadNeeded)?;
            self.needed.push(uuid);
        }
        if let Some(off) = info.soname {
            c_str(strs, off).ok_or(STRTAB)?;
            self.soname = Some(strtab + off);
        }
        Ok(())
    }

    /// Without section headers: the symbol table from `DT_SYMTAB`, sized
    /// by `DT_HASH` (the only place that says how many symbols there are).
    fn syms_from_dynamic(&mut self, bytes: &[u8], info: &DynInfo) -> Result<(), Reject> {
        let (Some(symtab), Some(hash), Some(strtab)) = (info.symtab, info.hash, info.strtab) else {
            return Ok(());
        };
        let count = u64::from(self.mapped(bytes, hash, 8, "DT_HASH")?.u32_at(4)?);
        let gnu_hash = match info.gnu_hash {
            Some(at) => {
                let seg = self.segments.iter().find(|s| s.file_bytes(bytes, at, 0).is_some());
                let end = seg.map(|s| s.vaddr + s.filesz).ok_or(Reject::BadTable("DT_GNU_HASH"))?;
                Some((at, end.saturating_sub(at)))
            }
            None => None,
        };
        let syms = DynSyms { symtab, count, strtab, strsz: info.strsz, hash: Some(hash), gnu_hash };
        self.check_syms(bytes, &syms)?;
        self.syms = Some(syms);
        Ok(())
    }

    /// Checks that the symbol, string and hash tables lie in the file's
    /// segments and that the hash tables' sizes add up.
    fn check_syms(&self, bytes: &[u8], syms: &DynSyms) -> Result<(), Reject> {
        let len = syms.count.checked_mul(SYM_SIZE).ok_or(Reject::BadTable("dynamic symbol table"))?;
        self.mapped(bytes, syms.symtab, len, "dynamic symbol table")?;
        self.mapped(bytes, syms.strtab, syms.strsz, "dynamic string table")?;
        if let Some(at) = syms.hash {
            const HASH: Reject = Reject::BadTable("DT_HASH");
            let head = self.mapped(bytes, at, 8, "DT_HASH")?;
            let words = 2 + u64::from(head.u32_at(0)?) + u64::from(head.u32_at(4)?);
            if !at.is_multiple_of(4) || head.u32_at(0)? == 0 {
                return Err(HASH);
            }
            self.mapped(bytes, at, words * 4, "DT_HASH")?;
        }
        if let Some((at, size)) = syms.gnu_hash {
            const GNU: Reject = Reject::BadTable("DT_GNU_HASH");
            let head = self.mapped(bytes, at, size, "DT_GNU_HASH")?;
            if !at.is_multiple_of(8) || size < 16 {
                return Err(GNU);
            }
            let (nbuckets, bloom) = (u64::from(head.u32_at(0)?), u64::from(head.u32_at(8)?));
            if nbuckets == 0 || bloom == 0 || (4 + nbuckets + 2 * bloom) * 4 > size {
                return Err(GNU);
            }
        }
        Ok(())
    }

    /// Section-header path: relocations from every allocated `SHT_RELA`
    /// section, and the `ta_head` symbol from the first `SHT_DYNSYM`.
    fn read_sections(&mut self, bytes: &[u8], shdrs: &[u8]) -> Result<(), Reject> {
        const STRTAB: Reject = Reject::BadTable("dynamic string table");
        let mut dynsym = None;
        let (mut hash, mut gnu_hash) = (None, None);
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
                        return Err(Reject::BadTable("RELA section"));
                    }
                    self.add_relocs(bytes, sh.addr, sh.size)?;
                }
                SHT_REL => return Err(Reject::BadTable("REL section (want RELA)")),
                SHT_DYNSYM if dynsym.is_none() => dynsym = Some(sh),
                SHT_HASH => hash = Some(sh.addr),
                SHT_GNU_HASH => gnu_hash = Some((sh.addr, sh.size)),
                _ => {}
            }
        }
        if let Some(sym) = dynsym {
            let strtab =
                usize::try_from(sym.link).ok().and_then(|i| shdrs.chunks_exact(SHDR_SIZE).nth(i)).ok_or(STRTAB)?;
            let strtab = Section::read(strtab)?;
            let syms = DynSyms {
                symtab: sym.addr,
                count: sym.size / SYM_SIZE,
                strtab: strtab.addr,
                strsz: strtab.size,
                hash,
                gnu_hash,
            };
            self.check_syms(bytes, &syms)?;
            self.syms = Some(syms);
            if let Some(head) = self.find_symbol(bytes, &sym, &strtab, TA_HEAD_SYMBOL)? {
                self.head = head;
            }
            if let Some(info) = self.find_symbol(bytes, &sym, &strtab, PHDR_INFO_SYMBOL)? {
                if !self.segments.iter().any(|s| s.write && s.holds(info, 16)) {
                    return Err(Reject::BadPhdrInfo);
                }
                self.phdr_info = Some(info);
            }
        }
        Ok(())
    }

    /// Value of the defined symbol `name` in a symbol table, if any.
    fn find_symbol(&self, bytes: &[u8], sym: &Section, strtab: &Section, name: &[u8]) -> Result<Option<u64>, Reject> {
        const NAME: Reject = Reject::BadTable("symbol name");
        if sym.entsize != SYM_SIZE || !sym.size.is_multiple_of(SYM_SIZE) {
            return Err(Reject::BadTable("dynamic symbol table"));
        }
        let syms = self.mapped(bytes, sym.addr, sym.size, "dynamic symbol table")?;
        let strs = self.mapped(bytes, strtab.addr, strtab.size, "dynamic string table")?;
        for s in syms.chunks_exact(SYM_SIZE as usize) {
            let st_name = usize::try_from(s.u32_at(0)?).map_err(|_| NAME)?;
            if s.u16_at(6)? == SHN_UNDEF {
                continue;
            }
            // The name must be NUL-terminated inside the string table.
            let Some(rest) = strs.get(st_name..) else { return Err(NAME) };
            let len = rest.iter().position(|&b| b == 0).ok_or(NAME)?;
            if &rest[..len] == name {
                return Ok(Some(s.u64_at(8)?));
            }
        }
        Ok(None)
    }

    /// Checks and records the relocation table at `[addr, addr + size)`.
    fn add_relocs(&mut self, bytes: &[u8], addr: u64, size: u64) -> Result<(), Reject> {
        if size == 0 {
            return Ok(());
        }
        if !size.is_multiple_of(RELA_SIZE) {
            return Err(Reject::BadTable("relocation table"));
        }
        let raw = self.mapped(bytes, addr, size, "relocation table")?;
        let count = raw.len() / RELA_SIZE as usize;
        self.relocs.try_reserve(count).map_err(|_| Reject::OutOfMemory)?;
        for r in raw.chunks_exact(RELA_SIZE as usize) {
            let (offset, info, addend) = (r.u64_at(0)?, r.u64_at(8)?, r.u64_at(16)?);
            // Low half of r_info is the type, high half the symbol.
            let (rtype, sym) = (info as u32, (info >> 32) as u32);
            let room = if rtype == R_AARCH64_TLSDESC { 16 } else { 8 };
            if rtype != R_AARCH64_NONE && !self.segments.iter().any(|s| s.holds(offset, room)) {
                return Err(Reject::RelocationOutside(offset));
            }
            match rtype {
                R_AARCH64_NONE => {}
                R_AARCH64_RELATIVE => self.relocs.push((offset, addend)),
                R_AARCH64_ABS64 | R_AARCH64_GLOB_DAT | R_AARCH64_JUMP_SLOT | R_AARCH64_TLS_TPREL
                | R_AARCH64_TLSDESC => {
                    self.sym_relocs.try_reserve(1).map_err(|_| Reject::OutOfMemory)?;
                    self.sym_relocs.push(SymReloc { offset, rtype, sym, addend });
                }
                // Like upstream's loader: an unknown type is a bad file.
                t => return Err(Reject::Relocation(t)),
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

/// The NUL-terminated string at `off` of a string table, without the NUL.
fn c_str(strs: &[u8], off: u64) -> Option<&[u8]> {
    let rest = strs.get(usize::try_from(off).ok()?..)?;
    Some(&rest[..rest.iter().position(|&b| b == 0)?])
}

/// Reads the 32-byte `TaHead` at image offset `offset`.
pub fn ta_head_at(image: &[u8], offset: u64) -> Result<TaHead, TeeResult> {
    let start = usize::try_from(offset).map_err(|_| BAD)?;
    let raw = image.get(start..).ok_or(BAD)?;
    TaHead::read_from_prefix(raw).map(|(head, _)| head).map_err(|_| BAD)
}

#[cfg(test)]
mod tests;
