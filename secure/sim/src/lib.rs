//! oxtee-sim: TA tests on the host. A TA crate's `cargo test` runs its
//! entry points against the real trusted-OS logic of `secure/core`: the
//! calls go in as OP-TEE messages (OPEN_SESSION, INVOKE_COMMAND,
//! CLOSE_SESSION) like the normal world's, the core builds the instance,
//! copies the parameters, and serves every syscall (crypto, trusted
//! storage over an in-memory REE file system, properties, time, TA-to-TA
//! calls) with the code the device runs. What is simulated is the CPU
//! (the TA runs on a host thread, see [`ta`]), the MMU (a list of
//! mappings) and the normal world (this crate answers the core's RPCs).
//!
//! TA crates reach it as `oxtee_utee::sim` (the SDK plugs its entry glue
//! in); see ta/README.md, "Testing a TA on the host".

#![deny(unsafe_code)]

mod env;
#[allow(unsafe_code)]
mod mem;
mod mmu;
pub mod ta;

pub use env::{MockFn, MockParam};
pub use oxtee_abi::tee::{Origin, TeeResult};
pub use oxtee_abi::uuid::Uuid;

use env::{SimEnv, World};
use mem::{HOST_HI, HOST_LO, HOST_RAM, HostBuf};
use oxtee_abi::addr::{NsPhys, NsRange, UserVirt};
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_core::fastcall::OsConfig;
use oxtee_core::msg::{self, Dir, Message, Param as MsgParam};
use oxtee_core::nsmem::NsMemory;
use oxtee_core::pta::Pta;
use oxtee_core::session::SessionLimits;
use oxtee_core::shm::{ShmConfig, ShmLimits};
use oxtee_core::user::fakes::HostMemory;
use oxtee_core::{Limits, Os};
use std::sync::{Arc, Mutex};

/// The TA a crate's tests run: its UUID and `TA_FLAG_*`, and the SDK's
/// entry function.
#[derive(Clone, Copy)]
pub struct TaCode {
    pub uuid: Uuid,
    pub flags: u32,
    pub entry: ta::EntryFn,
}

/// A GP error of a call, with the origin of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: TeeResult,
    pub origin: Origin,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} (origin {})", self.code, self.origin.name())
    }
}

impl std::error::Error for Error {}

const LIMITS: Limits = Limits {
    sessions: SessionLimits { total: 256, ta: 64 },
    shm: ShmLimits { buffers: 64, pages: 1 << 16 },
    instances: 32,
    param_reserve: 1 << 20,
    param_shared: 64 << 20,
};

/// The hardware unique key of every simulated device (storage keys
/// derive from it; files never leave the `Sim`).
const HUK: [u8; 16] = *b"oxtee-sim-huk-00";

static SYSTEM_PTA: oxtee_core::pta::system::System = oxtee_core::pta::system::System;
static RNG_PTA: oxtee_core::pta::rng::RngPta = oxtee_core::pta::rng::RngPta;
static MMU: mmu::SimMmu = mmu::SimMmu;

struct Inner {
    os: Os,
    world: Arc<Mutex<World>>,
    own: Option<Uuid>,
    /// One call at a time into this simulated TEE.
    calls: Mutex<()>,
}

/// A simulated TEE: a fresh trusted OS (the real `secure/core`) with its
/// own storage, sessions and instances. Cheap to clone (shared).
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

/// Parses a UUID in its text form (`8-4-4-4-12` hex digits).
///
/// # Panics
///
/// If `s` is not one.
pub fn uuid(s: &str) -> Uuid {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let groups: Vec<usize> = s.split('-').map(str::len).collect();
    assert!(
        groups == [8, 4, 4, 4, 12] && hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()),
        "not a UUID: {s:?}"
    );
    let mut o = [0u8; 16];
    for (i, b) in o.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0);
    }
    Uuid::from_octets(o)
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new(None)
    }
}

impl Sim {
    /// A simulated TEE running `ta` (the crate's own TA), if any.
    pub fn new(ta: Option<TaCode>) -> Sim {
        logger::init();
        let range = NsRange::new(NsPhys::new(HOST_LO), HOST_HI - HOST_LO);
        let config = OsConfig { build_id: 0x51, thread_count: 4, static_shm: Some(range), yielding_calls: true };
        let ptas: Vec<&'static dyn Pta> = vec![&SYSTEM_PTA, &RNG_PTA];
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let ram: &'static dyn NsMemory = &HOST_RAM;
        let mut os = Os::new(config, ShmConfig { static_pool: Some(range), ns_ram: range }, LIMITS, ram, ptas)
            .with_rng(oxtee_core::rng::Rng::new(&[&seed.to_le_bytes(), b"oxtee-sim"]))
            .with_huk(&HUK);
        let fakes: Vec<(Uuid, u32)> = ta.iter().map(|t| (t.uuid, t.flags)).collect();
        os.user.install_fakes(&MMU, &fakes);
        let pages =
            os.shm.ns_contiguous(NsPhys::new(HOST_LO), HOST_HI - HOST_LO).expect("host range is normal-world RAM");
        os.user.install_host_memory(HostMemory { mem: ram, pages, va: UserVirt::new(HOST_LO) });
        let mut world = World::new();
        world.own = ta.map(|t| (t.uuid, t.entry));
        let inner = Inner { os, world: Arc::new(Mutex::new(world)), own: ta.map(|t| t.uuid), calls: Mutex::new(()) };
        Sim { inner: Arc::new(inner) }
    }

