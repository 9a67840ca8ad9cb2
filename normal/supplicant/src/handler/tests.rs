//! The handlers driven as the kernel would, with shared memory backed by
//! plain vectors, and a deterministic fuzzer of malformed requests.

use super::*;
use crate::errors::*;
use crate::fs::{DIR_MODE, FILE_MODE};
use crate::rpmb;
use crate::shm::{MAX_ALLOC, MAX_TOTAL, ShmBuf};
use crate::tests::{mode, tmpdir};
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};

struct VecBuf(Vec<u8>);

impl ShmBuf for VecBuf {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

struct VecDriver(AtomicI32);

impl ShmDriver for VecDriver {
    fn register(&self, size: usize) -> Result<(i32, Box<dyn ShmBuf>), u32> {
        Ok((self.0.fetch_add(1, Ordering::Relaxed), Box::new(VecBuf(vec![0; size]))))
    }
}

const TA_UUID: &str = "8aaaf200-2450-11e4-abe2-0002a5d5c51b";

struct Env {
    h: Handler,
    dir: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let dir = tmpdir(tag);
        std::fs::create_dir(dir.join("ta")).unwrap();
        std::fs::write(dir.join("ta").join(format!("{TA_UUID}.ta")), b"signed image").unwrap();
        let cfg = Config {
            fs_root: dir.join("tee"),
            ta_dir: dir.join("ta"),
            rpmb_file: dir.join("tee/rpmb.bin"),
            verbose: false,
        };
        Env { h: Handler::new(cfg, Box::new(VecDriver(AtomicI32::new(1)))), dir }
    }

    fn alloc(&self, size: u64) -> i32 {
        let mut p = [value(VALUE_INOUT, 0, size, 0)];
        assert_eq!(self.h.handle(rpc::CMD_SHM_ALLOC, &mut p), SUCCESS);
        p[0].c as i32
    }

    fn put(&self, id: i32, offset: usize, data: &[u8]) {
        let m = Memref { id, offset, len: data.len() };
        self.h.shm.write(&m, data).unwrap();
    }

    fn get(&self, id: i32, offset: usize, len: usize) -> Vec<u8> {
        self.h.shm.read(&Memref { id, offset, len }, len).unwrap()
    }

    fn fs(&self, params: &mut [IoctlParam]) -> u32 {
        self.h.handle(rpc::CMD_FS, params)
    }
}

fn value(kind: u64, a: u64, b: u64, c: u64) -> IoctlParam {
    IoctlParam { attr: kind, a, b, c }
}

fn memref(kind: u64, id: i32, offset: u64, size: u64) -> IoctlParam {
    IoctlParam { attr: kind, a: offset, b: size, c: id as u64 }
}

fn uuid_value() -> IoctlParam {
    let octets = TA_UUID.replace('-', "");
    let o: Vec<u8> = (0..16).map(|i| u8::from_str_radix(&octets[2 * i..2 * i + 2], 16).unwrap()).collect();
    let a = u64::from_le_bytes(o[..8].try_into().unwrap());
    let b = u64::from_le_bytes(o[8..].try_into().unwrap());
    value(VALUE_INPUT, a, b, 0)
}

