//! What a trusted thread needs from the platform while it serves a call.
//! The OS implements it with real threads and the GIC; tests with fakes.

/// Registers the normal world passed with RETURN_FROM_RPC (a0..a7).
pub type RpcReturn = [u64; 8];

pub trait ThreadEnv {
    /// This thread's index in the pool.
    fn thread_id(&self) -> usize;
    /// Leaves for the normal world with a0..a3 (an `RETURN_RPC_*` code and
    /// its arguments) and returns what RETURN_FROM_RPC brought back.
    fn rpc(&mut self, a: [u64; 4]) -> RpcReturn;
    /// Monotonic time in nanoseconds.
    fn now_ns(&self) -> u64;
    /// Waits with interrupts enabled until `deadline_ns` or until `stop()`
    /// says so. `sleep` waits on the secure timer; otherwise it spins.
    /// Foreign interrupts may suspend the thread meanwhile. Returns false if
    /// it stopped early.
    fn wait_until(&mut self, deadline_ns: u64, sleep: bool, stop: &dyn Fn() -> bool) -> bool;
    /// CPU the thread is running on now.
    fn cpu(&self) -> usize;
    /// Foreign interrupts this thread has been suspended for so far.
    fn foreign_interrupts(&self) -> u64;
    /// Bytes of secure heap in use.
    fn heap_used(&self) -> usize;
}
