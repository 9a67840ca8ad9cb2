//! Host tests of the storage engine over the in-memory backend: the
//! engine's operations, backend round trips, tampering, and (in
//! [`crash`]) a power cut at every durable operation of a workload.

mod crash;
mod tamper;

use super::backend::mem::MemBackend;
use super::engine::{BLOCK, ObjMeta, Object, Store};
use super::keys::{TaKeys, ssk};
use super::{STORAGE_PRIVATE_REE, backend::Backend};
use alloc::vec::Vec;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

/// A deterministic random source (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

/// Test data: `len` bytes depending on `seed`.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(31).wrapping_add(seed as u32 * 101) as u8 ^ (i >> 12) as u8).collect()
}

pub fn store(ta: u8) -> Store {
    let k = ssk(&[0x5a; 32]);
    Store::new(TaKeys::new(&k, STORAGE_PRIVATE_REE, &Uuid::new(0x1234, 5, 6, [ta; 8])))
}

pub fn meta(t: u32) -> ObjMeta {
    ObjMeta { obj_type: 0xA000_0000, key_size: 0, max_key_size: t, usage: 0xffff_ffff, flags: 7 }
}

/// All the data of an object.
pub fn read_all(o: &mut Object, b: &mut dyn Backend) -> Result<Vec<u8>, TeeResult> {
    let mut v = alloc::vec![0u8; o.data_len() as usize];
    let n = o.read(b, 0, &mut v)?;
    assert_eq!(n, v.len());
    Ok(v)
}

fn mk(b: &mut MemBackend, s: &Store, id: &[u8], data: &[u8], r: &mut Rng) -> Object {
    s.create(b, id, &meta(1), b"attrs", data, false, &mut |x| r.fill(x)).expect("create")
}

#[test]
fn create_open_read_meta_attrs() {
    let mut b = MemBackend::new();
    let mut r = Rng(1);
    let s = store(1);
    for (i, len) in [0usize, 1, 100, 4095, 4096, 4097, 3 * BLOCK + 17, 300_000].into_iter().enumerate() {
        let id = [b'o', i as u8];
        let d = pattern(i as u8, len);
        let o = s.create(&mut b, &id, &meta(i as u32), &pattern(9, i * 10), &d, false, &mut |x| r.fill(x)).unwrap();
        o.close(&mut b).unwrap();
        let mut o = s.open(&mut b, &id).unwrap();
        assert_eq!(o.id(), &id);
        assert_eq!(o.data_len(), len as u64);
        assert_eq!(o.meta(), &meta(i as u32));
        assert_eq!(o.attrs(), &pattern(9, i * 10)[..]);
        assert_eq!(read_all(&mut o, &mut b).unwrap(), d);
        // Reads at every alignment, and past the end.
        for (pos, n) in [(0u64, 10usize), (4090, 20), (len as u64 / 2, 5000), (len as u64, 10), (len as u64 + 5, 3)] {
            let mut buf = alloc::vec![0xeeu8; n];
            let got = o.read(&mut b, pos, &mut buf).unwrap();
            let want = if pos >= len as u64 { 0 } else { n.min(len - pos as usize) };
            assert_eq!(got, want);
            if got > 0 {
                assert_eq!(&buf[..got], &d[pos as usize..pos as usize + got]);
            }
        }
        o.close(&mut b).unwrap();
    }
    assert_eq!(b.open_count(), 0);
    assert_eq!(s.list(&mut b).unwrap().len(), 8);
    assert_eq!(s.open(&mut b, b"nope").err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
    assert_eq!(s.open(&mut b, &[0; 65]).err(), Some(TeeResult::ERROR_BAD_PARAMETERS));
}

#[test]
fn overwrite_rules() {
    let mut b = MemBackend::new();
    let mut r = Rng(2);
    let s = store(1);
    mk(&mut b, &s, b"k", b"one", &mut r).close(&mut b).unwrap();
    let e = s.create(&mut b, b"k", &meta(2), b"", b"two", false, &mut |x| r.fill(x)).err();
    assert_eq!(e, Some(TeeResult::ERROR_ACCESS_CONFLICT));
    let mut o = s.open(&mut b, b"k").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), b"one");
    o.close(&mut b).unwrap();
    let o = s.create(&mut b, b"k", &meta(2), b"", b"two", true, &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    let mut o = s.open(&mut b, b"k").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), b"two");
    assert_eq!(o.meta(), &meta(2));
    o.close(&mut b).unwrap();
    // No temporary file left behind.
    assert_eq!(b.names().len(), 1);
}

