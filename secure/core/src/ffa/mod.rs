//! oxtee as the S-EL1 SPMC (FF-A v1.1, v1.0 callers accepted): the calls the
//! SPMD forwards from the normal world, answered from portable state (RX/TX
//! buffers, memory transactions, notifications), and OP-TEE's protocol over
//! direct messages, which runs on the same dispatch core as the SMC
//! transport (`std_call`, `threads`, `rpc`): a yielding call over FF-A is
//! handed to a trusted thread in its SMC form and its SMC-form result is
//! turned back into a direct response here.
//!
//! SKELETON (issue 13): the interface the OS glue is written against. The
//! FF-A core helper fills it in.

use crate::Os;

/// Where the answer to a direct request goes (w1 of the response swaps the
/// request's ids) and in which convention (32- or 64-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirectRet {
    /// The requester (a normal-world endpoint).
    pub src: u16,
    /// The endpoint addressed (OP-TEE's).
    pub dst: u16,
    pub is64: bool,
}

/// What the OS must do with one forwarded FF-A call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FfaAction {
    /// Answer with these registers (x0..x7): FFA_SUCCESS, FFA_ERROR, a
    /// direct response, ...
    Reply([u64; 8]),
    /// Run `call` (an OP-TEE yielding call in its SMC form:
    /// CALL_WITH_REGD_ARG or RETURN_FROM_RPC) on a trusted thread, then
    /// answer with `Os::ffa_thread_done(ret, result)`.
    Thread { call: [u64; 8], ret: DirectRet },
}

/// What the SPMC needs of the platform.
pub trait FfaPlatform: Sync {
    /// Raise the schedule receiver interrupt in the normal world (a
    /// notification for a normal-world endpoint is pending).
    fn raise_sri(&self);
}

/// The SPMC's state.
#[derive(Default)]
pub struct Spmc {}

impl Spmc {
    pub fn new() -> Self {
        Spmc {}
    }
}

fn error(code: i32) -> [u64; 8] {
    [oxtee_abi::ffa::ERROR as u64, 0, code as u32 as u64, 0, 0, 0, 0, 0]
}

impl Os {
    /// One FF-A call the SPMD forwarded from the normal world (x0..x7).
    pub fn ffa_call(&self, regs: &[u64; 8]) -> FfaAction {
        let _ = regs;
        FfaAction::Reply(error(oxtee_abi::ffa::NOT_SUPPORTED))
    }

    /// The registers answering a direct request whose yielding call ran on
    /// a thread and returned `smc` (a0..a3 in the SMC transport's form).
    pub fn ffa_thread_done(&self, ret: DirectRet, smc: [u64; 4]) -> [u64; 8] {
        let _ = (ret, smc);
        error(oxtee_abi::ffa::NOT_SUPPORTED)
    }
}
