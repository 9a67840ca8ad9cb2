//! Generators of hostile input: function ids with their registers, and
//! `optee_msg_arg` messages of every shape with the place they are sent
//! from. Each generator also says what the answer must be where the input
//! alone decides it. Nothing generated may touch another CPU's resources:
//! sessions are closed and cookies unregistered only if this CPU owns them
//! or nobody can (see `Own`).

use super::Cpu;
use super::drive::Call;
use super::mem::{self, ListKind, NsBuf, PAGE};
use super::rng::Rng;
use crate::shm;
use alloc::vec::Vec;
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::test_pta as t;
use oxtee_abi::uuid::Uuid;
use oxtee_core::msg::size_for;

/// A buffer this CPU registered.
#[derive(Clone)]
pub struct Reg {
    pub cookie: u64,
    /// Its pages as the OS sees them.
    pub buf: NsBuf,
}

/// What one CPU owns: only these may it close or unregister.
pub struct Own {
    /// Session for liveness checks and statistics; random cases may invoke
    /// it but never close it.
    pub private: u32,
    pub sessions: Vec<u32>,
    pub regs: Vec<Reg>,
    /// Cookies this CPU unregistered (stale references).
    pub dead: Vec<u64>,
    next_cookie: u64,
}

/// Cookies registered by CPU c start with this prefix (and c); shared ones
/// with `SHARED_PREFIX`. Nothing else is ever registered (on one CPU, any
/// value may be).
const OWN_PREFIX: u64 = 0xc00c;
pub const SHARED_PREFIX: u64 = 0x5aed;
pub const SHARED_SLOTS: usize = 6;

pub fn shared_cookie(slot: usize) -> u64 {
    SHARED_PREFIX << 48 | slot as u64
}

impl Own {
    pub fn new(cpu: usize, private: u32) -> Own {
        Own { private, sessions: Vec::new(), regs: Vec::new(), dead: Vec::new(), next_cookie: (cpu as u64) << 40 }
    }

    pub fn fresh_cookie(&mut self) -> u64 {
        self.next_cookie += 1;
        OWN_PREFIX << 48 | self.next_cookie
    }

    fn live_cookie(&self, rng: &mut Rng) -> Option<u64> {
        (!self.regs.is_empty()).then(|| self.regs[rng.below(self.regs.len() as u64) as usize].cookie)
    }

    fn dead_cookie(&self, rng: &mut Rng) -> Option<u64> {
        (!self.dead.is_empty()).then(|| self.dead[rng.below(self.dead.len() as u64) as usize])
    }

    pub fn forget_dead(&mut self) {
        if self.dead.len() > 32 {
            self.dead.drain(..16);
        }
    }
}

/// A parameter word that is not meant as an address: a mutated attribute
/// may still make it one, so it never names the harness's own memory
/// (device tree, image, heap, static pool, page heap), which the OS would
/// then write to.
pub fn word(rng: &mut Rng) -> u64 {
    let v = rng.edgy();
    if (oxtee_platform::map::DRAM_BASE..mem::SCRATCH_BASE).contains(&v) { v | 1 << 40 } else { v }
}

/// A cookie no CPU has registered.
pub fn stranger_cookie(rng: &mut Rng, own: &Own) -> u64 {
    loop {
        let v = rng.edgy();
        // On one CPU any value may be registered, but then it is in `own`.
        let v = if v >> 48 == OWN_PREFIX || v >> 48 == SHARED_PREFIX { v ^ 1 << 62 } else { v };
        if !own.regs.iter().any(|r| r.cookie == v) {
            return v;
        }
    }
}

/// A session id for a command that may close it: own or nobody's.
fn closable_session(rng: &mut Rng, own: &Own) -> u32 {
    if !own.sessions.is_empty() && rng.chance(60) {
        return own.sessions[rng.below(own.sessions.len() as u64) as usize];
    }
    // Ids are handed out from 1 upwards; these are never reached.
    rng.pick(&[0, u32::MAX, u32::MAX - 1]) | if rng.chance(50) { 0x8000_0000 | rng.next() as u32 } else { 0 }
}

