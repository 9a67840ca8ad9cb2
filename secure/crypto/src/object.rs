//! Transient objects: the key types upstream 4.10 supports, their
//! attribute rules (which attributes are mandatory, optional, public;
//! sizes), and the object calls' semantics: populate, generate, get
//! attribute, restrict usage, copy, reset, info. Error codes are upstream
//! kernel's (`tee_svc_cryp.c`); the panics GP prescribes are libutee's,
//! in user space, and not made here.

use crate::{Attr, AttrRef, Attrs, Result, Rng};
use alloc::vec::Vec;
use oxtee_abi::ta::crypto::UteeObjectInfo;

/// A transient (or, later, persistent) object's key part.
pub struct Object {
    /// `TEE_TYPE_*`.
    pub obj_type: u32,
    /// Maximum key size in bits, fixed at allocation.
    pub max_size: u32,
    /// Current key size in bits (0 until populated or generated).
    pub key_size: u32,
    /// `TEE_USAGE_*` bits.
    pub usage: u32,
    /// `TEE_HANDLE_FLAG_*` bits (INITIALIZED once it holds a key).
    pub handle_flags: u32,
    attrs: Vec<Attr>,
}

/// What [`Object::get_attr`] answers.
pub enum AttrOut<'a> {
    /// A reference attribute's bytes.
    Bytes(&'a [u8]),
    /// A value attribute's values.
    Value(u32, u32),
}

impl Object {
    /// `CRYP_OBJ_ALLOC`: an empty object of `obj_type` able to hold a key
    /// of `max_size` bits. NOT_SUPPORTED for a type or size upstream
    /// refuses.
    pub fn alloc(obj_type: u32, max_size: u32) -> Result<Object> {
        Ok(Object { obj_type, max_size, key_size: 0, usage: u32::MAX, handle_flags: 0, attrs: Vec::new() })
    }

    /// `CRYP_OBJ_POPULATE`: fills an uninitialised object from `attrs`,
    /// checking that every mandatory attribute is there, nothing foreign
    /// is, and sizes fit (BAD_PARAMETERS otherwise, BAD_STATE when
    /// already initialised).
    pub fn populate(&mut self, attrs: &[AttrRef<'_>]) -> Result<()> {
        let _ = attrs;
        Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
    }

    /// `CRYP_OBJ_GENERATE_KEY`: generates a `key_size`-bit key (`params`
    /// as GP allows them per type).
    pub fn generate(&mut self, key_size: u32, params: &[AttrRef<'_>], rng: &mut dyn Rng) -> Result<()> {
        let _ = (key_size, params, rng);
        Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
    }

    /// `CRYP_OBJ_GET_ATTR`: ITEM_NOT_FOUND when absent, ACCESS_DENIED for
    /// a secret attribute the usage does not let out, BAD_PARAMETERS when
    /// the object is not initialised.
    pub fn get_attr(&self, id: u32) -> Result<AttrOut<'_>> {
        let _ = id;
        Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
    }

    /// `CRYP_OBJ_RESTRICT_USAGE`.
    pub fn restrict_usage(&mut self, usage: u32) {
        self.usage &= usage;
    }

    /// `CRYP_OBJ_COPY`: copies `src`'s attributes into this uninitialised
    /// object, with GP's type compatibility rules (a keypair into its
    /// public type...).
    pub fn copy_from(&mut self, src: &Object) -> Result<()> {
        let _ = src;
        Err(crate::TeeResult::ERROR_NOT_SUPPORTED)
    }

    /// `CRYP_OBJ_RESET`: back to uninitialised, usage back to all.
    pub fn reset(&mut self) {
        self.attrs.clear();
        self.key_size = 0;
        self.usage = u32::MAX;
        self.handle_flags &= !oxtee_abi::ta::crypto::HANDLE_FLAG_INITIALIZED;
    }

    /// `CRYP_OBJ_GET_INFO` (data size and position 0: transient).
    pub fn info(&self) -> UteeObjectInfo {
        UteeObjectInfo {
            obj_type: self.obj_type,
            obj_size: self.key_size,
            max_obj_size: self.max_size,
            obj_usage: self.usage,
            data_size: 0,
            data_pos: 0,
            handle_flags: self.handle_flags,
        }
    }

    /// Whether the object holds a key.
    pub fn is_initialized(&self) -> bool {
        self.handle_flags & oxtee_abi::ta::crypto::HANDLE_FLAG_INITIALIZED != 0
    }

    /// The attributes, for the operation layer.
    pub fn attrs(&self) -> &[Attr] {
        &self.attrs
    }
}

impl Attrs for Object {
    fn bytes(&self, id: u32) -> Option<&[u8]> {
        self.attrs.as_slice().bytes(id)
    }
    fn value(&self, id: u32) -> Option<(u32, u32)> {
        self.attrs.as_slice().value(id)
    }
}
