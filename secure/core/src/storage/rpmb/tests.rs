//! Host tests against an emulated eMMC RPMB partition: key programming,
//! the write counter and MAC checks as a device does them (the MAC
//! computed here from the frame's bytes 228..512 directly, not through
//! the code under test), power cuts at any write, and devices (or normal
//! worlds) that lie.

use super::frame::*;
use super::*;
use crate::storage::backend::Backend;
use crate::storage::keys::{self, Key};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use oxtee_abi::tee::TeeResult;

const HUK: [u8; 32] = [0x5a; 32];

fn key() -> Key {
    keys::rpmb_key(&HUK)
}

type Hook = Box<dyn FnMut(&[u8], &mut [u8])>;

/// An emulated RPMB partition.
struct Emu {
    key: Option<[u8; 32]>,
    counter: u32,
    data: Vec<u8>,
    mult: u8,
    rel: u8,
    /// Key programming requests seen.
    programs: usize,
    /// Authenticated write requests that reached the device.
    writes: usize,
    /// Power cut at write number `.0` (counted from 0): that write is
    /// applied if `.1`, and every request from then on fails.
    cut: Option<(usize, bool)>,
    dead: bool,
    /// Count each block of a write (tee-supplicant's emulation does).
    count_blocks: bool,
    /// Every write request received (for replays).
    write_log: Vec<Vec<u8>>,
    /// Every response given (for replays).
    rsp_log: Vec<(u16, Vec<u8>)>,
    /// Changes responses after the device made them (a lying normal world).
    hook: Option<Hook>,
}

fn hmac(key: &[u8; 32], frames: &[u8]) -> [u8; 32] {
    let parts: Vec<&[u8]> = frames.chunks_exact(FRAME).map(|f| &f[228..512]).collect();
    keys::hmac(key, &parts)
}

fn be16(f: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([f[at], f[at + 1]])
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

impl Emu {
    fn new(mult: u8) -> Emu {
        Emu {
            key: None,
            counter: 0,
            data: vec![0; mult as usize * 128 * 1024],
            mult,
            rel: 1,
            programs: 0,
            writes: 0,
            cut: None,
            dead: false,
            count_blocks: false,
            write_log: Vec::new(),
            rsp_log: Vec::new(),
            hook: None,
        }
    }

    fn serve(&mut self, req: &[u8], rsp: &mut [u8]) -> Result<(), TeeResult> {
        if self.dead {
            return Err(TeeResult::ERROR_COMMUNICATION);
        }
        let cmd = u16::from_ne_bytes([req[0], req[1]]);
        if cmd == CMD_GET_DEV_INFO {
            assert_eq!((req.len(), rsp.len()), (REQ_HEAD, DEV_INFO_LEN));
            rsp[..16].copy_from_slice(b"emulated-rpmb-01");
            rsp[16] = self.mult;
            rsp[17] = self.rel;
            rsp[18] = 0;
            if let Some(h) = self.hook.as_mut() {
                h(req, rsp);
            }
            return Ok(());
        }
        assert_eq!(cmd, CMD_DATA_REQ);
        let frames = &req[REQ_HEAD..];
        assert!(!frames.is_empty() && frames.len().is_multiple_of(FRAME));
        assert!(!rsp.is_empty() && rsp.len().is_multiple_of(FRAME));
        let n = frames.len() / FRAME;
        let first = &frames[..FRAME];
        let last = &frames[frames.len() - FRAME..];
        let msg = be16(first, MSG_TYPE);
        rsp.fill(0);
        let blocks = self.data.len() / BLOCK;
        match msg {
            MSG_PROGRAM_KEY => {
                self.programs += 1;
                let r = if self.key.is_some() {
                    RES_GENERAL_FAILURE
                } else {
                    self.key = Some(first[KEY_MAC..KEY_MAC + 32].try_into().unwrap());
                    RES_OK
                };
                put16(rsp, RESULT, r);
                put16(rsp, MSG_TYPE, 0x0100);
            }
            MSG_GET_WRITE_COUNTER => {
                rsp[NONCE..NONCE + 16].copy_from_slice(&first[NONCE..NONCE + 16]);
                rsp[COUNTER..COUNTER + 4].copy_from_slice(&self.counter.to_be_bytes());
                put16(rsp, MSG_TYPE, 0x0200);
                match self.key {
                    Some(k) => {
                        let m = hmac(&k, rsp);
                        rsp[KEY_MAC..KEY_MAC + 32].copy_from_slice(&m);
                    }
                    None => put16(rsp, RESULT, RES_KEY_NOT_PROGRAMMED),
                }
            }
            MSG_AUTH_DATA_WRITE => {
                let k = self.writes;
                self.writes += 1;
                self.write_log.push(req.to_vec());
                let cut = self.cut.filter(|c| c.0 == k);
                if cut.is_some_and(|c| !c.1) {
                    self.dead = true;
                    return Err(TeeResult::ERROR_COMMUNICATION);
                }
                let addr = be16(first, ADDRESS) as usize;
                let ctr = u32::from_be_bytes(first[COUNTER..COUNTER + 4].try_into().unwrap());
                let r = match self.key {
                    None => RES_KEY_NOT_PROGRAMMED,
                    Some(k) if hmac(&k, frames)[..] != last[KEY_MAC..KEY_MAC + 32] => RES_AUTH_FAILURE,
                    Some(_) if ctr != self.counter => RES_COUNTER_FAILURE,
                    Some(_) if addr + n > blocks => RES_ADDRESS_FAILURE,
                    Some(_) => {
                        for (i, f) in frames.chunks_exact(FRAME).enumerate() {
                            let at = (addr + i) * BLOCK;
                            self.data[at..at + BLOCK].copy_from_slice(&f[DATA..DATA + BLOCK]);
                        }
                        self.counter += if self.count_blocks { n as u32 } else { 1 };
                        RES_OK
                    }
                };
                if cut.is_some() {
                    self.dead = true;
                    return Err(TeeResult::ERROR_COMMUNICATION);
                }
                rsp[COUNTER..COUNTER + 4].copy_from_slice(&self.counter.to_be_bytes());
                put16(rsp, ADDRESS, addr as u16);
                put16(rsp, RESULT, r);
                put16(rsp, MSG_TYPE, 0x0300);
                if let Some(k) = self.key {
                    let m = hmac(&k, &rsp[..FRAME]);
                    rsp[KEY_MAC..KEY_MAC + 32].copy_from_slice(&m);
                }
            }
            MSG_AUTH_DATA_READ => {
                assert_eq!(n, 1);
                let addr = be16(first, ADDRESS) as usize;
                let cnt = rsp.len() / FRAME;
                assert_eq!(u16::from_ne_bytes([req[4], req[5]]) as usize, cnt);
                let ok = addr + cnt <= blocks;
                for (i, f) in rsp.chunks_exact_mut(FRAME).enumerate() {
                    if ok {
                        let at = (addr + i) * BLOCK;
                        f[DATA..DATA + BLOCK].copy_from_slice(&self.data[at..at + BLOCK]);
                    }
                    f[NONCE..NONCE + 16].copy_from_slice(&first[NONCE..NONCE + 16]);
                    put16(f, ADDRESS, addr as u16);
                    put16(f, BLOCK_COUNT, cnt as u16);
                    put16(f, RESULT, if ok { RES_OK } else { RES_ADDRESS_FAILURE });
                    put16(f, MSG_TYPE, 0x0400);
                }
                if let Some(k) = self.key {
                    let m = hmac(&k, rsp);
                    let l = rsp.len() - FRAME;
                    rsp[l + KEY_MAC..l + KEY_MAC + 32].copy_from_slice(&m);
                }
            }
            _ => return Err(TeeResult::ERROR_BAD_PARAMETERS),
        }
        if let Some(h) = self.hook.as_mut() {
            h(req, rsp);
        }
        self.rsp_log.push((msg, rsp.to_vec()));
        Ok(())
    }
}

#[derive(Clone)]
struct Dev(Rc<RefCell<Emu>>);

impl Dev {
    fn new(mult: u8) -> Dev {
        Dev(Rc::new(RefCell::new(Emu::new(mult))))
    }
    fn emu(&self) -> core::cell::RefMut<'_, Emu> {
        self.0.borrow_mut()
    }
}