#[test]
fn writes_gaps_and_truncate() {
    let mut b = MemBackend::new();
    let mut r = Rng(3);
    let s = store(1);
    let mut model = pattern(1, 5000);
    let mut o = mk(&mut b, &s, b"w", &model, &mut r);
    let put = |o: &mut Object, b: &mut MemBackend, model: &mut Vec<u8>, pos: usize, d: &[u8], r: &mut Rng| {
        o.write(b, pos as u64, d, &mut |x| r.fill(x)).unwrap();
        if model.len() < pos + d.len() {
            model.resize(pos + d.len(), 0);
        }
        model[pos..pos + d.len()].copy_from_slice(d);
    };
    put(&mut o, &mut b, &mut model, 10, &pattern(2, 100), &mut r);
    put(&mut o, &mut b, &mut model, 4000, &pattern(3, 200), &mut r);
    put(&mut o, &mut b, &mut model, 20_000, &pattern(4, 10), &mut r); // gap of holes
    put(&mut o, &mut b, &mut model, 8190, &pattern(5, 9000), &mut r);
    put(&mut o, &mut b, &mut model, 0, &[], &mut r);
    assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    // Shrink into a block, then grow: the grown part reads as zeros.
    o.truncate(&mut b, 6001, &mut |x| r.fill(x)).unwrap();
    model.truncate(6001);
    assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    o.truncate(&mut b, 30_000, &mut |x| r.fill(x)).unwrap();
    model.resize(30_000, 0);
    assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    o.truncate(&mut b, 0, &mut |x| r.fill(x)).unwrap();
    model.clear();
    assert_eq!(o.data_len(), 0);
    put(&mut o, &mut b, &mut model, 3, b"abc", &mut r);
    o.set_usage(&mut b, 5, &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    let mut o = s.open(&mut b, b"w").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    assert_eq!(o.meta().usage, 5);
    assert_eq!(o.write(&mut b, 0xffff_fff0, &[0; 32], &mut |x| r.fill(x)).err(), Some(TeeResult::ERROR_OVERFLOW));
    // A shrink gives the file's tail back.
    let big = pattern(6, 100_000);
    o.write(&mut b, 0, &big, &mut |x| r.fill(x)).unwrap();
    let path = s.keys.object_path(b"w");
    let before = b.get(&path).unwrap().len();
    o.truncate(&mut b, 10, &mut |x| r.fill(x)).unwrap();
    assert!(b.get(&path).unwrap().len() < before / 4, "file not trimmed");
    o.close(&mut b).unwrap();
}

#[test]
fn rename_remove_list_and_tas_apart() {
    let mut b = MemBackend::new();
    let mut r = Rng(4);
    let (s1, s2) = (store(1), store(2));
    mk(&mut b, &s1, b"a", b"AAA", &mut r).close(&mut b).unwrap();
    mk(&mut b, &s1, b"b", b"BBB", &mut r).close(&mut b).unwrap();
    mk(&mut b, &s2, b"a", b"other TA", &mut r).close(&mut b).unwrap();
    let mut o = s1.open(&mut b, b"a").unwrap();
    assert_eq!(o.rename(&s1, &mut b, b"b", &mut |x| r.fill(x)).err(), Some(TeeResult::ERROR_ACCESS_CONFLICT));
    assert_eq!(o.rename(&s1, &mut b, b"a", &mut |x| r.fill(x)).err(), Some(TeeResult::ERROR_ACCESS_CONFLICT));
    o.rename(&s1, &mut b, b"c", &mut |x| r.fill(x)).unwrap();
    assert_eq!(o.id(), b"c");
    o.write(&mut b, 3, b"!", &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    assert_eq!(s1.open(&mut b, b"a").err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
    let mut o = s1.open(&mut b, b"c").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), b"AAA!");
    o.remove(&mut b).unwrap();
    assert_eq!(s1.open(&mut b, b"c").err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
    let l = s1.list(&mut b).unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].id, b"b");
    assert_eq!(l[0].data_len, 3);
    assert_eq!(l[0].meta, meta(1));
    let mut o = s2.open(&mut b, b"a").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), b"other TA");
    o.close(&mut b).unwrap();
    assert_eq!(s2.open(&mut b, b"b").err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
    assert_eq!(s2.list(&mut b).unwrap().len(), 1);
    assert_eq!(b.open_count(), 0);
    // recover removes temporary files, nothing else.
    b.put(&alloc::format!("{}/x.1234.tmp", s1.keys.dir), alloc::vec![1, 2]);
    s1.recover(&mut b).unwrap();
    assert_eq!(b.names().len(), 2);
}

