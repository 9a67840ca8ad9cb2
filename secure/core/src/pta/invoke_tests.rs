//! Upstream's invoke-tests pseudo-TA (its `CFG_ENABLE_EMBEDDED_TESTS`
//! service, which upstream's xtest 1001-1003, 1025 and the secure data-path
//! cases call), with upstream's UUID, commands and answers. Test build
//! only. Where upstream runs its own kernel's self tests, this runs
//! oxtee's (`self_tests`).

use super::{Ctx, DeviceKind, Kind, Pta, PtaParam, expect};
use crate::sync::{SleepGuard, SleepMutex};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use log::{error, info};
use oxtee_abi::addr::NsPhys;
use oxtee_abi::ta::crypto as ids;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::upstream_pta::invoke_tests as it;
use oxtee_abi::uuid::Uuid;

/// Rounds of the mutex test's critical section, at most (upstream's xtest
/// asks for 65536).
const MAX_MUTEX_ROUNDS: u64 = 1 << 20;

pub struct InvokeTestsPta {
    mutex: SleepMutex,
    before_readers: AtomicU32,
    before_writers: AtomicU32,
    during_readers: AtomicU32,
    during_writers: AtomicU32,
    /// Written under the mutex: val1 == 2 * val0 whenever it is free.
    val0: AtomicU64,
    val1: AtomicU64,
}

impl Default for InvokeTestsPta {
    fn default() -> Self {
        Self::new()
    }
}

impl InvokeTestsPta {
    pub const fn new() -> Self {
        InvokeTestsPta {
            mutex: SleepMutex::new(),
            before_readers: AtomicU32::new(0),
            before_writers: AtomicU32::new(0),
            during_readers: AtomicU32::new(0),
            during_writers: AtomicU32::new(0),
            val0: AtomicU64::new(0),
            val1: AtomicU64::new(0),
        }
    }
}

fn kinds(params: &[PtaParam]) -> [Kind; 4] {
    core::array::from_fn(|i| params.get(i).map(PtaParam::kind).unwrap_or(Kind::None))
}

/// The one index holding `want` while every other parameter is `others`.
fn only(k: &[Kind; 4], want: Kind, others: Kind) -> Option<usize> {
    let i = k.iter().position(|x| *x == want)?;
    k.iter().enumerate().all(|(j, x)| j == i || *x == others).then_some(i)
}

fn value(p: &PtaParam) -> (u32, u32) {
    match p {
        PtaParam::Value { a, b, .. } => (*a as u32, *b as u32),
        _ => (0, 0),
    }
}

fn set_value(p: &mut PtaParam, va: u32, vb: u32) {
    if let PtaParam::Value { a, b, .. } = p {
        (*a, *b) = (va as u64, vb as u64);
    }
}

const CHUNK: usize = 512;

impl InvokeTestsPta {
    /// PARAMS: which computation depends on the parameter types alone.
    fn params(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        let k = kinds(params);
        if let Some(i) = only(&k, Kind::ValueInOut, Kind::None) {
            let (a, b) = value(&params[i]);
            set_value(&mut params[i], a.wrapping_add(b), b);
            return TeeResult::SUCCESS;
        }
        if let Some(i) = only(&k, Kind::ValueOut, Kind::ValueIn) {
            let (mut sa, mut sb) = (0u32, 0u32);
            for (j, p) in params.iter().enumerate().take(4) {
                if j != i {
                    let (a, b) = value(p);
                    (sa, sb) = (sa.wrapping_add(a), sb.wrapping_add(b));
                }
            }
            set_value(&mut params[i], sa, sb);
            return TeeResult::SUCCESS;
        }
        if let Some(i) = only(&k, Kind::MemrefInOut, Kind::None) {
            let mem = ctx.mem();
            let PtaParam::Memref { buf: Some(buf), size, .. } = &mut params[i] else {
                return TeeResult::ERROR_BAD_PARAMETERS;
            };
            // The sum goes into the first byte: an empty buffer has none.
            if *size == 0 {
                return TeeResult::ERROR_BAD_PARAMETERS;
            }
            let (size, mut sum) = (*size, 0u8);
            let mut chunk = [0u8; CHUNK];
            let mut off = 0;
            while off < size {
                let n = (size - off).min(CHUNK as u64) as usize;
                if let Err(e) = buf.read(mem, off, &mut chunk[..n]) {
                    return e;
                }
                sum = chunk[..n].iter().fold(sum, |s, b| s.wrapping_add(*b));
                off += n as u64;
            }
            return match buf.write(mem, 0, &[sum]) {
                Ok(()) => TeeResult::SUCCESS,
                Err(e) => e,
            };
        }
        TeeResult::ERROR_BAD_PARAMETERS
    }

