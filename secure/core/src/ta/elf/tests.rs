//! Tests of the TA ELF parser on hand-built images.

use super::*;
use alloc::vec;
use oxtee_abi::ta::{TA_HEAD_NO_DEPR_ENTRY, TeeUuid};
use zerocopy::IntoBytes;

const SHT_STRTAB: u32 = 3;
const SHT_DYNAMIC: u32 = 6;
const PT_GNU_STACK: u32 = 0x6474_e551;

/// The answer the loader gives, which most tests pin; `reject_reasons`
/// checks the reasons.
fn parse(bytes: &[u8]) -> Result<Elf, TeeResult> {
    super::parse(bytes).map_err(Reject::code)
}

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
    let dyn_bytes: Vec<u8> = dynamic.iter().flat_map(|&(t, v)| [t.to_le_bytes(), v.to_le_bytes()].concat()).collect();
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
fn unknown_relocation_types_are_refused() {
    // DTPMOD64/DTPREL64 too: upstream's 64-bit loader refuses them.
    for sections in [true, false] {
        for ty in [1028, 1029, 1024, 258, u32::MAX] {
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
fn needed_names_must_be_uuids_in_the_string_table() {
    for sections in [true, false] {
        // "ta_head" is no UUID.
        let strtab = vec![(DT_STRTAB, DYNSTR_VA), (DT_STRSZ, 9)];
        let f =
            build(&Opts { sections, dyn_extra: [strtab.clone(), vec![(DT_NEEDED, 1)]].concat(), ..Opts::default() });
        assert_eq!(super::parse(&f), Err(Reject::BadNeeded));
        // Past the end of the string table.
        let f = build(&Opts { sections, dyn_extra: [strtab, vec![(DT_NEEDED, 9)]].concat(), ..Opts::default() });
        assert_eq!(parse(&f), Err(BAD));
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

#[test]
fn reject_reasons() {
    let why = |f: &[u8]| super::parse(f).unwrap_err();
    assert_eq!(why(&canonical()[..40]), Reject::Truncated("ELF header"));
    assert_eq!(why(&patched(|f| set16(f, 18, 62))), Reject::NotTaElf("machine is not AArch64"));
    // What a TA linked without the SDK's settings looks like: ET_EXEC.
    let exec = why(&patched(|f| set16(f, 16, 2)));
    assert_eq!(exec, Reject::NotTaElf("not ET_DYN (position independent)"));
    assert_eq!(exec.code(), BAD);
    assert_eq!(why(&patched(|f| set32(f, ph(1, P_FLAGS), PF_R | PF_W | PF_X))), Reject::WritableAndExecutable(DATA_VA));
    let unreadable = why(&patched(|f| set32(f, ph(0, P_FLAGS), PF_X)));
    assert_eq!((unreadable, unreadable.code()), (Reject::UnreadableSegment(0), TeeResult::ERROR_NOT_SUPPORTED));
    assert_eq!(why(&build(&Opts { entry: DATA_VA, ..Opts::default() })), Reject::BadEntry(DATA_VA));
    let relocs = vec![(PTRS_VA, 1028, 0)];
    assert_eq!(why(&build(&Opts { relocs, ..Opts::default() })), Reject::Relocation(1028));
    // A DT_NEEDED without a string table to name it.
    let needed = why(&build(&Opts { dyn_extra: vec![(DT_NEEDED, 1)], ..Opts::default() }));
    assert_eq!((needed, needed.code()), (Reject::BadTable("dynamic string table"), BAD));
    assert_eq!(
        std::string::ToString::to_string(&Reject::NotTaElf("machine is not AArch64")),
        "not an AArch64 TA ELF (static PIE): machine is not AArch64"
    );
}

#[test]
fn head_checks_name_the_field() {
    let uuid = Uuid::from(test_head().uuid);
    assert_eq!(check_head(&test_head(), &uuid), Ok(()));
    let other = Uuid::new(1, 2, 3, [4; 8]);
    assert_eq!(check_head(&test_head(), &other), Err(Reject::HeadUuid(uuid)));
    let old = TaHead { depr_entry: 0x1000, ..test_head() };
    assert_eq!(check_head(&old, &uuid), Err(Reject::HeadEntry(0x1000)));
    let flags = TaHead { flags: 1 << 31, ..test_head() };
    assert_eq!(check_head(&flags, &uuid), Err(Reject::HeadFlags(1 << 31)));
    for stack_size in [0, MAX_STACK + 1] {
        let head = TaHead { stack_size, ..test_head() };
        assert_eq!(check_head(&head, &uuid), Err(Reject::StackSize(stack_size)));
    }
    assert_eq!(check_head(&TaHead { stack_size: MAX_STACK, ..test_head() }, &uuid), Ok(()));
}

#[test]
fn needed_libraries_and_soname_are_read() {
    let uuid = "ffd2bded-ab7d-4988-95ee-e4962fff7154";
    let name_off = 9u64; // after "\0ta_head\0"
    for sections in [true, false] {
        let extra = vec![
            (DT_STRTAB, DYNSTR_VA),
            (DT_STRSZ, name_off + uuid.len() as u64 + 1),
            (DT_NEEDED, name_off),
            (DT_SONAME, name_off),
        ];
        let mut f = build(&Opts { sections, dyn_extra: extra.clone(), ..Opts::default() });
        put(&mut f, file_off(DYNSTR_VA + name_off), uuid.as_bytes());
        let elf = parse(&f).unwrap();
        assert_eq!(elf.needed, vec![Uuid::parse(uuid).unwrap()]);
        assert_eq!(elf.soname, Some(DYNSTR_VA + name_off));
        // A string table whose size cuts the name's NUL off.
        let mut cut = extra.clone();
        cut[1].1 = name_off + uuid.len() as u64;
        let mut g = build(&Opts { sections, dyn_extra: cut, ..Opts::default() });
        put(&mut g, file_off(DYNSTR_VA + name_off), uuid.as_bytes());
        assert_eq!(parse(&g), Err(BAD));
    }
}

#[test]
fn libraries_need_no_entry_point_or_ta_head() {
    let f = build(&Opts { entry: DATA_VA, head_sym: false, ..Opts::default() });
    assert_eq!(super::parse(&f), Err(Reject::BadEntry(DATA_VA)));
    let lib = parse_lib(&f).unwrap();
    assert_eq!(lib.relocs, expected_relocs());
    // Symbol relocations are recorded for the linker, with the symbol.
    let relocs = vec![(PTRS_VA, R_AARCH64_GLOB_DAT, 0), (PTRS_VA + 8, R_AARCH64_TLSDESC, 3)];
    let lib = parse_lib(&build(&Opts { relocs, ..Opts::default() })).unwrap();
    assert_eq!(lib.sym_relocs.len(), 2);
    assert_eq!(lib.sym_relocs[1], SymReloc { offset: PTRS_VA + 8, rtype: R_AARCH64_TLSDESC, sym: 0, addend: 3 });
    assert!(lib.syms.is_some_and(|s| s.count == 2 && s.symtab == DYNSYM_VA));
    // TLSDESC needs 16 bytes of room.
    let relocs = vec![(DATA_VA + DATA_MEMSZ - 8, R_AARCH64_TLSDESC, 0)];
    assert_eq!(parse(&build(&Opts { relocs, ..Opts::default() })), Err(BAD));
}
