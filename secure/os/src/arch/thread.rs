//! Trusted threads: each yielding call runs on its own stack, and may leave
//! for the normal world (RPC, foreign interrupt) and come back on any CPU.
//! `oxtee_core::threads::ThreadTable` decides who may run; this module owns
//! the stacks and the register switch.

use super::{cpu_index, interrupt, timer};
use crate::os;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use log::error;
use oxtee_abi::addr::KernVirt;
use oxtee_abi::optee_smc as smc;
use oxtee_core::env::{RpcReturn, ThreadEnv, UserExit, UserRegs, UserTables};
use oxtee_core::std_call::AbortCause;
use oxtee_platform::MAX_CPUS;
use spin::Once;

/// Callee-saved registers and sp, in `switch_context` order.
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct KernelContext {
    x19_x30: [u64; 12],
    sp: u64,
}

unsafe extern "C" {
    fn switch_context(save: *mut KernelContext, load: *const KernelContext);
    fn thread_trampoline();
}

fn switch(save: &mut KernelContext, load: &KernelContext) {
    // SAFETY: both contexts are valid; `load` was saved by switch_context
    // or built by `Thread::start` with a live stack and the trampoline.
    // Interrupts are masked, so nothing observes the half-switched state.
    unsafe { switch_context(save, load) }
}

/// What a thread asks of the CPU that runs it when it gives the CPU back.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// RPC to the normal world with `out` in a0..a3.
    Rpc,
    /// The call is finished; `out` is its result.
    Done,
}

/// One page of a thread stack.
#[repr(C, align(4096))]
struct StackPage([u8; 4096]);

struct Thread {
    ctx: KernelContext,
    /// The lowest page is a guard, unmapped in the kernel's map (see
    /// `init`), so an overflow faults instead of overwriting the heap.
    stack: Box<[StackPage]>,
    /// a0..a7 of the SMC that started or resumed the thread.
    input: [u64; 8],
    out: [u64; 4],
    exit: Exit,
    foreign_interrupts: u64,
    /// The call was aborted and the thread restarted to finish it; a
    /// second fault gives up on the call.
    aborting: bool,
    cause: AbortCause,
}

struct ThreadSlot(UnsafeCell<Thread>);

// SAFETY: a thread's slot is only touched by the CPU that currently runs
// it; `ThreadTable` (under its lock) hands a thread to one CPU at a time.
unsafe impl Sync for ThreadSlot {}

struct CpuSlot(UnsafeCell<CpuState>);

#[derive(Default)]
struct CpuState {
    entry: KernelContext,
    current: Option<usize>,
}

// SAFETY: slot i is only accessed by CPU i.
unsafe impl Sync for CpuSlot {}

static THREADS: Once<Vec<ThreadSlot>> = Once::new();
static CPUS: [CpuSlot; MAX_CPUS] =
    [const { CpuSlot(UnsafeCell::new(CpuState { entry: KernelContext { x19_x30: [0; 12], sp: 0 }, current: None })) };
        MAX_CPUS];

/// Allocates the threads and their stacks; returns each stack's guard page
/// address, for the kernel map to leave unmapped. Runs before the MMU is on.
pub fn init(count: usize, stack_size: usize) -> Vec<KernVirt> {
    let mut guards = Vec::with_capacity(count);
    THREADS.call_once(|| {
        (0..count)
            .map(|_| {
                let pages = stack_size.div_ceil(4096) + 1;
                let stack: Box<[StackPage]> = (0..pages).map(|_| StackPage([0; 4096])).collect();
                let range = stack.as_ptr_range();
                guards.push(KernVirt::new(range.start as u64));
                ThreadSlot(UnsafeCell::new(Thread {
                    ctx: KernelContext::default(),
                    stack,
                    input: [0; 8],
                    out: [0; 4],
                    exit: Exit::Done,
                    foreign_interrupts: 0,
                    aborting: false,
                    cause: AbortCause::Fault,
                }))
            })
            .collect()
    });
    guards
}

fn cpu() -> &'static mut CpuState {
    // SAFETY: each CPU only takes its own slot; callers run with interrupts
    // masked and do not hold two borrows at once.
    unsafe { &mut *CPUS[cpu_index()].0.get() }
}

