//! Errors of the TEE Client API: a GP `TEE_Result` code and the layer that
//! returned it.
//!
//! [`Error`] keeps the raw numbers (`code`, `origin`) exactly as the TEE
//! returned them; [`Error::kind`] names the code ([`ErrorKind`], every code
//! of the GP Client and Internal Core APIs, [`ErrorKind::Unknown`] for
//! anything else, such as a TA's own codes) and [`Error::origin`] the layer
//! ([`ErrorOrigin`]).
//!
//! ```
//! use oxtee_teec::{Error, ErrorKind, ErrorOrigin};
//!
//! let e = Error::new(0xffff_0008, 4);
//! assert_eq!(e.kind(), ErrorKind::ItemNotFound);
//! assert_eq!(e.origin(), ErrorOrigin::TrustedApp);
//! assert_eq!(e.raw_code(), 0xffff_0008);
//! assert_eq!(e.to_string(), "TEE_ERROR_ITEM_NOT_FOUND (0xffff0008) from the trusted application");
//! ```

use oxtee_abi::tee::{Origin, TeeResult};
use std::fmt;

/// A failed call: the GP code and where it came from.
///
/// The fields are the numbers as the TEE (or this library) returned them,
/// as `TEEC_Result` and `returnOrigin` in the C API; `kind()` and
/// `origin()` (methods, unlike the field of that name) give them names.
/// `Display` reads `TEE_ERROR_SHORT_BUFFER (0xffff0010) from the trusted
/// application`; `Debug` shows the GP names of both numbers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    /// The `TEE_Result` code (`TEEC_ERROR_*`, or a TA's own value).
    pub code: u32,
    /// The origin as a number (`TEEC_ORIGIN_*`: 1 API, 2 COMMS, 3 TEE,
    /// 4 TRUSTED_APP).
    pub origin: u32,
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error from raw numbers, as the TEE returned them.
    pub const fn new(code: u32, origin: u32) -> Error {
        Error { code, origin }
    }

    /// An error with a named kind and origin.
    pub const fn from_kind(kind: ErrorKind, origin: ErrorOrigin) -> Error {
        Error { code: kind.raw(), origin: origin.raw() }
    }

    /// An error this library detected itself (origin `TEEC_ORIGIN_API`).
    pub fn api(code: u32) -> Error {
        Error { code, origin: Origin::Api as u32 }
    }

    /// The kernel refused the request or the TEE could not be reached
    /// (`TEEC_ERROR_COMMUNICATION` from `TEEC_ORIGIN_COMMS`).
    pub(crate) fn comms() -> Error {
        Error { code: TeeResult::ERROR_COMMUNICATION.0, origin: Origin::Comms as u32 }
    }

    /// The code, named.
    pub const fn kind(&self) -> ErrorKind {
        ErrorKind::from_raw(self.code)
    }

    /// Where the error was detected, named.
    pub const fn origin(&self) -> ErrorOrigin {
        ErrorOrigin::from_raw(self.origin)
    }

    /// The code as a number (the `code` field).
    pub const fn raw_code(&self) -> u32 {
        self.code
    }

    /// The origin as a number (the `origin` field).
    pub const fn raw_origin(&self) -> u32 {
        self.origin
    }

    /// What the code means, in words (`"requested item not found"`).
    pub const fn message(&self) -> &'static str {
        self.kind().message()
    }
}

impl From<ErrorKind> for Error {
    /// An error with origin `TEEC_ORIGIN_API`, as this library reports
    /// what it detects itself.
    fn from(kind: ErrorKind) -> Error {
        Error::from_kind(kind, ErrorOrigin::Api)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:?} from {}", TeeResult(self.code), self.origin().words())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "Error {{ code: {:?}, origin: {} }}", TeeResult(self.code), self.origin())
    }
}

impl std::error::Error for Error {}

