//! Supplicant plugins (OPTEE_RPC_CMD_SUPP_PLUGIN): services a TA reaches
//! through the system PTA's SUPP_PLUGIN_INVOKE, named by UUID.
//!
//! upstream's tee-supplicant `dlopen`s shared objects from
//! `/usr/lib/tee-supplicant/plugins/`; oxtee-supplicant is a static musl
//! binary and cannot, so its plugins are built in: a registry of
//! `Plugin`s, looked up by UUID like upstream's list. An unknown UUID is
//! ITEM_NOT_FOUND, as upstream.

use crate::errors::{GENERIC, NOT_SUPPORTED, SUCCESS};
use oxtee_abi::uuid::Uuid;

/// A built-in plugin: upstream's `struct plugin_method` (`invoke` gets
/// the command, sub-command and the shared buffer, and reports how many
/// bytes of it are its answer).
pub trait Plugin: Sync {
    fn name(&self) -> &'static str;
    fn uuid(&self) -> Uuid;
    /// Returns the TEEC code and the answer's length.
    fn invoke(&self, cmd: u32, sub_cmd: u32, data: &mut [u8]) -> (u32, usize);
}

/// optee_test's test plugin (`test_supp_plugin`), with its UUID and
/// commands, so upstream's xtest 1033 and our own suite can use it.
pub struct TestPlugin;

pub const TEST_PLUGIN_UUID: Uuid =
    Uuid::new(0xf07b_fc66, 0x958c, 0x4a15, [0x99, 0xc0, 0x26, 0x0e, 0x4e, 0x73, 0x75, 0xdd]);
const CMD_PING: u32 = 0;
const CMD_PASS_VALUES: u32 = 1;
const CMD_WRITE_ARR: u32 = 2;
const CMD_GET_ARR: u32 = 3;
const TEST_ARRAY: &[u8] = b"Array from plugin\0";

impl Plugin for TestPlugin {
    fn name(&self) -> &'static str {
        "test"
    }

    fn uuid(&self) -> Uuid {
        TEST_PLUGIN_UUID
    }

    fn invoke(&self, cmd: u32, sub_cmd: u32, data: &mut [u8]) -> (u32, usize) {
        match cmd {
            CMD_PING => (SUCCESS, 0),
            // Two u32 (a, b): a becomes a + b ('+') or a - b.
            CMD_PASS_VALUES => {
                let Some(ab) = data.get_mut(..8) else { return (GENERIC, 0) };
                let a = u32::from_ne_bytes([ab[0], ab[1], ab[2], ab[3]]);
                let b = u32::from_ne_bytes([ab[4], ab[5], ab[6], ab[7]]);
                let r = if sub_cmd == u32::from(b'+') { a.wrapping_add(b) } else { a.wrapping_sub(b) };
                ab[..4].copy_from_slice(&r.to_ne_bytes());
                (SUCCESS, 4)
            }
            // The byte sum of the input, in its first byte.
            CMD_WRITE_ARR => {
                let sum = data.iter().fold(0u8, |s, b| s.wrapping_add(*b));
                match data.first_mut() {
                    Some(d) => *d = sum,
                    None => return (GENERIC, 0),
                }
                (SUCCESS, 1)
            }
            CMD_GET_ARR => match data.get_mut(..TEST_ARRAY.len()) {
                Some(d) => {
                    d.copy_from_slice(TEST_ARRAY);
                    (SUCCESS, TEST_ARRAY.len())
                }
                None => (GENERIC, 0),
            },
            _ => (NOT_SUPPORTED, 0),
        }
    }
}

static TEST: TestPlugin = TestPlugin;

/// The built-in plugins.
pub static PLUGINS: &[&dyn Plugin] = &[&TEST];

pub fn find(uuid: Uuid) -> Option<&'static dyn Plugin> {
    PLUGINS.iter().copied().find(|p| p.uuid() == uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_plugin_answers_as_upstreams() {
        let p = find(TEST_PLUGIN_UUID).unwrap();
        let mut v = [0u8; 8];
        v[..4].copy_from_slice(&20u32.to_ne_bytes());
        v[4..].copy_from_slice(&10u32.to_ne_bytes());
        assert_eq!(p.invoke(CMD_PASS_VALUES, u32::from(b'-'), &mut v), (SUCCESS, 4));
        assert_eq!(&v[..4], &10u32.to_ne_bytes());
        let mut a = [0, 1, 2, 3, 4, 5];
        assert_eq!(p.invoke(CMD_WRITE_ARR, 0, &mut a), (SUCCESS, 1));
        assert_eq!(a[0], 15);
        let mut g = [0u8; 64];
        assert_eq!(p.invoke(CMD_GET_ARR, 0, &mut g), (SUCCESS, 18));
        assert_eq!(&g[..18], TEST_ARRAY);
        assert_eq!(p.invoke(CMD_GET_ARR, 0, &mut [0u8; 4]).0, GENERIC);
        assert_eq!(p.invoke(9, 0, &mut []).0, NOT_SUPPORTED);
        assert!(find(Uuid::NIL).is_none());
    }
}