#[test]
fn load_ta_size_query_then_load() {
    let e = Env::new("load");
    // Size query: a NULL memref (no shared memory) reports the size.
    let mut p = [uuid_value(), memref(MEMREF_OUTPUT, -1, 0, 0)];
    p[1].c = oxtee_teec::sys::TEE_MEMREF_NULL;
    assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), SUCCESS);
    assert_eq!(p[1].b, 12);
    let id = e.alloc(64);
    let mut p = [uuid_value(), memref(MEMREF_OUTPUT, id, 8, 12)];
    assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), SUCCESS);
    assert_eq!((p[1].b, e.get(id, 8, 12)), (12, b"signed image".to_vec()));
    // Too small a buffer: SHORT_BUFFER with the size needed, nothing written.
    let id2 = e.alloc(64);
    let mut p = [uuid_value(), memref(MEMREF_OUTPUT, id2, 0, 11)];
    assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), SHORT_BUFFER);
    assert_eq!((p[1].b, e.get(id2, 0, 12)), (12, vec![0; 12]));
    // A buffer reaching past its shared memory, or an input "buffer" that
    // is not ours.
    for bad in
        [memref(MEMREF_OUTPUT, id, 60, 12), memref(MEMREF_OUTPUT, id, u64::MAX, 2), memref(MEMREF_INPUT, 999, 0, 0)]
    {
        let mut p = [uuid_value(), bad];
        assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), BAD_PARAMETERS, "{bad:?}");
    }
    let mut p = [value(VALUE_INPUT, 1, 2, 0), memref(MEMREF_OUTPUT, id, 0, 64)];
    assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), ITEM_NOT_FOUND);
    for params in [&mut [uuid_value()][..], &mut [uuid_value(), memref(MEMREF_OUTPUT, id, 0, 64), uuid_value()]] {
        assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, params), BAD_PARAMETERS, "parameter count");
    }
    let mut p = [memref(MEMREF_OUTPUT, id, 0, 64), uuid_value()];
    assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), BAD_PARAMETERS, "parameter types");
}

#[test]
fn load_ta_finds_the_legacy_name() {
    let e = Env::new("legacy");
    let legacy = TA_UUID[..23].to_string() + &TA_UUID[24..];
    std::fs::rename(e.dir.join(format!("ta/{TA_UUID}.ta")), e.dir.join(format!("ta/{legacy}.ta"))).unwrap();
    let mut p = [uuid_value(), memref(MEMREF_OUTPUT, -1, 0, 0)];
    assert_eq!(e.h.handle(rpc::CMD_LOAD_TA, &mut p), SUCCESS);
    assert_eq!(p[1].b, 12);
}

#[test]
fn fs_round_trip_through_shared_memory() {
    let e = Env::new("fsrt");
    let id = e.alloc(4096);
    e.put(id, 0, b"/dir/file\0");
    e.put(id, 100, b"payload");
    let name = memref(MEMREF_INPUT, id, 0, 10);
    let mut p = [value(VALUE_INPUT, rpc::FS_CREATE as u64, 0, 0), name, value(VALUE_OUTPUT, 0, 0, 0)];
    assert_eq!(e.fs(&mut p), SUCCESS);
    let fd = p[2].a;
    let mut p = [value(VALUE_INPUT, rpc::FS_WRITE as u64, fd, 2), memref(MEMREF_INPUT, id, 100, 7)];
    assert_eq!(e.fs(&mut p), SUCCESS);
    let mut p = [value(VALUE_INPUT, rpc::FS_READ as u64, fd, 0), memref(MEMREF_OUTPUT, id, 200, 100)];
    assert_eq!(e.fs(&mut p), SUCCESS);
    assert_eq!((p[1].b, e.get(id, 200, 9)), (9, b"\0\0payload".to_vec()));
    assert_eq!(e.fs(&mut [value(VALUE_INPUT, rpc::FS_CLOSE as u64, fd, 0)]), SUCCESS);
    assert_eq!(mode(&e.dir.join("tee")), DIR_MODE);
    assert_eq!(mode(&e.dir.join("tee/dir")), DIR_MODE);
    assert_eq!(mode(&e.dir.join("tee/dir/file")), FILE_MODE);
    let mut p = [
        value(VALUE_INPUT, rpc::FS_OPENDIR as u64, 0, 0),
        memref(MEMREF_INPUT, id, 0, 4),
        value(VALUE_OUTPUT, 0, 0, 0),
    ];
    assert_eq!(e.fs(&mut p), SUCCESS);
    let dh = p[2].a;
    let mut p = [value(VALUE_INPUT, rpc::FS_READDIR as u64, dh, 0), memref(MEMREF_OUTPUT, id, 300, 2)];
    assert_eq!(e.fs(&mut p), SHORT_BUFFER);
    assert_eq!(p[1].b, 5, "the size needed");
    let mut p = [value(VALUE_INPUT, rpc::FS_READDIR as u64, dh, 0), memref(MEMREF_OUTPUT, id, 300, 64)];
    p[1].b = 64;
    // The entry was consumed by the short read, as upstream's readdir.
    assert_eq!(e.fs(&mut p), ITEM_NOT_FOUND);
    let mut p = [value(VALUE_INPUT, rpc::FS_REMOVE as u64, 0, 0), name];
    assert_eq!(e.fs(&mut p), SUCCESS);
    assert!(!e.dir.join("tee/dir").exists());
}

