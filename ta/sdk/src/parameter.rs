//! The four parameters of an open-session or invoke request, as the TA's
//! entry points see them (Teaclave's `Parameters`, `ParamValue`,
//! `ParamMemref`, but safe: the SDK checked the memref buffers before
//! handing them out).

use crate::arch::EntryBuffer;
use crate::error::{Error, ErrorKind, Result};
use alloc::vec::Vec;
use oxtee_abi::ta::{
    TEE_NUM_PARAMS, TEE_PARAM_TYPE_MEMREF_INOUT, TEE_PARAM_TYPE_MEMREF_INPUT, TEE_PARAM_TYPE_MEMREF_OUTPUT,
    TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_VALUE_INOUT, TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_VALUE_OUTPUT,
    UteeParams, param_type_get,
};

/// GP `TEE_PARAM_TYPE_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ParamType {
    None = TEE_PARAM_TYPE_NONE,
    ValueInput = TEE_PARAM_TYPE_VALUE_INPUT,
    ValueOutput = TEE_PARAM_TYPE_VALUE_OUTPUT,
    ValueInout = TEE_PARAM_TYPE_VALUE_INOUT,
    MemrefInput = TEE_PARAM_TYPE_MEMREF_INPUT,
    MemrefOutput = TEE_PARAM_TYPE_MEMREF_OUTPUT,
    MemrefInout = TEE_PARAM_TYPE_MEMREF_INOUT,
}

impl ParamType {
    /// The type of nibble `raw`, if it is one GP defines.
    pub fn from_raw(raw: u32) -> Option<ParamType> {
        Some(match raw {
            TEE_PARAM_TYPE_NONE => Self::None,
            TEE_PARAM_TYPE_VALUE_INPUT => Self::ValueInput,
            TEE_PARAM_TYPE_VALUE_OUTPUT => Self::ValueOutput,
            TEE_PARAM_TYPE_VALUE_INOUT => Self::ValueInout,
            TEE_PARAM_TYPE_MEMREF_INPUT => Self::MemrefInput,
            TEE_PARAM_TYPE_MEMREF_OUTPUT => Self::MemrefOutput,
            TEE_PARAM_TYPE_MEMREF_INOUT => Self::MemrefInout,
            _ => return None,
        })
    }

    pub fn is_value(self) -> bool {
        matches!(self, Self::ValueInput | Self::ValueOutput | Self::ValueInout)
    }

    pub fn is_memref(self) -> bool {
        matches!(self, Self::MemrefInput | Self::MemrefOutput | Self::MemrefInout)
    }
}

/// A packed `TEE_PARAM_TYPES` word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamTypes(u32);

impl ParamTypes {
    pub fn new(p0: ParamType, p1: ParamType, p2: ParamType, p3: ParamType) -> ParamTypes {
        ParamTypes(p0 as u32 | (p1 as u32) << 4 | (p2 as u32) << 8 | (p3 as u32) << 12)
    }

    /// The four types; nibbles GP does not define read as `None`.
    pub fn into_flags(self) -> (ParamType, ParamType, ParamType, ParamType) {
        let t = |i| ParamType::from_raw(param_type_get(self.0, i)).unwrap_or(ParamType::None);
        (t(0), t(1), t(2), t(3))
    }

    pub fn raw(self) -> u32 {
        self.0
    }
}

impl From<u32> for ParamTypes {
    fn from(raw: u32) -> ParamTypes {
        ParamTypes(raw)
    }
}

impl From<ParamTypes> for u32 {
    fn from(t: ParamTypes) -> u32 {
        t.0
    }
}

/// A memref's memory: the kernel's mapping, or (for an input the kernel
/// mapped read-only) a private copy, so the TA can always have `&mut`.
#[derive(Debug)]
enum Buffer<'a> {
    Mapped(&'a mut [u8]),
    Copy(Vec<u8>),
}

#[derive(Debug)]
enum Slot<'a> {
    None,
    Value {
        a: u32,
        b: u32,
    },
    /// `buf` is `None` for a null memref; `size` starts as the buffer's
    /// size and is what the TA reports back (`set_updated_size`).
    Memref {
        buf: Option<Buffer<'a>>,
        size: usize,
    },
}

/// One parameter of a request.
#[derive(Debug)]
pub struct Parameter<'a> {
    param_type: ParamType,
    slot: Slot<'a>,
}

impl<'a> Parameter<'a> {
    pub fn param_type(&self) -> ParamType {
        self.param_type
    }

    /// This value parameter; `BadParameters` if it is not one.
    pub fn as_value(&mut self) -> Result<ParamValue<'_>> {
        match &mut self.slot {
            Slot::Value { a, b } => Ok(ParamValue { a, b, param_type: self.param_type }),
            _ => Err(Error::new(ErrorKind::BadParameters)),
        }
    }

    /// This memory-reference parameter; `BadParameters` if it is not one.
    pub fn as_memref(&mut self) -> Result<ParamMemref<'_, 'a>> {
        match &mut self.slot {
            Slot::Memref { buf, size } => Ok(ParamMemref { buf, size, param_type: self.param_type }),
            _ => Err(Error::new(ErrorKind::BadParameters)),
        }
    }
}

