//! Tests of symbol lookup and symbol relocations on hand-built tables.

use super::*;
use alloc::vec;

const STRTAB: u64 = 0x100;
const SYMTAB: u64 = 0x400;
const HASH: u64 = 0x800;
const GNU: u64 = 0xc00;
const SPAN: u64 = 0x2000;
const UNDEF: u16 = 0;
const DEFINED: u16 = 5;

/// (name, bind, type, shndx, value)
type Def<'a> = (&'a str, u8, u8, u16, u64);

fn put(img: &mut [u8], at: u64, b: &[u8]) {
    img[at as usize..at as usize + b.len()].copy_from_slice(b);
}

/// An image with the symbols `defs` (after the null symbol) and a SysV
/// or a GNU hash table over them.
fn image(defs: &[Def], gnu: bool) -> (Vec<u8>, DynSyms) {
    let mut img = vec![0u8; SPAN as usize];
    let mut strs = vec![0u8];
    let count = defs.len() as u64 + 1;
    let names: Vec<u32> = defs
        .iter()
        .map(|d| {
            let at = strs.len() as u32;
            strs.extend_from_slice(d.0.as_bytes());
            strs.push(0);
            at
        })
        .collect();
    put(&mut img, STRTAB, &strs);
    for (i, (d, name)) in defs.iter().zip(&names).enumerate() {
        let at = SYMTAB + 24 * (i as u64 + 1);
        put(&mut img, at, &name.to_le_bytes());
        put(&mut img, at + 4, &[d.1 << 4 | d.2, 0]);
        put(&mut img, at + 6, &d.3.to_le_bytes());
        put(&mut img, at + 8, &d.4.to_le_bytes());
    }
    let mut syms =
        DynSyms { symtab: SYMTAB, count, strtab: STRTAB, strsz: strs.len() as u64, hash: None, gnu_hash: None };
    if gnu {
        // One bucket holding every symbol from index 1, one bloom word.
        let hashes: Vec<u32> = defs.iter().map(|d| gnu_hash(d.0.as_bytes())).collect();
        let bloom = hashes.iter().fold(0u64, |w, h| w | 1 << (h % 64) | 1 << ((h >> 6) % 64));
        for (i, v) in [1u32, 1, 1, 6].iter().enumerate() {
            put(&mut img, GNU + 4 * i as u64, &v.to_le_bytes());
        }
        put(&mut img, GNU + 16, &bloom.to_le_bytes());
        put(&mut img, GNU + 24, &1u32.to_le_bytes());
        for (i, h) in hashes.iter().enumerate() {
            let last = i + 1 == hashes.len();
            put(&mut img, GNU + 28 + 4 * i as u64, &(if last { h | 1 } else { h & !1 }).to_le_bytes());
        }
        syms.gnu_hash = Some((GNU, 28 + 4 * hashes.len() as u64));
    } else {
        let nbuckets = 3u32;
        put(&mut img, HASH, &nbuckets.to_le_bytes());
        put(&mut img, HASH + 4, &(count as u32).to_le_bytes());
        let chain = HASH + 8 + 4 * u64::from(nbuckets);
        for (i, d) in defs.iter().enumerate() {
            let n = i as u32 + 1;
            let b = HASH + 8 + 4 * u64::from(elf_hash(d.0.as_bytes()) % nbuckets);
            let head = u32_at(&img, b).unwrap();
            put(&mut img, chain + 4 * u64::from(n), &head.to_le_bytes());
            put(&mut img, b, &n.to_le_bytes());
        }
        syms.hash = Some(HASH);
    }
    (img, syms)
}

fn module(base: u64, syms: DynSyms, tls_offset: u64) -> Module {
    Module { uuid: Uuid::NIL, base, span: SPAN, syms: Some(syms), tls: None, tls_offset, soname: None, buf: 0 }
}

const A: u64 = 0x10_0000;
const B: u64 = 0x20_0000;

#[test]
fn hashes_match_the_reference_values() {
    assert_eq!(elf_hash(b""), 0);
    assert_eq!(gnu_hash(b""), 5381);
    // Values from the System V ABI's and GNU's reference functions.
    assert_eq!(elf_hash(b"printf"), 0x0779_05a6);
    assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
    assert_eq!(elf_hash(b"exit"), 0x0006_cf04);
}

