//! In-place edits of a flattened device tree (DTB) that never move bytes:
//! nodes and properties are removed by overwriting them with `FDT_NOP`
//! tokens (as libfdt's `fdt_nop_*` do), and property values are only ever
//! overwritten with values of the same length. The blob stays valid and
//! keeps its size, so a tree can be edited where it lies in memory.
//!
//! Used by the monitor (wipe the secure seeds from QEMU's tree before the
//! normal world runs, hand the normal world's payload tree QEMU's per-boot
//! seeds) and by `cargo xtask` (strip every seed from the tree QEMU dumps at
//! build time before it is written anywhere). Every input is treated as
//! hostile: a malformed blob gives an error, never a panic.

use core::ops::Range;

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Deepest node path the editor matches (QEMU's trees are 4 levels deep).
const MAX_DEPTH: usize = 16;

/// The secure world's boot entropy, in `/secure-chosen` (QEMU's names).
pub const SECURE_CHOSEN: &str = "/secure-chosen";
/// Seed properties QEMU writes into `/chosen` and `/secure-chosen`.
pub const SEED_PROPERTIES: [&str; 2] = ["rng-seed", "kaslr-seed"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Not a DTB, or a header whose blocks do not fit the blob.
    BadHeader,
    /// The structure block is cut short or holds an unknown token.
    BadStructure,
    /// A node path deeper than the editor follows.
    TooDeep,
}

fn be32(blob: &[u8], off: usize) -> Result<u32, Error> {
    let b = blob.get(off..off.checked_add(4).ok_or(Error::BadStructure)?).ok_or(Error::BadStructure)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// `totalsize` from a DTB header, or `None` if `head` does not start one.
pub fn total_size(head: &[u8]) -> Option<usize> {
    if be32(head, 0).ok()? != MAGIC {
        return None;
    }
    be32(head, 4).ok().map(|s| s as usize)
}

/// How much of a tree at the start of `blob` holds data (the end of its
/// structure or strings block, whichever is later): QEMU's tree is 1 MiB,
/// mostly free space at the end.
pub fn used_size(blob: &[u8]) -> Option<usize> {
    let b = blocks(blob).ok()?;
    Some(b.structure.end.max(b.strings.end))
}

struct Blocks {
    structure: Range<usize>,
    strings: Range<usize>,
}

fn blocks(blob: &[u8]) -> Result<Blocks, Error> {
    let h = |i: usize| be32(blob, 4 * i).map_err(|_| Error::BadHeader).map(|v| v as usize);
    if h(0)? != MAGIC as usize || h(5)? < 17 {
        return Err(Error::BadHeader);
    }
    let total = h(1)?;
    let range = |off: usize, len: usize| -> Result<Range<usize>, Error> {
        let end = off.checked_add(len).ok_or(Error::BadHeader)?;
        if end > total || total > blob.len() { Err(Error::BadHeader) } else { Ok(off..end) }
    };
    let structure = range(h(2)?, h(9)?)?;
    if structure.start % 4 != 0 {
        return Err(Error::BadHeader);
    }
    Ok(Blocks { structure, strings: range(h(3)?, h(8)?)? })
}

/// NUL-terminated string at `off` inside `within`.
fn c_str<'a>(blob: &'a [u8], off: usize, within: &Range<usize>) -> Result<&'a [u8], Error> {
    let tail = blob.get(off..within.end).ok_or(Error::BadStructure)?;
    let len = tail.iter().position(|&c| c == 0).ok_or(Error::BadStructure)?;
    Ok(&tail[..len])
}

const fn align4(v: usize) -> usize {
    (v + 3) & !3
}

/// One structure-block item, with the byte range it occupies.
enum Item<'a> {
    Begin(&'a [u8]),
    End,
    Prop { name: &'a [u8], value: Range<usize> },
    Nop,
}

/// Reads the item at `off`; returns it and the offset of the next one, or
/// `None` at `FDT_END`.
fn item<'a>(blob: &'a [u8], b: &Blocks, off: usize) -> Result<Option<(Item<'a>, usize)>, Error> {
    if off >= b.structure.end {
        return Err(Error::BadStructure);
    }
    let after_token = off + 4;
    Ok(Some(match be32(blob, off)? {
        BEGIN_NODE => {
            let name = c_str(blob, after_token, &b.structure)?;
            (Item::Begin(name), align4(after_token + name.len() + 1))
        }
        END_NODE => (Item::End, after_token),
        NOP => (Item::Nop, after_token),
        PROP => {
            let len = be32(blob, after_token)? as usize;
            let nameoff = be32(blob, after_token + 4)? as usize;
            let start = after_token + 8;
            let end = start.checked_add(len).ok_or(Error::BadStructure)?;
            if end > b.structure.end {
                return Err(Error::BadStructure);
            }
            let name = c_str(blob, b.strings.start.checked_add(nameoff).ok_or(Error::BadStructure)?, &b.strings)?;
            (Item::Prop { name, value: start..end }, align4(end))
        }
        END => return Ok(None),
        _ => return Err(Error::BadStructure),
    }))
}