/// A value parameter: two u32s (outputs go back for VALUE_OUTPUT/INOUT).
#[derive(Debug)]
pub struct ParamValue<'p> {
    a: &'p mut u32,
    b: &'p mut u32,
    param_type: ParamType,
}

impl ParamValue<'_> {
    pub fn a(&self) -> u32 {
        *self.a
    }

    pub fn b(&self) -> u32 {
        *self.b
    }

    pub fn set_a(&mut self, a: u32) {
        *self.a = a;
    }

    pub fn set_b(&mut self, b: u32) {
        *self.b = b;
    }

    pub fn param_type(&self) -> ParamType {
        self.param_type
    }
}

/// A memory-reference parameter: a buffer in this TA's memory (the kernel
/// copies it in before the call and, for OUTPUT/INOUT, back after, up to
/// the size the TA reports).
#[derive(Debug)]
pub struct ParamMemref<'p, 'a> {
    buf: &'p mut Option<Buffer<'a>>,
    size: &'p mut usize,
    param_type: ParamType,
}

impl ParamMemref<'_, '_> {
    /// The buffer (empty for a null memref). It can be passed on as is in
    /// a TA-to-TA call ([`crate::TeeParam::memref_inout`]).
    pub fn buffer(&mut self) -> &mut [u8] {
        match self.buf {
            Some(Buffer::Mapped(b)) => b,
            Some(Buffer::Copy(v)) => v,
            None => &mut [],
        }
    }

    /// Whether the client passed a null buffer (only a size).
    pub fn is_null(&self) -> bool {
        self.buf.is_none()
    }

    /// The size to report back: the buffer's size unless updated.
    pub fn size(&self) -> usize {
        *self.size
    }

    /// Reports `size` bytes of output; larger than the buffer tells the
    /// client how much it needs (return `ShortBuffer` with it).
    pub fn set_updated_size(&mut self, size: usize) {
        *self.size = size;
    }

    pub fn param_type(&self) -> ParamType {
        self.param_type
    }
}

/// The four parameters of a request.
#[derive(Debug)]
pub struct Parameters<'a>(pub Parameter<'a>, pub Parameter<'a>, pub Parameter<'a>, pub Parameter<'a>);

impl<'a> Parameters<'a> {
    /// The request's parameters from the kernel's `utee_params` and the
    /// checked memref buffers. An undefined type nibble is
    /// `BadParameters`.
    pub(crate) fn from_utee(raw: &UteeParams, bufs: [Option<EntryBuffer<'a>>; TEE_NUM_PARAMS]) -> Result<Self> {
        let mut bufs = bufs.into_iter();
        let mut one = |i: usize| -> Result<Parameter<'a>> {
            let buf = bufs.next().flatten();
            let t =
                ParamType::from_raw(param_type_get(raw.types as u32, i)).ok_or(Error::new(ErrorKind::BadParameters))?;
            let (a, b) = (raw.vals[2 * i], raw.vals[2 * i + 1]);
            let slot = if t.is_value() {
                Slot::Value { a: a as u32, b: b as u32 }
            } else if t.is_memref() {
                let buf = match buf {
                    Some(EntryBuffer::ReadWrite(m)) => Some(Buffer::Mapped(m)),
                    Some(EntryBuffer::ReadOnly(m)) => {
                        let mut copy = Vec::new();
                        copy.try_reserve_exact(m.len()).map_err(|_| Error::new(ErrorKind::OutOfMemory))?;
                        copy.extend_from_slice(m);
                        Some(Buffer::Copy(copy))
                    }
                    None => None,
                };
                Slot::Memref { buf, size: b as usize }
            } else {
                Slot::None
            };
            Ok(Parameter { param_type: t, slot })
        };
        Ok(Parameters(one(0)?, one(1)?, one(2)?, one(3)?))
    }

    /// Writes values and memref sizes back for the kernel (buffer
    /// addresses stay as they were).
    pub(crate) fn write_back(&self, raw: &mut UteeParams) {
        for (i, p) in [&self.0, &self.1, &self.2, &self.3].into_iter().enumerate() {
            match &p.slot {
                Slot::Value { a, b } => {
                    raw.vals[2 * i] = *a as u64;
                    raw.vals[2 * i + 1] = *b as u64;
                }
                Slot::Memref { size, .. } => raw.vals[2 * i + 1] = *size as u64,
                Slot::None => {}
            }
        }
    }

    /// The packed types of the four parameters.
    pub fn types(&self) -> ParamTypes {
        ParamTypes::new(self.0.param_type, self.1.param_type, self.2.param_type, self.3.param_type)
    }

    /// `Ok` if the parameters have exactly these types, else
    /// `BadParameters` (the usual first check of a command), with a trace
    /// line saying what was expected and what the client sent.
    pub fn check_types(&self, p0: ParamType, p1: ParamType, p2: ParamType, p3: ParamType) -> Result<()> {
        if self.types() == ParamTypes::new(p0, p1, p2, p3) {
            return Ok(());
        }
        let got = (self.0.param_type, self.1.param_type, self.2.param_type, self.3.param_type);
        crate::trace_println!(
            "check_types: BAD_PARAMETERS: expected ({p0:?}, {p1:?}, {p2:?}, {p3:?}), the client sent {got:?}"
        );
        Err(Error::new(ErrorKind::BadParameters))
    }
}