/// Any session id: own, the private one, a shared one, anyone's, none.
fn any_session(rng: &mut Rng, own: &Own, shared: &[u32]) -> u32 {
    match rng.below(5) {
        0 if !own.sessions.is_empty() => own.sessions[rng.below(own.sessions.len() as u64) as usize],
        1 => own.private,
        2 => shared[rng.below(shared.len() as u64) as usize],
        3 => rng.below(1000) as u32,
        _ => closable_session(rng, own),
    }
}

/// Fast calls whose whole answer is fixed: (id, defined result words).
pub const FIXED: [(u32, usize); 7] = [
    (smc::CALLS_COUNT, 1),
    (smc::CALLS_UID, 4),
    (smc::CALLS_REVISION, 2),
    (smc::GET_OS_UUID, 4),
    (smc::GET_OS_REVISION, 3),
    (smc::GET_SHM_CONFIG, 4),
    (smc::GET_THREAD_COUNT, 2),
];
const STATEFUL: [u32; 3] = [smc::EXCHANGE_CAPABILITIES, smc::DISABLE_SHM_CACHE, smc::ENABLE_SHM_CACHE];

/// What a fast call must answer, from its id alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastExpect {
    Unknown,
    /// Index into `FIXED`.
    Fixed(usize),
    Caps,
    CacheDisable,
    CacheEnable,
    /// ENABLE_ASYNC_NOTIF, GET_ASYNC_NOTIF_VALUE: OK (nothing is ever
    /// pending here: no secure driver raises one).
    AsyncNotif,
    /// Arch calls the monitor answers itself: any answer.
    Any,
}

pub fn fast_expect(x0: u64) -> FastExpect {
    let f = x0 as u32 & !(1 << 16);
    let owner = (f >> 24) & 0x3f;
    if (f >> 17) & 0x7f != 0 {
        return FastExpect::Unknown;
    }
    if owner == 0 {
        return FastExpect::Any;
    }
    if let Some(i) = FIXED.iter().position(|(id, _)| *id == f) {
        return FastExpect::Fixed(i);
    }
    match f {
        smc::EXCHANGE_CAPABILITIES => FastExpect::Caps,
        smc::DISABLE_SHM_CACHE => FastExpect::CacheDisable,
        smc::ENABLE_SHM_CACHE => FastExpect::CacheEnable,
        smc::ENABLE_ASYNC_NOTIF | smc::GET_ASYNC_NOTIF_VALUE => FastExpect::AsyncNotif,
        _ => FastExpect::Unknown,
    }
}

/// Registers of a random fast call. Never PSCI (owner 4): turning CPUs or
/// the machine off is not a hostile input the OS sees.
pub fn fast_call(rng: &mut Rng) -> [u64; 8] {
    let known = || FIXED.iter().map(|(id, _)| *id).chain(STATEFUL);
    let mut id: u32 = match rng.below(10) {
        0..=3 => {
            let all: Vec<u32> = known().collect();
            rng.pick(&all)
        }
        4 | 5 => 0x8000_0000 | (rng.range(50, 63) as u32) << 24 | rng.edgy() as u32 & 0xffff,
        6 => known().nth(rng.below(10) as usize).unwrap() | (rng.range(1, 127) as u32) << 17,
        7 => 0xf200_0000 | rng.edgy() as u32 & 0xffff,
        8 => {
            let owner = rng.pick(&[1u32, 2, 3, 5, 6, 30, 47, 48, 49]);
            0x8000_0000 | owner << 24 | rng.edgy() as u32 & 0xffff
        }
        _ => 0x8000_0000 | rng.edgy() as u32 & 0xffff,
    };
    if rng.chance(10) {
        id |= 1 << 16;
    }
    let mut regs = [id as u64, 0, 0, 0, 0, 0, 0, 0];
    if rng.chance(20) {
        regs[0] |= rng.next() << 32;
    }
    for r in regs.iter_mut().skip(1) {
        *r = if rng.chance(50) { 0 } else { rng.edgy() };
    }
    if id == smc::EXCHANGE_CAPABILITIES && rng.chance(50) {
        regs[1] = rng.pick(&[0, smc::NSEC_CAP_UNIPROCESSOR]);
    }
    regs
}

