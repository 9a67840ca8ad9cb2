//! GlobalPlatform TEE Internal/Client API numbers shared across worlds:
//! `TEE_Result` codes, return origins and login (identity) classes.

use core::fmt;

use crate::msg;

/// A GP `TEE_Result`, as carried in `optee_msg_arg.ret` and TA syscalls.
/// `Display` is the GP name; `Debug` adds the value
/// (`TEE_ERROR_SECURITY (0xffff000f)`), as logs and test failures want it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TeeResult(pub u32);

/// Defines the result codes once, so the constant, its GP name and the
/// `KNOWN` list cannot drift apart.
macro_rules! results {
    ($( $(#[$m:meta])* $name:ident = $val:expr ),+ $(,)?) => {
        impl TeeResult {
            $( $(#[$m])* pub const $name: Self = Self($val); )+

            /// Every code this crate names.
            pub const KNOWN: [Self; [$(stringify!($name)),+].len()] = [$(Self::$name),+];

            /// GP name (`"TEE_ERROR_GENERIC"`), or `"TEE_ERROR_UNKNOWN"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( Self::$name => concat!("TEE_", stringify!($name)), )+
                    _ => "TEE_ERROR_UNKNOWN",
                }
            }
        }
    };
}

results! {
    /// Operation succeeded.
    SUCCESS = 0x0000_0000,
    /// Persistent object corrupt.
    ERROR_CORRUPT_OBJECT = 0xF010_0001,
    /// Persistent object corrupt (second variant, GP reserved).
    ERROR_CORRUPT_OBJECT_2 = 0xF010_0002,
    /// Storage not currently available.
    ERROR_STORAGE_NOT_AVAILABLE = 0xF010_0003,
    /// Storage not available (second variant, GP reserved).
    ERROR_STORAGE_NOT_AVAILABLE_2 = 0xF010_0004,
    /// Unsupported object or protocol version.
    ERROR_UNSUPPORTED_VERSION = 0xF010_0005,
    /// Ciphertext failed validation.
    ERROR_CIPHERTEXT_INVALID = 0xF010_0006,
    /// Non-specific failure.
    ERROR_GENERIC = 0xFFFF_0000,
    /// Access privileges insufficient.
    ERROR_ACCESS_DENIED = 0xFFFF_0001,
    /// Operation was cancelled.
    ERROR_CANCEL = 0xFFFF_0002,
    /// Concurrent accesses conflict.
    ERROR_ACCESS_CONFLICT = 0xFFFF_0003,
    /// Too much data for the requested operation.
    ERROR_EXCESS_DATA = 0xFFFF_0004,
    /// Input data badly formatted.
    ERROR_BAD_FORMAT = 0xFFFF_0005,
    /// Invalid parameters.
    ERROR_BAD_PARAMETERS = 0xFFFF_0006,
    /// Operation invalid in the current state.
    ERROR_BAD_STATE = 0xFFFF_0007,
    /// Requested item not found.
    ERROR_ITEM_NOT_FOUND = 0xFFFF_0008,
    /// Valid request, but not implemented.
    ERROR_NOT_IMPLEMENTED = 0xFFFF_0009,
    /// Valid request, but not supported here.
    ERROR_NOT_SUPPORTED = 0xFFFF_000A,
    /// Expected data missing.
    ERROR_NO_DATA = 0xFFFF_000B,
    /// Not enough memory.
    ERROR_OUT_OF_MEMORY = 0xFFFF_000C,
    /// System busy.
    ERROR_BUSY = 0xFFFF_000D,
    /// Communication with a remote party failed.
    ERROR_COMMUNICATION = 0xFFFF_000E,
    /// Security fault detected.
    ERROR_SECURITY = 0xFFFF_000F,
    /// Supplied buffer too short; required size was written back.
    ERROR_SHORT_BUFFER = 0xFFFF_0010,
    /// Cancelled by something outside the TEE.
    ERROR_EXTERNAL_CANCEL = 0xFFFF_0011,
    /// Operation timed out.
    ERROR_TIMEOUT = 0xFFFF_3001,
    /// Internal arithmetic overflow.
    ERROR_OVERFLOW = 0xFFFF_300F,
    /// The TA panicked or was otherwise terminated.
    ERROR_TARGET_DEAD = 0xFFFF_3024,
    /// Not enough space in persistent storage.
    ERROR_STORAGE_NO_SPACE = 0xFFFF_3041,
    /// MAC check failed.
    ERROR_MAC_INVALID = 0xFFFF_3071,
    /// Signature check failed.
    ERROR_SIGNATURE_INVALID = 0xFFFF_3072,
    /// Persistent TA time not yet set.
    ERROR_TIME_NOT_SET = 0xFFFF_5000,
    /// Persistent TA time compromised; needs resetting.
    ERROR_TIME_NEEDS_RESET = 0xFFFF_5001,
}

impl TeeResult {
    /// `SUCCESS`.
    pub const fn is_success(self) -> bool {
        self.0 == Self::SUCCESS.0
    }
}

impl From<u32> for TeeResult {
    fn from(raw: u32) -> Self {
        Self(raw)
    }
}

impl From<TeeResult> for u32 {
    fn from(r: TeeResult) -> Self {
        r.0
    }
}

impl fmt::Display for TeeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "TEE_ERROR_UNKNOWN" => write!(f, "TEE_Result({:#010x})", self.0),
            name => f.write_str(name),
        }
    }
}