impl RpmbTransport for Dev {
    fn request(&mut self, req: &[u8], rsp: &mut [u8]) -> R<()> {
        self.0.borrow_mut().serve(req, rsp)
    }
}

/// Deterministic "random" bytes.
fn rng() -> impl FnMut(&mut [u8]) {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    move |out: &mut [u8]| {
        for b in out {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *b = s as u8;
        }
    }
}

/// A secure world (its RPMB state since boot) attached to `dev`.
struct World {
    r: Rpmb,
    dev: Dev,
    rand: RandBox,
}

type RandBox = Box<dyn FnMut(&mut [u8])>;

impl World {
    fn boot(dev: &Dev) -> World {
        World { r: Rpmb::new(Device::new(key(), true)), dev: dev.clone(), rand: Box::new(rng()) }
    }

    fn fs<T>(&mut self, f: impl FnOnce(&mut RpmbFs) -> T) -> T {
        let mut t = self.dev.clone();
        let mut fs = self.r.fs(Io { t: &mut t, rand: &mut *self.rand });
        f(&mut fs)
    }

    fn dev<T>(&mut self, f: impl FnOnce(&mut Device, &mut Io) -> T) -> T {
        let mut t = self.dev.clone();
        let mut io = Io { t: &mut t, rand: &mut *self.rand };
        f(&mut self.r.dev, &mut io)
    }
}

fn put(fs: &mut dyn Backend, name: &str, data: &[u8]) -> R<()> {
    let fd = fs.create(name)?;
    let r = fs.write(fd, 0, data);
    fs.close(fd)?;
    r
}

fn get(fs: &mut dyn Backend, name: &str) -> R<Vec<u8>> {
    let fd = fs.open(name)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 700];
    loop {
        let n = fs.read(fd, out.len() as u64, &mut buf)?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    fs.close(fd)?;
    Ok(out)
}

