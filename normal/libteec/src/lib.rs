//! `libteec.so` for oxtee: OP-TEE's GlobalPlatform TEE Client API library,
//! ABI-compatible with optee_client's (libteec.so.1 by default,
//! libteec.so.2 with the `abi2` feature), built on `oxtee-teec`.
//!
//! Behaviour follows optee_client 3.19 as a driver without user-memory
//! registration sees it: registered memory and temporary references go
//! through kernel-allocated shared memory, copied in before and out after
//! each call.
//!
//! - `types`: the C structs, with size and offset checks;
//! - `logic`: safe rules (parameter types, checks, copy sizes), unit-tested;
//! - `sys`: the tables keeping the Rust objects behind the C handles;
//! - `capi`: the exported functions, where the pointers are dereferenced.

mod capi;
mod logic;
mod sys;
mod types;