#[test]
fn lookup_goes_object_by_object_global_before_weak() {
    for gnu in [false, true] {
        let (ia, sa) = image(
            &[
                ("weak_here", STB_WEAK, STT_FUNC, DEFINED, 0x10),
                ("undef_weak", STB_WEAK, STT_NOTYPE, UNDEF, 0),
                ("needs", STB_GLOBAL, STT_FUNC, UNDEF, 0),
                ("local", 0, STT_FUNC, DEFINED, 0x30),
            ],
            gnu,
        );
        let (ib, sb) = image(
            &[
                ("weak_here", STB_GLOBAL, STT_FUNC, DEFINED, 0x100),
                ("undef_weak", STB_GLOBAL, STT_OBJECT, DEFINED, 0x200),
                ("needs", STB_GLOBAL, STT_FUNC, DEFINED, 0x300),
                ("local", STB_GLOBAL, STT_FUNC, DEFINED, 0x400),
                ("tls_var", STB_GLOBAL, STT_TLS, DEFINED, 0x8),
            ],
            gnu,
        );
        let (ma, mb) = (module(A, sa, 0), module(B, sb, 0));
        let mods = [View { module: &ma, image: &ia }, View { module: &mb, image: &ib }];
        // A weak definition in an earlier object wins over a global later.
        assert_eq!(lookup(&mods, b"weak_here"), Ok(Some((A + 0x10, 0))), "gnu {gnu}");
        // So does an undefined weak reference (upstream's rule): 0.
        assert_eq!(lookup(&mods, b"undef_weak"), Ok(Some((0, 0))));
        // An undefined strong one or a local symbol is skipped.
        assert_eq!(lookup(&mods, b"needs"), Ok(Some((B + 0x300, 1))));
        assert_eq!(lookup(&mods, b"local"), Ok(Some((B + 0x400, 1))));
        // TLS symbols give their offset in the block.
        assert_eq!(lookup(&mods, b"tls_var"), Ok(Some((8, 1))));
        assert_eq!(lookup(&mods, b"nowhere"), Ok(None));
        // dlsym: the named object first, then all.
        assert_eq!(lookup_from(&mods, Some(1), b"weak_here"), Ok(Some(B + 0x100)));
        assert_eq!(lookup_from(&mods, Some(1), b"undef_weak"), Ok(Some(B + 0x200)));
        assert_eq!(lookup_from(&mods, None, b"weak_here"), Ok(Some(A + 0x10)));
    }
}

fn rel(offset: u64, rtype: u32, sym: u32, addend: u64) -> SymReloc {
    SymReloc { offset, rtype, sym, addend }
}

#[test]
fn symbol_relocations_write_what_upstream_writes() {
    let (ia, sa) = image(
        &[
            ("ext_fn", STB_GLOBAL, STT_FUNC, UNDEF, 0),
            ("weak_missing", STB_WEAK, STT_NOTYPE, UNDEF, 0),
            ("own", STB_GLOBAL, STT_OBJECT, DEFINED, 0x40),
            ("ext_tls", STB_GLOBAL, STT_TLS, UNDEF, 0),
        ],
        true,
    );
    let (ib, sb) = image(
        &[("ext_fn", STB_GLOBAL, STT_FUNC, DEFINED, 0x500), ("ext_tls", STB_GLOBAL, STT_TLS, DEFINED, 0x20)],
        false,
    );
    let (ma, mb) = (module(A, sa, 16), module(B, sb, 48));
    let mods = [View { module: &ma, image: &ia }, View { module: &mb, image: &ib }];
    let relocs = [
        rel(0x1000, R_AARCH64_JUMP_SLOT, 1, 0),
        rel(0x1008, R_AARCH64_GLOB_DAT, 2, 0),
        rel(0x1010, R_AARCH64_ABS64, 3, 4),
        rel(0x1018, R_AARCH64_ABS64, 1, 4),
        rel(0x1020, R_AARCH64_TLS_TPREL, 4, 2),
        rel(0x1028, R_AARCH64_TLS_TPREL, 0, 8),
        rel(0x1030, R_AARCH64_TLSDESC, 4, 0),
    ];
    let mut out = Vec::new();
    resolve(&mods, 0, &relocs, 0x7000, &mut out).unwrap();
    assert_eq!(
        out,
        vec![
            (0x1000, B + 0x500),
            (0x1008, 0),
            (0x1010, A + 0x40 + 4),
            (0x1018, B + 0x500),
            (0x1020, 0x20 + 48 + 2),
            (0x1028, 16 + 8),
            (0x1030, 0x7000),
            (0x1038, 0x20 + 48),
        ]
    );
    let mut img = vec![0u8; 0x2000];
    apply(&mut img, &out).unwrap();
    assert_eq!(u64_at(&img, 0x1000), Ok(B + 0x500));
    assert_eq!(apply(&mut img, &[(0x1ff9, 1)]), Err(BAD));
}

