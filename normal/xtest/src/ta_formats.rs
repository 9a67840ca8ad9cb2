//! TA image formats (`oxtee_abi::ta_image_test`): the test TA signed
//! through a two-level subkey chain, encrypted with the device's TA key,
//! and both, loads and runs; an image signed by the subkey for a UUID
//! outside its namespace, and one with a flipped ciphertext byte, are
//! refused with SECURITY before any of their code runs.

use crate::{ORIGIN_TEE, eq, op};
use oxtee_abi::ta_image_test as f;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_ta as t;
use oxtee_abi::uuid::Uuid;
use oxtee_teec::{Context, Dir, Operation, ParamValue};

/// Opens `uuid`, adds two numbers in it, closes; twice (the second load
/// passes the version records the first one wrote).
fn runs(ctx: &Context, uuid: Uuid) -> Result<u32, (u32, u32)> {
    let mut sum = 0;
    for _ in 0..2 {
        let mut s = ctx.open_session(uuid).map_err(|e| (e.code, e.origin))?;
        s.invoke_command(t::CMD_NOOP, &mut Operation::empty()).map_err(|e| (e.code, e.origin))?;
        let mut o = op(ParamValue::new(40, 2, Dir::In), ParamValue::new(0, 0, Dir::Out));
        s.invoke_command(t::CMD_ADD, &mut o).map_err(|e| (e.code, e.origin))?;
        sum = o.params[1].value().map_or(0, |v| v.0);
    }
    Ok(sum)
}

pub fn run(ctx: &Context) {
    for (uuid, what) in [
        (f::SUBKEY_TA, "subkey-signed TA (two levels)"),
        (f::ENC_TA, "encrypted TA"),
        (f::SUBKEY_ENC_TA, "encrypted, subkey-signed TA"),
    ] {
        eq(&format!("image formats: {what} loads and runs"), runs(ctx, uuid), Ok(42));
    }
    let security = Err((TeeResult::ERROR_SECURITY.0, ORIGIN_TEE));
    for (uuid, what) in [
        (f::SUBKEY_OUTSIDE, "subkey-signed TA outside the subkey's namespace"),
        (f::ENC_TAMPERED, "encrypted TA with a flipped ciphertext byte"),
    ] {
        eq(&format!("image formats: refused: {what}"), runs(ctx, uuid), security);
    }
    // The OS serves on.
    eq("image formats: serving after refused images", runs(ctx, t::TEST_MULTI), Ok(42));
}