/// The components of an absolute node path ("/" is the root, no components).
fn components(path: &str) -> Result<([&str; MAX_DEPTH], usize), Error> {
    let mut out = [""; MAX_DEPTH];
    let mut n = 0;
    for c in path.split('/').filter(|c| !c.is_empty()) {
        *out.get_mut(n).ok_or(Error::TooDeep)? = c;
        n += 1;
    }
    Ok((out, n))
}

/// What a walk looks for: a node, or a property of it.
enum Target<'p> {
    Node,
    Property(&'p str),
}

/// Byte range of what a walk found (the whole node, or the whole property)
/// and of its value (the same range for a node).
type Found = (Range<usize>, Range<usize>);

/// Finds the first node at `path` (or property `name` of it). Returns the
/// byte range of the whole node (BEGIN_NODE to END_NODE) or property
/// (token to padded end) and, for a property, its value range.
fn find(blob: &[u8], path: &str, target: Target) -> Result<Option<Found>, Error> {
    let b = blocks(blob)?;
    let (comps, n) = components(path)?;
    // depth: nodes open; matched: how many of them (root excluded) match
    // the path's leading components. The open chain is on the path while
    // matched == depth - 1.
    let (mut depth, mut matched) = (0usize, 0usize);
    let mut node_start: Option<(usize, usize)> = None; // (offset, depth) of the target node
    let mut off = b.structure.start;
    while let Some((it, next)) = item(blob, &b, off)? {
        match it {
            Item::Begin(name) => {
                let on_path = depth >= 1 && matched == depth - 1;
                if depth == 0 {
                    // The root: matches "/" only.
                } else if on_path && matched < n && name == comps[matched].as_bytes() {
                    matched += 1;
                }
                depth += 1;
                if matched == depth - 1 && matched == n && node_start.is_none() && matches!(target, Target::Node) {
                    node_start = Some((off, depth));
                }
            }
            Item::End => {
                if depth == 0 {
                    return Err(Error::BadStructure);
                }
                if let Some((start, d)) = node_start
                    && d == depth
                {
                    return Ok(Some((start..next, start..next)));
                }
                if matched == depth - 1 && matched > 0 {
                    matched -= 1;
                }
                depth -= 1;
            }
            Item::Prop { name, value } => {
                if let Target::Property(want) = target
                    && depth >= 1
                    && matched == depth - 1
                    && matched == n
                    && name == want.as_bytes()
                {
                    return Ok(Some((off..next, value)));
                }
            }
            Item::Nop => {}
        }
        off = next;
    }
    Ok(None)
}

fn fill_nop(blob: &mut [u8], range: Range<usize>) {
    for word in blob[range].chunks_exact_mut(4) {
        word.copy_from_slice(&NOP.to_be_bytes());
    }
}