#[test]
fn unresolved_and_malformed_references_are_refused() {
    let (ia, sa) = image(&[("missing", STB_GLOBAL, STT_FUNC, UNDEF, 0)], false);
    let ma = module(A, sa, 0);
    let mods = [View { module: &ma, image: &ia }];
    let mut out = Vec::new();
    let r = |relocs: &[SymReloc], out: &mut Vec<_>| resolve(&mods, 0, relocs, 0, out);
    assert_eq!(r(&[rel(0, R_AARCH64_GLOB_DAT, 1, 0)], &mut out), Err(TeeResult::ERROR_ITEM_NOT_FOUND));
    // A symbol index past the table, an unknown type.
    assert_eq!(r(&[rel(0, R_AARCH64_JUMP_SLOT, 2, 0)], &mut out), Err(BAD));
    assert_eq!(r(&[rel(0, 1028, 0, 0)], &mut out), Err(BAD));
    // No symbol table at all.
    let bare = Module { syms: None, ..ma.clone() };
    let mods = [View { module: &bare, image: &ia }];
    assert_eq!(resolve(&mods, 0, &[rel(0, R_AARCH64_ABS64, 1, 0)], 0, &mut out), Err(BAD));
}

#[test]
fn hostile_tables_fail_cleanly() {
    // A SysV chain that loops.
    let (mut img, syms) =
        image(&[("a", STB_GLOBAL, STT_FUNC, DEFINED, 0x10), ("b", STB_LOCAL_FOR_TEST, 0, 0, 0)], false);
    let m = module(A, syms, 0);
    let chain = HASH + 8 + 12;
    for n in 0..3u64 {
        put(&mut img, chain + 4 * n, &(n as u32).to_le_bytes());
        put(&mut img, HASH + 8 + 4 * n, &2u32.to_le_bytes());
    }
    assert_eq!(lookup(&[View { module: &m, image: &img }], b"zz"), Err(BAD));
    // A chain index past nchains.
    put(&mut img, HASH + 4, &1u32.to_le_bytes());
    assert_eq!(lookup(&[View { module: &m, image: &img }], b"zz"), Err(BAD));

    // A GNU table with no buckets, and a symbol value past the image.
    let (mut img, syms) = image(&[("a", STB_GLOBAL, STT_FUNC, DEFINED, SPAN + 1)], true);
    let m = module(A, syms, 0);
    assert_eq!(lookup(&[View { module: &m, image: &img }], b"a"), Err(BAD));
    put(&mut img, GNU, &0u32.to_le_bytes());
    assert_eq!(lookup(&[View { module: &m, image: &img }], b"a"), Err(BAD));
    // Tables that point outside the image.
    let (img, mut syms) = image(&[("a", STB_GLOBAL, STT_FUNC, DEFINED, 0)], true);
    syms.gnu_hash = Some((SPAN - 8, 64));
    let m = module(A, syms, 0);
    assert_eq!(lookup(&[View { module: &m, image: &img }], b"a"), Err(BAD));
    let (img, mut syms) = image(&[("a", STB_GLOBAL, STT_FUNC, DEFINED, 0)], false);
    syms.strsz = u64::MAX;
    let m = module(A, syms, 0);
    assert_eq!(lookup(&[View { module: &m, image: &img }], b"a"), Err(BAD));
}

const STB_LOCAL_FOR_TEST: u8 = 0;

#[test]
fn phdr_info_is_upstreams_layout() {
    let (_, syms) = image(&[], false);
    let mut m = module(A, syms, 16);
    m.tls = Some((0x1800, 8, 32));
    m.soname = Some(0x120);
    let b = phdr_info(&m, 0x9000, 5, 0x5007);
    assert_eq!(u64_at(&b, 0), Ok(A));
    assert_eq!(u64_at(&b, 8), Ok(A + 0x120));
    assert_eq!(u64_at(&b, 16), Ok(0x9000));
    assert_eq!(&b[24..26], &5u16.to_le_bytes());
    assert_eq!(u64_at(&b, 32), Ok(1));
    assert_eq!(u64_at(&b, 48), Ok(0));
    assert_eq!(u64_at(&b, 56), Ok(0x1800));
    m.soname = None;
    assert_eq!(u64_at(&phdr_info(&m, 0x9000, 5, 0x5007), 8), Ok(0x5007));
}