    /// Registers a mock TA: `invoke` serves its commands (opening and
    /// closing sessions to it always succeed). The TA under test can open
    /// sessions to it (TA-to-TA), and so can the test.
    pub fn add_ta(
        &self,
        uuid: &str,
        flags: u32,
        invoke: impl FnMut(u32, &mut [MockParam; 4]) -> Result<(), u32> + Send + 'static,
    ) {
        let uuid = crate::uuid(uuid);
        self.world().mocks.insert(uuid, Some(Box::new(invoke)));
        self.inner.os.user.add_fake(uuid, flags);
    }

    /// Opens a session to the crate's own TA.
    ///
    /// # Panics
    ///
    /// If this `Sim` has no TA of its own.
    pub fn open_session(&self, params: &mut [Param<'_>]) -> Result<Session, Error> {
        let own = self.inner.own.expect("this Sim runs no TA of its own");
        self.open_uuid(own, params)
    }

    /// Opens a session to any TA or pseudo-TA by UUID.
    pub fn open_session_to(&self, uuid: &str, params: &mut [Param<'_>]) -> Result<Session, Error> {
        self.open_uuid(crate::uuid(uuid), params)
    }

    fn open_uuid(&self, uuid: Uuid, params: &mut [Param<'_>]) -> Result<Session, Error> {
        let (a, b) = uuid.to_msg_value();
        let mut all = vec![
            MsgParam::Value { dir: Dir::In, a, b, c: 0 },
            MsgParam::Value { dir: Dir::In, a: 0, b: 0, c: m::LOGIN_PUBLIC as u64 },
        ];
        all.extend(params.iter().map(Param::to_msg));
        let mut msg = Message::new(m::CMD_OPEN_SESSION, all);
        msg.meta = vec![true, true];
        msg.meta.resize(msg.params.len(), false);
        let back = self.call(&msg)?;
        for (p, out) in params.iter_mut().zip(back.params.iter().skip(2)) {
            p.update(out);
        }
        result(&back)?;
        Ok(Session { sim: self.clone(), id: back.hdr.session, open: true })
    }

    /// Names of the files the simulated normal world's REE file system
    /// holds (trusted storage keeps its objects there, encrypted).
    pub fn storage_files(&self) -> Vec<String> {
        self.world().files.keys().cloned().collect()
    }

    /// Live TA instances.
    pub fn instances(&self) -> u32 {
        self.inner.os.user.live()
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.inner.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One yielding call with `msg`, through the normal world's ABI.
    fn call(&self, msg: &Message) -> Result<Message, Error> {
        let _one = self.inner.calls.lock().unwrap_or_else(|e| e.into_inner());
        let size = msg::size_for(msg.params.len());
        let arg = HostBuf::new(size);
        let at = arg.addr();
        let comms = Error { code: TeeResult::ERROR_COMMUNICATION, origin: Origin::Comms };
        HOST_RAM.write(NsPhys::new(at), &msg.encode()).map_err(|_| comms)?;
        let mut env = SimEnv { world: self.inner.world.clone() };
        let r = self.inner.os.serve(&mut env, [smc::CALL_WITH_ARG as u64, at >> 32, at & 0xffff_ffff, 0, 0, 0, 0, 0]);
        if r[0] != smc::RETURN_OK as u64 {
            return Err(comms);
        }
        let mut back = vec![0u8; size];
        HOST_RAM.read(NsPhys::new(at), &mut back).map_err(|_| comms)?;
        drop(arg);
        msg::parse(&back, msg.params.len()).map_err(|_| comms)
    }
}

fn result(msg: &Message) -> Result<(), Error> {
    if msg.hdr.ret == 0 {
        return Ok(());
    }
    let origin = Origin::try_from(msg.hdr.ret_origin).unwrap_or(Origin::Tee);
    Err(Error { code: TeeResult(msg.hdr.ret), origin })
}

/// An open session; closed when dropped.
pub struct Session {
    sim: Sim,
    id: u32,
    open: bool,
}

impl Session {
    /// The session's id in the simulated TEE.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Invokes command `cmd` with up to four parameters; outputs (values,
    /// memref contents and sizes) are updated in `params`, also when the
    /// call fails (a too-short buffer reports the size needed).
    pub fn invoke(&mut self, cmd: u32, params: &mut [Param<'_>]) -> Result<(), Error> {
        let mut msg = Message::new(m::CMD_INVOKE_COMMAND, params.iter().map(Param::to_msg).collect());
        msg.hdr.session = self.id;
        msg.hdr.func = cmd;
        let back = self.sim.call(&msg)?;
        for (p, out) in params.iter_mut().zip(back.params.iter()) {
            p.update(out);
        }
        result(&back)
    }

    /// Closes the session (dropping it does too, ignoring the result).
    pub fn close(mut self) -> Result<(), Error> {
        self.open = false;
        self.close_inner()
    }

    fn close_inner(&self) -> Result<(), Error> {
        let mut msg = Message::new(m::CMD_CLOSE_SESSION, vec![]);
        msg.hdr.session = self.id;
        result(&self.sim.call(&msg)?)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.open {
            let _ = self.close_inner();
        }
    }
}

enum Kind<'a> {
    None,
    Value(Dir),
    Input(&'a [u8]),
    Output(&'a mut [u8]),
    InOut(&'a mut [u8]),
}

/// A parameter of a call from the test (the normal-world client).
pub struct Param<'a> {
    kind: Kind<'a>,
    a: u32,
    b: u32,
    size: usize,
}

impl<'a> Param<'a> {
    fn new(kind: Kind<'a>, a: u32, b: u32, size: usize) -> Self {
        Param { kind, a, b, size }
    }

    pub fn none() -> Self {
        Self::new(Kind::None, 0, 0, 0)
    }

    pub fn value_input(a: u32, b: u32) -> Self {
        Self::new(Kind::Value(Dir::In), a, b, 0)
    }

    pub fn value_output() -> Self {
        Self::new(Kind::Value(Dir::Out), 0, 0, 0)
    }

    pub fn value_inout(a: u32, b: u32) -> Self {
        Self::new(Kind::Value(Dir::InOut), a, b, 0)
    }

    /// A buffer the TA reads.
    pub fn memref_input(buf: &'a [u8]) -> Self {
        let n = buf.len();
        Self::new(Kind::Input(buf), 0, 0, n)
    }

    /// A buffer the TA writes; an empty one is a null memref (size query).
    pub fn memref_output(buf: &'a mut [u8]) -> Self {
        let n = buf.len();
        Self::new(Kind::Output(buf), 0, 0, n)
    }

    pub fn memref_inout(buf: &'a mut [u8]) -> Self {
        let n = buf.len();
        Self::new(Kind::InOut(buf), 0, 0, n)
    }

    /// Value `a` (after the call: the TA's output).
    pub fn a(&self) -> u32 {
        self.a
    }

    pub fn b(&self) -> u32 {
        self.b
    }

    /// A memref's size: after the call, what the TA reported (bigger than
    /// the buffer if it was too short).
    pub fn size(&self) -> usize {
        self.size
    }

    /// A memref's bytes the TA reported (up to its size).
    pub fn bytes(&self) -> &[u8] {
        let buf: &[u8] = match &self.kind {
            Kind::Input(b) => b,
            Kind::Output(b) | Kind::InOut(b) => b,
            _ => &[],
        };
        &buf[..self.size.min(buf.len())]
    }

    fn to_msg(&self) -> MsgParam {
        let tmem = |dir, buf: &[u8]| {
            let addr = if buf.is_empty() { 0 } else { buf.as_ptr() as u64 };
            MsgParam::Tmem { dir, buf: addr, size: buf.len() as u64, shm_ref: addr, noncontig: false }
        };
        match &self.kind {
            Kind::None => MsgParam::None,
            Kind::Value(dir) => MsgParam::Value { dir: *dir, a: self.a as u64, b: self.b as u64, c: 0 },
            Kind::Input(b) => tmem(Dir::In, b),
            Kind::Output(b) => tmem(Dir::Out, b),
            Kind::InOut(b) => tmem(Dir::InOut, b),
        }
    }

    fn update(&mut self, out: &MsgParam) {
        match (&self.kind, out) {
            (Kind::Value(Dir::Out | Dir::InOut), MsgParam::Value { a, b, .. }) => {
                (self.a, self.b) = (*a as u32, *b as u32);
            }
            (Kind::Output(_) | Kind::InOut(_), MsgParam::Tmem { size, .. } | MsgParam::Rmem { size, .. }) => {
                self.size = *size as usize;
            }
            _ => {}
        }
    }
}

/// The secure side's log (the core's messages and the TA's
/// `trace_println!`) on stderr, which the test harness shows for failed
/// tests (or all with `--nocapture`). `OXTEE_SIM_LOG` sets the level
/// (`error`, `warn`, `info` (default), `debug`, `trace`, `off`).
mod logger {
    struct Stderr;

    impl log::Log for Stderr {
        fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
            meta.level() <= log::max_level()
        }

        fn log(&self, record: &log::Record<'_>) {
            if self.enabled(record.metadata()) {
                eprintln!("[secure {}] {}", record.level(), record.args());
            }
        }

        fn flush(&self) {}
    }

    static LOGGER: Stderr = Stderr;

    pub fn init() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let level =
                std::env::var("OXTEE_SIM_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(log::LevelFilter::Info);
            if log::set_logger(&LOGGER).is_ok() {
                log::set_max_level(level);
            }
        });
    }
}

#[cfg(test)]
mod tests;