/// Removes the node at `path` (with everything under it). Returns whether
/// it was there. The root cannot be removed.
pub fn nop_node(blob: &mut [u8], path: &str) -> Result<bool, Error> {
    if components(path)?.1 == 0 {
        return Err(Error::TooDeep);
    }
    match find(blob, path, Target::Node)? {
        Some((range, _)) => {
            fill_nop(blob, range);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Removes every property `name` of the node at `path`; returns how many.
pub fn nop_property(blob: &mut [u8], path: &str, name: &str) -> Result<usize, Error> {
    let mut n = 0;
    while let Some((range, _)) = find(blob, path, Target::Property(name))? {
        fill_nop(blob, range);
        n += 1;
    }
    Ok(n)
}

/// The value of property `name` of the node at `path`, as a byte range of
/// `blob`.
pub fn property(blob: &[u8], path: &str, name: &str) -> Result<Option<Range<usize>>, Error> {
    Ok(find(blob, path, Target::Property(name))?.map(|(_, value)| value))
}

/// Removes QEMU's secure-world seeds (`/secure-chosen` `rng-seed` and
/// `kaslr-seed`) from a tree the normal world will be able to read.
/// Returns how many properties were removed.
pub fn remove_secure_seeds(blob: &mut [u8]) -> Result<usize, Error> {
    let mut n = 0;
    for name in SEED_PROPERTIES {
        n += nop_property(blob, SECURE_CHOSEN, name)?;
    }
    Ok(n)
}

/// Outcome of [`copy_seeds`] for one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedCopy {
    /// The payload's placeholder now holds the source's value.
    Copied,
    /// No usable source value (absent or a different length): the
    /// placeholder was removed, so nobody mistakes it for entropy.
    Removed,
    /// The payload tree has no such property.
    Absent,
}

/// Gives the payload tree `dst` the per-boot `/chosen` seeds of QEMU's tree
/// `src`: each seed property `dst` carries (a placeholder of the right
/// length, written at build time) is overwritten with `src`'s value of the
/// same length, or removed if `src` has none.
pub fn copy_seeds(src: &[u8], dst: &mut [u8]) -> Result<[SeedCopy; 2], Error> {
    let mut out = [SeedCopy::Absent; 2];
    for (i, name) in SEED_PROPERTIES.iter().enumerate() {
        let Some(want) = property(dst, "/chosen", name)? else {
            continue;
        };
        let have = property(src, "/chosen", name).unwrap_or(None);
        out[i] = match have {
            Some(r) if r.len() == want.len() => {
                dst[want].copy_from_slice(&src[r]);
                SeedCopy::Copied
            }
            _ => {
                nop_property(dst, "/chosen", name)?;
                SeedCopy::Removed
            }
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Builds a DTB (version 17) from a tiny description: nodes as
    /// (depth, name) and properties as (name, value), in tree order.
    enum T<'a> {
        Begin(&'a str),
        End,
        Prop(&'a str, &'a [u8]),
    }

    fn build(items: &[T]) -> Vec<u8> {
        let mut st = Vec::new();
        let mut strings = Vec::new();
        let push = |v: &mut Vec<u8>, w: u32| v.extend_from_slice(&w.to_be_bytes());
        for it in items {
            match it {
                T::Begin(name) => {
                    push(&mut st, BEGIN_NODE);
                    st.extend_from_slice(name.as_bytes());
                    st.push(0);
                    while st.len() % 4 != 0 {
                        st.push(0);
                    }
                }
                T::End => push(&mut st, END_NODE),
                T::Prop(name, value) => {
                    push(&mut st, PROP);
                    push(&mut st, value.len() as u32);
                    push(&mut st, strings.len() as u32);
                    strings.extend_from_slice(name.as_bytes());
                    strings.push(0);
                    st.extend_from_slice(value);
                    while st.len() % 4 != 0 {
                        st.push(0);
                    }
                }
            }
        }
        push(&mut st, END);
        let hdr = 40;
        let rsv = hdr; // one empty reservation entry (16 bytes)
        let off_st = rsv + 16;
        let off_str = off_st + st.len();
        let total = off_str + strings.len();
        let mut blob = Vec::new();
        for w in [MAGIC, total as u32, off_st as u32, off_str as u32, rsv as u32, 17, 16, 0] {
            push(&mut blob, w);
        }
        push(&mut blob, strings.len() as u32);
        push(&mut blob, st.len() as u32);
        blob.resize(off_st, 0);
        blob.extend_from_slice(&st);
        blob.extend_from_slice(&strings);
        blob
    }

    const SECRET: &[u8] = &[0xa5; 32];
    const KASLR: &[u8] = &[0x5a; 8];

    fn qemu_like() -> Vec<u8> {
        build(&[
            T::Begin(""),
            T::Prop("model", b"linux,dummy-virt\0"),
            T::Begin("cpus"),
            T::Begin("cpu@0"),
            T::Prop("reg", &[0, 0, 0, 0]),
            T::End,
            T::End,
            T::Begin("secure-chosen"),
            T::Prop("stdout-path", b"/pl011@9040000\0"),
            T::Prop("rng-seed", SECRET),
            T::Prop("kaslr-seed", KASLR),
            T::End,
            T::Begin("chosen"),
            T::Prop("rng-seed", &[0x11; 32]),
            T::Prop("kaslr-seed", &[0x22; 8]),
            T::End,
            T::End,
        ])
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn secure_seeds_are_wiped_and_the_rest_kept() {
        let mut blob = qemu_like();
        assert!(contains(&blob, SECRET));
        assert_eq!(remove_secure_seeds(&mut blob), Ok(2));
        assert!(!contains(&blob, SECRET) && !contains(&blob, KASLR));
        assert_eq!(property(&blob, SECURE_CHOSEN, "rng-seed"), Ok(None));
        // Everything else is still there, and the blob still parses.
        let r = property(&blob, SECURE_CHOSEN, "stdout-path").unwrap().unwrap();
        assert_eq!(&blob[r], b"/pl011@9040000\0");
        let r = property(&blob, "/chosen", "rng-seed").unwrap().unwrap();
        assert_eq!(&blob[r], &[0x11; 32]);
        assert_eq!(property(&blob, "/cpus/cpu@0", "reg").unwrap().map(|r| r.len()), Some(4));
        // A second wipe finds nothing.
        assert_eq!(remove_secure_seeds(&mut blob), Ok(0));
    }

    #[test]
    fn nodes_are_removed_with_their_children() {
        let mut blob = qemu_like();
        assert_eq!(nop_node(&mut blob, "/cpus"), Ok(true));
        assert_eq!(property(&blob, "/cpus/cpu@0", "reg"), Ok(None));
        assert_eq!(nop_node(&mut blob, "/cpus"), Ok(false));
        assert!(property(&blob, "/chosen", "rng-seed").unwrap().is_some());
        assert_eq!(nop_node(&mut blob, "/secure-chosen"), Ok(true));
        assert!(!contains(&blob, SECRET));
        assert_eq!(nop_node(&mut blob, "/"), Err(Error::TooDeep));
    }

    #[test]
    fn paths_match_whole_names_at_each_level() {
        let blob = qemu_like();
        assert_eq!(property(&blob, "/cpu@0", "reg"), Ok(None));
        assert_eq!(property(&blob, "/cpus/cpu", "reg"), Ok(None));
        assert_eq!(property(&blob, "/chosen", "rng"), Ok(None));
        assert!(property(&blob, "/", "model").unwrap().is_some());
    }

    #[test]
    fn payload_seeds_come_from_qemus_tree_or_go() {
        let src = qemu_like();
        let mut dst = build(&[
            T::Begin(""),
            T::Begin("chosen"),
            T::Prop("rng-seed", &[0; 32]),
            T::Prop("kaslr-seed", &[0; 8]),
            T::Prop("bootargs", b"console=ttyAMA0\0"),
            T::End,
            T::End,
        ]);
        assert_eq!(copy_seeds(&src, &mut dst), Ok([SeedCopy::Copied; 2]));
        let r = property(&dst, "/chosen", "rng-seed").unwrap().unwrap();
        assert_eq!(&dst[r], &[0x11; 32]);
        // A source without seeds (or with other lengths): placeholders go.
        let bare = build(&[T::Begin(""), T::Begin("chosen"), T::Prop("rng-seed", &[1; 16]), T::End, T::End]);
        let mut dst2 = dst.clone();
        assert_eq!(copy_seeds(&bare, &mut dst2), Ok([SeedCopy::Removed; 2]));
        assert_eq!(property(&dst2, "/chosen", "rng-seed"), Ok(None));
        assert!(property(&dst2, "/chosen", "bootargs").unwrap().is_some());
        assert_eq!(copy_seeds(&src, &mut dst2), Ok([SeedCopy::Absent; 2]));
    }

    #[test]
    fn hostile_blobs_are_errors() {
        let good = qemu_like();
        assert_eq!(property(&good[..20], "/", "model"), Err(Error::BadHeader));
        let mut bad = good.clone();
        bad[0] = 0;
        assert_eq!(property(&bad, "/", "model"), Err(Error::BadHeader));
        assert_eq!(total_size(&bad), None);
        assert_eq!(total_size(&good), Some(good.len()));
        assert_eq!(used_size(&good), Some(good.len()));
        let mut padded = good.clone();
        padded.resize(good.len() + 4096, 0);
        let len = padded.len() as u32;
        padded[4..8].copy_from_slice(&len.to_be_bytes());
        assert_eq!((total_size(&padded), used_size(&padded)), (Some(good.len() + 4096), Some(good.len())));
        assert_eq!(used_size(&bad), None);
        // totalsize larger than the slice.
        let mut big = good.clone();
        big[4..8].copy_from_slice(&(good.len() as u32 + 4).to_be_bytes());
        assert_eq!(property(&big, "/", "model"), Err(Error::BadHeader));
        // A property length running past the structure block.
        let mut long = good.clone();
        let r = property(&good, "/", "model").unwrap().unwrap();
        long[r.start - 8..r.start - 4].copy_from_slice(&0x7fff_ffffu32.to_be_bytes());
        assert_eq!(property(&long, "/", "model"), Err(Error::BadStructure));
        // Every truncation of the structure block is an error, never a panic.
        for cut in 0..good.len() {
            let mut t = good.clone();
            t.truncate(cut);
            let _ = property(&t, "/chosen", "rng-seed");
            let _ = remove_secure_seeds(&mut t);
        }
        // Any single corrupted byte of the structure block: an answer or an
        // error, never a panic.
        let st = u32::from_be_bytes([good[8], good[9], good[10], good[11]]) as usize;
        for i in st..good.len() {
            for v in [0x00, 0x03, 0x7f, 0xff] {
                let mut t = good.clone();
                t[i] = v;
                let _ = property(&t, "/chosen", "rng-seed");
                let _ = nop_node(&mut t, "/secure-chosen");
                let _ = remove_secure_seeds(&mut t);
            }
        }
        // Unknown tokens.
        let mut junk = good.clone();
        junk[st..st + 4].copy_from_slice(&7u32.to_be_bytes());
        assert_eq!(property(&junk, "/", "model"), Err(Error::BadStructure));
    }
}
