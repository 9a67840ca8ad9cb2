//! Device enumeration PTA: tells the Linux driver which TEE-backed devices
//! to create on its TEE bus. The lists are the PTAs of this build that say
//! they are devices (`Pta::device`), in registration order, so they name
//! exactly the devices that exist.

use super::{Ctx, DeviceKind, Kind, Pta, PtaParam, expect};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::{self, Uuid};

pub const CMD_GET_DEVICES: u32 = 0;
pub const CMD_GET_DEVICES_SUPP: u32 = 1;

pub struct DeviceEnum;

impl Pta for DeviceEnum {
    fn uuid(&self) -> Uuid {
        uuid::PTA_DEVICE_ENUM
    }

    fn name(&self) -> &'static str {
        "device.pta"
    }

    // Any login, as upstream: Linux 6.1's driver enumerates with a public
    // login, later ones as the REE kernel.

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        let kind = match cmd {
            CMD_GET_DEVICES => DeviceKind::NoSupplicant,
            CMD_GET_DEVICES_SUPP => DeviceKind::Supplicant,
            _ => return TeeResult::ERROR_NOT_IMPLEMENTED,
        };
        if let Err(e) = expect(params, &[Kind::MemrefOut]) {
            return e;
        }
        let os = ctx.os;
        let mem = ctx.mem();
        let PtaParam::Memref { buf, size, .. } = &mut params[0] else { unreachable!() };
        // A null buffer only asks for the size.
        if buf.is_none() && *size > 0 {
            return TeeResult::ERROR_BAD_PARAMETERS;
        }
        let list = os.ptas().iter().filter(|p| p.device() == kind);
        let need = list.clone().count() as u64 * 16;
        let have = *size;
        *size = need;
        if have < need {
            return TeeResult::ERROR_SHORT_BUFFER;
        }
        if let Some(b) = buf {
            for (i, p) in list.enumerate() {
                if let Err(e) = b.write(mem, i as u64 * 16, &p.uuid().to_octets()) {
                    return e;
                }
            }
        }
        TeeResult::SUCCESS
    }
}
