//! Files damaged or replaced behind the engine's back: each gives
//! CORRUPT_OBJECT (ITEM_NOT_FOUND when the file is gone) for the objects
//! concerned only, never a panic.
//!
//! What is not detected without the RPMB anchor: a whole old copy of an
//! object's file put back (it authenticates: it is a genuine earlier
//! version), and damage to the newest header slot of a file whose other
//! slot still holds the previous version (indistinguishable from a power
//! cut during the last update: the previous version is served).

use super::*;
use alloc::vec;

const CORRUPT: Option<TeeResult> = Some(TeeResult::ERROR_CORRUPT_OBJECT);

/// Three objects of TA 1 and one of TA 2; returns their ids and data.
fn setup(b: &mut MemBackend, r: &mut Rng) -> Vec<(&'static [u8], Vec<u8>)> {
    let s = store(1);
    let objs: Vec<(&'static [u8], Vec<u8>)> =
        vec![(b"one", pattern(1, 10_000)), (b"two", pattern(2, 300)), (b"three", pattern(3, 9000))];
    for (id, d) in &objs {
        mk(b, &s, id, d, r).close(b).unwrap();
    }
    mk(b, &store(2), b"one", b"ta2", r).close(b).unwrap();
    objs
}

/// Every object except `skip` opens and reads its data; TA 2's too. List
/// shows all but the `unlisted` ones.
fn others_fine(b: &mut MemBackend, objs: &[(&'static [u8], Vec<u8>)], skip: &[&[u8]]) {
    others_listed(b, objs, skip, skip)
}

fn others_listed(b: &mut MemBackend, objs: &[(&'static [u8], Vec<u8>)], skip: &[&[u8]], unlisted: &[&[u8]]) {
    let s = store(1);
    for (id, d) in objs {
        if skip.contains(id) {
            continue;
        }
        let mut o = s.open(b, id).unwrap();
        assert_eq!(&read_all(&mut o, b).unwrap(), d);
        o.close(b).unwrap();
    }
    let mut o = store(2).open(b, b"one").unwrap();
    assert_eq!(read_all(&mut o, b).unwrap(), b"ta2");
    o.close(b).unwrap();
    let listed: Vec<Vec<u8>> = s.list(b).unwrap().into_iter().map(|e| e.id).collect();
    for (id, _) in objs {
        assert_eq!(listed.contains(&id.to_vec()), !unlisted.contains(id), "{:?}", core::str::from_utf8(id));
    }
    assert_eq!(b.open_count(), 0);
}

/// Opens `id` and reads all of it: the first error.
fn open_read(b: &mut MemBackend, id: &[u8]) -> Option<TeeResult> {
    let s = store(1);
    let mut o = match s.open(b, id) {
        Ok(o) => o,
        Err(e) => return Some(e),
    };
    let r = read_all(&mut o, b).err();
    o.close(b).unwrap();
    r
}

#[test]
fn flipped_bytes() {
    let s = store(1);
    // Header prefix, header tag, header body, first and last data block.
    for off in [0usize, 6, 10, 30, 40, 50, 70, 200, 8192, 8192 + 4096 + 5, 8192 + 2 * 4096 + 100] {
        let mut b = MemBackend::new();
        let mut r = Rng(off as u64 + 1);
        let objs = setup(&mut b, &mut r);
        let path = s.keys.object_path(b"one");
        b.flip(&path, off, 0x10);
        assert_eq!(open_read(&mut b, b"one"), CORRUPT, "flip at {off}");
        others_listed(&mut b, &objs, &[b"one"], if off < 8192 { &[b"one"] } else { &[] });
        // GP: the corrupt object is removed; the store goes on.
        s.remove_corrupt(&mut b, b"one").unwrap();
        assert_eq!(open_read(&mut b, b"one"), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
        others_fine(&mut b, &objs, &[b"one"]);
        mk(&mut b, &s, b"one", b"again", &mut r).close(&mut b).unwrap();
    }
}

#[test]
fn newest_header_damaged_serves_the_previous_version() {
    let s = store(1);
    let mut b = MemBackend::new();
    let mut r = Rng(9);
    let objs = setup(&mut b, &mut r);
    let mut o = s.open(&mut b, b"two").unwrap();
    o.write(&mut b, 0, b"NEW", &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    // The newest header is slot B (offset 4096 in a 4 KiB-slot file).
    b.flip(&s.keys.object_path(b"two"), 4096 + 100, 1);
    let mut o = s.open(&mut b, b"two").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), pattern(2, 300), "previous version expected");
    o.close(&mut b).unwrap();
    // Both slots damaged: corrupt.
    b.flip(&s.keys.object_path(b"two"), 100, 1);
    assert_eq!(open_read(&mut b, b"two"), CORRUPT);
    others_fine(&mut b, &objs, &[b"two"]);
}

#[test]
fn swapped_and_foreign_files() {
    let s = store(1);
    let mut b = MemBackend::new();
    let mut r = Rng(10);
    let objs = setup(&mut b, &mut r);
    b.swap(&s.keys.object_path(b"one"), &s.keys.object_path(b"two"));
    assert_eq!(open_read(&mut b, b"one"), CORRUPT);
    assert_eq!(open_read(&mut b, b"two"), CORRUPT);
    others_fine(&mut b, &objs, &[b"one", b"two"]);
    // A file of another TA put under this TA's name: its key differs.
    let foreign = b.get(&store(2).keys.object_path(b"one")).unwrap().clone();
    b.put(&s.keys.object_path(b"three"), foreign);
    assert_eq!(open_read(&mut b, b"three"), CORRUPT);
    // A copy of an object's file under a name of its own TA.
    let copy = b.get(&s.keys.object_path(b"one")).unwrap().clone();
    b.put(&s.keys.object_path(b"four"), copy);
    assert_eq!(open_read(&mut b, b"four"), CORRUPT);
    assert_eq!(s.list(&mut b).unwrap().len(), 0);
    // Junk files in the directory are skipped by list and removed by
    // nobody: they are not objects.
    b.put(&alloc::format!("{}/{}", s.keys.dir, "f".repeat(64)), vec![0; 10]);
    assert_eq!(s.list(&mut b).unwrap().len(), 0);
}

#[test]
fn truncated_and_deleted_files() {
    let s = store(1);
    for cut in [0usize, 10, 47, 64, 500, 8192, 8192 + 4096, 8192 + 4096 + 100] {
        let mut b = MemBackend::new();
        let mut r = Rng(cut as u64 + 100);
        let objs = setup(&mut b, &mut r);
        b.cut_file(&s.keys.object_path(b"one"), cut);
        assert_eq!(open_read(&mut b, b"one"), CORRUPT, "cut at {cut}");
        // The header (about 200 bytes) intact: listed, its data corrupt.
        others_listed(&mut b, &objs, &[b"one"], if cut < 200 { &[b"one"] } else { &[] });
    }
    let mut b = MemBackend::new();
    let mut r = Rng(1000);
    let objs = setup(&mut b, &mut r);
    b.delete(&s.keys.object_path(b"three"));
    assert_eq!(open_read(&mut b, b"three"), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
    others_fine(&mut b, &objs, &[b"three"]);
}

#[test]
fn old_copy_put_back_is_not_detected_without_anchor() {
    let s = store(1);
    let mut b = MemBackend::new();
    let mut r = Rng(11);
    let objs = setup(&mut b, &mut r);
    let snap = b.snapshot();
    let mut o = s.open(&mut b, b"one").unwrap();
    o.write(&mut b, 0, b"newer", &mut |x| r.fill(x)).unwrap();
    o.write(&mut b, 5000, b"newer still", &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    let path = s.keys.object_path(b"one");
    b.restore(&snap, Some(&path));
    // The old version authenticates: a genuine earlier state of this
    // object. Detecting it needs the RPMB anchor (issue 11, item 2).
    let mut o = s.open(&mut b, b"one").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), pattern(1, 10_000));
    o.close(&mut b).unwrap();
    others_fine(&mut b, &objs, &[]);
    // An old block alone put back (rest of the file new) is detected: the
    // header holds each block's tag.
    let mut o = s.open(&mut b, b"one").unwrap();
    o.write(&mut b, 0, &pattern(50, 10_000), &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    // The rewrite went to three fresh blocks after the three old ones
    // (copy on write); put the old ciphertexts where the header points.
    let mut cur = b.get(&path).unwrap().clone();
    assert_eq!(cur.len(), 8192 + 6 * 4096);
    cur.copy_within(8192..8192 + 3 * 4096, 8192 + 3 * 4096);
    b.put(&path, cur);
    assert_eq!(open_read(&mut b, b"one"), CORRUPT);
}

/// Random damage (flips, cuts, junk) never panics: each open and read
/// either gives the object's data (an untouched region, or a fallback to
/// its other header slot) or CORRUPT_OBJECT.
#[test]
fn random_damage_never_panics() {
    let s = store(1);
    let mut rng = Rng(0xfeed);
    for round in 0..120u32 {
        let mut b = MemBackend::new();
        let mut r = Rng(round as u64 + 7);
        let objs = setup(&mut b, &mut r);
        let mut o = s.open(&mut b, b"one").unwrap();
        o.write(&mut b, 4000, b"update", &mut |x| r.fill(x)).unwrap();
        o.close(&mut b).unwrap();
        let mut after = objs[0].1.clone();
        after[4000..4006].copy_from_slice(b"update");
        let path = s.keys.object_path(b"one");
        let mut f = b.get(&path).unwrap().clone();
        let mut x = [0u8; 8];
        rng.fill(&mut x);
        let k = u64::from_le_bytes(x);
        match round % 3 {
            0 => {
                for j in 0..(1 + k % 4) {
                    let at = ((k >> (8 * j)) as usize).wrapping_mul(7919) % f.len();
                    f[at] ^= 1 << (j % 8);
                }
            }
            1 => f.truncate((k as usize) % f.len()),
            _ => {
                let at = (k as usize) % f.len();
                let n = (64 + (k >> 32) as usize % 300).min(f.len() - at);
                rng.fill(&mut f[at..at + n]);
            }
        }
        b.put(&path, f);
        match s.open(&mut b, b"one") {
            Ok(mut o) => {
                match read_all(&mut o, &mut b) {
                    Ok(d) => assert!(d == after || d == objs[0].1, "round {round}: wrong data served"),
                    Err(e) => assert_eq!(e, TeeResult::ERROR_CORRUPT_OBJECT),
                }
                o.close(&mut b).unwrap();
            }
            Err(e) => assert_eq!(e, TeeResult::ERROR_CORRUPT_OBJECT),
        }
        let _ = s.list(&mut b).unwrap();
        others_fine(&mut b, &objs[1..], &[]);
    }
}

/// A damaged header claiming the largest slot and body: no large
/// allocation, CORRUPT_OBJECT, and list goes on.
#[test]
fn huge_claimed_header() {
    let s = store(1);
    let mut b = MemBackend::new();
    let mut r = Rng(12);
    let objs = setup(&mut b, &mut r);
    let path = s.keys.object_path(b"two");
    let mut f = b.get(&path).unwrap().clone();
    f[6] = 27; // slot 128 MiB
    f[44..48].copy_from_slice(&(100u32 << 20).to_le_bytes());
    b.put(&path, f);
    assert_eq!(open_read(&mut b, b"two"), CORRUPT);
    others_fine(&mut b, &objs, &[b"two"]);
}
