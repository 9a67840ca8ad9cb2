//! Yielding calls (CALL_WITH_ARG and friends). Trusted threads, RPC and the
//! message protocol arrive with the yielding-calls work; until then every
//! yielding id is answered `UNKNOWN_FUNCTION`, which the Linux driver and
//! our harness treat as "not served".

use oxtee_abi::optee_smc;

pub fn handle(a: &mut [u64; 8]) {
    a[0] = optee_smc::RETURN_UNKNOWN_FUNCTION as u64;
}