/// Defines [`ErrorKind`] from the GP codes in `oxtee_abi::tee::TeeResult`,
/// so a variant, its number and its GP name cannot disagree.
macro_rules! kinds {
    ($( $(#[$m:meta])* $variant:ident = $code:ident: $msg:literal ),+ $(,)?) => {
        /// A GP `TEE_Result` error code, by name: every code of the GP TEE
        /// Client API (`TEEC_ERROR_*`) and of the Internal Core API a TA or
        /// OP-TEE returns (`TEE_ERROR_*`), with the numbers upstream
        /// OP-TEE uses.
        ///
        /// [`ErrorKind::Unknown`] carries any other value: a TA may return
        /// codes of its own.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( $(#[$m])* #[doc = concat!("`TEE_", stringify!($code), "`: ", $msg, ".")] $variant, )+
            /// A code GP does not define (a TA's own, or a vendor's).
            Unknown(u32),
        }

        impl ErrorKind {
            /// Every named kind (all but `Unknown`).
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),+];

            /// The kind of a raw code.
            pub const fn from_raw(code: u32) -> ErrorKind {
                match TeeResult(code) {
                    $( TeeResult::$code => ErrorKind::$variant, )+
                    _ => ErrorKind::Unknown(code),
                }
            }

            /// The code's number.
            pub const fn raw(self) -> u32 {
                match self {
                    $( ErrorKind::$variant => TeeResult::$code.0, )+
                    ErrorKind::Unknown(code) => code,
                }
            }

            /// The GP name (`"TEE_ERROR_ITEM_NOT_FOUND"`; `"TEE_ERROR_UNKNOWN"`
            /// for `Unknown`). The client API's `TEEC_ERROR_*` names the
            /// same numbers.
            pub const fn name(self) -> &'static str {
                TeeResult(self.raw()).name()
            }

            /// What the code means, in words.
            pub const fn message(self) -> &'static str {
                match self {
                    $( ErrorKind::$variant => $msg, )+
                    ErrorKind::Unknown(_) => "a code GP does not define (the TA's own?)",
                }
            }
        }
    };
}

kinds! {
    Generic = ERROR_GENERIC: "non-specific failure",
    AccessDenied = ERROR_ACCESS_DENIED: "access privileges insufficient",
    Cancel = ERROR_CANCEL: "the operation was cancelled",
    AccessConflict = ERROR_ACCESS_CONFLICT: "concurrent accesses conflict (e.g. the object is open or exists)",
    ExcessData = ERROR_EXCESS_DATA: "too much data for the operation",
    BadFormat = ERROR_BAD_FORMAT: "input data badly formatted",
    BadParameters = ERROR_BAD_PARAMETERS: "invalid parameters (types, sizes or values)",
    BadState = ERROR_BAD_STATE: "operation invalid in the current state",
    ItemNotFound = ERROR_ITEM_NOT_FOUND: "requested item not found",
    NotImplemented = ERROR_NOT_IMPLEMENTED: "valid request, but not implemented",
    NotSupported = ERROR_NOT_SUPPORTED: "valid request, but not supported",
    NoData = ERROR_NO_DATA: "expected data missing",
    OutOfMemory = ERROR_OUT_OF_MEMORY: "not enough memory",
    Busy = ERROR_BUSY: "the system is busy; try later",
    Communication = ERROR_COMMUNICATION: "communication with the TEE failed",
    Security = ERROR_SECURITY: "security fault detected (e.g. a TA image that does not verify)",
    ShortBuffer = ERROR_SHORT_BUFFER: "the output buffer is too short; the size needed was written back",
    ExternalCancel = ERROR_EXTERNAL_CANCEL: "cancelled by something outside the TEE",
    Timeout = ERROR_TIMEOUT: "the operation timed out",
    Overflow = ERROR_OVERFLOW: "internal arithmetic overflow",
    TargetDead = ERROR_TARGET_DEAD: "the trusted application panicked or was killed",
    StorageNoSpace = ERROR_STORAGE_NO_SPACE: "not enough space in persistent storage",
    MacInvalid = ERROR_MAC_INVALID: "MAC check failed",
    SignatureInvalid = ERROR_SIGNATURE_INVALID: "signature check failed",
    TimeNotSet = ERROR_TIME_NOT_SET: "persistent TA time not set",
    TimeNeedsReset = ERROR_TIME_NEEDS_RESET: "persistent TA time compromised; it needs setting again",
    CorruptObject = ERROR_CORRUPT_OBJECT: "persistent object corrupt",
    CorruptObject2 = ERROR_CORRUPT_OBJECT_2: "persistent object corrupt (second GP code)",
    StorageNotAvailable = ERROR_STORAGE_NOT_AVAILABLE: "storage not available",
    StorageNotAvailable2 = ERROR_STORAGE_NOT_AVAILABLE_2: "storage not available (second GP code)",
    UnsupportedVersion = ERROR_UNSUPPORTED_VERSION: "unsupported object or protocol version",
    CiphertextInvalid = ERROR_CIPHERTEXT_INVALID: "ciphertext failed validation",
}