impl fmt::Debug for TeeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            "TEE_ERROR_UNKNOWN" => write!(f, "TEE_Result({:#010x})", self.0),
            name => write!(f, "{name} ({:#010x})", self.0),
        }
    }
}

wire_enum! {
    /// Which layer produced a `TeeResult` (`optee_msg_arg.ret_origin`).
    pub enum Origin: u32 {
        /// The client API library.
        Api = 1,
        /// The communication stack between client and TEE.
        Comms = 2,
        /// The TEE itself (OS or pseudo-TA).
        Tee = 3,
        /// The trusted application.
        TrustedApp = 4,
    }
}

impl Origin {
    /// GP name (`"TEEC_ORIGIN_TEE"`).
    pub const fn name(self) -> &'static str {
        match self {
            Origin::Api => "TEEC_ORIGIN_API",
            Origin::Comms => "TEEC_ORIGIN_COMMS",
            Origin::Tee => "TEEC_ORIGIN_TEE",
            Origin::TrustedApp => "TEEC_ORIGIN_TRUSTED_APP",
        }
    }
}

/// `TEE_TIMEOUT_INFINITE`: wait without a deadline.
pub const TIMEOUT_INFINITE: u32 = 0xFFFF_FFFF;

wire_enum! {
    /// Client identity class of a session (`TEE_Identity.login`).
    pub enum Login: u32 {
        /// Anyone.
        Public = msg::LOGIN_PUBLIC,
        /// A normal-world user.
        User = msg::LOGIN_USER,
        /// A normal-world group.
        Group = msg::LOGIN_GROUP,
        /// A normal-world application.
        Application = msg::LOGIN_APPLICATION,
        /// Application plus user.
        ApplicationUser = msg::LOGIN_APPLICATION_USER,
        /// Application plus group.
        ApplicationGroup = msg::LOGIN_APPLICATION_GROUP,
        /// OP-TEE extension: the normal-world kernel.
        ReeKernel = msg::LOGIN_REE_KERNEL,
        /// Another TA; only ever set by the OS, never accepted from the wire.
        TrustedApp = 0xF000_0000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::ToString;

    #[test]
    fn result_values_and_names() {
        let expected = [
            (TeeResult::SUCCESS, 0x0000_0000, "TEE_SUCCESS"),
            (TeeResult::ERROR_CORRUPT_OBJECT, 0xF010_0001, "TEE_ERROR_CORRUPT_OBJECT"),
            (TeeResult::ERROR_CORRUPT_OBJECT_2, 0xF010_0002, "TEE_ERROR_CORRUPT_OBJECT_2"),
            (TeeResult::ERROR_STORAGE_NOT_AVAILABLE, 0xF010_0003, "TEE_ERROR_STORAGE_NOT_AVAILABLE"),
            (TeeResult::ERROR_STORAGE_NOT_AVAILABLE_2, 0xF010_0004, "TEE_ERROR_STORAGE_NOT_AVAILABLE_2"),
            (TeeResult::ERROR_UNSUPPORTED_VERSION, 0xF010_0005, "TEE_ERROR_UNSUPPORTED_VERSION"),
            (TeeResult::ERROR_CIPHERTEXT_INVALID, 0xF010_0006, "TEE_ERROR_CIPHERTEXT_INVALID"),
            (TeeResult::ERROR_GENERIC, 0xFFFF_0000, "TEE_ERROR_GENERIC"),
            (TeeResult::ERROR_ACCESS_DENIED, 0xFFFF_0001, "TEE_ERROR_ACCESS_DENIED"),
            (TeeResult::ERROR_CANCEL, 0xFFFF_0002, "TEE_ERROR_CANCEL"),
            (TeeResult::ERROR_ACCESS_CONFLICT, 0xFFFF_0003, "TEE_ERROR_ACCESS_CONFLICT"),
            (TeeResult::ERROR_EXCESS_DATA, 0xFFFF_0004, "TEE_ERROR_EXCESS_DATA"),
            (TeeResult::ERROR_BAD_FORMAT, 0xFFFF_0005, "TEE_ERROR_BAD_FORMAT"),
            (TeeResult::ERROR_BAD_PARAMETERS, 0xFFFF_0006, "TEE_ERROR_BAD_PARAMETERS"),
            (TeeResult::ERROR_BAD_STATE, 0xFFFF_0007, "TEE_ERROR_BAD_STATE"),
            (TeeResult::ERROR_ITEM_NOT_FOUND, 0xFFFF_0008, "TEE_ERROR_ITEM_NOT_FOUND"),
            (TeeResult::ERROR_NOT_IMPLEMENTED, 0xFFFF_0009, "TEE_ERROR_NOT_IMPLEMENTED"),
            (TeeResult::ERROR_NOT_SUPPORTED, 0xFFFF_000A, "TEE_ERROR_NOT_SUPPORTED"),
            (TeeResult::ERROR_NO_DATA, 0xFFFF_000B, "TEE_ERROR_NO_DATA"),
            (TeeResult::ERROR_OUT_OF_MEMORY, 0xFFFF_000C, "TEE_ERROR_OUT_OF_MEMORY"),
            (TeeResult::ERROR_BUSY, 0xFFFF_000D, "TEE_ERROR_BUSY"),
            (TeeResult::ERROR_COMMUNICATION, 0xFFFF_000E, "TEE_ERROR_COMMUNICATION"),
            (TeeResult::ERROR_SECURITY, 0xFFFF_000F, "TEE_ERROR_SECURITY"),
            (TeeResult::ERROR_SHORT_BUFFER, 0xFFFF_0010, "TEE_ERROR_SHORT_BUFFER"),
            (TeeResult::ERROR_EXTERNAL_CANCEL, 0xFFFF_0011, "TEE_ERROR_EXTERNAL_CANCEL"),
            (TeeResult::ERROR_TIMEOUT, 0xFFFF_3001, "TEE_ERROR_TIMEOUT"),
            (TeeResult::ERROR_OVERFLOW, 0xFFFF_300F, "TEE_ERROR_OVERFLOW"),
            (TeeResult::ERROR_TARGET_DEAD, 0xFFFF_3024, "TEE_ERROR_TARGET_DEAD"),
            (TeeResult::ERROR_STORAGE_NO_SPACE, 0xFFFF_3041, "TEE_ERROR_STORAGE_NO_SPACE"),
            (TeeResult::ERROR_MAC_INVALID, 0xFFFF_3071, "TEE_ERROR_MAC_INVALID"),
            (TeeResult::ERROR_SIGNATURE_INVALID, 0xFFFF_3072, "TEE_ERROR_SIGNATURE_INVALID"),
            (TeeResult::ERROR_TIME_NOT_SET, 0xFFFF_5000, "TEE_ERROR_TIME_NOT_SET"),
            (TeeResult::ERROR_TIME_NEEDS_RESET, 0xFFFF_5001, "TEE_ERROR_TIME_NEEDS_RESET"),
        ];
        assert_eq!(TeeResult::KNOWN.len(), expected.len());
        for (i, (r, v, name)) in expected.into_iter().enumerate() {
            assert_eq!(r.0, v);
            assert_eq!(r.name(), name);
            assert_eq!(r.to_string(), name);
            assert_eq!(TeeResult::KNOWN[i], r);
        }
        assert!(TeeResult::SUCCESS.is_success());
        assert!(!TeeResult::ERROR_GENERIC.is_success());
        assert_eq!(TeeResult(0x1234).name(), "TEE_ERROR_UNKNOWN");
        assert_eq!(TeeResult(0x1234).to_string(), "TEE_Result(0x00001234)");
        assert_eq!(format!("{:?}", TeeResult::ERROR_SECURITY), "TEE_ERROR_SECURITY (0xffff000f)");
        assert_eq!(format!("{:?}", TeeResult::SUCCESS), "TEE_SUCCESS (0x00000000)");
        assert_eq!(format!("{:?}", TeeResult(0x1234)), "TEE_Result(0x00001234)");
        assert_eq!(u32::from(TeeResult::from(7)), 7);
    }

    #[test]
    fn origins() {
        assert_eq!(Origin::ALL.map(Origin::raw), [1, 2, 3, 4],);
        assert_eq!(Origin::try_from(4), Ok(Origin::TrustedApp));
        assert_eq!(Origin::try_from(0), Err(0));
        assert_eq!(Origin::try_from(5), Err(5));
        assert_eq!(
            Origin::ALL.map(Origin::name),
            ["TEEC_ORIGIN_API", "TEEC_ORIGIN_COMMS", "TEEC_ORIGIN_TEE", "TEEC_ORIGIN_TRUSTED_APP"]
        );
    }

    #[test]
    fn logins() {
        assert_eq!(Login::ALL.map(Login::raw), [0, 1, 2, 4, 5, 6, 0x8000_0000, 0xF000_0000]);
        assert_eq!(Login::try_from(3), Err(3));
        assert_eq!(Login::try_from(0x8000_0000), Ok(Login::ReeKernel));
        assert_eq!(TIMEOUT_INFINITE, u32::MAX);
    }
}