    /// The secure data-path copies: after upstream's type and size checks,
    /// the destination (or source) must be secure data-path memory. oxtee
    /// has none, so every buffer is refused as upstream refuses a
    /// normal-world one.
    fn sdp(&self, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        if cmd == it::CMD_READ_MODIFY_SEC {
            return match expect(params, &[Kind::MemrefInOut]) {
                Ok(()) => TeeResult::ERROR_BAD_PARAMETERS,
                Err(e) => e,
            };
        }
        if let Err(e) = expect(params, &[Kind::MemrefIn, Kind::MemrefOut]) {
            return e;
        }
        let sz = match params[0] {
            PtaParam::Memref { size, .. } => size,
            _ => 0,
        };
        if let PtaParam::Memref { size, .. } = &mut params[1]
            && *size < sz
        {
            *size = sz;
            return TeeResult::ERROR_SHORT_BUFFER;
        }
        TeeResult::ERROR_BAD_PARAMETERS
    }

    fn mutex_test(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if let Err(e) = expect(params, &[Kind::ValueIn, Kind::ValueOut]) {
            return e;
        }
        let (kind, rounds) = value(&params[0]);
        let (before, during) = match kind {
            it::MUTEX_WRITER => (&self.before_writers, &self.during_writers),
            it::MUTEX_READER => (&self.before_readers, &self.during_readers),
            _ => return TeeResult::ERROR_BAD_PARAMETERS,
        };
        let rounds = (rounds as u64).min(MAX_MUTEX_ROUNDS);
        let waiting = before.fetch_add(1, Ordering::AcqRel) + 1;
        let tc = ctx.rpc.t;
        crate::hold!(guard = None, in &tc.ledger, or {
            before.fetch_sub(1, Ordering::AcqRel);
            TeeResult::ERROR_OUT_OF_MEMORY
        });
        if let Err(e) = self.mutex.lock(&mut ctx.rpc, &ctx.os.notif) {
            before.fetch_sub(1, Ordering::AcqRel);
            return e;
        }
        *guard.as_mut().get() = Some(SleepGuard::held(&self.mutex, tc));
        before.fetch_sub(1, Ordering::AcqRel);
        let inside = during.fetch_add(1, Ordering::AcqRel) + 1;
        let mut res = TeeResult::SUCCESS;
        for _ in 0..rounds {
            if kind == it::MUTEX_WRITER {
                self.val0.fetch_add(1, Ordering::Relaxed);
                self.val1.fetch_add(2, Ordering::Relaxed);
            } else if self.val0.load(Ordering::Relaxed).wrapping_mul(2) != self.val1.load(Ordering::Relaxed) {
                res = TeeResult::ERROR_BAD_STATE;
            }
        }
        during.fetch_sub(1, Ordering::AcqRel);
        if let Some(mut g) = guard.as_mut().get().take()
            && let Err(e) = g.unlock(&mut ctx.rpc)
        {
            return e;
        }
        set_value(&mut params[1], waiting, inside);
        res
    }
}

/// One failed self test.
type Check = Result<(), &'static str>;

fn ensure(ok: bool, what: &'static str) -> Check {
    if ok { Ok(()) } else { Err(what) }
}

