//! oxtee-utee: the SDK for user-mode Trusted Applications (S-EL0) on oxtee
//! and on upstream OP-TEE, which share the TA binary interface: the
//! `ta_head` header, the entry-point registers, `utee_params`, the syscall
//! numbers and the property tables.
//!
//! A TA is an ordinary `#![no_std] #![no_main]` binary crate that
//! declares itself with [`ta_config!`] and its five entry points with the
//! `#[ta_create]`, `#[ta_destroy]`, `#[ta_open_session]`,
//! `#[ta_close_session]` and `#[ta_invoke_command]` attributes. The API
//! follows the Teaclave TrustZone SDK's `optee-utee` where that costs
//! nothing ([`Parameters`], [`ParamValue`], [`ParamMemref`], [`Error`],
//! [`trace_println!`], [`Time`], [`TaSession`], and the cryptography:
//! [`Digest`], [`Cipher`], [`Mac`], [`AE`], [`Asymmetric`], [`DeriveKey`],
//! [`Random`], [`TransientObject`], [`BigInt`], and the trusted storage:
//! [`PersistentObject`], [`ObjectEnumHandle`], [`DataFlag`]). See `ta/README.md`.
//!
//! All `unsafe` is in two modules: `arch` (the entry glue, the `svc`
//! instruction, the image's own symbols, the heap) and `sys` (one safe
//! wrapper per syscall, each taking only references the kernel may use).
//! Everything else is safe code over them.
//!
//! Built for the host (any target but `aarch64-unknown-none`), the SDK
//! runs a TA's entry points in a simulated TEE for `cargo test`: see
//! the `sim` module (host builds only) and ta/README.md.

#![no_std]

extern crate alloc;
#[cfg(not(target_os = "none"))]
extern crate std;

mod arch;
mod base64;
pub mod bigint;
pub mod cancellation;
pub mod crypto;
mod error;
pub mod memory;
mod parameter;
pub mod property;
mod runtime;
#[cfg(not(target_os = "none"))]
pub mod sim;
pub mod socket;
pub mod storage;
mod sys;
mod ta_session;
mod time;
pub mod trace;
mod uuid;

pub use arch::InstanceCell;
#[cfg(all(feature = "fault-injection", target_os = "none"))]
pub use arch::fault;
pub use bigint::{BigInt, BigIntFMM, BigIntFMMContext};
pub use crypto::{
    AE, AlgorithmId, Asymmetric, Attribute, AttributeId, AttributeMemref, AttributeValue, Cipher, DeriveKey, Digest,
    ElementId, GenericObject, HandleFlag, Mac, ObjectInfo, OpHandle, OperationConstant, OperationInfo,
    OperationInfoMultiple, OperationMode, OperationStates, Random, TransientObject, TransientObjectType, Usage,
    UsageFlag, is_algorithm_supported,
};
pub use error::{Error, ErrorKind, Result};
pub use oxtee_abi::tee::Origin;
pub use oxtee_utee_macros::{ta_close_session, ta_config, ta_create, ta_destroy, ta_invoke_command, ta_open_session};
pub use parameter::{ParamMemref, ParamType, ParamTypes, ParamValue, Parameter, Parameters};
pub use property::{ClientProperty, Identity, TaProperty, TeeProperty};
pub use storage::{
    DataFlag, MiscellaneousConstants, ObjectEnumHandle, ObjectStorageConstants, PersistentObject, Whence,
};
/// The crypto system calls as they are (handles, raw results): for code
/// that drives the kernel directly, such as the crypto test TA.
pub use sys::cryp as raw_cryp;
/// The storage system calls as they are (handles, raw results): for code
/// that drives the kernel directly, such as the storage test TA.
pub use sys::storage as raw_storage;
pub use ta_session::{TaSession, TeeParam, TeeParams};
pub use time::Time;
pub use uuid::Uuid;

/// Stops the TA at once: the kernel kills the instance and every session
/// to it sees `TEE_ERROR_TARGET_DEAD` (GP `TEE_Panic`).
pub fn tee_panic(code: u32) -> ! {
    sys::panic(code)
}

/// The arithmetic's panic on misuse: logs what went wrong, then `TEE_Panic`.
fn bigint_panic(code: u32, what: &str) -> ! {
    trace_println!("TEE_BigInt: {what}");
    tee_panic(code)
}

/// Random bytes for the arithmetic's primality test.
fn bigint_random(buf: &mut [u8]) {
    crypto::Random::generate(buf)
}

/// `TEE_TIMEOUT_INFINITE`: no deadline for a wait or a TA-to-TA call.
pub const TIMEOUT_INFINITE: u32 = oxtee_abi::tee::TIMEOUT_INFINITE;

/// `ta_config!` flag names (`TA_FLAG_*` without the prefix).
pub mod ta_flags {
    pub use oxtee_abi::ta::{
        TA_FLAG_CACHE_MAINTENANCE as CACHE_MAINTENANCE, TA_FLAG_DEVICE_ENUM as DEVICE_ENUM,
        TA_FLAG_DEVICE_ENUM_SUPP as DEVICE_ENUM_SUPP, TA_FLAG_INSTANCE_KEEP_ALIVE as INSTANCE_KEEP_ALIVE,
        TA_FLAG_MULTI_SESSION as MULTI_SESSION, TA_FLAG_SECURE_DATA_PATH as SECURE_DATA_PATH,
        TA_FLAG_SINGLE_INSTANCE as SINGLE_INSTANCE,
    };
}

/// What the macros expand to; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::arch::{TaConfig, TaHeap, UserTaProperty};
    pub use crate::runtime::SessionContext;
    pub use crate::uuid::UuidSource;
    pub use oxtee_abi::ta::{TA_HEAD_NO_DEPR_ENTRY, TaHead, TeeIdentity, TeeUuid};

    /// Stack the SDK's own entry code and formatting need on top of what
    /// the TA declares (upstream adds 2 KiB for libutee; Rust frames and
    /// the trace buffers want more).
    pub const FRAMEWORK_STACK_SIZE: u32 = 4096;

    /// `ta_head` of a TA.
    pub const fn ta_head(uuid: crate::Uuid, stack_size: u32, flags: u32) -> TaHead {
        TaHead {
            uuid: uuid.to_tee_uuid(),
            stack_size: stack_size + FRAMEWORK_STACK_SIZE,
            flags,
            depr_entry: TA_HEAD_NO_DEPR_ENTRY,
        }
    }

    /// Ends the build with an error if the flags hold undefined bits or
    /// one only pseudo-TAs may have (`TA_FLAG_CONCURRENT`).
    pub const fn check_flags(flags: u32) -> u32 {
        let allowed = oxtee_abi::ta::TA_FLAGS_MASK & !oxtee_abi::ta::TA_FLAG_CONCURRENT;
        assert!(flags & !allowed == 0, "ta_config!: flags hold bits a user TA may not set");
        flags
    }
}