/// Backend round trips of the 1 KiB write and read loops of a 1 MiB
/// object (each would be an RPC in the kernel).
#[test]
fn round_trips_per_kib() {
    let mut b = MemBackend::new();
    let mut r = Rng(5);
    let s = store(1);
    let mut o = mk(&mut b, &s, b"big", &[], &mut r);
    let chunk = pattern(7, 1024);
    let c0 = b.calls;
    for i in 0..1024u64 {
        o.write(&mut b, i * 1024, &chunk, &mut |x| r.fill(x)).unwrap();
    }
    let c1 = b.calls;
    let wcalls = c1.total() - c0.total();
    o.close(&mut b).unwrap();
    let mut o = s.open(&mut b, b"big").unwrap();
    let c2 = b.calls;
    let mut buf = [0u8; 1024];
    for i in 0..1024u64 {
        assert_eq!(o.read(&mut b, i * 1024, &mut buf).unwrap(), 1024);
        assert_eq!(buf[..], chunk[..]);
    }
    let rcalls = b.calls.total() - c2.total();
    o.close(&mut b).unwrap();
    std::eprintln!(
        "1 MiB in 1 KiB chunks: write {} backend calls ({:.2}/chunk: {} writes, {} reads, {} other), read {} calls ({:.2}/chunk)",
        wcalls,
        wcalls as f64 / 1024.0,
        c1.write - c0.write,
        c1.read - c0.read,
        wcalls - (c1.write - c0.write) - (c1.read - c0.read),
        rcalls,
        rcalls as f64 / 1024.0
    );
    // One block write and one header write per chunk, plus the header
    // rebuilds as the block map grows.
    assert!(wcalls <= 2 * 1024 + 40, "{wcalls}");
    assert!(rcalls <= 256 + 4, "{rcalls}");
    // One big write and read: runs of blocks per backend call.
    let big = pattern(8, 1 << 20);
    let mut o = s.open(&mut b, b"big").unwrap();
    let c3 = b.calls;
    o.write(&mut b, 0, &big, &mut |x| r.fill(x)).unwrap();
    let w = b.calls.total() - c3.total();
    let c4 = b.calls;
    assert_eq!(read_all(&mut o, &mut b).unwrap(), big);
    let rd = b.calls.total() - c4.total();
    std::eprintln!("1 MiB in one call: write {w} backend calls, read {rd}");
    assert!(w <= 1 + (256 / 64) + 1, "{w}");
    assert!(rd <= 8, "{rd}");
    o.close(&mut b).unwrap();
    let mut o = s.open(&mut b, b"big").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), big);
    o.close(&mut b).unwrap();
}

