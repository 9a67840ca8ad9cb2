//! Host-side aborts, for tests of code that arms a ledger: the code runs
//! on its own std thread; `freeze` stops that thread for good (as a fault
//! stops a trusted thread: stack kept, never resumed), and `run_abortable`
//! then unwinds the ledger from the calling thread, as the OS's abort path
//! does from the CPU's entry stack.

use crate::Ledger;
use std::boxed::Box;
use std::sync::mpsc;

enum Outcome<R> {
    Done(R),
    Frozen,
}

std::thread_local! {
    static FREEZE: core::cell::RefCell<Option<mpsc::Sender<()>>> = const { core::cell::RefCell::new(None) };
}

/// Stops the current thread for good, as a kernel fault would. Only inside
/// `run_abortable`; elsewhere it panics.
pub fn freeze() -> ! {
    let tx = FREEZE.with(|f| f.borrow_mut().take()).expect("freeze() outside run_abortable");
    // What the OS's abort path does first, on the faulting CPU.
    crate::raw::release_frozen_locks();
    let _ = tx.send(());
    loop {
        std::thread::park();
    }
}

/// Runs `f` on a new thread. If it returns, `Some(result)`. If it calls
/// `freeze`, the ledger is unwound (dropping everything `f` had armed) and
/// the result is `None`; the frozen thread is leaked.
pub fn run_abortable<R, F>(ledger: &'static Ledger, f: F) -> Option<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Outcome<R>>();
    let (ftx, frx) = mpsc::channel::<()>();
    let done = tx.clone();
    std::thread::spawn(move || {
        FREEZE.with(|fz| *fz.borrow_mut() = Some(ftx));
        let r = f();
        let _ = done.send(Outcome::Done(r));
    });
    // Whichever comes first: the result, or the freeze signal.
    let waiter = std::thread::spawn(move || {
        if frx.recv().is_ok() {
            let _ = tx.send(Outcome::Frozen);
        }
    });
    let out = rx.recv().expect("the call thread ends or freezes");
    drop(waiter);
    match out {
        Outcome::Done(r) => Some(r),
        Outcome::Frozen => {
            crate::raw::unwind_frozen(ledger);
            None
        }
    }
}

/// Leaks `v` for the 'static lifetime `run_abortable` needs.
pub fn leak<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}