impl From<u32> for ErrorKind {
    fn from(code: u32) -> ErrorKind {
        ErrorKind::from_raw(code)
    }
}

impl From<ErrorKind> for u32 {
    fn from(kind: ErrorKind) -> u32 {
        kind.raw()
    }
}

impl fmt::Display for ErrorKind {
    /// The GP name, or `TEE_Result(0x…)` for an unknown code.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Display::fmt(&TeeResult(self.raw()), f)
    }
}

/// Which layer returned an error (`TEEC_ORIGIN_*`, GP's `returnOrigin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorOrigin {
    /// `TEEC_ORIGIN_API` (1): the client library (this crate, or libteec)
    /// refused the call before it reached the TEE.
    Api,
    /// `TEEC_ORIGIN_COMMS` (2): the kernel driver or the link to the TEE
    /// failed (for example the TEE driver refused the request).
    Comms,
    /// `TEEC_ORIGIN_TEE` (3): the TEE's OS (loading the TA, checking its
    /// signature, a pseudo-TA, or a TA that died).
    Tee,
    /// `TEEC_ORIGIN_TRUSTED_APP` (4): the trusted application's own answer.
    TrustedApp,
    /// An origin GP does not define.
    Unknown(u32),
}

impl ErrorOrigin {
    /// The origin of a raw number.
    pub const fn from_raw(raw: u32) -> ErrorOrigin {
        match raw {
            1 => ErrorOrigin::Api,
            2 => ErrorOrigin::Comms,
            3 => ErrorOrigin::Tee,
            4 => ErrorOrigin::TrustedApp,
            other => ErrorOrigin::Unknown(other),
        }
    }

    /// The number (`TEEC_ORIGIN_*`).
    pub const fn raw(self) -> u32 {
        match self {
            ErrorOrigin::Api => Origin::Api as u32,
            ErrorOrigin::Comms => Origin::Comms as u32,
            ErrorOrigin::Tee => Origin::Tee as u32,
            ErrorOrigin::TrustedApp => Origin::TrustedApp as u32,
            ErrorOrigin::Unknown(raw) => raw,
        }
    }

    /// The GP name (`"TEEC_ORIGIN_TRUSTED_APP"`), `None` for an unknown one.
    pub const fn name(self) -> Option<&'static str> {
        match self {
            ErrorOrigin::Api => Some(Origin::Api.name()),
            ErrorOrigin::Comms => Some(Origin::Comms.name()),
            ErrorOrigin::Tee => Some(Origin::Tee.name()),
            ErrorOrigin::TrustedApp => Some(Origin::TrustedApp.name()),
            ErrorOrigin::Unknown(_) => None,
        }
    }

    /// In words, as `Error`'s `Display` uses it (`"the trusted application"`).
    pub fn words(self) -> String {
        match self {
            ErrorOrigin::Api => "the client API".into(),
            ErrorOrigin::Comms => "the communication stack (kernel driver)".into(),
            ErrorOrigin::Tee => "the TEE".into(),
            ErrorOrigin::TrustedApp => "the trusted application".into(),
            ErrorOrigin::Unknown(raw) => format!("origin {raw:#x}"),
        }
    }
}

impl From<Origin> for ErrorOrigin {
    fn from(o: Origin) -> ErrorOrigin {
        ErrorOrigin::from_raw(o as u32)
    }
}

impl From<u32> for ErrorOrigin {
    fn from(raw: u32) -> ErrorOrigin {
        ErrorOrigin::from_raw(raw)
    }
}

