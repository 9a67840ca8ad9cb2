//! Sessions from this TA to another TA or a pseudo-TA (GP
//! `TEE_OpenTASession`, `TEE_InvokeTACommand`, `TEE_CloseTASession`).
//! Memref parameters are slices of this TA's memory: its stack, statics,
//! heap, or a buffer it received as a parameter itself (forwarding). The
//! kernel copies them for the callee, as it does for clients.

use crate::error::{Error, Result};
use crate::uuid::Uuid;
use oxtee_abi::ta::{
    TEE_PARAM_TYPE_MEMREF_INOUT, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_NONE,
    TEE_PARAM_TYPE_VALUE_INOUT, TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT, UteeParams,
};

enum Buf<'a> {
    Shared(&'a [u8]),
    Exclusive(&'a mut [u8]),
}

enum Kind<'a> {
    None,
    Value { param_type: u32, a: u32, b: u32 },
    Memref { param_type: u32, buf: Buf<'a>, size: usize },
}

/// One parameter of a TA-to-TA call.
pub struct TeeParam<'a>(Kind<'a>);

impl<'a> TeeParam<'a> {
    pub fn none() -> Self {
        Self(Kind::None)
    }

    pub fn value_input(a: u32, b: u32) -> Self {
        Self(Kind::Value { param_type: TEE_PARAM_TYPE_VALUE_INPUT, a, b })
    }

    pub fn value_output() -> Self {
        Self(Kind::Value { param_type: TEE_PARAM_TYPE_VALUE_OUTPUT, a: 0, b: 0 })
    }

    pub fn value_inout(a: u32, b: u32) -> Self {
        Self(Kind::Value { param_type: TEE_PARAM_TYPE_VALUE_INOUT, a, b })
    }

    pub fn memref_input(buf: &'a [u8]) -> Self {
        let size = buf.len();
        Self(Kind::Memref { param_type: TEE_PARAM_TYPE_MEMREF_INPUT, buf: Buf::Shared(buf), size })
    }

    pub fn memref_output(buf: &'a mut [u8]) -> Self {
        let size = buf.len();
        Self(Kind::Memref { param_type: TEE_PARAM_TYPE_MEMREF_OUTPUT, buf: Buf::Exclusive(buf), size })
    }

    pub fn memref_inout(buf: &'a mut [u8]) -> Self {
        let size = buf.len();
        Self(Kind::Memref { param_type: TEE_PARAM_TYPE_MEMREF_INOUT, buf: Buf::Exclusive(buf), size })
    }

    /// Value a, b (after the call, the callee's outputs).
    pub fn value(&self) -> Option<(u32, u32)> {
        match self.0 {
            Kind::Value { a, b, .. } => Some((a, b)),
            _ => None,
        }
    }

    /// Memref size (after the call, what the callee produced or, with
    /// `ShortBuffer`, needs).
    pub fn size(&self) -> Option<usize> {
        match self.0 {
            Kind::Memref { size, .. } => Some(size),
            _ => None,
        }
    }

    fn param_type(&self) -> u32 {
        match self.0 {
            Kind::None => TEE_PARAM_TYPE_NONE,
            Kind::Value { param_type, .. } | Kind::Memref { param_type, .. } => param_type,
        }
    }
}

/// The four parameters of a TA-to-TA call.
pub struct TeeParams<'a>(pub [TeeParam<'a>; 4]);

impl<'a> TeeParams<'a> {
    pub fn new(p0: TeeParam<'a>, p1: TeeParam<'a>, p2: TeeParam<'a>, p3: TeeParam<'a>) -> Self {
        Self([p0, p1, p2, p3])
    }

    /// No parameters.
    pub fn empty() -> TeeParams<'static> {
        TeeParams([TeeParam::none(), TeeParam::none(), TeeParam::none(), TeeParam::none()])
    }

    /// `utee_params` for the kernel; memref entries hold the slices'
    /// addresses, valid while `self` is borrowed.
    pub(crate) fn utee_params(&mut self) -> UteeParams {
        let mut up = UteeParams::default();
        for (i, p) in self.0.iter_mut().enumerate() {
            up.types |= (p.param_type() as u64) << (4 * i);
            let (a, b) = match &mut p.0 {
                Kind::None => (0, 0),
                Kind::Value { a, b, .. } => (*a as u64, *b as u64),
                // An empty slice travels as a null memref (its dangling
                // address is no memory of this TA's).
                Kind::Memref { buf: Buf::Shared([]), size, .. } => (0, *size as u64),
                Kind::Memref { buf: Buf::Exclusive([]), size, .. } => (0, *size as u64),
                Kind::Memref { buf: Buf::Shared(s), size, .. } => (s.as_ptr() as u64, *size as u64),
                Kind::Memref { buf: Buf::Exclusive(s), size, .. } => (s.as_mut_ptr() as u64, *size as u64),
            };
            up.vals[2 * i] = a;
            up.vals[2 * i + 1] = b;
        }
        up
    }

    /// Takes the callee's outputs from what the kernel wrote back.
    pub(crate) fn update_from_utee(&mut self, up: &UteeParams) {
        for (i, p) in self.0.iter_mut().enumerate() {
            let (a, b) = (up.vals[2 * i], up.vals[2 * i + 1]);
            match &mut p.0 {
                Kind::Value { param_type: TEE_PARAM_TYPE_VALUE_OUTPUT | TEE_PARAM_TYPE_VALUE_INOUT, a: va, b: vb } => {
                    *va = a as u32;
                    *vb = b as u32;
                }
                Kind::Memref {
                    param_type: TEE_PARAM_TYPE_MEMREF_OUTPUT | TEE_PARAM_TYPE_MEMREF_INOUT, size, ..
                } => {
                    *size = b as usize;
                }
                _ => {}
            }
        }
    }
}

/// An open session to another TA; closed when dropped.
pub struct TaSession {
    handle: u32,
    timeout: u32,
}

impl TaSession {
    /// Opens a session to `uuid` with no parameters and no deadline.
    pub fn open(uuid: Uuid) -> Result<TaSession> {
        Self::open_with(uuid, crate::TIMEOUT_INFINITE, &mut TeeParams::empty())
    }

    /// Opens a session to `uuid`; `timeout` (ms) bounds how long the
    /// kernel waits before treating a cancellation as final. Errors carry
    /// their origin (TEE, or the callee for its own open failures).
    pub fn open_with(uuid: Uuid, timeout: u32, params: &mut TeeParams<'_>) -> Result<TaSession> {
        let (res, handle, origin) = crate::sys::open_ta_session(&uuid.to_tee_uuid(), timeout, params);
        if res.is_success() { Ok(TaSession { handle, timeout }) } else { Err(Error::with_origin(res.0, origin)) }
    }

    /// Invokes command `cmd`. On error the origin says who failed: the
    /// callee (`TrustedApp`) or the TEE (e.g. `TargetDead`).
    pub fn invoke_command(&mut self, cmd: u32, params: &mut TeeParams<'_>) -> Result<()> {
        let (res, origin) = crate::sys::invoke_ta_command(self.handle, self.timeout, cmd, params);
        if res.is_success() { Ok(()) } else { Err(Error::with_origin(res.0, origin)) }
    }
}

impl Drop for TaSession {
    fn drop(&mut self) {
        let res = crate::sys::close_ta_session(self.handle);
        // GP: closing a valid session cannot fail; if it does the handle
        // was corrupted, which only a TA bug can do.
        if !res.is_success() {
            crate::tee_panic(res.0);
        }
    }
}