#[test]
fn fs_sizes_are_bounded_by_the_shared_memory() {
    let e = Env::new("fsbounds");
    let id = e.alloc(64);
    e.put(id, 0, b"f\0");
    let mut p =
        [value(VALUE_INPUT, rpc::FS_CREATE as u64, 0, 0), memref(MEMREF_INPUT, id, 0, 2), value(VALUE_OUTPUT, 0, 0, 0)];
    assert_eq!(e.fs(&mut p), SUCCESS);
    let fd = p[2].a;
    for (off, len) in [(0, 65), (1, 64), (64, 1), (0, u64::MAX), (u64::MAX, 1), (1 << 40, 1 << 40)] {
        for (cmd, kind) in [(rpc::FS_READ, MEMREF_OUTPUT), (rpc::FS_WRITE, MEMREF_INPUT)] {
            let mut p = [value(VALUE_INPUT, cmd as u64, fd, 0), memref(kind, id, off, len)];
            assert_eq!(e.fs(&mut p), BAD_PARAMETERS, "cmd {cmd} at {off} len {len}");
        }
    }
    // Memory that is not ours, or names that leave the root.
    let mut p = [value(VALUE_INPUT, rpc::FS_READ as u64, fd, 0), memref(MEMREF_OUTPUT, id + 1, 0, 1)];
    assert_eq!(e.fs(&mut p), BAD_PARAMETERS);
    for name in [&b"../escape\0"[..], b"a/../../b\0"] {
        e.put(id, 0, name);
        let mut p = [
            value(VALUE_INPUT, rpc::FS_CREATE as u64, 0, 0),
            memref(MEMREF_INPUT, id, 0, name.len() as u64),
            value(VALUE_OUTPUT, 0, 0, 0),
        ];
        assert_eq!(e.fs(&mut p), BAD_PARAMETERS, "{name:?}");
    }
    assert!(!e.dir.join("escape").exists() && !e.dir.join("b").exists());
}

#[test]
fn fs_parameter_counts_and_types_are_upstreams() {
    let e = Env::new("fstypes");
    let id = e.alloc(64);
    e.put(id, 0, b"f\0");
    let v = |cmd: u32| value(VALUE_INPUT, cmd as u64, 1, 0);
    let name = memref(MEMREF_INPUT, id, 0, 2);
    let out = value(VALUE_OUTPUT, 0, 0, 0);
    let cases: Vec<Vec<IoctlParam>> = vec![
        vec![],
        vec![memref(MEMREF_INPUT, id, 0, 2)],
        vec![v(rpc::FS_CREATE), name],
        vec![v(rpc::FS_CREATE), name, out, out],
        vec![v(rpc::FS_CREATE), name, value(VALUE_INPUT, 0, 0, 0)],
        vec![v(rpc::FS_CREATE), memref(MEMREF_OUTPUT, id, 0, 2), out],
        vec![value(VALUE_OUTPUT, rpc::FS_CREATE as u64, 0, 0), name, out],
        vec![v(rpc::FS_CLOSE), out],
        vec![v(rpc::FS_READ), memref(MEMREF_INPUT, id, 0, 2)],
        vec![v(rpc::FS_WRITE), memref(MEMREF_OUTPUT, id, 0, 2)],
        vec![v(rpc::FS_RENAME), name, out],
        vec![v(rpc::FS_READDIR), name],
        vec![value(VALUE_INPUT, 11, 0, 0)],
        vec![value(VALUE_INPUT, (1 << 32) | rpc::FS_CREATE as u64, 0, 0), name, out],
    ];
    for mut c in cases {
        assert_eq!(e.fs(&mut c), BAD_PARAMETERS, "{c:?}");
    }
    assert!(!e.dir.join("tee/f").exists());
    assert_eq!(e.fs(&mut [v(rpc::FS_CLOSE)]), BAD_PARAMETERS, "unknown handle");
}

