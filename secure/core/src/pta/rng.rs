//! The RNG pseudo-TA, with upstream's UUID and commands: Linux's stock
//! `optee-rng` driver binds to it (device enumeration lists it) and gives
//! the normal world a `/dev/hwrng` fed by the secure world's generator.

use super::{Ctx, DeviceKind, Kind, Pta, PtaParam, expect};
use oxtee_abi::tee::TeeResult;
use oxtee_abi::upstream_pta::rng as r;
use oxtee_abi::uuid::Uuid;

pub struct RngPta;

/// Bytes generated per step (one lock hold of the generator).
const CHUNK: usize = 256;

impl RngPta {
    fn get_entropy(&self, ctx: &mut Ctx, params: &mut [PtaParam]) -> TeeResult {
        if let Err(e) = expect(params, &[Kind::MemrefInOut]) {
            return e;
        }
        let PtaParam::Memref { buf: Some(buf), size, .. } = &mut params[0] else {
            return TeeResult::ERROR_BAD_PARAMETERS;
        };
        let size = *size;
        let mut chunk = [0u8; CHUNK];
        let mut off = 0;
        while off < size {
            let n = (size - off).min(CHUNK as u64) as usize;
            let stir = ctx.env().now_ns();
            ctx.os.rng.fill(&mut chunk[..n], stir);
            if let Err(e) = buf.write(ctx.mem(), off, &chunk[..n]) {
                chunk.fill(0);
                return e;
            }
            off += n as u64;
        }
        chunk.fill(0);
        TeeResult::SUCCESS
    }
}

impl Pta for RngPta {
    fn uuid(&self) -> Uuid {
        r::UUID
    }

    fn name(&self) -> &'static str {
        "rng.pta"
    }

    /// Needs no supplicant: listed before tee-supplicant runs.
    fn device(&self) -> DeviceKind {
        DeviceKind::NoSupplicant
    }

    // Any client may open it (upstream has no login rule for it; Linux's
    // driver logs in as public).

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        match cmd {
            r::CMD_GET_ENTROPY => self.get_entropy(ctx, params),
            r::CMD_GET_RNG_INFO => {
                if let Err(e) = expect(params, &[Kind::ValueOut]) {
                    return e;
                }
                if let PtaParam::Value { a, b, .. } = &mut params[0] {
                    (*a, *b) = (r::RATE as u64, r::QUALITY as u64);
                }
                TeeResult::SUCCESS
            }
            _ => TeeResult::ERROR_NOT_IMPLEMENTED,
        }
    }
}