fn thread(id: usize) -> &'static mut Thread {
    let slots = THREADS.get().expect("threads initialised at boot");
    // SAFETY: the caller is the CPU that owns thread `id` right now (it
    // claimed or resumed it through ThreadTable, or is running on it).
    unsafe { &mut *slots[id].0.get() }
}

/// The usable part of thread `id`'s stack (its guard page left out):
/// [bottom, top). For the abort path's call stack, on the CPU that ran it.
pub fn stack_range(id: usize) -> (u64, u64) {
    let r = thread(id).stack.as_ptr_range();
    (r.start as u64 + 4096, r.end as u64)
}

/// Reads a word of a thread stack for a crash report.
pub fn read_stack_word(stack: (u64, u64), addr: u64) -> Option<u64> {
    if !addr.is_multiple_of(8) || addr < stack.0 || addr.checked_add(8).is_none_or(|e| e > stack.1) {
        return None;
    }
    // SAFETY: `addr` is an aligned word inside a thread stack (checked
    // above, against the range `stack_range` gave), mapped read-write in
    // the kernel's map for the OS's lifetime; a racy value is harmless.
    Some(unsafe { core::ptr::read_volatile(addr as *const u64) })
}

/// The thread running on this CPU, if any.
pub fn current() -> Option<usize> {
    cpu().current
}

/// Runs thread `id` on this CPU until it gives the CPU back; returns the
/// registers for the normal world.
fn run(id: usize) -> [u64; 4] {
    let state = cpu();
    state.current = Some(id);
    let t = thread(id);
    switch(&mut state.entry, &t.ctx);
    let state = cpu();
    state.current = None;
    // Copy what the normal world gets before the thread is given back:
    // from then on another CPU may claim or resume it and change it.
    let (exit, out) = {
        let t = thread(id);
        (t.exit, t.out)
    };
    match exit {
        Exit::Rpc => os().threads.suspend(id),
        Exit::Done => os().threads.release(id),
    }
    out
}

/// Points thread `id` at `body` on an empty stack.
fn reset(id: usize, body: extern "C" fn(usize) -> !) {
    let t = thread(id);
    let top = t.stack.as_ptr_range().end as u64;
    t.ctx = KernelContext::default();
    t.ctx.x19_x30[0] = id as u64;
    t.ctx.x19_x30[1] = body as *const () as u64;
    t.ctx.x19_x30[11] = thread_trampoline as *const () as u64;
    t.ctx.sp = top;
}

/// Tells each thread's ledger where the thread's stack is (only cells on
/// it can be armed there). After `init` and the core's thread table exist.
pub fn bind_ledgers() {
    let Some(slots) = THREADS.get() else { return };
    for (id, _) in slots.iter().enumerate() {
        let r = thread(id).stack.as_ptr_range();
        os().threads.ctx(id).ledger.set_stack(r.start as usize, r.end as usize);
    }
}

/// A new yielding call. Returns a0..a3 for the normal world.
pub fn start(args: [u64; 8]) -> [u64; 4] {
    let Some(id) = os().threads.claim() else {
        return [smc::RETURN_ETHREAD_LIMIT as u64, 0, 0, 0];
    };
    reset(id, thread_main);
    let t = thread(id);
    t.input = args;
    t.foreign_interrupts = 0;
    t.aborting = false;
    run(id)
}