#[test]
fn storage_that_cannot_be_created_is_not_available() {
    let dir = tmpdir("noroot");
    std::fs::write(dir.join("file"), b"").unwrap();
    let cfg = Config { fs_root: dir.join("file/tee"), ta_dir: dir.clone(), rpmb_file: dir.join("r"), verbose: false };
    let h = Handler::new(cfg, Box::new(VecDriver(AtomicI32::new(1))));
    let mut p = [value(VALUE_INPUT, rpc::FS_CLOSE as u64, 1, 0)];
    assert_eq!(h.handle(rpc::CMD_FS, &mut p), STORAGE_NOT_AVAILABLE);
}

#[test]
fn rpmb_response_length_is_checked_against_its_shared_memory() {
    let e = Env::new("rpmbshm");
    let rq = e.alloc(rpmb::REQ_HEAD as u64 + rpmb::FRAME as u64);
    let rs = e.alloc(rpmb::FRAME as u64);
    let mut f = [0u8; rpmb::FRAME];
    rpmb::put16(&mut f, rpmb::MSG_TYPE, rpmb::MSG_READ_DATA);
    e.put(rq, rpmb::REQ_HEAD, &f);
    let req = memref(MEMREF_INPUT, rq, 0, (rpmb::REQ_HEAD + rpmb::FRAME) as u64);
    for len in [u64::MAX, 1 << 40, rpmb::FRAME as u64 + 1, (rpmb::BLOCKS * rpmb::FRAME) as u64] {
        let mut p = [req, memref(MEMREF_OUTPUT, rs, 0, len)];
        assert_eq!(e.h.handle(rpc::CMD_RPMB, &mut p), BAD_PARAMETERS, "{len}");
    }
    let mut p = [req, memref(MEMREF_OUTPUT, rs, 0, rpmb::FRAME as u64)];
    assert_eq!(e.h.handle(rpc::CMD_RPMB, &mut p), SUCCESS);
    assert_eq!(e.get(rs, rpmb::MSG_TYPE, 2), vec![rpmb::MSG_READ_DATA as u8, 0]);
    let mut p = [req];
    assert_eq!(e.h.handle(rpc::CMD_RPMB, &mut p), BAD_PARAMETERS);
    let mut p = [req, memref(MEMREF_OUTPUT, 12345, 0, 512)];
    assert_eq!(e.h.handle(rpc::CMD_RPMB, &mut p), BAD_PARAMETERS, "response memory not ours");
}

