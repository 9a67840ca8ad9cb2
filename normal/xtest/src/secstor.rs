//! The secure-storage TA-management PTA (`oxtee_abi::secstor`, upstream's
//! `secstor_ta_mgmt`): the test TA signed under a UUID tee-supplicant has
//! no image for (`cargo xtask tas` puts its images in /usr/lib/oxtee, not
//! /lib/optee_armtz) is installed through the PTA, then opened and
//! invoked, so it can only have come from secure storage. Images that are
//! not signed, do not verify, are cut short or padded, and an older
//! version than the installed one, are refused with upstream's codes.

use crate::{check, eq, op};
use oxtee_abi::secstor as s;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::test_ta as t;
use oxtee_teec::{Context, Dir, Error, Operation, ParamNone, ParamTmpRef, ParamValue};

const SECURITY: u32 = TeeResult::ERROR_SECURITY.0;
const ACCESS_CONFLICT: u32 = TeeResult::ERROR_ACCESS_CONFLICT.0;
const BAD_PARAMETERS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;
const NOT_IMPLEMENTED: u32 = TeeResult::ERROR_NOT_IMPLEMENTED.0;
const ITEM_NOT_FOUND: u32 = TeeResult::ERROR_ITEM_NOT_FOUND.0;

/// Offset of the signature in a signed image: `shdr` (20 bytes), then the
/// SHA-256 digest (32).
const SIG_AT: usize = 20 + 32;

fn code<T>(r: Result<T, Error>) -> Result<T, u32> {
    r.map_err(|e| e.code)
}

/// BOOTSTRAP with `image` as its input memref.
fn install(ctx: &Context, image: &[u8]) -> Result<(), u32> {
    let mut s = code(ctx.open_session(s::PTA_UUID))?;
    let mut buf = image.to_vec();
    let mut o = op(ParamTmpRef::new_input(&mut buf), ParamNone::new());
    code(s.invoke_command(s::CMD_BOOTSTRAP, &mut o))
}

/// Opens the installed TA and has it add two numbers.
fn use_ta(ctx: &Context) -> Result<u32, u32> {
    let mut s = code(ctx.open_session(s::TEST_TA))?;
    let mut o = op(ParamValue::new(40, 2, Dir::In), ParamValue::new(0, 0, Dir::Out));
    code(s.invoke_command(t::CMD_ADD, &mut o))?;
    Ok(o.parameters()[1].value().map_or(0, |v| v.0))
}

pub fn run(ctx: &mut Context) {
    let armtz = format!("/lib/optee_armtz/{}.ta", s::TEST_TA);
    check(
        !std::path::Path::new(&armtz).exists(),
        "secstor: TA not in the supplicant's directory",
        format_args!("{armtz} exists: the case would not show where the TA came from"),
    );
    let (Ok(image), Ok(old)) = (std::fs::read(s::GUEST_IMAGE), std::fs::read(s::GUEST_OLD_IMAGE)) else {
        check(false, "secstor: images", format_args!("{} or {} missing", s::GUEST_IMAGE, s::GUEST_OLD_IMAGE));
        return;
    };
    // Before the install: not found (tee-supplicant has no image for it),
    // unless an earlier run in this boot, with this store, installed it.
    let fresh = match use_ta(ctx) {
        Err(ITEM_NOT_FOUND) => true,
        Ok(_) => {
            println!("xtest: secstor: the TA is installed already (an earlier run with this store)");
            false
        }
        Err(e) => {
            check(false, "secstor: TA before install", format_args!("{e:#x}, want ITEM_NOT_FOUND"));
            false
        }
    };

    // Parameters and commands, as upstream's PTA checks them.
    {
        let mut sess = match code(ctx.open_session(s::PTA_UUID)) {
            Ok(sess) => sess,
            Err(e) => {
                check(false, "secstor: open the PTA", format_args!("{e:#x}"));
                return;
            }
        };
        eq(
            "secstor: BOOTSTRAP without a memref",
            code(sess.invoke_command(s::CMD_BOOTSTRAP, &mut Operation::empty())),
            Err(BAD_PARAMETERS),
        );
        let mut buf = image.clone();
        let mut o = op(ParamTmpRef::new_output(&mut buf), ParamNone::new());
        eq(
            "secstor: BOOTSTRAP with an output memref",
            code(sess.invoke_command(s::CMD_BOOTSTRAP, &mut o)),
            Err(BAD_PARAMETERS),
        );
        let mut buf = image.clone();
        let mut o = op(ParamTmpRef::new_input(&mut buf), ParamValue::new(1, 2, Dir::In));
        eq(
            "secstor: BOOTSTRAP with a second parameter",
            code(sess.invoke_command(s::CMD_BOOTSTRAP, &mut o)),
            Err(BAD_PARAMETERS),
        );
        eq("secstor: unknown command", code(sess.invoke_command(1, &mut Operation::empty())), Err(NOT_IMPLEMENTED));
    }

    // Refused images: each SECURITY, and none of them installed.
    let mut bad_sig = image.clone();
    bad_sig[SIG_AT + 7] ^= 1;
    let mut bad_body = image.clone();
    let last = bad_body.len() - 1;
    bad_body[last] ^= 1;
    let mut bad_version = image.clone();
    // The signed version (after shdr, digest, signature and the UUID):
    // raised without re-signing.
    let sig_len = u16::from_le_bytes([image[18], image[19]]) as usize;
    bad_version[SIG_AT + sig_len + 16] = 0x7f;
    let cut = image[..image.len() - 1].to_vec();
    let mut padded = image.clone();
    padded.push(0);
    let header_only = image[..SIG_AT + sig_len].to_vec();
    let refused: [(&str, &[u8]); 7] = [
        ("a signature that does not verify", &bad_sig),
        ("contents that do not match the signed digest", &bad_body),
        ("a changed version", &bad_version),
        ("an image one byte short", &cut),
        ("an image one byte long", &padded),
        ("a header and nothing else", &header_only),
        ("a few bytes", &image[..8]),
    ];
    for (what, bytes) in refused {
        eq(&format!("secstor: install {what}"), install(ctx, bytes), Err(SECURITY));
    }
    if fresh {
        eq("secstor: nothing installed by refused images", use_ta(ctx), Err(ITEM_NOT_FOUND));
    }

    // Installed, then loaded from secure storage.
    eq("secstor: install", install(ctx, &image), Ok(()));
    eq("secstor: installed TA opens and runs", use_ta(ctx), Ok(42));
    // An older version is refused, the installed one stays.
    eq("secstor: install an older version", install(ctx, &old), Err(ACCESS_CONFLICT));
    eq("secstor: installed TA after the older one was refused", use_ta(ctx), Ok(42));
    // The same version again is accepted (upstream refuses only older ones).
    eq("secstor: install the same version again", install(ctx, &image), Ok(()));
    eq("secstor: reinstalled TA runs", use_ta(ctx), Ok(42));
}
