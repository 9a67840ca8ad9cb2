//! What `ta_config!` puts in the TA image, in upstream's layout:
//! `ta_head` (section `.ta_head`, the first bytes of the image), the heap
//! `ta_heap`/`ta_heap_size`, and the property table
//! `ta_props`/`ta_num_props` of `struct user_ta_property`. The SDK reaches
//! them through `__oxtee_ta_config`, which the macro defines next to them.

use core::cell::UnsafeCell;
use core::ffi::{CStr, c_char, c_void};
use oxtee_abi::ta::{
    TaHead, TeeIdentity, TeeUuid, USER_TA_PROP_TYPE_BINARY_BLOCK, USER_TA_PROP_TYPE_BOOL, USER_TA_PROP_TYPE_IDENTITY,
    USER_TA_PROP_TYPE_STRING, USER_TA_PROP_TYPE_U32, USER_TA_PROP_TYPE_U64, USER_TA_PROP_TYPE_UUID,
};

/// The TA's declaration, as `ta_config!` wrote it.
pub struct TaConfig {
    pub head: &'static TaHead,
    pub props: &'static [UserTaProperty],
    pub heap: &'static TaHeap<[u8]>,
    /// `gpd.ta.stackSize` / `gpd.ta.dataSize` as declared.
    pub stack_size: u32,
    pub data_size: u32,
}

unsafe extern "Rust" {
    /// Defined by `ta_config!` (exactly once per TA; a second definition
    /// fails the link, a missing one too).
    pub(crate) safe fn __oxtee_ta_config() -> TaConfig;
}

/// The running TA's declaration.
pub(crate) fn config() -> TaConfig {
    __oxtee_ta_config()
}

/// Memory for the TA heap (`ta_heap`), 16-byte aligned, in `.bss`.
#[repr(C, align(16))]
pub struct TaHeap<T: ?Sized>(UnsafeCell<T>);

// SAFETY: the heap's bytes are only ever reached through the global
// allocator, which hands out disjoint blocks and lives in an
// `InstanceCell` (one thread of control per TA instance).
unsafe impl<T: ?Sized> Sync for TaHeap<T> {}

impl<const N: usize> TaHeap<[u8; N]> {
    /// `N` zero bytes.
    pub const fn new() -> Self {
        Self(UnsafeCell::new([0; N]))
    }
}

impl<const N: usize> Default for TaHeap<[u8; N]> {
    fn default() -> Self {
        Self::new()
    }
}

impl TaHeap<[u8]> {
    /// Start and length of the heap memory (the host has no TA heap).
    #[cfg_attr(not(target_os = "none"), allow(dead_code))]
    pub(crate) fn region(&self) -> (*mut u8, usize) {
        let p = self.0.get();
        (p.cast::<u8>(), p.len())
    }
}

/// `struct user_ta_property`: a name, a `USER_TA_PROP_TYPE_*` and a
/// pointer to the value. Built only by the constructors below, so every
/// pointer refers to `'static` data of the type the tag names.
#[repr(C)]
pub struct UserTaProperty {
    name: *const c_char,
    prop_type: u32,
    value: *const c_void,
}

// SAFETY: every pointer refers to immutable `'static` data (see the
// constructors), which any thread could read.
unsafe impl Sync for UserTaProperty {}

/// A property value read from the table.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PropValue {
    Bool(bool),
    U32(u32),
    U64(u64),
    Uuid(TeeUuid),
    Identity(TeeIdentity),
    Str(&'static CStr),
    /// Base64 text of a binary block.
    Binary(&'static CStr),
}

impl UserTaProperty {
    const fn new<T>(name: &'static CStr, prop_type: u32, value: &'static T) -> Self {
        Self { name: name.as_ptr(), prop_type, value: (value as *const T).cast() }
    }

    /// A boolean, stored as a u32 (0 or 1) as upstream readers copy four
    /// bytes for it.
    pub const fn bool(name: &'static CStr, value: &'static u32) -> Self {
        Self::new(name, USER_TA_PROP_TYPE_BOOL, value)
    }

    pub const fn u32(name: &'static CStr, value: &'static u32) -> Self {
        Self::new(name, USER_TA_PROP_TYPE_U32, value)
    }

    pub const fn u64(name: &'static CStr, value: &'static u64) -> Self {
        Self::new(name, USER_TA_PROP_TYPE_U64, value)
    }

    pub const fn uuid(name: &'static CStr, value: &'static TeeUuid) -> Self {
        Self::new(name, USER_TA_PROP_TYPE_UUID, value)
    }

    pub const fn identity(name: &'static CStr, value: &'static TeeIdentity) -> Self {
        Self::new(name, USER_TA_PROP_TYPE_IDENTITY, value)
    }

    pub const fn string(name: &'static CStr, value: &'static CStr) -> Self {
        Self { name: name.as_ptr(), prop_type: USER_TA_PROP_TYPE_STRING, value: value.as_ptr().cast() }
    }

    /// A binary block given as its base64 text (upstream's encoding).
    pub const fn binary_base64(name: &'static CStr, value: &'static CStr) -> Self {
        Self { name: name.as_ptr(), prop_type: USER_TA_PROP_TYPE_BINARY_BLOCK, value: value.as_ptr().cast() }
    }

    pub(crate) fn name(&self) -> &'static CStr {
        // SAFETY: `name` came from a `&'static CStr` in a constructor.
        unsafe { CStr::from_ptr(self.name) }
    }

    pub(crate) fn value(&self) -> PropValue {
        // SAFETY (every read below): the constructor that set this tag
        // stored a `&'static` of exactly the type read for it.
        let v = self.value;
        match self.prop_type {
            USER_TA_PROP_TYPE_BOOL => {
                // SAFETY: see above; a u32.
                let raw = unsafe { v.cast::<u32>().read() };
                PropValue::Bool(raw != 0)
            }
            USER_TA_PROP_TYPE_U32 => {
                // SAFETY: see above; a u32.
                PropValue::U32(unsafe { v.cast::<u32>().read() })
            }
            USER_TA_PROP_TYPE_U64 => {
                // SAFETY: see above; a u64.
                PropValue::U64(unsafe { v.cast::<u64>().read() })
            }
            USER_TA_PROP_TYPE_UUID => {
                // SAFETY: see above; a TeeUuid.
                PropValue::Uuid(unsafe { v.cast::<TeeUuid>().read() })
            }
            USER_TA_PROP_TYPE_IDENTITY => {
                // SAFETY: see above; a TeeIdentity.
                PropValue::Identity(unsafe { v.cast::<TeeIdentity>().read() })
            }
            USER_TA_PROP_TYPE_STRING => {
                // SAFETY: see above; a `&'static CStr`'s pointer.
                PropValue::Str(unsafe { CStr::from_ptr(v.cast()) })
            }
            _ => {
                // SAFETY: see above; binary blocks are `&'static CStr`s.
                PropValue::Binary(unsafe { CStr::from_ptr(v.cast()) })
            }
        }
    }
}