/// A thread id no call of this CPU is suspended on and no other CPU can be
/// using (on one CPU, any id not in `held`).
pub fn idle_thread(rng: &mut Rng, cpu: &Cpu, held: &[u64]) -> u64 {
    if cpu.solo && rng.chance(40) {
        let free: Vec<u64> = (0..cpu.threads).filter(|t| !held.contains(t)).collect();
        if !free.is_empty() {
            return rng.pick(&free);
        }
    }
    match rng.below(5) {
        0 => cpu.threads + rng.below(64),
        1 => u32::MAX as u64,
        2 => u64::MAX - rng.below(4),
        3 if cpu.solo => 1 << 32 | rng.below(cpu.threads),
        _ => cpu.threads + (rng.next() >> 1),
    }
}

/// What a yielding call must answer, from its id and registers alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YieldExpect {
    /// Not the OS's, or not a yielding function it has.
    Unknown,
    BadCmd,
    BadAddr,
    Resume,
    /// A call on garbage in scratch memory: OK, EBADADDR or EBADCMD.
    Garbage,
}

/// A random yielding SMC and what it must answer.
pub fn yielding_call(rng: &mut Rng, cpu: &mut Cpu, held: &[u64], own: &Own) -> (Call, YieldExpect) {
    let os = rng.chance(80);
    let func = match rng.below(10) {
        0..=5 => rng.pick(&[3u32, 4, 18, 19]),
        _ => rng.edgy() as u32 & 0xffff,
    };
    let owner = if os { rng.range(50, 63) as u32 } else { rng.pick(&[0u32, 1, 2, 3, 4, 5, 48, 49]) };
    let mut id = owner << 24 | func;
    if rng.chance(10) {
        id |= 1 << 16;
    }
    if rng.chance(10) {
        id |= (rng.range(1, 127) as u32) << 17;
    }
    if rng.chance(10) {
        id |= 1 << 30;
    }
    let mut regs = [id as u64, 0, 0, 0, 0, 0, 0, 0];
    for r in regs.iter_mut().skip(1) {
        *r = rng.edgy();
    }
    let eff = id & !(1 << 16);
    let mut rpc_arg = None;
    let expect = if !os || (eff >> 24) & 0x3f < 50 {
        YieldExpect::Unknown
    } else {
        match eff {
            smc::CALL_WITH_ARG | smc::CALL_WITH_RPC_ARG => {
                let pa = if rng.chance(70) {
                    mem::refused_addr(rng)
                } else {
                    // A page of garbage: whatever it says, the OS may only
                    // ever touch that page.
                    let pa = cpu.scratch.page();
                    let junk: Vec<u8> = (0..PAGE).map(|_| rng.next() as u8).collect();
                    crate::arch::write_mem(pa, &junk);
                    pa
                };
                regs[1] = pa >> 32;
                regs[2] = pa & 0xffff_ffff;
                if cpu.scratch.holds(pa, PAGE) {
                    // The OS takes num_params from the garbage; an RPC
                    // argument follows the message, inside the page.
                    let mut hdr = [0u8; 32];
                    crate::arch::read_mem(pa, &mut hdr);
                    let n = u32::from_le_bytes(hdr[28..32].try_into().unwrap()) as u64;
                    let end = size_for(n.min(128) as usize) as u64 + RPC_ARG_SIZE;
                    if eff == smc::CALL_WITH_RPC_ARG && n <= m::MAX_NUM_PARAMS as u64 && end <= PAGE {
                        rpc_arg = Some(NsBuf::contiguous(pa + end - RPC_ARG_SIZE, RPC_ARG_SIZE));
                    }
                    YieldExpect::Garbage
                } else {
                    YieldExpect::BadAddr
                }
            }
            smc::CALL_WITH_REGD_ARG => {
                let c = stranger_cookie(rng, own);
                regs[1] = c >> 32;
                regs[2] = c & 0xffff_ffff;
                YieldExpect::BadAddr
            }
            smc::RETURN_FROM_RPC => {
                regs[3] = idle_thread(rng, cpu, held);
                YieldExpect::Resume
            }
            _ => YieldExpect::BadCmd,
        }
    };
    (Call::new(regs, rpc_arg), expect)
}