/// The kernel's heap: allocations of assorted sizes are aligned, disjoint
/// and keep their contents; a request the heap cannot hold fails cleanly.
fn self_test_heap() -> Check {
    #[repr(align(64))]
    struct Aligned([u8; 64]);
    let sizes = [1usize, 7, 16, 100, 4096, 4097, 65536];
    let mut bufs: Vec<Vec<u8>> = Vec::new();
    bufs.try_reserve_exact(sizes.len()).map_err(|_| "heap: small reservation failed")?;
    for (i, n) in sizes.iter().enumerate() {
        let mut v = Vec::new();
        v.try_reserve_exact(*n).map_err(|_| "heap: allocation failed")?;
        v.extend((0..*n).map(|j| (j as u8) ^ (i as u8).wrapping_mul(0x3b)));
        bufs.push(v);
    }
    let spans: Vec<(usize, usize)> = bufs.iter().map(|v| (v.as_ptr() as usize, v.len())).collect();
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            ensure(a.0 + a.1 <= b.0 || b.0 + b.1 <= a.0, "heap: two live allocations overlap")?;
        }
    }
    for (i, v) in bufs.iter().enumerate() {
        ensure(
            v.iter().enumerate().all(|(j, b)| *b == (j as u8) ^ (i as u8).wrapping_mul(0x3b)),
            "heap: contents changed",
        )?;
    }
    let boxed = alloc::boxed::Box::new(Aligned([0x5a; 64]));
    ensure((&*boxed as *const Aligned as usize).is_multiple_of(64), "heap: 64-byte alignment not honoured")?;
    ensure(boxed.0.iter().all(|b| *b == 0x5a), "heap: aligned contents changed")?;
    let mut huge: Vec<u8> = Vec::new();
    ensure(huge.try_reserve(usize::MAX / 4).is_err(), "heap: an impossible request succeeded")?;
    Ok(())
}

/// The random generator: outputs differ and are not constant.
fn self_test_rng(os: &crate::Os) -> Check {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    os.rng.fill(&mut a, 1);
    os.rng.fill(&mut b, 1);
    ensure(a != b, "rng: two outputs are equal")?;
    ensure(a.iter().any(|x| *x != a[0]), "rng: output is constant")
}

/// Known answers (FIPS 180-2, FIPS 197) through the crypto layer TAs use,
/// so through the CPU's accelerator where the OS registered one.
fn self_test_crypto() -> Check {
    let mut h = oxtee_crypto::hash::new(ids::ALG_SHA256).map_err(|_| "sha256: unavailable")?;
    h.update(b"abc");
    let mut d = [0u8; 32];
    h.finish(&mut d);
    ensure(
        d[..8] == [0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea] && d[28..] == [0xf2, 0x00, 0x15, 0xad],
        "sha256: wrong digest",
    )?;
    let key: [u8; 32] = core::array::from_fn(|i| i as u8);
    let pt: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
    let vectors: [(&[u8], [u8; 16]); 2] = [
        (&key[..16], [0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a]),
        (&key[..], [0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89]),
    ];
    for (k, ct) in vectors {
        // Twice the block, so a multi-block path runs too.
        let mut buf = [0u8; 32];
        buf[..16].copy_from_slice(&pt);
        buf[16..].copy_from_slice(&pt);
        let mut enc =
            oxtee_crypto::cipher::new(ids::ALG_AES_ECB_NOPAD, true, k, None, &[]).map_err(|_| "aes: setup")?;
        enc.update(&mut buf).map_err(|_| "aes: encrypt")?;
        ensure(buf[..16] == ct && buf[16..] == ct, "aes: wrong ciphertext")?;
        let mut dec =
            oxtee_crypto::cipher::new(ids::ALG_AES_ECB_NOPAD, false, k, None, &[]).map_err(|_| "aes: setup")?;
        dec.update(&mut buf).map_err(|_| "aes: decrypt")?;
        ensure(buf[..16] == pt && buf[16..] == pt, "aes: decryption does not invert")?;
    }
    Ok(())
}

