//! GP properties (`TEE_GetPropertyAs*`) of the three property sets, found
//! where libutee finds them: the current TA's own table (`ta_props`,
//! written by `ta_config!`) first, then the kernel (GET_PROPERTY_NAME_TO_
//! INDEX + GET_PROPERTY), which answers `gpd.ta.appID` and the rest of the
//! TA set, the whole client set (`gpd.client.identity`, ...) and the TEE
//! implementation set (`gpd.tee.apiversion`, ...).

use crate::arch::PropValue;
use crate::error::{Error, ErrorKind, Result};
use crate::uuid::Uuid;
use alloc::ffi::CString;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::ta::{
    TEE_PROPSET_CURRENT_CLIENT, TEE_PROPSET_CURRENT_TA, TEE_PROPSET_TEE_IMPLEMENTATION, TeeIdentity, TeeUuid,
    USER_TA_PROP_TYPE_BINARY_BLOCK, USER_TA_PROP_TYPE_BOOL, USER_TA_PROP_TYPE_IDENTITY, USER_TA_PROP_TYPE_STRING,
    USER_TA_PROP_TYPE_U32, USER_TA_PROP_TYPE_U64, USER_TA_PROP_TYPE_UUID,
};
use oxtee_abi::tee::TeeResult;
use zerocopy::{FromBytes, IntoBytes};

/// GP `TEE_Identity`: a login class (`TEE_LOGIN_*`) and a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub login: u32,
    pub uuid: Uuid,
}

/// A property's type tag and value bytes, as GET_PROPERTY returns them.
struct RawProperty {
    prop_type: u32,
    bytes: Vec<u8>,
}

fn local(value: PropValue) -> Result<RawProperty> {
    let (prop_type, bytes) = match value {
        PropValue::Bool(b) => (USER_TA_PROP_TYPE_BOOL, (b as u32).to_le_bytes().to_vec()),
        PropValue::U32(v) => (USER_TA_PROP_TYPE_U32, v.to_le_bytes().to_vec()),
        PropValue::U64(v) => (USER_TA_PROP_TYPE_U64, v.to_le_bytes().to_vec()),
        PropValue::Uuid(u) => (USER_TA_PROP_TYPE_UUID, u.as_bytes().to_vec()),
        PropValue::Identity(i) => (USER_TA_PROP_TYPE_IDENTITY, i.as_bytes().to_vec()),
        PropValue::Str(s) => (USER_TA_PROP_TYPE_STRING, s.to_bytes_with_nul().to_vec()),
        PropValue::Binary(text) => {
            let bytes = crate::base64::decode(text.to_bytes()).ok_or(Error::new(ErrorKind::Generic))?;
            (USER_TA_PROP_TYPE_BINARY_BLOCK, bytes)
        }
    };
    Ok(RawProperty { prop_type, bytes })
}

fn fetch(set: u32, name: &str) -> Result<RawProperty> {
    if set == TEE_PROPSET_CURRENT_TA
        && let Some(p) = crate::arch::config().props.iter().find(|p| p.name().to_bytes() == name.as_bytes())
    {
        return local(p.value());
    }
    let cname = CString::new(name).map_err(|_| Error::new(ErrorKind::ItemNotFound))?;
    let index = crate::sys::get_property_name_to_index(set, &cname)?;
    let mut buf = vec![0u8; 64];
    loop {
        let answer = crate::sys::get_property(set, index, &mut buf);
        match answer.res {
            TeeResult::SUCCESS => {
                buf.truncate(answer.len as usize);
                return Ok(RawProperty { prop_type: answer.prop_type, bytes: buf });
            }
            TeeResult::ERROR_SHORT_BUFFER if answer.len as usize > buf.len() => buf.resize(answer.len as usize, 0),
            other => return Err(other.into()),
        }
    }
}

fn typed(p: RawProperty, want: u32) -> Result<Vec<u8>> {
    if p.prop_type == want { Ok(p.bytes) } else { Err(Error::new(ErrorKind::BadFormat)) }
}

fn read<T: FromBytes>(bytes: &[u8]) -> Result<T> {
    T::read_from_prefix(bytes).map(|(v, _)| v).map_err(|_| Error::new(ErrorKind::BadFormat))
}

fn get_bool(set: u32, name: &str) -> Result<bool> {
    // The kernel answers one byte (a C `bool`); the TA's own are words.
    let bytes = typed(fetch(set, name)?, USER_TA_PROP_TYPE_BOOL)?;
    if bytes.is_empty() {
        return Err(Error::new(ErrorKind::BadFormat));
    }
    Ok(bytes.iter().any(|b| *b != 0))
}

fn get_u32(set: u32, name: &str) -> Result<u32> {
    read(&typed(fetch(set, name)?, USER_TA_PROP_TYPE_U32)?)
}