/// What a message would change in this CPU's bookkeeping if it succeeds,
/// and what the input alone says about its answer.
#[derive(Clone)]
pub enum Intent {
    None,
    Open,
    /// `must_fail`: a bad page list, or a cookie already registered.
    Register {
        cookie: u64,
        buf: Option<NsBuf>,
        must_fail: bool,
    },
    /// `must_succeed`: a well-formed request for a buffer this CPU owns.
    Unregister {
        cookie: u64,
        must_succeed: bool,
    },
    Close {
        session: u32,
        must_succeed: bool,
    },
}

/// A generated message.
pub struct MsgCase {
    pub bytes: Vec<u8>,
    pub cmd: u32,
    /// num_params as the header says (may lie).
    pub declared: u32,
    pub intent: Intent,
    /// True if no mutation was applied after building it.
    pub clean: bool,
    /// Static-pool blocks the message's memrefs use (free after the call).
    pub blocks: Vec<u64>,
}

const ATTR_VALUE: [u64; 3] = [m::ATTR_TYPE_VALUE_INPUT, m::ATTR_TYPE_VALUE_OUTPUT, m::ATTR_TYPE_VALUE_INOUT];
const ATTR_RMEM: [u64; 3] = [m::ATTR_TYPE_RMEM_INPUT, m::ATTR_TYPE_RMEM_OUTPUT, m::ATTR_TYPE_RMEM_INOUT];
const ATTR_TMEM: [u64; 3] = [m::ATTR_TYPE_TMEM_INPUT, m::ATTR_TYPE_TMEM_OUTPUT, m::ATTR_TYPE_TMEM_INOUT];