/// The normal-world memory accessor refuses what is not normal-world RAM:
/// address 0 and a range that wraps around.
fn self_test_ns_memory(ctx: &Ctx) -> Check {
    let mut b = [0u8; 16];
    ensure(ctx.mem().read(NsPhys::new(0), &mut b).is_err(), "ns memory: address 0 readable")?;
    ensure(ctx.mem().read(NsPhys::new(u64::MAX - 7), &mut b).is_err(), "ns memory: a wrapping range is readable")
}

/// FS_HTREE's counterpart: upstream checks its REE file system's hash
/// tree; this checks oxtee's store engine, on an in-memory backend with a
/// key of its own: objects across block boundaries written, rewritten
/// backwards, truncated and read back; then every stored byte range
/// damaged in turn must make the object CORRUPT_OBJECT (or, for a
/// header slot that holds only the older version, still its data), never
/// wrong data.
fn fs_store_tests(os: &crate::Os) -> Check {
    use crate::storage::backend::mem::MemBackend;
    use crate::storage::engine::{BLOCK, ObjMeta, Store};
    use crate::storage::keys::{TaKeys, ssk};
    let mut huk = [0u8; 32];
    os.rng.fill(&mut huk, 2);
    let store = Store::new(TaKeys::new(&ssk(&huk), crate::storage::STORAGE_PRIVATE_REE, &it::UUID));
    let meta = ObjMeta { obj_type: 0xA000_0000, key_size: 0, max_key_size: 0, usage: 0xffff_ffff, flags: 7 };
    let mut rand = |b: &mut [u8]| os.rng.fill(b, 3);
    let mut b = MemBackend::new();
    let pat = |seed: u8, n: usize| -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(13) ^ seed ^ (i >> 9) as u8).collect()
    };
    let read_all = |o: &mut crate::storage::engine::Object, b: &mut MemBackend| -> Result<Vec<u8>, TeeResult> {
        let mut v = alloc::vec![0u8; o.data_len() as usize];
        let n = o.read(b, 0, &mut v)?;
        v.truncate(n);
        Ok(v)
    };
    let lens = [0usize, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 17];
    for (i, len) in lens.iter().enumerate() {
        let id = [b'h', i as u8];
        let data = pat(i as u8, *len);
        let mut o = store.create(&mut b, &id, &meta, b"", &data, false, &mut rand).map_err(|_| "fs: create")?;
        ensure(read_all(&mut o, &mut b).map_err(|_| "fs: read")? == data, "fs: data read back differs")?;
        // Rewrite block by block from the end, with new contents.
        let new = pat(0x80 | i as u8, *len);
        let mut off = new.len();
        while off > 0 {
            let start = off.saturating_sub(BLOCK / 2 + 3);
            o.write(&mut b, start as u64, &new[start..off], &mut rand).map_err(|_| "fs: rewrite")?;
            off = start;
        }
        o.close(&mut b).map_err(|_| "fs: close")?;
        let mut o = store.open(&mut b, &id).map_err(|_| "fs: reopen")?;
        ensure(read_all(&mut o, &mut b).map_err(|_| "fs: reread")? == new, "fs: rewritten data differs")?;
        let cut = len / 2;
        o.truncate(&mut b, cut as u64, &mut rand).map_err(|_| "fs: truncate")?;
        ensure(
            read_all(&mut o, &mut b).map_err(|_| "fs: read truncated")? == new[..cut],
            "fs: truncated data differs",
        )?;
        o.close(&mut b).map_err(|_| "fs: close")?;
    }
    // Damage: one object, every 61st byte of each of its own files in turn.
    let data = pat(7, 2 * BLOCK + 5);
    let others = b.names();
    store
        .create(&mut b, b"victim", &meta, b"", &data, false, &mut rand)
        .and_then(|o| o.close(&mut b))
        .map_err(|_| "fs: create victim")?;
    let before = b.snapshot();
    let names: Vec<_> = b.names().into_iter().filter(|n| !others.contains(n)).collect();
    let (mut damaged, mut detected) = (0, 0);
    for name in names {
        let len = b.get(&name).map_or(0, |f| f.len());
        for off in (0..len).step_by(61) {
            b.restore(&before, None);
            b.flip(&name, off, 0x01);
            let got = store.open(&mut b, b"victim").and_then(|mut o| {
                let r = read_all(&mut o, &mut b);
                let _ = o.close(&mut b);
                r
            });
            match got {
                Ok(d) => ensure(d == data, "fs: damage gave wrong data")?,
                Err(e) => {
                    ensure(
                        e == TeeResult::ERROR_CORRUPT_OBJECT || e == TeeResult::ERROR_ITEM_NOT_FOUND,
                        "fs: damage gave an unexpected error",
                    )?;
                    detected += 1;
                }
            }
            damaged += 1;
        }
    }
    b.restore(&before, None);
    ensure(damaged > 0 && detected > 0, "fs: no damage was detected")?;
    info!("invoke_tests.pta: fs store: {} sizes; {damaged} damaged copies, {detected} refused", lens.len());
    Ok(())
}