impl fmt::Display for ErrorOrigin {
    /// The GP name, or `origin 0x…` for an unknown one.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "origin {:#x}", self.raw()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gp_code_has_a_kind_and_round_trips() {
        // Every error code the ABI crate knows (all of GP's), and only those.
        let codes: Vec<u32> = TeeResult::KNOWN.iter().filter(|r| !r.is_success()).map(|r| r.0).collect();
        assert_eq!(ErrorKind::ALL.len(), codes.len());
        for &c in &codes {
            let k = ErrorKind::from_raw(c);
            assert!(!matches!(k, ErrorKind::Unknown(_)), "{c:#x} has no kind");
            assert_eq!(k.raw(), c);
            assert_eq!(u32::from(k), c);
            assert_eq!(ErrorKind::from(c), k);
            assert_eq!(k.name(), TeeResult(c).name());
            assert!(!k.message().is_empty());
        }
        // Distinct kinds for distinct codes.
        for (i, a) in ErrorKind::ALL.iter().enumerate() {
            assert!(!ErrorKind::ALL[i + 1..].contains(a), "{a:?} twice");
        }
        // Spot checks against the GP headers' numbers.
        assert_eq!(ErrorKind::Generic.raw(), 0xffff_0000);
        assert_eq!(ErrorKind::ShortBuffer.raw(), 0xffff_0010);
        assert_eq!(ErrorKind::ExternalCancel.raw(), 0xffff_0011);
        assert_eq!(ErrorKind::TargetDead.raw(), 0xffff_3024);
        assert_eq!(ErrorKind::StorageNoSpace.raw(), 0xffff_3041);
        assert_eq!(ErrorKind::TimeNeedsReset.raw(), 0xffff_5001);
        assert_eq!(ErrorKind::CiphertextInvalid.raw(), 0xf010_0006);
        assert_eq!(ErrorKind::CorruptObject.name(), "TEE_ERROR_CORRUPT_OBJECT");
    }

    #[test]
    fn unknown_codes_and_origins_keep_their_numbers() {
        for c in [0, 1, 0x1234, 0x8000_0000, 0xffff_0012, 0xffff_ffff] {
            assert_eq!(ErrorKind::from_raw(c), ErrorKind::Unknown(c));
            assert_eq!(ErrorKind::Unknown(c).raw(), c);
        }
        assert_eq!(ErrorKind::Unknown(0x1234).to_string(), "TEE_Result(0x00001234)");
        for (raw, o) in
            [(1, ErrorOrigin::Api), (2, ErrorOrigin::Comms), (3, ErrorOrigin::Tee), (4, ErrorOrigin::TrustedApp)]
        {
            assert_eq!(ErrorOrigin::from_raw(raw), o);
            assert_eq!(o.raw(), raw);
            assert_eq!(ErrorOrigin::from(Origin::try_from(raw).unwrap()), o);
            assert_eq!(o.name(), Some(Origin::try_from(raw).unwrap().name()));
        }
        assert_eq!(ErrorOrigin::from_raw(0), ErrorOrigin::Unknown(0));
        assert_eq!(ErrorOrigin::Unknown(9).raw(), 9);
        assert_eq!(ErrorOrigin::Unknown(9).to_string(), "origin 0x9");
    }

    #[test]
    fn errors_say_code_and_origin() {
        let e = Error::new(0xffff_0008, 4);
        assert_eq!(
            (e.kind(), e.origin(), e.raw_code(), e.raw_origin()),
            (ErrorKind::ItemNotFound, ErrorOrigin::TrustedApp, 0xffff_0008, 4)
        );
        assert_eq!(e.to_string(), "TEE_ERROR_ITEM_NOT_FOUND (0xffff0008) from the trusted application");
        assert_eq!(e.message(), "requested item not found");
        let e = Error::from_kind(ErrorKind::Security, ErrorOrigin::Tee);
        assert_eq!((e.code, e.origin), (0xffff_000f, 3));
        assert_eq!(e.to_string(), "TEE_ERROR_SECURITY (0xffff000f) from the TEE");
        let e: Error = ErrorKind::BadParameters.into();
        assert_eq!(e, Error::api(0xffff_0006));
        assert_eq!(e.to_string(), "TEE_ERROR_BAD_PARAMETERS (0xffff0006) from the client API");
        assert_eq!(Error::comms().origin(), ErrorOrigin::Comms);
        assert_eq!(Error::comms().kind(), ErrorKind::Communication);
        // A TA's own code and an origin GP doesn't define stay readable.
        let odd = Error { code: 0x1234, origin: 9 };
        assert_eq!(odd.kind(), ErrorKind::Unknown(0x1234));
        assert_eq!(odd.to_string(), "TEE_Result(0x00001234) from origin 0x9");
        assert_eq!(format!("{odd:?}"), "Error { code: TEE_Result(0x00001234), origin: origin 0x9 }");
    }
}