fn put(out: &mut Vec<u8>, attr: u64, a: u64, b: u64, c: u64) {
    for w in [attr, a, b, c] {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

/// Test-PTA commands random calls use. Never CMD_STACK_OVERFLOW: aborted
/// calls are the directed phase's business.
const FUNCS: [u32; 13] = [
    t::CMD_NOOP,
    t::CMD_VALUES,
    t::CMD_MEMREF,
    t::CMD_SHORT_BUFFER,
    t::CMD_RPC,
    t::CMD_SLEEP,
    t::CMD_SPIN,
    t::CMD_STATS,
    t::CMD_MUTEX,
    t::CMD_RESUME_CPU,
    t::CMD_SUPP_FS,
    t::CMD_SUPP_PING,
    t::CMD_USER_STATS,
];

/// The device-enumeration pseudo-TA's UUID (a second PTA to open).
const DEVICE_ENUM: Uuid = Uuid::new(0x7011_a688, 0xddde, 0x4053, [0xa5, 0xa9, 0x7b, 0x3c, 0x4d, 0xdf, 0x13, 0xb8]);

/// One random parameter (attr and payload).
fn param(rng: &mut Rng, cpu: &mut Cpu, own: &Own, shared: &[u64], blocks: &mut Vec<u64>, out: &mut Vec<u8>) {
    let mut flags = 0;
    if rng.chance(4) {
        flags |= m::ATTR_META;
    }
    if rng.chance(3) {
        flags |= rng.range(1, 7) << m::ATTR_CACHE_SHIFT;
    }
    if rng.chance(3) {
        flags |= 1 << rng.pick(&[10u64, 12, 15, 19, 31, 32, 63]);
    }
    match rng.below(20) {
        0..=5 => put(out, rng.pick(&ATTR_VALUE) | flags, word(rng), word(rng), word(rng)),
        6..=10 => {
            let attr = rng.pick(&ATTR_TMEM) | flags;
            if rng.chance(35) {
                let kind = ListKind::random(rng);
                let size = if rng.chance(3) { rng.range(1, 4 << 20) } else { rng.range(1, 16 * PAGE) };
                let list = mem::page_list(rng, &mut cpu.scratch, kind, size);
                // A size that lies about the list (never past 4 MiB on a
                // looping one, which would make the OS read for minutes).
                let size = match rng.chance(10) {
                    true if kind == ListKind::Looping => rng.edgy() % (4 << 20),
                    true => rng.edgy(),
                    false => list.size,
                };
                put(out, attr | m::ATTR_NONCONTIG, list.ptr, size, rng.edgy());
            } else {
                let (buf, size) = match rng.below(6) {
                    0..=2 => match shm::pool_alloc(PAGE) {
                        // Within the block: the OS may write all of it.
                        Some(pa) => {
                            blocks.push(pa);
                            let off = if rng.chance(50) { 0 } else { rng.below(PAGE) };
                            (pa + off, rng.below(PAGE - off + 1))
                        }
                        None => (0, 0),
                    },
                    3 => (0, if rng.chance(50) { 0 } else { rng.edgy() }),
                    4 => (mem::refused_addr(rng), rng.edgy()),
                    // Past the end of the pool, or outside it.
                    _ => {
                        let end = oxtee_platform::map::STATIC_SHM_BASE + oxtee_platform::map::STATIC_SHM_SIZE;
                        let k = rng.range(1, PAGE);
                        if rng.chance(50) { (end - k, k + rng.range(1, 1 << 20)) } else { (cpu.scratch.page(), PAGE) }
                    }
                };
                put(out, attr | if rng.chance(3) { m::ATTR_NONCONTIG } else { 0 }, buf, size, rng.edgy());
            }
        }
        11..=14 => {
            let cookie = match rng.below(10) {
                0..=3 => own.live_cookie(rng).unwrap_or(shared[0]),
                4 | 5 => rng.pick(shared),
                6 => own.dead_cookie(rng).unwrap_or(0),
                _ => stranger_cookie(rng, own),
            };
            let size = own.regs.iter().find(|r| r.cookie == cookie).map_or(PAGE, |r| r.buf.size);
            let (offs, len) = if rng.chance(60) {
                let offs = rng.below(size);
                (offs, rng.below(size - offs + 1))
            } else {
                (word(rng), word(rng))
            };
            put(out, rng.pick(&ATTR_RMEM) | flags, offs, len, cookie);
        }
        15 | 16 => put(out, m::ATTR_TYPE_NONE | flags, word(rng), word(rng), word(rng)),
        17 | 18 => {
            let t = rng.pick(&[4u64, 8, 0xc, 0xd, 0xe, 0xf, 0x10, 0x80, 0xff]);
            put(out, t | flags, word(rng), word(rng), word(rng));
        }
        _ => put(out, rng.edgy() & !(m::ATTR_NONCONTIG), word(rng), word(rng), word(rng)),
    }
}

/// Builds a random message.
pub fn message(rng: &mut Rng, cpu: &mut Cpu, own: &mut Own, shared_s: &[u32], shared_c: &[u64]) -> MsgCase {
    let cmd = match rng.below(100) {
        0..=44 => m::CMD_INVOKE_COMMAND,
        45..=56 => m::CMD_OPEN_SESSION,
        57..=62 => m::CMD_CLOSE_SESSION,
        63..=67 => m::CMD_CANCEL,
        68..=79 => m::CMD_REGISTER_SHM,
        80..=87 => m::CMD_UNREGISTER_SHM,
        88..=91 => rng.pick(&[m::CMD_DO_BOTTOM_HALF, m::CMD_STOP_ASYNC_NOTIF, 8, 9, 10, 11]),
        // Anything, but an id that would close or unregister is drawn again
        // as one of those below (their targets are chosen with care).
        _ => match rng.edgy() as u32 {
            m::CMD_CLOSE_SESSION | m::CMD_UNREGISTER_SHM | m::CMD_REGISTER_SHM => 0x100,
            c => c,
        },
    };
    let session = match cmd {
        m::CMD_CLOSE_SESSION => closable_session(rng, own),
        m::CMD_OPEN_SESSION => rng.edgy() as u32,
        _ => any_session(rng, own, shared_s),
    };
    let func = if rng.chance(75) {
        rng.pick(&FUNCS)
    } else {
        match rng.edgy() as u32 {
            t::CMD_STACK_OVERFLOW => t::CMD_NOOP,
            f => f,
        }
    };
    let mut blocks = Vec::new();
    let mut body: Vec<u8> = Vec::new();
    let mut intent = Intent::None;
    let actual: u32;
    match cmd {
        m::CMD_OPEN_SESSION => {
            let uuid = match rng.below(10) {
                0..=5 => t::UUID,
                6 => DEVICE_ENUM,
                7 => Uuid::NIL,
                _ => Uuid::new(rng.next() as u32, 0, 0, [rng.next() as u8; 8]),
            };
            let (a, b) = uuid.to_msg_value();
            let meta = if rng.chance(92) { m::ATTR_META } else { 0 };
            let login = if rng.chance(85) {
                rng.pick(&[m::LOGIN_PUBLIC, m::LOGIN_USER, m::LOGIN_APPLICATION, m::LOGIN_REE_KERNEL]) as u64
            } else {
                rng.edgy()
            };
            put(&mut body, m::ATTR_TYPE_VALUE_INPUT | meta, a, b, rng.edgy());
            put(&mut body, m::ATTR_TYPE_VALUE_INPUT | meta, rng.next(), rng.next(), login);
            let extra = rng.below(4) as u32;
            for _ in 0..extra {
                param(rng, cpu, own, shared_c, &mut blocks, &mut body);
            }
            actual = 2 + extra;
            intent = Intent::Open;
        }
        m::CMD_REGISTER_SHM => {
            let kind = ListKind::random(rng);
            let size = if kind == ListKind::Looping { rng.range(1, 4 << 20) } else { rng.range(1, 16 * PAGE) };
            let list = mem::page_list(rng, &mut cpu.scratch, kind, size);
            let cookie = match rng.below(10) {
                0 if cpu.solo => rng.edgy(),
                1 => own.live_cookie(rng).unwrap_or_else(|| own.fresh_cookie()),
                _ => own.fresh_cookie(),
            };
            let attr = if rng.chance(90) { m::ATTR_TYPE_TMEM_OUTPUT | m::ATTR_NONCONTIG } else { rng.pick(&ATTR_TMEM) };
            put(&mut body, attr, list.ptr, list.size, cookie);
            actual = 1;
            let exists = own.regs.iter().any(|r| r.cookie == cookie);
            intent = Intent::Register { cookie, must_fail: exists || !list.kind.valid(), buf: list.buf };
        }
        m::CMD_UNREGISTER_SHM => {
            let cookie = match rng.below(10) {
                0..=4 => own.live_cookie(rng).unwrap_or(0),
                5 | 6 => own.dead_cookie(rng).unwrap_or(0),
                _ => stranger_cookie(rng, own),
            };
            let rmem = rng.chance(85);
            let attr = if rmem { rng.pick(&ATTR_RMEM) } else { rng.pick(&ATTR_VALUE) };
            put(&mut body, attr, word(rng), word(rng), cookie);
            actual = 1;
            let mine = own.regs.iter().any(|r| r.cookie == cookie);
            intent = Intent::Unregister { cookie, must_succeed: rmem && mine };
        }
        _ => {
            let n = if rng.chance(90) { rng.below(5) as u32 } else { rng.range(5, 8) as u32 };
            for _ in 0..n {
                param(rng, cpu, own, shared_c, &mut blocks, &mut body);
            }
            actual = n;
            if cmd == m::CMD_CLOSE_SESSION {
                intent = Intent::Close { session, must_succeed: n == 0 && own.sessions.contains(&session) };
            }
        }
    }
    let declared =
        if rng.chance(85) { actual } else { rng.pick(&[0, 1, 2, 3, 4, 5, 8, 126, 127, 128, 0xffff, u32::MAX]) };
    let mut bytes = Vec::with_capacity(32 + body.len());
    for w in [cmd, func, session, rng.edgy() as u32] {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    // pad, ret and ret_origin are outputs: junk in them must not matter.
    for _ in 0..3 {
        let w = if rng.chance(20) { rng.edgy() as u32 } else { 0 };
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes.extend_from_slice(&declared.to_le_bytes());
    bytes.extend_from_slice(&body);
    // Mutations touch only the header's plain fields and attribute words:
    // never the command, the session or a memref's address, size or cookie,
    // which decide what the call may touch.
    let clean = !rng.chance(15);
    if !clean {
        for _ in 0..rng.range(1, 3) {
            let n = (bytes.len() - 32) / 32;
            match rng.below(3) {
                0 => {
                    let at = rng.pick(&[4usize, 12, 16, 20, 24]);
                    let mut v = rng.edgy() as u32;
                    if at == 4 && v == t::CMD_STACK_OVERFLOW {
                        v = t::CMD_NOOP;
                    }
                    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                1 if n > 0 => {
                    let at = 32 + 32 * rng.below(n as u64) as usize + rng.below(8) as usize;
                    bytes[at] ^= 1 << rng.below(8);
                }
                _ => bytes[28..32].copy_from_slice(&(rng.below(10) as u32).to_le_bytes()),
            }
        }
    }
    let declared = u32::from_le_bytes(bytes[28..32].try_into().unwrap());
    // Whatever the OS reads is written here (zeros past the parameters
    // made), never left over from an earlier case.
    let reads = size_for(declared.min(m::MAX_NUM_PARAMS) as usize);
    if bytes.len() < reads {
        bytes.resize(reads, 0);
    }
    // The test PTA waits as long as a value says: keep it short, whatever
    // command the header ended up naming.
    let func = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
    let cap = match func {
        t::CMD_SLEEP | t::CMD_SPIN | t::CMD_MUTEX => Some(3),
        t::CMD_SUPP_FS => Some(64 << 10),
        _ => None,
    };
    if let Some(cap) = cap.filter(|_| bytes.len() >= 48) {
        let a = u64::from_le_bytes(bytes[40..48].try_into().unwrap()) % (cap + 1);
        bytes[40..48].copy_from_slice(&a.to_le_bytes());
    }
    // What only a well-formed request promises.
    let untouched = clean && declared == actual;
    match &mut intent {
        Intent::Unregister { must_succeed, .. } | Intent::Close { must_succeed, .. } => *must_succeed &= untouched,
        _ => {}
    }
    MsgCase { bytes, cmd, declared, intent, clean, blocks }
}

/// What the place alone says about the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    /// EBADADDR, whatever the message.
    Bad,
    /// Never EBADADDR: the OS can read and write the whole argument.
    Good,
    /// The OS reads memory the message was not written to.
    Unknown,
}

/// Where a message goes, and what that alone says about the answer.
pub struct Placed {
    pub call: Call,
    pub place: Where,
    /// Where the answer can be read back.
    pub at: Option<NsBuf>,
    /// Static-pool block holding the argument (free after the call).
    pub block: Option<u64>,
}

const RPC_ARG_SIZE: u64 = 32 + 4 * 32;

/// Puts `mc` somewhere and builds the SMC that passes it.
pub fn place(rng: &mut Rng, cpu: &mut Cpu, own: &Own, mc: &MsgCase) -> Placed {
    let declared = mc.declared as u64;
    let too_many = declared > m::MAX_NUM_PARAMS as u64;
    let need = |rpc: bool| size_for(declared.min(127) as usize) as u64 + if rpc { RPC_ARG_SIZE } else { 0 };
    let regs = |fid: u32, pa: u64| [fid as u64, pa >> 32, pa & 0xffff_ffff, 0, 0, 0, 0, 0];
    let mut choice = rng.below(100);
    if (70..82).contains(&choice) && own.regs.is_empty() {
        choice = 0;
    }
    match choice {
        0..=69 => {
            let rpc = choice >= 35;
            let Some(block) = shm::pool_alloc(2 * PAGE) else {
                return Placed { call: Call::new([0; 8], None), place: Where::Unknown, at: None, block: None };
            };
            let misaligned = rng.chance(4);
            let pa = block + 8 * rng.below(64) + if misaligned { rng.range(1, 7) } else { 0 };
            crate::arch::write_mem(pa, &mc.bytes);
            let mut call = if rpc {
                super::drive::Call::rpc_arg(pa, declared.min(127) as usize)
            } else {
                Call::new(regs(smc::CALL_WITH_ARG, pa), None)
            };
            if misaligned {
                call.rpc_arg = None;
            }
            let at = Some(NsBuf::contiguous(pa, mc.bytes.len() as u64));
            let place = if misaligned || too_many { Where::Bad } else { Where::Good };
            Placed { call, place, at, block: Some(block) }
        }
        70..=81 => {
            let reg = &own.regs[rng.below(own.regs.len() as u64) as usize];
            let size = reg.buf.size;
            // Either the message fits, or not even its header does: the OS
            // must never run what an earlier case left in the buffer.
            let offs = if rng.chance(80) && size >= mc.bytes.len() as u64 {
                rng.below(size - mc.bytes.len() as u64 + 1) & !7
            } else {
                size.saturating_sub(rng.below(32)).saturating_add(if rng.chance(50) { 0 } else { rng.edgy() >> 1 })
            };
            let fits = reg.buf.slice(offs, mc.bytes.len() as u64);
            if let Some(b) = &fits {
                b.write(0, &mc.bytes);
            }
            let bad_cookie = rng.chance(15);
            let cookie = if bad_cookie { stranger_cookie(rng, own) } else { reg.cookie };
            let whole = reg.buf.slice(offs, need(true));
            let rpc_arg = whole.as_ref().and_then(|_| reg.buf.slice(offs + need(false), RPC_ARG_SIZE));
            let call = Call::new(
                [smc::CALL_WITH_REGD_ARG as u64, cookie >> 32, cookie & 0xffff_ffff, offs, 0, 0, 0, 0],
                rpc_arg,
            );
            let header = reg.buf.slice(offs, 32).is_some();
            let place = match (bad_cookie || !header, &fits) {
                (true, _) => Where::Bad,
                (false, None) => Where::Unknown,
                (false, Some(_)) if too_many || whole.is_none() => Where::Bad,
                _ => Where::Good,
            };
            Placed { call, place, at: fits, block: None }
        }
        82..=89 => {
            let rpc = rng.chance(50);
            let page = cpu.scratch.page();
            let pa = if rng.chance(85) { page } else { page + 8 * rng.range(1, 16) };
            crate::arch::write_mem(pa, &mc.bytes);
            let fid = if rpc { smc::CALL_WITH_RPC_ARG } else { smc::CALL_WITH_ARG };
            let bad = pa != page || need(rpc) > PAGE || too_many;
            let rpc_arg = (rpc && !bad).then(|| NsBuf::contiguous(pa + need(false), RPC_ARG_SIZE));
            let at = Some(NsBuf::contiguous(pa, mc.bytes.len() as u64));
            let place = if bad { Where::Bad } else { Where::Good };
            Placed { call: Call::new(regs(fid, pa), rpc_arg), place, at, block: None }
        }
        _ => {
            let pa = mem::refused_addr(rng) & !7;
            let fid = rng.pick(&[smc::CALL_WITH_ARG, smc::CALL_WITH_RPC_ARG]);
            Placed { call: Call::new(regs(fid, pa), None), place: Where::Bad, at: None, block: None }
        }
    }
}