#[test]
fn shared_memory_sizes_and_ids_are_checked() {
    let e = Env::new("shm");
    for size in [MAX_ALLOC as u64 + 1, u64::MAX, 1 << 40] {
        let mut p = [value(VALUE_INOUT, 0, size, 0)];
        assert_eq!(e.h.handle(rpc::CMD_SHM_ALLOC, &mut p), OUT_OF_MEMORY, "{size}");
    }
    // The total is bounded too.
    let ids: Vec<i32> = (0..MAX_TOTAL / MAX_ALLOC).map(|_| e.alloc(MAX_ALLOC as u64)).collect();
    let mut p = [value(VALUE_INOUT, 0, 1, 0)];
    assert_eq!(e.h.handle(rpc::CMD_SHM_ALLOC, &mut p), OUT_OF_MEMORY);
    let mut p = [value(VALUE_INPUT, 0, ids[0] as u64, 0)];
    assert_eq!(e.h.handle(rpc::CMD_SHM_FREE, &mut p), SUCCESS);
    assert_eq!(e.h.handle(rpc::CMD_SHM_FREE, &mut p), BAD_PARAMETERS, "already free");
    e.alloc(1);
    // An id that only matches after truncation to 32 bits is not one.
    let mut p = [value(VALUE_INPUT, 0, (1 << 32) | ids[1] as u64, 0)];
    assert_eq!(e.h.handle(rpc::CMD_SHM_FREE, &mut p), BAD_PARAMETERS);
    for mut p in [vec![], vec![memref(MEMREF_INPUT, 1, 0, 0)], vec![value(VALUE_INPUT, 0, 1, 0); 2]] {
        assert_eq!(e.h.handle(rpc::CMD_SHM_ALLOC, &mut p), BAD_PARAMETERS);
        assert_eq!(e.h.handle(rpc::CMD_SHM_FREE, &mut p), BAD_PARAMETERS);
    }
    assert_eq!(e.h.handle(99, &mut []), NOT_SUPPORTED);
}

/// splitmix64: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Random values that matter at the edges: small numbers, sizes around
/// `size`, numbers that overflow or truncate.
fn interesting(rng: &mut Rng, size: u64, id: i32) -> u64 {
    match rng.below(7) {
        0 => rng.below(16),
        1 => rng.below(size + 2),
        2 => rng.pick(&[u64::MAX, u64::MAX - 1, i64::MAX as u64, 1 << 32, (1 << 32) | 1, 1 << 40]),
        3 => id as u64,
        4 => rpmb::FRAME as u64 * rng.below(3),
        5 => rng.next(),
        _ => size,
    }
}

/// A request shaped as the secure side sends it (right count and types,
/// memrefs into live memory), so the fuzzer gets past the parameter checks.
fn well_formed(rng: &mut Rng, func: u32, name: (i32, u64), data: (i32, u64), uuid: IoctlParam) -> Vec<IoctlParam> {
    let name_ref = memref(MEMREF_INPUT, name.0, 0, name.1);
    let data_ref = |rng: &mut Rng, kind| {
        let off = rng.below(data.1 / 2 + 1);
        memref(kind, data.0, off, rng.below(data.1 - off + 1))
    };
    let out = value(VALUE_OUTPUT, 0, 0, 0);
    match func {
        rpc::CMD_FS => {
            let cmd = rng.below(11) as u32;
            let v = value(VALUE_INPUT, cmd as u64, rng.below(6), rng.pick(&[0, 1, 100, 5000]));
            match cmd {
                rpc::FS_OPEN | rpc::FS_CREATE | rpc::FS_OPENDIR => vec![v, name_ref, out],
                rpc::FS_READ | rpc::FS_READDIR => vec![v, data_ref(rng, MEMREF_OUTPUT)],
                rpc::FS_WRITE => vec![v, data_ref(rng, MEMREF_INPUT)],
                rpc::FS_REMOVE => vec![v, name_ref],
                rpc::FS_RENAME => vec![v, name_ref, data_ref(rng, MEMREF_INPUT)],
                _ => vec![v],
            }
        }
        rpc::CMD_LOAD_TA => {
            let buf = if rng.below(2) == 0 { memref(MEMREF_OUTPUT, -1, 0, 0) } else { data_ref(rng, MEMREF_OUTPUT) };
            vec![uuid, buf]
        }
        rpc::CMD_RPMB => {
            let frames = rng.below(3);
            let len = rpmb::REQ_HEAD as u64 + frames * rpmb::FRAME as u64;
            let any = rng.below(data.1 + 1);
            let rs = rng.pick(&[rpmb::DEV_INFO_LEN as u64, rpmb::FRAME as u64, 2 * rpmb::FRAME as u64, any]);
            vec![memref(MEMREF_INPUT, data.0, 0, len.min(data.1)), memref(MEMREF_OUTPUT, data.0, 0, rs.min(data.1))]
        }
        rpc::CMD_SHM_ALLOC => vec![value(VALUE_INOUT, 0, rng.pick(&[0, 1, 4096, MAX_ALLOC as u64 + 1, u64::MAX]), 0)],
        _ => vec![value(VALUE_INPUT, 0, rng.below(8), 0)],
    }
}