/// The abort path (on this CPU's entry stack, after its spin locks were
/// opened): if a trusted thread was running here, its call is aborted.
/// Everything the call held is dropped from the thread's ledger while its
/// stack is still intact; then the thread is restarted on an empty stack
/// to finish the call (which may take RPCs: wake-ups it owes, buffers to
/// free, the answer). Returns the registers for the normal world, or None
/// if no thread was running.
pub fn abort_current(cause: AbortCause) -> Option<[u64; 4]> {
    let state = cpu();
    // `current` stays set while the ledger is unwound: a fault in a
    // destructor then finds the thread, already aborting.
    let id = state.current?;
    let t = thread(id);
    if t.aborting {
        // A fault while unwinding or finishing an aborted call: give up on
        // the call. Nothing more it armed runs (its stack is not to be
        // trusted); what it still held leaks, but the thread and the OS go
        // on.
        state.current = None;
        let forgotten = os().abandon_call(id);
        error!(
            "thread {id}: fault while finishing an aborted call; the call is dropped ({forgotten} held resources leaked)"
        );
        os().threads.release(id);
        return Some([super::ABORT_CODE as u64, 0, 0, 0]);
    }
    t.aborting = true;
    t.cause = cause;
    let n = super::unwind_ledger(&os().threads.ctx(id).ledger);
    log::debug!("thread {id}: {n} held resources given back");
    state.current = None;
    reset(id, thread_abort_main);
    Some(run(id))
}

/// RETURN_FROM_RPC: a3 names the thread (normal-world input: checked).
pub fn resume(args: [u64; 8]) -> [u64; 4] {
    let Some(id) = os().threads.resume(args[3]) else {
        return [smc::RETURN_ERESUME as u64, 0, 0, 0];
    };
    thread(id).input = args;
    run(id)
}

/// Gives the CPU back to the entry code with `exit`/`out`; returns when the
/// thread is resumed (possibly on another CPU).
fn leave(id: usize, exit: Exit, out: [u64; 4]) {
    let held = oxtee_guard::cpu_locks_held();
    if held != 0 {
        // A spin lock held across a suspension would be released on the
        // wrong CPU: a bug in the OS, never a path. The call is aborted (the
        // abort path opens the locks on this CPU, where they were taken).
        panic!("thread {id} would leave the CPU holding {held} spin lock(s)");
    }
    let t = thread(id);
    t.exit = exit;
    t.out = out;
    let entry = &cpu().entry;
    switch(&mut t.ctx, entry);
}

/// Body of every trusted thread.
extern "C" fn thread_main(id: usize) -> ! {
    let input = thread(id).input;
    let mut env = Env { id };
    let out = os().serve(&mut env, input);
    leave(id, Exit::Done, out);
    unreachable!("a finished thread is never resumed")
}

/// Body of a thread restarted to finish an aborted call.
extern "C" fn thread_abort_main(id: usize) -> ! {
    let cause = thread(id).cause;
    let mut env = Env { id };
    let out = os().finish_aborted(&mut env, cause);
    leave(id, Exit::Done, out);
    unreachable!("a finished thread is never resumed")
}

/// Suspends the current thread for a foreign interrupt (from the interrupt
/// handler, on the thread's stack).
pub fn foreign_interrupt_exit() {
    if let Some(id) = current() {
        thread(id).foreign_interrupts += 1;
        leave(id, Exit::Rpc, [smc::RETURN_RPC_FOREIGN_INTR as u64, 0, 0, id as u64]);
    }
}

struct Env {
    id: usize,
}

impl ThreadEnv for Env {
    fn thread_id(&self) -> usize {
        self.id
    }

    fn rpc(&mut self, a: [u64; 4]) -> RpcReturn {
        leave(self.id, Exit::Rpc, [a[0], a[1], a[2], self.id as u64]);
        thread(self.id).input
    }

    fn now_ns(&self) -> u64 {
        timer::now_ns()
    }

    fn wait_until(&mut self, deadline_ns: u64, sleep: bool, stop: &dyn Fn() -> bool) -> bool {
        loop {
            if stop() {
                timer::disarm();
                return false;
            }
            if timer::now_ns() >= deadline_ns {
                timer::disarm();
                return true;
            }
            if sleep {
                timer::arm(deadline_ns);
                interrupt::wait_for_interrupt();
            }
            // Let pending interrupts in: native ones are handled here,
            // foreign ones suspend this thread until the normal world has
            // served them.
            interrupt::open_window();
        }
    }

    fn cpu(&self) -> usize {
        cpu_index()
    }

    fn foreign_interrupts(&self) -> u64 {
        thread(self.id).foreign_interrupts
    }

    fn enter_user(&mut self, tables: &dyn UserTables, regs: &mut UserRegs) -> UserExit {
        super::user::enter(tables, regs)
    }
}
