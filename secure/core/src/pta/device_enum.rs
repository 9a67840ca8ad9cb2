//! Device enumeration PTA: tells the Linux driver which TEE-backed devices
//! to create on the TEE bus. oxtee has none yet, so both lists are empty.

use super::{Ctx, Kind, Pta, PtaParam, expect};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::{self, Uuid};

pub const CMD_GET_DEVICES: u32 = 0;
pub const CMD_GET_DEVICES_SUPP: u32 = 1;

pub struct DeviceEnum {
    /// Devices that need no supplicant, then those that do (16-byte UUIDs).
    pub devices: &'static [Uuid],
    pub devices_supp: &'static [Uuid],
}

impl Pta for DeviceEnum {
    fn uuid(&self) -> Uuid {
        uuid::PTA_DEVICE_ENUM
    }

    fn name(&self) -> &'static str {
        "device.pta"
    }

    /// Only the normal-world kernel enumerates devices, as upstream.
    fn accepts_login(&self, login: u32) -> bool {
        login == oxtee_abi::msg::LOGIN_REE_KERNEL
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        let list = match cmd {
            CMD_GET_DEVICES => self.devices,
            CMD_GET_DEVICES_SUPP => self.devices_supp,
            _ => return TeeResult::ERROR_NOT_SUPPORTED,
        };
        if let Err(e) = expect(params, &[Kind::MemrefOut]) {
            return e;
        }
        let PtaParam::Memref { buf, size, .. } = &mut params[0] else { unreachable!() };
        let need = (list.len() * 16) as u64;
        let have = *size;
        *size = need;
        if have < need || (need > 0 && buf.is_none()) {
            return TeeResult::ERROR_SHORT_BUFFER;
        }
        if let Some(b) = buf {
            for (i, u) in list.iter().enumerate() {
                if b.write(ctx.mem(), i as u64 * 16, &u.to_octets()).is_err() {
                    return TeeResult::ERROR_BAD_PARAMETERS;
                }
            }
        }
        TeeResult::SUCCESS
    }
}
