//! GP error codes as a Rust error (Teaclave's `Error`/`ErrorKind` shape),
//! with the return origin where one is known (TA-to-TA calls).

use core::fmt;
use oxtee_abi::tee::{Origin, TeeResult};

/// Result of the SDK's fallible calls and of a TA's entry points.
pub type Result<T> = core::result::Result<T, Error>;

/// The GP `TEE_ERROR_*` codes by name. `Unknown` stands for any other
/// code; [`Error::raw_code`] keeps the exact value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorKind {
    CorruptObject = 0xF010_0001,
    CorruptObject2 = 0xF010_0002,
    StorageNotAvailable = 0xF010_0003,
    StorageNotAvailable2 = 0xF010_0004,
    UnsupportedVersion = 0xF010_0005,
    CiphertextInvalid = 0xF010_0006,
    Generic = 0xFFFF_0000,
    AccessDenied = 0xFFFF_0001,
    Cancel = 0xFFFF_0002,
    AccessConflict = 0xFFFF_0003,
    ExcessData = 0xFFFF_0004,
    BadFormat = 0xFFFF_0005,
    BadParameters = 0xFFFF_0006,
    BadState = 0xFFFF_0007,
    ItemNotFound = 0xFFFF_0008,
    NotImplemented = 0xFFFF_0009,
    NotSupported = 0xFFFF_000A,
    NoData = 0xFFFF_000B,
    OutOfMemory = 0xFFFF_000C,
    Busy = 0xFFFF_000D,
    Communication = 0xFFFF_000E,
    Security = 0xFFFF_000F,
    ShortBuffer = 0xFFFF_0010,
    ExternalCancel = 0xFFFF_0011,
    Timeout = 0xFFFF_3001,
    Overflow = 0xFFFF_300F,
    TargetDead = 0xFFFF_3024,
    StorageNoSpace = 0xFFFF_3041,
    MacInvalid = 0xFFFF_3071,
    SignatureInvalid = 0xFFFF_3072,
    TimeNotSet = 0xFFFF_5000,
    TimeNeedsReset = 0xFFFF_5001,
    Unknown = 0xFFFF_FFFF,
}

impl ErrorKind {
    const ALL: [ErrorKind; 32] = [
        Self::CorruptObject,
        Self::CorruptObject2,
        Self::StorageNotAvailable,
        Self::StorageNotAvailable2,
        Self::UnsupportedVersion,
        Self::CiphertextInvalid,
        Self::Generic,
        Self::AccessDenied,
        Self::Cancel,
        Self::AccessConflict,
        Self::ExcessData,
        Self::BadFormat,
        Self::BadParameters,
        Self::BadState,
        Self::ItemNotFound,
        Self::NotImplemented,
        Self::NotSupported,
        Self::NoData,
        Self::OutOfMemory,
        Self::Busy,
        Self::Communication,
        Self::Security,
        Self::ShortBuffer,
        Self::ExternalCancel,
        Self::Timeout,
        Self::Overflow,
        Self::TargetDead,
        Self::StorageNoSpace,
        Self::MacInvalid,
        Self::SignatureInvalid,
        Self::TimeNotSet,
        Self::TimeNeedsReset,
    ];

    fn from_code(code: u32) -> ErrorKind {
        Self::ALL.into_iter().find(|k| *k as u32 == code).unwrap_or(Self::Unknown)
    }
}

/// A GP error: its code and, for calls that report one, its origin.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    code: u32,
    origin: Option<Origin>,
}

impl Error {
    /// The error of `kind`.
    pub fn new(kind: ErrorKind) -> Error {
        Error { code: kind as u32, origin: None }
    }

    /// The error with raw `TEE_Result` `code` (never `TEE_SUCCESS` in
    /// practice; a zero code is reported as `Generic`).
    pub fn from_raw_error(code: u32) -> Error {
        Error { code: if code == 0 { ErrorKind::Generic as u32 } else { code }, origin: None }
    }

    /// `code` as reported by a call that also reports where it came from.
    pub fn with_origin(code: u32, origin: u32) -> Error {
        Error { origin: Origin::try_from(origin).ok(), ..Self::from_raw_error(code) }
    }

    pub fn kind(&self) -> ErrorKind {
        ErrorKind::from_code(self.code)
    }

    /// The `TEE_Result` value.
    pub fn raw_code(&self) -> u32 {
        self.code
    }

    /// Where the error arose, when the call reports it (TA-to-TA calls).
    pub fn origin(&self) -> Option<Origin> {
        self.origin
    }

    /// The GP name, e.g. `TEE_ERROR_BAD_PARAMETERS`.
    pub fn message(&self) -> &'static str {
        TeeResult(self.code).name()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error::new(kind)
    }
}

impl From<TeeResult> for Error {
    fn from(r: TeeResult) -> Error {
        Error::from_raw_error(r.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#010x})", self.message(), self.code)?;
        if let Some(o) = self.origin {
            write!(f, " from {o:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for Error {}
