//! Running TA code on host threads. Each TA instance gets a thread; the
//! kernel side (`SimEnv::enter_user`, on the thread that made the call)
//! hands it an entry or a syscall's result and waits for its next event
//! (a syscall, the return of the entry point, or a panic), exactly where a
//! CPU would run user mode until its next exception.

use oxtee_abi::ta::{self as abi, UteeParams};
use oxtee_abi::tee::TeeResult;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Condvar, Mutex};

/// The SDK's entry function: runs one request of the TA (open session,
/// invoke, close session) on the TA thread. `params` is the request's
/// `utee_params` as the kernel wrote it (addresses in the TA's space);
/// `host` holds the host address of each memref's buffer (0: none). It
/// returns the result and leaves the outputs in `params`.
pub type EntryFn = fn(func: u64, session: u32, params: &mut UteeParams, cmd: u32, host: [usize; 4]) -> u32;

/// From the kernel to the TA thread.
pub(crate) enum Resume {
    Enter {
        func: u64,
        session: u32,
        cmd: u32,
        params: UteeParams,
        host: [usize; 4],
    },
    /// A syscall's result (x0).
    Syscall(u64),
}

/// From the TA thread to the kernel.
pub(crate) enum Exit {
    Syscall { nr: u32, args: [u64; 8] },
    Return { res: u32, params: UteeParams },
    Panic(u32),
}

/// The kernel's end of a TA thread.
pub(crate) struct TaThread {
    pub tx: Sender<Resume>,
    pub rx: Receiver<Exit>,
    /// The thread is waiting for a syscall's result.
    pub in_syscall: bool,
    /// Host address of the `utee_params` of the request being served.
    pub up_host: u64,
}

/// What runs in an address space.
pub(crate) enum Runner {
    Thread(TaThread),
    /// A mock TA registered with `Sim::add_ta`, run by the kernel side.
    Mock(oxtee_abi::uuid::Uuid),
}

/// A `TEE_Panic` (or the TA's death) unwinding the TA thread's stack.
struct TaPanic(u32);

thread_local! {
    /// The TA thread's end of its channel.
    static CHANNEL: RefCell<Option<(Sender<Exit>, Receiver<Resume>)>> = const { RefCell::new(None) };
    /// This thread holds the TA lock.
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// One TA thread of the process runs TA code at a time: statics of a TA
/// crate (`InstanceCell`) are per process on the host, so this is what
/// keeps parallel tests (each with its own `Sim`) from touching them at
/// once. It is let go while a TA waits for another TA (TA-to-TA calls)
/// or sleeps (WAIT).
static TA_LOCK: Mutex<bool> = Mutex::new(false);
static TA_FREE: Condvar = Condvar::new();

fn acquire() {
    let mut busy = TA_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    while *busy {
        busy = TA_FREE.wait(busy).unwrap_or_else(|e| e.into_inner());
    }
    *busy = true;
    HELD.set(true);
}

fn release() {
    if HELD.replace(false) {
        *TA_LOCK.lock().unwrap_or_else(|e| e.into_inner()) = false;
        TA_FREE.notify_one();
    }
}

/// True on a simulated TA's thread.
pub fn in_ta() -> bool {
    CHANNEL.with(|c| c.borrow().is_some())
}

/// Starts the thread of a new instance running `entry`.
pub(crate) fn spawn(name: String, entry: EntryFn) -> TaThread {
    let (tx, ta_rx) = channel::<Resume>();
    let (ta_tx, rx) = channel::<Exit>();
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let to_kernel = ta_tx.clone();
        CHANNEL.with(|c| *c.borrow_mut() = Some((ta_tx, ta_rx)));
        ta_loop(entry, &to_kernel);
        CHANNEL.with(|c| c.borrow_mut().take());
    });
    if let Err(e) = spawned {
        panic!("oxtee-sim: cannot start a TA thread: {e}");
    }
    TaThread { tx, rx, in_syscall: false, up_host: 0 }
}

fn next() -> Option<Resume> {
    CHANNEL.with(|c| c.borrow().as_ref().and_then(|(_, rx)| rx.recv().ok()))
}

fn ta_loop(entry: EntryFn, to_kernel: &Sender<Exit>) {
    while let Some(msg) = next() {
        let Resume::Enter { func, session, cmd, mut params, host } = msg else {
            // A result with no syscall pending: the kernel lost track.
            let _ = to_kernel.send(Exit::Panic(TeeResult::ERROR_BAD_STATE.0));
            return;
        };
        acquire();
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| entry(func, session, &mut params, cmd, host)));
        release();
        match run {
            Ok(res) => {
                if to_kernel.send(Exit::Return { res, params }).is_err() {
                    return;
                }
            }
            Err(payload) => {
                let code = panic_code(&*payload);
                let _ = to_kernel.send(Exit::Panic(code));
                return;
            }
        }
    }
}

fn panic_code(payload: &(dyn Any + Send)) -> u32 {
    match payload.downcast_ref::<TaPanic>() {
        Some(TaPanic(code)) => *code,
        None => TeeResult::ERROR_GENERIC.0,
    }
}

/// Syscalls during which other TA code may run (the caller waits for
/// another TA, or sleeps).
fn yields(nr: u32) -> bool {
    matches!(nr, abi::SYS_OPEN_TA_SESSION | abi::SYS_INVOKE_TA_COMMAND | abi::SYS_CLOSE_TA_SESSION | abi::SYS_WAIT)
}

/// A syscall from TA code: the kernel serves it with the real syscall
/// handler and its result comes back here.
///
/// # Panics
///
/// Outside a simulated TA (TA code called directly from a test instead
/// of through `Sim`).
pub fn syscall(nr: u32, args: [usize; 8]) -> u32 {
    let sent = CHANNEL.with(|c| {
        let c = c.borrow();
        let Some((tx, _)) = c.as_ref() else {
            panic!("oxtee-sim: TA code made a syscall outside a simulated TA (call it through `Sim`)");
        };
        if yields(nr) {
            release();
        }
        tx.send(Exit::Syscall { nr, args: args.map(|a| a as u64) }).is_ok()
    });
    let back = if sent { next() } else { None };
    if yields(nr) {
        acquire();
    }
    match back {
        Some(Resume::Syscall(x0)) => x0 as u32,
        // The instance is gone (killed, or the simulator dropped): unwind
        // the TA's stack, unless it is already unwinding.
        _ if std::thread::panicking() => TeeResult::ERROR_TARGET_DEAD.0,
        _ => std::panic::resume_unwind(Box::new(TaPanic(TeeResult::ERROR_TARGET_DEAD.0))),
    }
}

/// `TEE_Panic(code)`: the instance dies; every session to it gets
/// `TEE_ERROR_TARGET_DEAD`. The TA thread's stack unwinds (destructors
/// run, unlike on the device).
pub fn panic(code: u32) -> ! {
    std::panic::resume_unwind(Box::new(TaPanic(code)))
}

/// True on a simulated TA's thread while it runs TA code (it holds the
/// process-wide TA lock).
pub fn running_ta() -> bool {
    HELD.get()
}