#[test]
fn header_grows_into_a_new_file() {
    let mut b = MemBackend::new();
    let mut r = Rng(6);
    let s = store(3);
    let mut o = mk(&mut b, &s, b"g", b"x", &mut r);
    let path = s.keys.object_path(b"g");
    // Sparse writes grow the block map (and so the header) cheaply.
    let mut model = b"x".to_vec();
    for (i, pos) in [100_000usize, 400_000, 900_000, 2_000_000, 4_100_000].into_iter().enumerate() {
        let d = pattern(i as u8, 5000);
        o.write(&mut b, pos as u64, &d, &mut |x| r.fill(x)).unwrap();
        model.resize(pos + d.len(), 0);
        model[pos..pos + d.len()].copy_from_slice(&d);
        assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    }
    // Slot capacity grew (data starts far beyond 8 KiB).
    assert!(b.get(&path).unwrap().len() > 64 * 1024);
    o.write(&mut b, 1, b"yz", &mut |x| r.fill(x)).unwrap();
    model[1..3].copy_from_slice(b"yz");
    o.close(&mut b).unwrap();
    assert_eq!(b.names().len(), 1);
    let mut o = s.open(&mut b, b"g").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    o.truncate(&mut b, 3, &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    let mut o = s.open(&mut b, b"g").unwrap();
    assert_eq!(read_all(&mut o, &mut b).unwrap(), b"xyz");
    o.close(&mut b).unwrap();
}

/// A header write that reports failure may still have reached the file:
/// the handle must then keep that header's blocks, so that a later update
/// cut by a power loss cannot damage the version on disk.
#[test]
fn failed_commit_then_power_cut() {
    for applied in [true, false] {
        for tear in 0..4u64 {
            let mut b = MemBackend::new();
            let mut r = Rng(77 + tear);
            let s = store(4);
            let d0 = pattern(1, 3 * BLOCK);
            let mut o = mk(&mut b, &s, b"f", &d0, &mut r);
            // The first write's durable operations: block, header.
            let n = b.ops;
            b.fail_at(n + 1, applied);
            let e = o.write(&mut b, 0, &pattern(2, 2 * BLOCK), &mut |x| r.fill(x)).err();
            assert_eq!(e, Some(TeeResult::ERROR_COMMUNICATION));
            let mut d1 = d0.clone();
            d1[..2 * BLOCK].copy_from_slice(&pattern(2, 2 * BLOCK));
            // The handle goes on: its own view is the old version.
            assert_eq!(read_all(&mut o, &mut b).unwrap(), d0);
            // The next write's block write is cut.
            b.cut_with(b.ops, tear);
            assert!(o.write(&mut b, BLOCK as u64, &pattern(3, 2 * BLOCK), &mut |x| r.fill(x)).is_err());
            drop(o);
            b.reboot();
            let mut o = s.open(&mut b, b"f").unwrap();
            let got = read_all(&mut o, &mut b).expect("not corrupt");
            assert_eq!(got, if applied { d1 } else { d0 }, "applied {applied} tear {tear}");
            o.close(&mut b).unwrap();
        }
    }
}

/// Backend calls of open and of a small create.
#[test]
fn round_trips_open_create() {
    let mut b = MemBackend::new();
    let mut r = Rng(8);
    let s = store(1);
    let c = b.calls;
    let o = mk(&mut b, &s, b"small", &pattern(1, 300), &mut r);
    assert_eq!(b.calls.total() - c.total(), 5, "create, write, close, rename, open");
    assert_eq!(b.calls.write - c.write, 1);
    o.close(&mut b).unwrap();
    let c = b.calls;
    let mut o = s.open(&mut b, b"small").unwrap();
    assert_eq!(b.calls.total() - c.total(), 2, "open, one read");
    o.write(&mut b, 0, b"x", &mut |x| r.fill(x)).unwrap();
    o.close(&mut b).unwrap();
    let c = b.calls;
    let o = s.open(&mut b, b"small").unwrap();
    assert_eq!(b.calls.total() - c.total(), 2, "open, one read (both slots)");
    o.close(&mut b).unwrap();
}

/// Random writes, truncates and reads (small and large, aligned or not)
/// through one handle, reopened now and then, against a plain vector.
#[test]
fn random_ops_match_a_model() {
    let mut b = MemBackend::new();
    let mut r = Rng(0xabcdef);
    let s = store(5);
    let mut model = pattern(3, 7000);
    let mut o = mk(&mut b, &s, b"m", &model, &mut r);
    let mut x = Rng(42);
    let mut n = |m: u64| {
        let mut v = [0u8; 8];
        x.fill(&mut v);
        u64::from_le_bytes(v) % m
    };
    for step in 0..400u32 {
        match n(10) {
            0..=3 => {
                let pos = n(40_000) as usize;
                let len = if n(4) == 0 { n(12_000) } else { n(1500) } as usize;
                let d = pattern(step as u8, len);
                o.write(&mut b, pos as u64, &d, &mut |x| r.fill(x)).unwrap();
                if len > 0 {
                    if model.len() < pos + len {
                        model.resize(pos + len, 0);
                    }
                    model[pos..pos + len].copy_from_slice(&d);
                }
            }
            4 => {
                let len = n(45_000) as usize;
                o.truncate(&mut b, len as u64, &mut |x| r.fill(x)).unwrap();
                model.resize(len, 0);
            }
            5 => {
                o.close(&mut b).unwrap();
                o = s.open(&mut b, b"m").unwrap();
            }
            _ => {
                let pos = n(46_000) as usize;
                let len = if n(3) == 0 { n(20_000) } else { n(2000) } as usize;
                let mut buf = alloc::vec![0xa5u8; len];
                let got = o.read(&mut b, pos as u64, &mut buf).unwrap();
                let want = model.len().saturating_sub(pos).min(len);
                assert_eq!(got, want, "step {step}");
                if got > 0 {
                    assert_eq!(&buf[..got], &model[pos..pos + got], "step {step}");
                }
            }
        }
        assert_eq!(o.data_len(), model.len() as u64);
    }
    assert_eq!(read_all(&mut o, &mut b).unwrap(), model);
    o.close(&mut b).unwrap();
    // The file does not grow without bound (blocks are reused).
    let len = b.get(&s.keys.object_path(b"m")).unwrap().len();
    assert!(len < 4 * 48_000 + 64 * 1024, "{len}");
}