impl InvokeTestsPta {
    fn self_tests(&self, ctx: &mut Ctx) -> TeeResult {
        let results: [(&str, Check); 4] = [
            ("heap", self_test_heap()),
            ("rng", self_test_rng(ctx.os)),
            ("crypto", self_test_crypto()),
            ("ns memory", self_test_ns_memory(ctx)),
        ];
        let mut failed = 0;
        for (name, r) in results {
            match r {
                Ok(()) => info!("invoke_tests.pta: self test {name}: ok"),
                Err(e) => {
                    error!("invoke_tests.pta: self test {name} failed: {e}");
                    failed += 1;
                }
            }
        }
        if failed == 0 { TeeResult::SUCCESS } else { TeeResult::ERROR_GENERIC }
    }
}

impl Pta for InvokeTestsPta {
    fn uuid(&self) -> Uuid {
        it::UUID
    }

    fn name(&self) -> &'static str {
        "invoke_tests.pta"
    }

    /// Listed like upstream's (which carries TA_FLAG_DEVICE_ENUM); no
    /// Linux driver binds to it.
    fn device(&self) -> DeviceKind {
        DeviceKind::NoSupplicant
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        match cmd {
            it::CMD_TRACE => {
                info!("pseudo TA \"invoke_tests.pta\" says \"Hello world !\"");
                TeeResult::SUCCESS
            }
            it::CMD_PARAMS => self.params(ctx, params),
            it::CMD_SELF_TESTS => self.self_tests(ctx),
            it::CMD_COPY_NSEC_TO_SEC | it::CMD_READ_MODIFY_SEC | it::CMD_COPY_SEC_TO_NSEC => self.sdp(cmd, params),
            it::CMD_MUTEX => self.mutex_test(ctx, params),
            it::CMD_FS_HTREE => match fs_store_tests(ctx.os) {
                Ok(()) => TeeResult::SUCCESS,
                Err(e) => {
                    error!("invoke_tests.pta: {e}");
                    TeeResult::ERROR_GENERIC
                }
            },
            // No lock-dependency checker, no transfer lists: upstream's
            // answer when those are not built in.
            it::CMD_LOCKDEP | it::CMD_TRANSFER_LIST_TESTS => TeeResult::ERROR_NOT_SUPPORTED,
            it::CMD_MEMREF_NULL => match (expect(params, &[Kind::MemrefInOut]), params.first()) {
                (Ok(()), Some(PtaParam::Memref { buf: None, size: 0, .. })) => TeeResult::SUCCESS,
                _ => TeeResult::ERROR_BAD_PARAMETERS,
            },
            // Upstream's answer when its driver-framework tests are not
            // embedded (its QEMU configuration): oxtee has no such
            // framework to test.
            it::CMD_DT_DRIVER_TESTS => {
                info!("invoke_tests.pta: dt_driver tests are not embedded");
                TeeResult::SUCCESS
            }
            _ => TeeResult::ERROR_BAD_PARAMETERS,
        }
    }
}