fn get_u64(set: u32, name: &str) -> Result<u64> {
    read(&typed(fetch(set, name)?, USER_TA_PROP_TYPE_U64)?)
}

fn get_uuid(set: u32, name: &str) -> Result<Uuid> {
    read::<TeeUuid>(&typed(fetch(set, name)?, USER_TA_PROP_TYPE_UUID)?).map(|u| Uuid::from_tee_uuid(&u))
}

fn get_identity(set: u32, name: &str) -> Result<Identity> {
    let i = read::<TeeIdentity>(&typed(fetch(set, name)?, USER_TA_PROP_TYPE_IDENTITY)?)?;
    Ok(Identity { login: i.login, uuid: Uuid::from_tee_uuid(&i.uuid) })
}

fn get_binary(set: u32, name: &str) -> Result<Vec<u8>> {
    typed(fetch(set, name)?, USER_TA_PROP_TYPE_BINARY_BLOCK)
}

/// Any property as text, converted as GP specifies: booleans as
/// `true`/`false`, integers in decimal, UUIDs in canonical form,
/// identities as `login:uuid`, binary blocks in base64.
fn get_string(set: u32, name: &str) -> Result<String> {
    let p = fetch(set, name)?;
    Ok(match p.prop_type {
        USER_TA_PROP_TYPE_BOOL => {
            if p.bytes.is_empty() {
                return Err(Error::new(ErrorKind::BadFormat));
            }
            (if p.bytes.iter().any(|b| *b != 0) { "true" } else { "false" }).to_string()
        }
        USER_TA_PROP_TYPE_U32 => read::<u32>(&p.bytes)?.to_string(),
        USER_TA_PROP_TYPE_U64 => read::<u64>(&p.bytes)?.to_string(),
        USER_TA_PROP_TYPE_UUID => Uuid::from_tee_uuid(&read(&p.bytes)?).to_string(),
        USER_TA_PROP_TYPE_IDENTITY => {
            let i: TeeIdentity = read(&p.bytes)?;
            alloc::format!("{}:{}", i.login, Uuid::from_tee_uuid(&i.uuid))
        }
        USER_TA_PROP_TYPE_STRING => {
            let text = p.bytes.split(|b| *b == 0).next().unwrap_or_default();
            String::from_utf8(text.to_vec()).map_err(|_| Error::new(ErrorKind::BadFormat))?
        }
        USER_TA_PROP_TYPE_BINARY_BLOCK => crate::base64::encode(&p.bytes),
        _ => return Err(Error::new(ErrorKind::BadFormat)),
    })
}

macro_rules! property_set {
    ($(#[$doc:meta])* $name:ident = $set:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl $name {
            /// A boolean property; `BadFormat` if it has another type,
            /// `ItemNotFound` if there is none of that name.
            pub fn get_bool(name: &str) -> Result<bool> {
                get_bool($set, name)
            }

            pub fn get_u32(name: &str) -> Result<u32> {
                get_u32($set, name)
            }

            pub fn get_u64(name: &str) -> Result<u64> {
                get_u64($set, name)
            }

            /// Any property, as text (see GP's conversions).
            pub fn get_string(name: &str) -> Result<String> {
                get_string($set, name)
            }

            pub fn get_uuid(name: &str) -> Result<Uuid> {
                get_uuid($set, name)
            }

            pub fn get_identity(name: &str) -> Result<Identity> {
                get_identity($set, name)
            }

            /// A binary block (decoded).
            pub fn get_binary_block(name: &str) -> Result<Vec<u8>> {
                get_binary($set, name)
            }
        }
    };
}

property_set!(
    /// Properties of the running TA (`TEE_PROPSET_CURRENT_TA`).
    TaProperty = TEE_PROPSET_CURRENT_TA
);
property_set!(
    /// Properties of the client of the current session
    /// (`TEE_PROPSET_CURRENT_CLIENT`).
    ClientProperty = TEE_PROPSET_CURRENT_CLIENT
);
property_set!(
    /// Properties of the TEE implementation
    /// (`TEE_PROPSET_TEE_IMPLEMENTATION`).
    TeeProperty = TEE_PROPSET_TEE_IMPLEMENTATION
);

impl TaProperty {
    /// `gpd.ta.appID`: this TA's UUID.
    pub fn app_id() -> Result<Uuid> {
        get_uuid(TEE_PROPSET_CURRENT_TA, "gpd.ta.appID")
    }
}

impl ClientProperty {
    /// `gpd.client.identity`: who opened the current session.
    pub fn identity() -> Result<Identity> {
        get_identity(TEE_PROPSET_CURRENT_CLIENT, "gpd.client.identity")
    }
}

impl TeeProperty {
    /// `gpd.tee.apiversion`.
    pub fn api_version() -> Result<String> {
        get_string(TEE_PROPSET_TEE_IMPLEMENTATION, "gpd.tee.apiversion")
    }
}