fn names(fs: &mut dyn Backend, dir: &str) -> Vec<String> {
    let mut v = Vec::new();
    fs.list(dir, &mut |n| v.push(n.to_string())).unwrap();
    v.sort();
    v
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn key_is_programmed_once_and_survives_reboots() {
    let dev = Dev::new(2);
    let mut w = World::boot(&dev);
    w.dev(|d, io| d.init(io)).unwrap();
    assert_eq!(dev.emu().programs, 1);
    assert_eq!(dev.emu().key, Some(key().0));
    assert_eq!(w.r.dev.counter(), Some(0));
    assert_eq!(w.r.dev.blocks(), 1024);
    // Writes move the counter by one each.
    w.dev(|d, io| d.write(io, 5, &[7; 512])).unwrap();
    assert_eq!((w.r.dev.counter(), dev.emu().counter), (Some(2), 2));
    // A reboot finds the key in place: nothing is programmed again.
    let mut w2 = World::boot(&dev);
    w2.dev(|d, io| d.init(io)).unwrap();
    assert_eq!(dev.emu().programs, 1);
    assert_eq!(w2.r.dev.counter(), Some(2));
    let mut b = [0u8; 512];
    w2.dev(|d, io| d.read(io, 5, &mut b)).unwrap();
    assert_eq!(b, [7; 512]);
}

#[test]
fn an_unprogrammed_device_is_left_alone_without_permission() {
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    w.r = Rpmb::new(Device::new(key(), false));
    assert_eq!(w.dev(|d, io| d.init(io)), Err(TeeResult::ERROR_STORAGE_NOT_AVAILABLE));
    let e = dev.emu();
    assert_eq!((e.programs, e.key), (0, None));
}

#[test]
fn a_device_with_another_key_is_a_security_error() {
    let dev = Dev::new(1);
    dev.emu().key = Some([1; 32]);
    let mut w = World::boot(&dev);
    assert_eq!(w.dev(|d, io| d.init(io)), Err(TeeResult::ERROR_SECURITY));
    assert_eq!(dev.emu().programs, 0);
    assert_eq!(w.fs(|fs| fs.open("x").err()), Some(TeeResult::ERROR_SECURITY));
}

#[test]
fn reads_and_writes_of_many_blocks() {
    let dev = Dev::new(2);
    let mut w = World::boot(&dev);
    let data = pattern(3, 100 * BLOCK);
    w.dev(|d, io| d.write(io, 300, &data)).unwrap();
    // One request per block by default.
    assert_eq!(dev.emu().counter, 100);
    let mut back = vec![0u8; 100 * BLOCK];
    w.dev(|d, io| d.read(io, 300, &mut back)).unwrap();
    assert_eq!(back, data);
    assert_eq!(&dev.emu().data[300 * BLOCK..400 * BLOCK], &data[..]);
    // Out of range or not whole blocks: refused before anything is sent.
    let before = dev.emu().rsp_log.len();
    assert_eq!(w.dev(|d, io| d.read(io, 1020, &mut back)), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(w.dev(|d, io| d.write(io, 0, &[0; 100])), Err(TeeResult::ERROR_BAD_PARAMETERS));
    assert_eq!(dev.emu().rsp_log.len(), before);
}

#[test]
fn multi_block_writes_with_either_way_of_counting() {
    for count_blocks in [false, true] {
        let dev = Dev::new(1);
        dev.emu().count_blocks = count_blocks;
        dev.emu().rel = 4;
        let mut w = World::boot(&dev);
        w.r.dev.set_write_blocks(8);
        let data = pattern(9, 20 * BLOCK);
        w.dev(|d, io| d.write(io, 10, &data)).unwrap();
        // Eight blocks a request at most (rel_wr_sec_c 4 = 8 blocks).
        assert_eq!(dev.emu().writes, 3);
        let want = if count_blocks { 20 } else { 3 };
        assert_eq!((dev.emu().counter, w.r.dev.counter()), (want, Some(want)));
        let mut back = vec![0u8; 20 * BLOCK];
        w.dev(|d, io| d.read(io, 10, &mut back)).unwrap();
        assert_eq!(back, data);
    }
}

#[test]
fn a_replayed_write_request_is_refused_by_the_counter() {
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    w.dev(|d, io| d.write(io, 40, &[1; BLOCK])).unwrap();
    w.dev(|d, io| d.write(io, 40, &[2; BLOCK])).unwrap();
    // The normal world sends the first write again.
    let old = dev.emu().write_log[0].clone();
    let mut rsp = [0u8; FRAME];
    dev.emu().serve(&old, &mut rsp).unwrap();
    assert_eq!(be16(&rsp, RESULT), RES_COUNTER_FAILURE);
    let mut b = [0u8; BLOCK];
    w.dev(|d, io| d.read(io, 40, &mut b)).unwrap();
    assert_eq!(b, [2; BLOCK]);
}

/// Each way a response can lie, and what it must give.
#[test]
fn lying_responses_are_security_errors_never_panics() {
    type Lie = fn(&[u8], &mut [u8], &[(u16, Vec<u8>)]);
    let lies: [(&str, u16, Lie, TeeResult); 9] = [
        ("read: data flipped", MSG_AUTH_DATA_READ, |_, r, _| r[DATA + 3] ^= 1, TeeResult::ERROR_SECURITY),
        ("read: mac flipped", MSG_AUTH_DATA_READ, |_, r, _| r[KEY_MAC] ^= 1, TeeResult::ERROR_SECURITY),
        (
            "read: an old answer (another nonce)",
            MSG_AUTH_DATA_READ,
            |_, r, log| {
                let old = log.iter().find(|(m, o)| *m == MSG_AUTH_DATA_READ && o.len() == r.len()).unwrap();
                r.copy_from_slice(&old.1);
            },
            TeeResult::ERROR_SECURITY,
        ),
        ("read: key not programmed", MSG_AUTH_DATA_READ, |_, r, _| put16(r, RESULT, 7), TeeResult::ERROR_SECURITY),
        ("read: failure", MSG_AUTH_DATA_READ, |_, r, _| put16(r, RESULT, 6), TeeResult::ERROR_GENERIC),
        ("write: counter flipped", MSG_AUTH_DATA_WRITE, |_, r, _| r[COUNTER + 3] ^= 2, TeeResult::ERROR_SECURITY),
        (
            "write: an old answer (old counter)",
            MSG_AUTH_DATA_WRITE,
            |_, r, log| {
                let old = log.iter().find(|(m, _)| *m == MSG_AUTH_DATA_WRITE).unwrap();
                r.copy_from_slice(&old.1);
            },
            TeeResult::ERROR_SECURITY,
        ),
        ("write: mac zero", MSG_AUTH_DATA_WRITE, |_, r, _| r[KEY_MAC..KEY_MAC + 32].fill(0), TeeResult::ERROR_SECURITY),
        ("write: failure", MSG_AUTH_DATA_WRITE, |_, r, _| put16(r, RESULT, 5), TeeResult::ERROR_GENERIC),
    ];
    for (what, msg, lie, want) in lies {
        let dev = Dev::new(1);
        let mut w = World::boot(&dev);
        // Some honest history to replay.
        w.dev(|d, io| d.write(io, 50, &[3; BLOCK])).unwrap();
        let mut b = [0u8; BLOCK];
        w.dev(|d, io| d.read(io, 50, &mut b)).unwrap();
        let log = dev.emu().rsp_log.clone();
        dev.emu().hook = Some(Box::new(move |req, rsp| {
            if req.len() > REQ_HEAD && be16(&req[REQ_HEAD..], MSG_TYPE) == msg {
                lie(req, rsp, &log)
            }
        }));
        let got = if msg == MSG_AUTH_DATA_READ {
            w.dev(|d, io| d.read(io, 50, &mut b))
        } else {
            w.dev(|d, io| d.write(io, 50, &[4; BLOCK]))
        };
        assert_eq!(got, Err(want), "{what}");
        // The honest device works again, counter resynchronised.
        dev.emu().hook = None;
        w.dev(|d, io| d.write(io, 51, &[5; BLOCK])).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        w.dev(|d, io| d.read(io, 51, &mut b)).unwrap();
        assert_eq!(b, [5; BLOCK], "{what}");
    }
}

#[test]
fn a_lying_counter_read_or_device_info() {
    // An honest-looking counter answer for another nonce.
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    w.dev(|d, io| d.init(io)).unwrap();
    let mut w2 = World::boot(&dev);
    w2.rand = Box::new(|b: &mut [u8]| b.fill(0x77));
    let old = dev.emu().rsp_log.iter().rev().find(|(m, _)| *m == MSG_GET_WRITE_COUNTER).unwrap().1.clone();
    dev.emu().hook = Some(Box::new(move |req, rsp| {
        if req.len() > REQ_HEAD && be16(&req[REQ_HEAD..], MSG_TYPE) == MSG_GET_WRITE_COUNTER {
            rsp.copy_from_slice(&old)
        }
    }));
    assert_eq!(w2.dev(|d, io| d.init(io)), Err(TeeResult::ERROR_SECURITY));
    // "No key" from a device we already programmed: no second key.
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    dev.emu().hook = Some(Box::new(|req, rsp| {
        if req.len() > REQ_HEAD && be16(&req[REQ_HEAD..], MSG_TYPE) == MSG_GET_WRITE_COUNTER {
            put16(rsp, RESULT, RES_KEY_NOT_PROGRAMMED);
        }
    }));
    assert_eq!(w.dev(|d, io| d.init(io)), Err(TeeResult::ERROR_SECURITY));
    assert_eq!(w.dev(|d, io| d.init(io)), Err(TeeResult::ERROR_SECURITY));
    assert_eq!(dev.emu().programs, 1);
    // Device information that says error, or no size.
    for (at, v) in [(18usize, 1u8), (16, 0)] {
        let dev = Dev::new(1);
        dev.emu().hook = Some(Box::new(move |req, rsp| {
            if u16::from_ne_bytes([req[0], req[1]]) == CMD_GET_DEV_INFO {
                rsp[at] = v;
            }
        }));
        let mut w = World::boot(&dev);
        assert_eq!(w.dev(|d, io| d.init(io)), Err(TeeResult::ERROR_GENERIC));
    }
}

#[test]
fn garbage_answers_never_panic() {
    let mut s = 1u64;
    for round in 0..300 {
        let dev = Dev::new(1);
        let mut w = World::boot(&dev);
        w.fs(|fs| put(fs, "d/a", &pattern(1, 900))).unwrap();
        let mode = round % 3;
        dev.emu().hook = Some(Box::new(move |_, rsp| {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            match mode {
                0 => rsp.fill(s as u8),
                1 => rsp[(s >> 33) as usize % rsp.len()] ^= 1 << (s % 8),
                _ => {
                    let i = (s >> 20) as usize % rsp.len();
                    rsp[i..].fill(0xff)
                }
            }
        }));
        w.fs(|fs| {
            let _ = get(fs, "d/a");
            let _ = put(fs, "d/b", &[1; 300]);
            let _ = fs.rename("d/a", "d/b", true);
            let _ = fs.list("d", &mut |_| {});
        });
        // Back to honest: still consistent.
        dev.emu().hook = None;
        let mut w = World::boot(&dev);
        let a = w.fs(|fs| get(fs, "d/a"));
        let b = w.fs(|fs| get(fs, "d/b"));
        assert!(a == Ok(pattern(1, 900)) || b == Ok(pattern(1, 900)), "round {round}: {a:?} {b:?}");
    }
}

#[test]
fn file_operations() {
    let dev = Dev::new(2);
    let mut w = World::boot(&dev);
    w.fs(|fs| {
        assert_eq!(fs.open("a/x").err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
        assert_eq!(fs.create("").err(), Some(TeeResult::ERROR_BAD_PARAMETERS));
        assert_eq!(fs.create(&"n".repeat(fs::MAX_NAME + 1)).err(), Some(TeeResult::ERROR_BAD_PARAMETERS));
        put(fs, "a/x", b"hello").unwrap();
        put(fs, "a/y", &pattern(2, 3000)).unwrap();
        put(fs, "b/z", &[]).unwrap();
        put(fs, "a/sub/w", b"w").unwrap();
        assert_eq!(get(fs, "a/x").unwrap(), b"hello");
        assert_eq!(get(fs, "a/y").unwrap(), pattern(2, 3000));
        assert_eq!(get(fs, "b/z").unwrap(), b"");
        assert_eq!(names(fs, "a"), ["sub", "x", "y"]);
        assert_eq!(names(fs, ""), ["a", "b"]);
        assert_eq!(names(fs, "nothing"), Vec::<String>::new());
        // Write in the middle, across blocks.
        let fd = fs.open("a/y").unwrap();
        fs.write(fd, 250, &[0xee; 20]).unwrap();
        let mut want = pattern(2, 3000);
        want[250..270].fill(0xee);
        assert_eq!(get(fs, "a/y").unwrap(), want);
        // Past the end: the gap reads as zeros.
        fs.write(fd, 4000, b"end").unwrap();
        want.resize(4000, 0);
        want.extend_from_slice(b"end");
        assert_eq!(get(fs, "a/y").unwrap(), want);
        // Shrink then grow: the old bytes do not come back.
        fs.truncate(fd, 100).unwrap();
        fs.truncate(fd, 700).unwrap();
        want.truncate(100);
        want.resize(700, 0);
        assert_eq!(get(fs, "a/y").unwrap(), want);
        fs.write(fd, 710, b"!").unwrap();
        want.resize(710, 0);
        want.push(b'!');
        assert_eq!(get(fs, "a/y").unwrap(), want);
        let mut b = [0u8; 10];
        assert_eq!(fs.read(fd, 5000, &mut b), Ok(0));
        fs.close(fd).unwrap();
        assert_eq!(fs.close(fd), Err(TeeResult::ERROR_BAD_PARAMETERS));
        // Create truncates.
        let fd = fs.create("a/x").unwrap();
        fs.close(fd).unwrap();
        assert_eq!(get(fs, "a/x").unwrap(), b"");
        // Rename.
        assert_eq!(fs.rename("a/x", "a/y", false), Err(TeeResult::ERROR_ACCESS_CONFLICT));
        assert_eq!(fs.rename("nope", "a/q", false), Err(TeeResult::ERROR_ITEM_NOT_FOUND));
        fs.rename("a/y", "c/y", false).unwrap();
        assert_eq!(get(fs, "c/y").unwrap(), want);
        assert_eq!(fs.open("a/y").err(), Some(TeeResult::ERROR_ITEM_NOT_FOUND));
        fs.rename("c/y", "a/x", true).unwrap();
        assert_eq!(get(fs, "a/x").unwrap(), want);
        assert_eq!(names(fs, ""), ["a", "b"]);
        // An open handle follows its file through a rename; after a
        // remove it finds nothing.
        let fd = fs.open("a/x").unwrap();
        fs.rename("a/x", "a/x2", false).unwrap();
        assert_eq!(fs.read(fd, 0, &mut b), Ok(10));
        fs.remove("a/x2").unwrap();
        assert_eq!(fs.read(fd, 0, &mut b), Err(TeeResult::ERROR_ITEM_NOT_FOUND));
        fs.close(fd).unwrap();
        assert_eq!(fs.remove("a/x2"), Err(TeeResult::ERROR_ITEM_NOT_FOUND));
    });
    // All of it on the device: a reboot sees the same.
    let mut w2 = World::boot(&dev);
    w2.fs(|fs| {
        assert_eq!(names(fs, "a"), ["sub"]);
        assert_eq!(get(fs, "a/sub/w").unwrap(), b"w");
        assert_eq!(get(fs, "b/z").unwrap(), b"");
    });
}

#[test]
fn space_runs_out_cleanly_and_comes_back() {
    let dev = Dev::new(1); // 512 blocks: 32 slots, 478 data blocks
    let mut w = World::boot(&dev);
    let free0 = w.fs(|fs| fs.free_blocks()).unwrap();
    assert_eq!(free0, 512 - 2 - 32);
    w.fs(|fs| {
        put(fs, "big", &pattern(1, 400 * BLOCK)).unwrap();
        assert_eq!(put(fs, "big2", &pattern(2, 100 * BLOCK)), Err(TeeResult::ERROR_STORAGE_NO_SPACE));
        // The failed file exists, empty; the other is intact.
        assert_eq!(get(fs, "big2").unwrap(), b"");
        assert_eq!(get(fs, "big").unwrap(), pattern(1, 400 * BLOCK));
        fs.remove("big").unwrap();
        put(fs, "big2", &pattern(2, 100 * BLOCK)).unwrap();
        fs.remove("big2").unwrap();
        assert_eq!(fs.free_blocks(), Ok(free0));
        // Slots run out too.
        for i in 0..32 {
            put(fs, &alloc::format!("f{i}"), &[i as u8]).unwrap();
        }
        assert_eq!(fs.create("one-more").err(), Some(TeeResult::ERROR_STORAGE_NO_SPACE));
        assert_eq!(get(fs, "f31").unwrap(), [31]);
    });
}

#[test]
fn fragmented_files_are_moved_into_one_run() {
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    // Long names leave room for 18 extents a file.
    let name = |i: usize| alloc::format!("f{i}{}", "x".repeat(148));
    let mut most = 0;
    let mut moved = 0;
    w.fs(|fs| {
        // Interleave small files so each grows in pieces.
        let mut want: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let fds: Vec<_> = (0..4).map(|i| fs.create(&name(i)).unwrap()).collect();
        for round in 0..60 {
            for (i, &fd) in fds.iter().enumerate() {
                let v = want.entry(name(i)).or_default();
                let chunk = pattern((round * 4 + i) as u8, if i == 3 { 2 * BLOCK } else { BLOCK });
                let before = fs.extents(&name(i)).unwrap();
                fs.write(fd, v.len() as u64, &chunk).unwrap();
                v.extend_from_slice(&chunk);
                let after = fs.extents(&name(i)).unwrap();
                most = most.max(after);
                moved += (after < before) as usize;
            }
        }
        for fd in fds {
            fs.close(fd).unwrap();
        }
        for (n, v) in &want {
            assert_eq!(&get(fs, n).unwrap(), v, "{n}");
        }
    });
    assert!(moved >= 4 && most <= 18, "moved {moved}, at most {most} extents");
    // And after a reboot.
    let mut w = World::boot(&dev);
    w.fs(|fs| {
        for i in 0..4 {
            assert_eq!(
                get(fs, &name(i)).unwrap(),
                (0..60)
                    .flat_map(|r| pattern((r * 4 + i) as u8, if i == 3 { 2 * BLOCK } else { BLOCK }))
                    .collect::<Vec<_>>()
            );
        }
    });
}

#[test]
fn anchor_read_write() {
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    assert_eq!(w.dev(|d, io| d.anchor_read(io)), Ok(None));
    let a = Anchor { generation: 7, hash: [9; 32] };
    w.dev(|d, io| d.anchor_write(io, &a)).unwrap();
    // The file system lives beside it.
    w.fs(|fs| put(fs, "x", &[1; 1000])).unwrap();
    let mut w = World::boot(&dev);
    assert_eq!(w.dev(|d, io| d.anchor_read(io)), Ok(Some(a)));
    assert_eq!(w.fs(|fs| get(fs, "x")), Ok(vec![1; 1000]));
    // The block is authenticated like any other: an old copy is refused.
    let old =
        dev.emu().rsp_log.iter().rev().find(|(m, r)| *m == MSG_AUTH_DATA_READ && r.len() == FRAME).unwrap().1.clone();
    dev.emu().hook = Some(Box::new(move |req, rsp| {
        if req.len() > REQ_HEAD && be16(&req[REQ_HEAD..], MSG_TYPE) == MSG_AUTH_DATA_READ {
            rsp.copy_from_slice(&old);
        }
    }));
    assert_eq!(w.dev(|d, io| d.anchor_read(io)), Err(TeeResult::ERROR_SECURITY));
    dev.emu().hook = None;
    dev.emu().data[..8].copy_from_slice(b"garbage!");
    assert_eq!(w.dev(|d, io| d.anchor_read(io)), Err(TeeResult::ERROR_CORRUPT_OBJECT));
}

/// One step of the crash workload.
#[derive(Clone, Debug)]
enum Op {
    Put(&'static str, Vec<u8>),
    Append(&'static str, Vec<u8>),
    /// A write at an offset (past the end: a gap of zeros).
    WriteAt(&'static str, usize, Vec<u8>),
    Truncate(&'static str, u64),
    Rename(&'static str, &'static str, bool),
    Remove(&'static str),
}

type Model = BTreeMap<String, Vec<u8>>;

fn apply_model(m: &mut Model, op: &Op) {
    match op {
        Op::Put(n, d) => {
            m.insert(n.to_string(), d.clone());
        }
        Op::Append(n, d) => m.get_mut(*n).unwrap().extend_from_slice(d),
        Op::WriteAt(n, off, d) => {
            let v = m.get_mut(*n).unwrap();
            if v.len() < off + d.len() {
                v.resize(off + d.len(), 0);
            }
            v[*off..off + d.len()].copy_from_slice(d);
        }
        Op::Truncate(n, l) => m.get_mut(*n).unwrap().resize(*l as usize, 0),
        Op::Rename(a, b, _) => {
            let v = m.remove(*a).unwrap();
            m.insert(b.to_string(), v);
        }
        Op::Remove(n) => {
            m.remove(*n);
        }
    }
}

fn apply_fs(fs: &mut dyn Backend, op: &Op) -> R<()> {
    match op {
        Op::Put(n, d) => {
            // As the engine creates: a complete temporary, renamed in.
            let tmp = alloc::format!("{n}.tmp");
            put(fs, &tmp, d)?;
            fs.rename(&tmp, n, true)
        }
        Op::Append(n, d) => {
            let fd = fs.open(n)?;
            let len = get(fs, n)?.len() as u64;
            let r = fs.write(fd, len, d);
            fs.close(fd)?;
            r
        }
        Op::WriteAt(n, off, d) => {
            let fd = fs.open(n)?;
            let r = fs.write(fd, *off as u64, d);
            fs.close(fd)?;
            r
        }
        Op::Truncate(n, l) => {
            let fd = fs.open(n)?;
            let r = fs.truncate(fd, *l);
            fs.close(fd)?;
            r
        }
        Op::Rename(a, b, o) => fs.rename(a, b, *o),
        Op::Remove(n) => fs.remove(n),
    }
}

fn workload() -> Vec<Op> {
    vec![
        Op::Put("t/a", pattern(1, 600)),
        Op::Put("t/b", pattern(2, 300)),
        Op::Append("t/a", pattern(3, 700)),
        Op::Put("t/a", pattern(4, 100)),
        Op::Rename("t/b", "t/c", false),
        Op::Truncate("t/a", 1000),
        Op::Rename("t/a", "t/c", true),
        Op::Put("u/d", pattern(5, 2000)),
        Op::Truncate("u/d", 10),
        Op::Remove("t/c"),
        Op::Append("u/d", pattern(6, 520)),
        Op::WriteAt("u/d", 3000, pattern(7, 300)),
        Op::WriteAt("u/d", 1000, pattern(8, 100)),
        Op::Truncate("u/d", 5000),
        Op::WriteAt("u/d", 4600, pattern(9, 10)),
    ]
}

fn contents(fs: &mut dyn Backend) -> Model {
    let mut m = Model::new();
    for d in names(fs, "") {
        for n in names(fs, &d) {
            let p = alloc::format!("{d}/{n}");
            if !p.ends_with(".tmp") {
                m.insert(p.clone(), get(fs, &p).unwrap());
            }
        }
    }
    m
}

/// A power cut before or after each write of the workload: after a
/// reboot every file is as before or as after the operation that was cut.
#[test]
fn power_cut_at_every_write_keeps_each_operation_atomic() {
    // How many writes the workload makes.
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    let mut model = Model::new();
    for op in workload() {
        w.fs(|fs| apply_fs(fs, &op)).unwrap();
        apply_model(&mut model, &op);
    }
    assert_eq!(w.fs(|fs| contents(fs)), model);
    let total = dev.emu().writes;
    assert!(total > 40, "{total}");
    let mut points = 0;
    for k in 0..total {
        for applied in [false, true] {
            let dev = Dev::new(1);
            dev.emu().cut = Some((k, applied));
            let mut w = World::boot(&dev);
            let mut before = Model::new();
            let mut after = Model::new();
            for op in workload() {
                after = before.clone();
                apply_model(&mut after, &op);
                if w.fs(|fs| apply_fs(fs, &op)).is_err() {
                    break;
                }
                before = after.clone();
            }
            assert!(dev.emu().dead, "cut {k} never reached");
            // Power back on.
            {
                let mut e = dev.emu();
                e.dead = false;
                e.cut = None;
            }
            let mut w = World::boot(&dev);
            let got = w.fs(|fs| contents(fs));
            let sizes = |m: &Model| m.iter().map(|(n, v)| (n.clone(), v.len())).collect::<Vec<_>>();
            assert!(
                got == before || got == after,
                "cut at write {k} ({applied}): {:?}; before {:?}; after {:?}",
                sizes(&got),
                sizes(&before),
                sizes(&after)
            );
            // And the file system goes on working.
            w.fs(|fs| put(fs, "z", b"ok")).unwrap();
            assert_eq!(w.fs(|fs| get(fs, "z")), Ok(b"ok".to_vec()));
            points += 1;
        }
    }
    assert_eq!(points, 2 * total);
}

/// The transport over OPTEE_RPC_CMD_RPMB, against a fake normal world
/// that serves SHM_ALLOC/SHM_FREE and hands RPMB requests to the
/// emulated device the way tee-supplicant does (memref 0 in, memref 1
/// out, both in the allocated buffer).
mod over_rpc {
    use super::*;
    use crate::env::{RpcReturn, ThreadEnv, UserExit, UserRegs, UserTables};
    use crate::msg::{self, Dir, Param};
    use crate::nsmem::fake::FakeRam;
    use crate::rpc::Rpc;
    use crate::shm::{ShmConfig, ShmLimits, ShmRegistry};
    use crate::threads::ThreadTable;
    use oxtee_abi::addr::{NsPhys, NsRange};
    use oxtee_abi::optee_smc as smc;
    use oxtee_abi::rpc;

    const BASE: u64 = 0x4000_0000;
    const SIZE: usize = 1 << 20;

    struct Nw<'r> {
        ram: &'r FakeRam,
        dev: Dev,
        next: u64,
        live: Vec<u64>,
        shm_allocs: usize,
        rpmb_cmds: usize,
    }

    impl Nw<'_> {
        fn alloc(&mut self, size: u64) -> u64 {
            let pa = self.next;
            self.next += size.div_ceil(4096) * 4096;
            assert!(self.next <= BASE + SIZE as u64);
            pa
        }

        fn serve(&mut self, pa: u64) {
            let mut b = vec![0u8; msg::size_for(4)];
            self.ram.get(pa, &mut b).unwrap();
            let mut m = msg::parse(&b, 4).unwrap();
            m.hdr.ret = 0;
            match m.hdr.cmd {
                rpc::CMD_SHM_ALLOC => {
                    let Param::Value { a, b: size, .. } = m.params[0] else { panic!() };
                    assert_eq!(a, rpc::SHM_TYPE_APPL as u64);
                    let buf = self.alloc(size);
                    self.live.push(buf);
                    self.shm_allocs += 1;
                    m.params[0] = Param::Tmem { dir: Dir::Out, buf, size, shm_ref: buf, noncontig: false };
                }
                rpc::CMD_SHM_FREE => {
                    let Param::Value { b: cookie, .. } = m.params[0] else { panic!() };
                    let before = self.live.len();
                    self.live.retain(|c| *c != cookie);
                    assert_eq!(self.live.len() + 1, before);
                }
                rpc::CMD_RPMB => {
                    self.rpmb_cmds += 1;
                    let (
                        Param::Rmem { dir: Dir::In, offs: qo, size: qs, shm_ref: qr },
                        Param::Rmem { dir: Dir::Out, offs: ro, size: rs, shm_ref: rr },
                    ) = (m.params[0], m.params[1])
                    else {
                        panic!("{:?}", m.params)
                    };
                    assert!(self.live.contains(&qr) && qr == rr);
                    let mut q = vec![0u8; qs as usize];
                    self.ram.get(qr + qo, &mut q).unwrap();
                    let mut r = vec![0u8; rs as usize];
                    self.ram.get(rr + ro, &mut r).unwrap();
                    match self.dev.emu().serve(&q, &mut r) {
                        Ok(()) => self.ram.put(rr + ro, &r).unwrap(),
                        Err(e) => m.hdr.ret = e.0,
                    }
                }
                _ => m.hdr.ret = TeeResult::ERROR_NOT_IMPLEMENTED.0,
            }
            self.ram.put(pa, &m.encode()).unwrap();
        }
    }

    impl ThreadEnv for Nw<'_> {
        fn thread_id(&self) -> usize {
            0
        }
        fn rpc(&mut self, a: [u64; 4]) -> RpcReturn {
            match a[0] as u32 {
                smc::RETURN_RPC_ALLOC => {
                    let pa = self.alloc(a[1]);
                    [0, pa >> 32, pa & 0xffff_ffff, 0, pa >> 32, pa & 0xffff_ffff, 0, 0]
                }
                smc::RETURN_RPC_FREE => [0; 8],
                smc::RETURN_RPC_CMD => {
                    self.serve((a[1] << 32) | a[2]);
                    [0; 8]
                }
                other => panic!("unexpected RPC {other:#x}"),
            }
        }
        fn now_ns(&self) -> u64 {
            0
        }
        fn wait_until(&mut self, _: u64, _: bool, _: &dyn Fn() -> bool) -> bool {
            true
        }
        fn cpu(&self) -> usize {
            0
        }
        fn foreign_interrupts(&self) -> u64 {
            0
        }
        fn enter_user(&mut self, _: &dyn UserTables, _: &mut UserRegs) -> UserExit {
            unreachable!("no user mode here")
        }
    }

    fn run(rpmb: &mut Rpmb, nw: &mut Nw, f: impl FnOnce(&mut RpmbFs)) -> R<()> {
        let ram = nw.ram;
        let range = NsRange::new(NsPhys::new(BASE), SIZE as u64);
        let shm = ShmRegistry::new(
            ShmConfig { static_pool: Some(range), ns_ram: range },
            ShmLimits { buffers: 8, pages: 64 },
        );
        let threads = ThreadTable::new(1);
        let t = threads.ctx(0);
        let mut rpc = Rpc { env: nw, mem: ram, shm: &shm, t };
        let mut rand = rng();
        over_rpc(rpmb, &mut rpc, &mut rand, |fs| {
            f(fs);
            Ok(())
        })
    }

    #[test]
    fn the_file_system_over_rpc() {
        let ram = FakeRam::new(BASE, SIZE);
        let dev = Dev::new(1);
        let mut nw = Nw { ram: &ram, dev: dev.clone(), next: BASE, live: Vec::new(), shm_allocs: 0, rpmb_cmds: 0 };
        let mut rpmb = Rpmb::new(Device::new(key(), true));
        run(&mut rpmb, &mut nw, |fs| {
            put(fs, "ta/obj", &pattern(7, 5000)).unwrap();
            assert_eq!(get(fs, "ta/obj").unwrap(), pattern(7, 5000));
        })
        .unwrap();
        assert_eq!(dev.emu().programs, 1);
        assert!(nw.rpmb_cmds > 20);
        // One buffer for the whole call, given back at the end.
        assert_eq!(nw.shm_allocs, 1);
        assert!(nw.live.is_empty());
        // The device holds the data: a new boot reads it over RPC too.
        let mut rpmb = Rpmb::new(Device::new(key(), true));
        run(&mut rpmb, &mut nw, |fs| {
            assert_eq!(get(fs, "ta/obj").unwrap(), pattern(7, 5000));
            let a = Anchor { generation: 3, hash: [4; 32] };
            fs.anchor_write(&a).unwrap();
            assert_eq!(fs.anchor_read(), Ok(Some(a)));
        })
        .unwrap();
        // A supplicant that fails the RPMB command: an error, not a panic.
        dev.emu().dead = true;
        let mut rpmb = Rpmb::new(Device::new(key(), true));
        run(&mut rpmb, &mut nw, |fs| assert_eq!(fs.open("ta/obj").err(), Some(TeeResult::ERROR_COMMUNICATION)))
            .unwrap();
        assert!(nw.live.is_empty());
    }
}

/// A power cut at each write of an append that moves a fragmented file
/// (copy to new blocks, then the slot): the file is old or new.
#[test]
fn power_cut_while_a_fragmented_file_moves() {
    let name = |i: usize| alloc::format!("m{i}{}", "y".repeat(148));
    let setup = |w: &mut World| {
        w.fs(|fs| {
            for round in 0..18 {
                for i in 0..2 {
                    let fd = fs.open(&name(i)).or_else(|_| fs.create(&name(i))).unwrap();
                    fs.write(fd, (round * BLOCK) as u64, &pattern((round * 2 + i) as u8, BLOCK)).unwrap();
                    fs.close(fd).unwrap();
                }
            }
            assert_eq!(fs.extents(&name(0)), Ok(18));
        })
    };
    let old0: Vec<u8> = (0..18).flat_map(|r| pattern((r * 2) as u8, BLOCK)).collect();
    let old1: Vec<u8> = (0..18).flat_map(|r| pattern((r * 2 + 1) as u8, BLOCK)).collect();
    let mut new0 = old0.clone();
    new0.extend_from_slice(&[0xab; 100]);
    let append = |fs: &mut RpmbFs| -> R<()> {
        let fd = fs.open(&name(0))?;
        fs.write(fd, (18 * BLOCK) as u64, &[0xab; 100])?;
        fs.close(fd)
    };
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    setup(&mut w);
    let first = dev.emu().writes;
    w.fs(|fs| {
        append(fs).unwrap();
        assert_eq!(fs.extents(&name(0)), Ok(1));
    });
    let last = dev.emu().writes;
    assert!(last - first > 18, "the move copies the file");
    for k in first..last {
        for applied in [false, true] {
            let dev = Dev::new(1);
            let mut w = World::boot(&dev);
            setup(&mut w);
            dev.emu().cut = Some((k, applied));
            assert!(w.fs(append).is_err());
            {
                let mut e = dev.emu();
                e.dead = false;
                e.cut = None;
            }
            let mut w = World::boot(&dev);
            let a = w.fs(|fs| get(fs, &name(0))).unwrap();
            assert!(a == old0 || a == new0, "cut at {k} ({applied}): {} bytes", a.len());
            assert_eq!(w.fs(|fs| get(fs, &name(1))).unwrap(), old1);
            // The blocks of the copy that was cut are free again.
            let free = w.fs(|fs| fs.free_blocks()).unwrap();
            let used = if a == old0 { 36 } else { 37 };
            assert_eq!(free, 512 - 2 - 32 - used, "cut at {k}");
        }
    }
}

#[test]
fn gaps_are_holes_that_take_no_blocks() {
    let dev = Dev::new(1);
    let mut w = World::boot(&dev);
    w.fs(|fs| {
        let free = fs.free_blocks().unwrap();
        let fd = fs.create("s").unwrap();
        let w0 = dev.emu().writes;
        // One block of data 40 blocks in: one data block, one slot write.
        fs.write(fd, 40 * BLOCK as u64 + 10, b"data").unwrap();
        assert_eq!(dev.emu().writes - w0, 2);
        assert_eq!(fs.free_blocks(), Ok(free - 1));
        let mut want = vec![0u8; 40 * BLOCK + 10];
        want.extend_from_slice(b"data");
        assert_eq!(get(fs, "s").unwrap(), want);
        // Growing by truncation stores nothing but the slot.
        let w0 = dev.emu().writes;
        fs.truncate(fd, 100 * BLOCK as u64).unwrap();
        assert_eq!(dev.emu().writes - w0, 1);
        want.resize(100 * BLOCK, 0);
        assert_eq!(get(fs, "s").unwrap(), want);
        // Zeros written into a hole stay a hole; data fills it.
        fs.write(fd, 5 * BLOCK as u64, &[0; 3 * BLOCK]).unwrap();
        assert_eq!(fs.free_blocks(), Ok(free - 1));
        fs.write(fd, 7 * BLOCK as u64 - 3, &[1; 6]).unwrap();
        assert_eq!(fs.free_blocks(), Ok(free - 3));
        want[7 * BLOCK - 3..7 * BLOCK + 3].fill(1);
        assert_eq!(get(fs, "s").unwrap(), want);
        // Shrinking frees what is cut off.
        fs.truncate(fd, 7 * BLOCK as u64).unwrap();
        assert_eq!(fs.free_blocks(), Ok(free - 1));
        want.truncate(7 * BLOCK);
        fs.close(fd).unwrap();
        assert_eq!(get(fs, "s").unwrap(), want);
    });
    let mut w = World::boot(&dev);
    let got = w.fs(|fs| get(fs, "s")).unwrap();
    assert_eq!(got.len(), 7 * BLOCK);
    assert!(got[..7 * BLOCK - 3].iter().all(|&b| b == 0) && got[7 * BLOCK - 3..] == [1, 1, 1]);
}

/// The workload with two blocks a write request, against a device that
/// counts each block (tee-supplicant's emulation) and one that counts
/// each request; then read back after a reboot.
#[test]
fn the_file_system_with_multi_block_writes() {
    for count_blocks in [false, true] {
        let dev = Dev::new(1);
        dev.emu().count_blocks = count_blocks;
        let mut w = World::boot(&dev);
        w.r.dev.set_write_blocks(u16::MAX);
        let mut model = Model::new();
        for op in workload() {
            w.fs(|fs| apply_fs(fs, &op)).unwrap();
            apply_model(&mut model, &op);
        }
        let requests = dev.emu().writes;
        let counter = dev.emu().counter;
        assert!(counter as usize > requests || !count_blocks);
        let mut w = World::boot(&dev);
        assert_eq!(w.fs(|fs| contents(fs)), model);
        // Fewer requests than with one block each.
        let one = Dev::new(1);
        let mut w1 = World::boot(&one);
        for op in workload() {
            w1.fs(|fs| apply_fs(fs, &op)).unwrap();
        }
        let single = one.emu().writes;
        assert!(requests < single, "{requests} vs {single}");
    }
}