/// Thousands of malformed (and some well-formed) requests of every kind:
/// none may panic, each gets one of the codes upstream answers with, and
/// nothing outside the storage root is touched through the links planted
/// in it.
#[test]
fn fuzzed_requests_never_panic_or_escape() {
    let e = Env::new("fuzz");
    let root = e.dir.join("tee");
    e.h.fs.root().unwrap();
    let outside = e.dir.join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), b"keep").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret"), root.join("flink")).unwrap();

    let names: [&[u8]; 17] = [
        b"dirf.db\0",
        b"/1\0",
        b"/2\0",
        b"a/b/c\0",
        b"a/b\0",
        b"a\0",
        b"../x\0",
        b"link/x\0",
        b"link/secret\0",
        b"flink\0",
        b"/\0",
        b"\0",
        b"a/../b\0",
        b"x\0y",
        b"no-terminator",
        b"./a\0",
        b"/a/b/c/d/e/f/g\0",
    ];
    let codes = [
        SUCCESS,
        GENERIC,
        ACCESS_CONFLICT,
        BAD_PARAMETERS,
        ITEM_NOT_FOUND,
        NOT_SUPPORTED,
        OUT_OF_MEMORY,
        SHORT_BUFFER,
        STORAGE_NO_SPACE,
        STORAGE_NOT_AVAILABLE,
    ];
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut name_shm = (e.alloc(4096), 4096);
    let mut shms: Vec<(i32, u64)> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for case in 0..20_000 {
        // A few buffers to point into; names and RPMB frames in them.
        if shms.len() < 4 {
            let size = rng.pick(&[1, 16, 600, 1030, 4096, 65536]);
            shms.push((e.alloc(size), size));
        }
        let (id, size) = rng.pick(&shms);
        // Fuzzed SHM_FREEs may have freed any of them.
        shms.retain(|(i, s)| e.h.shm.resolve(&memref(MEMREF_INOUT, *i, 0, *s)).is_ok_and(|m| m.is_some()));
        if e.h.shm.resolve(&memref(MEMREF_INOUT, name_shm.0, 0, 4096))
            != Ok(Some(Memref { id: name_shm.0, offset: 0, len: 4096 }))
        {
            name_shm.0 = e.alloc(4096);
        }
        let (id, size) = match shms.iter().position(|s| *s == (id, size)) {
            Some(_) => (id, size),
            None => {
                let size = 4096;
                shms.push((e.alloc(size), size));
                (shms[shms.len() - 1].0, size)
            }
        };
        let name = rng.pick(&names);
        e.put(name_shm.0, 0, name);
        let name = (name_shm.0, if rng.below(8) == 0 { rng.below(4097) } else { name.len() as u64 });
        if rng.below(2) == 0 {
            let n = rng.pick(&names);
            let at = rng.below(size) as usize;
            e.put(id, at, &n[..n.len().min(size as usize - at)]);
        } else if size >= 1030 {
            let mut r = vec![0u8; rpmb::REQ_HEAD + 2 * rpmb::FRAME];
            r[0] = rng.pick(&[0, 0, 0, 1, 2]);
            let msg = rng.pick(&[1, 2, 3, 4, 4, 5, 0xff]);
            for f in r[rpmb::REQ_HEAD..].chunks_exact_mut(rpmb::FRAME) {
                f[rpmb::MSG_TYPE + 1] = if rng.below(8) == 0 { rng.next() as u8 } else { msg };
                f[rpmb::ADDRESS] = rng.pick(&[0, 0, 3, 0xff]);
                f[rpmb::ADDRESS + 1] = rng.next() as u8;
            }
            e.put(id, 0, &r);
        }
        let func = match rng.below(10) {
            0..=2 => rpc::CMD_FS,
            3 => rpc::CMD_LOAD_TA,
            4 | 5 => rpc::CMD_RPMB,
            6 => rpc::CMD_SHM_ALLOC,
            7 => rpc::CMD_SHM_FREE,
            _ => rng.next() as u32 % 32,
        };
        let uuid = if rng.below(4) == 0 { value(VALUE_INPUT, rng.next(), rng.next(), 0) } else { uuid_value() };
        let mut params = if rng.below(3) != 0 {
            let mut p = well_formed(&mut rng, func, name, (id, size), uuid);
            // Then, sometimes, one thing wrong with it.
            match (rng.below(4), p.len()) {
                (_, 0) | (0 | 1, _) => {}
                (2, n) => {
                    let i = rng.below(n as u64) as usize;
                    let v = interesting(&mut rng, size, id);
                    match rng.below(4) {
                        0 => p[i].attr = rng.pick(&[0, 1, 2, 3, 5, 6, 7, 8, 0x101]),
                        1 => p[i].a = v,
                        2 => p[i].b = v,
                        _ => p[i].c = v,
                    }
                }
                _ => {
                    if rng.below(2) == 0 {
                        p.pop();
                    } else {
                        p.push(value(VALUE_INPUT, 0, 0, 0));
                    }
                }
            }
            p
        } else {
            let nparams = rng.pick(&[0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 5]);
            (0..nparams)
                .map(|_| {
                    let attr = match rng.below(8) {
                        0 => rng.next(),
                        _ => rng.pick(&[0, 1, 2, 3, 5, 6, 7, 8, 0x101]),
                    };
                    let (a, b, c) = (
                        interesting(&mut rng, size, id),
                        interesting(&mut rng, size, id),
                        interesting(&mut rng, size, id),
                    );
                    value(attr, a, b, c)
                })
                .collect()
        };
        let r = e.h.handle(func, &mut params);
        assert!(codes.contains(&r), "case {case}: func {func} answered {r:#x} to {params:?}");
        *seen.entry((func, r)).or_insert(0u32) += 1;
        if func == rpc::CMD_SHM_FREE && r == SUCCESS {
            shms.retain(|(i, _)| params.first().is_none_or(|p| *i as u64 != p.b));
        }
        if func == rpc::CMD_SHM_ALLOC && r == SUCCESS {
            let mut p = [value(VALUE_INPUT, 0, params[0].c, 0)];
            assert_eq!(e.h.handle(rpc::CMD_SHM_FREE, &mut p), SUCCESS);
        }
    }
    // The fuzzer reached every handler's success path, not only the
    // parameter checks.
    for func in [rpc::CMD_FS, rpc::CMD_LOAD_TA, rpc::CMD_RPMB, rpc::CMD_SHM_ALLOC, rpc::CMD_SHM_FREE] {
        assert!(seen.get(&(func, SUCCESS)).is_some_and(|n| *n > 10), "{func}: {seen:?}");
    }

    assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"keep");
    let mut names: Vec<_> = std::fs::read_dir(&outside).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["secret"]);
    assert!(!e.dir.join("x").exists() && !e.dir.join("b").exists());
    // Everything the fuzzer made is private.
    fn check(dir: &Path) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            let t = std::fs::symlink_metadata(&p).unwrap().file_type();
            if t.is_dir() {
                assert_eq!(mode(&p), DIR_MODE, "{}", p.display());
                check(&p);
            } else if t.is_file() {
                assert_eq!(mode(&p), FILE_MODE, "{}", p.display());
            }
        }
    }
    check(&root);
}
