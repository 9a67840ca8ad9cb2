//! The secure-storage TA-management PTA (upstream's `secstor_ta_mgmt`,
//! UUID and command of `pta_secstor_ta_mgmt.h`): BOOTSTRAP installs a
//! signed TA image into secure storage (`user/ta_store.rs`), from where it
//! is loaded before tee-supplicant is asked. What upstream's
//! `xtest --install-ta` uses.
//!
//! Clients: anyone, as upstream (its PTA checks no login: what gets
//! installed is decided by the image's signature, not by the caller).

use super::{Ctx, Kind, Pta, PtaParam, expect};
use crate::user::ta_store;
use alloc::vec::Vec;
use oxtee_abi::secstor::{CMD_BOOTSTRAP, PTA_UUID};
use oxtee_abi::ta::Shdr;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;

pub struct SecstorTaMgmt;

impl Pta for SecstorTaMgmt {
    fn uuid(&self) -> Uuid {
        PTA_UUID
    }

    fn name(&self) -> &'static str {
        "secstor_ta_mgmt"
    }

    fn invoke(&self, ctx: &mut Ctx, cmd: u32, params: &mut [PtaParam]) -> TeeResult {
        match cmd {
            CMD_BOOTSTRAP => match bootstrap(ctx, params) {
                Ok(()) => TeeResult::SUCCESS,
                Err(e) => e,
            },
            // Upstream's answer for a command it doesn't have.
            _ => TeeResult::ERROR_NOT_IMPLEMENTED,
        }
    }
}

fn bootstrap(ctx: &mut Ctx, params: &mut [PtaParam]) -> Result<(), TeeResult> {
    expect(params, &[Kind::MemrefIn])?;
    let PtaParam::Memref { buf, size, .. } = &params[0] else {
        return Err(TeeResult::ERROR_BAD_PARAMETERS);
    };
    let size = *size;
    // Too short (or no buffer) to hold a signed header: upstream's header
    // copy fails, SECURITY.
    let Some(buf) = buf.as_ref().filter(|_| size >= size_of::<Shdr>() as u64) else {
        return Err(TeeResult::ERROR_SECURITY);
    };
    if size > ta_store::MAX_IMAGE || !oxtee_guard::heap::room_for(size as usize) {
        return Err(TeeResult::ERROR_OUT_OF_MEMORY);
    }
    // A private copy: the normal world can still write its buffer.
    let t = ctx.rpc.t;
    crate::hold!(copy = Vec::new(), in &t.ledger, or Err(TeeResult::ERROR_OUT_OF_MEMORY));
    let image = copy.as_mut().get();
    image.try_reserve_exact(size as usize).map_err(|_| TeeResult::ERROR_OUT_OF_MEMORY)?;
    image.resize(size as usize, 0);
    buf.read(ctx.mem(), 0, image)?;
    let os = ctx.os;
    ta_store::install(os, &mut ctx.rpc, image).map(|_| ())
}
