//! A TA tested on the host: `cd ta && cargo test -p sim-demo --target
//! x86_64-unknown-linux-gnu` runs the tests at the end of this file
//! against the real trusted-OS logic (see ta/README.md, "Testing a TA on
//! the host"). It also builds for the device like any other TA.
//!
//! Commands (parameters as `p0..p3`):
//! - `INC`: p0 value inout, `a += 1`; the session's call count in `b`.
//! - `SHA256`: p0 memref in, p1 memref out (32 bytes, else SHORT_BUFFER).
//! - `HMAC`: p0 key, p1 message, p2 out: HMAC-SHA-256.
//! - `AES_CBC`: p0 key (16 bytes), p1 IV, p2 plaintext (whole blocks), p3
//!   out: AES-128-CBC encryption.
//! - `STORE`: p0 object id, p1 data: creates (or replaces) a private
//!   persistent object.
//! - `LOAD`: p0 id, p1 memref out: the object's data (SHORT_BUFFER with
//!   the size needed if it does not fit).
//! - `COUNT`: p0 value out: `a` = objects in private storage.
//! - `DELETE`: p0 id.
//! - `PROPS`: p0 value out: `a` = custom property `sim-demo.answer`, `b`
//!   = `gpd.ta.dataSize`; p1 memref out: `gpd.tee.apiversion`.
//! - `TIME`: p0 value out: system time (s, ms); p1 value out: REE time
//!   (s, ms).
//! - `CALL_PEER`: p0 value inout: opens a session to `PEER` and invokes
//!   its command `p0.a` with a value inout (`p0.b`) and p1 memref out;
//!   answers `p0.b` and p1 from the peer.
//! - `ENTROPY`: p0 memref out: filled by the RNG pseudo-TA (TA-to-PTA).
//! - `PANIC`: `TEE_Panic(0xdead)`; `PANIC_RUST`: a Rust panic.
//! - `INSTANCE_COUNT`: p0 value out: `a` = requests this instance served
//!   (instance state in an `InstanceCell`).
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use oxtee_utee::{
    AlgorithmId, AttributeId, AttributeMemref, Cipher, DataFlag, Digest, ErrorKind, GenericObject, InstanceCell, Mac,
    ObjectEnumHandle, ObjectStorageConstants, OperationMode, ParamType, Parameters, PersistentObject, Random, Result,
    TaProperty, TaSession, TeeParam, TeeParams, TeeProperty, Time, TransientObject, TransientObjectType, Uuid,
    ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};

oxtee_utee::ta_config! {
    uuid: "5a1d0e00-51a0-4d3e-8000-00000000de30",
    flags: SINGLE_INSTANCE | MULTI_SESSION,
    stack_size: 16 * 1024,
    data_size: 64 * 1024,
    version: "1.0",
    description: "oxtee host-simulator demo TA",
    properties: {
        "sim-demo.answer": u32 = 42,
    },
}

pub const CMD_INC: u32 = 0;
pub const CMD_SHA256: u32 = 1;
pub const CMD_HMAC: u32 = 2;
pub const CMD_AES_CBC: u32 = 3;
pub const CMD_STORE: u32 = 4;
pub const CMD_LOAD: u32 = 5;
pub const CMD_COUNT: u32 = 6;
pub const CMD_DELETE: u32 = 7;
pub const CMD_PROPS: u32 = 8;
pub const CMD_TIME: u32 = 9;
pub const CMD_CALL_PEER: u32 = 10;
pub const CMD_ENTROPY: u32 = 11;
pub const CMD_PANIC: u32 = 12;
pub const CMD_PANIC_RUST: u32 = 13;
pub const CMD_INSTANCE_COUNT: u32 = 14;

/// The TA `CALL_PEER` talks to.
pub const PEER: &str = "5a1d0e00-51a0-4d3e-8000-00000000beef";
/// The RNG pseudo-TA (upstream's).
const RNG_PTA: &str = "ab7a617c-b8e7-4d8f-8301-d09b61036b64";

/// Requests served by this instance.
static SERVED: InstanceCell<u32> = InstanceCell::new(0);

#[derive(Default)]
struct Session {
    calls: u32,
}

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters, _session: &mut Session) -> Result<()> {
    trace_println!("sim-demo: session opened");
    Ok(())
}

#[ta_close_session]
fn close_session(_session: &mut Session) {}

use ParamType::{MemrefInput as MIn, MemrefOutput as MOut, None as No, ValueInout as VIo, ValueOutput as VOut};

#[ta_invoke_command]
fn invoke_command(session: &mut Session, cmd: u32, p: &mut Parameters) -> Result<()> {
    session.calls += 1;
    *SERVED.borrow_mut() += 1;
    match cmd {
        CMD_INC => {
            p.check_types(VIo, No, No, No)?;
            let mut v = p.0.as_value()?;
            v.set_a(v.a().wrapping_add(1));
            v.set_b(session.calls);
            Ok(())
        }
        CMD_SHA256 => {
            p.check_types(MIn, MOut, No, No)?;
            let mut out = p.1.as_memref()?;
            if out.buffer().len() < 32 {
                out.set_updated_size(32);
                return Err(ErrorKind::ShortBuffer.into());
            }
            let op = Digest::allocate(AlgorithmId::Sha256)?;
            let n = op.do_final(p.0.as_memref()?.buffer(), out.buffer())?;
            out.set_updated_size(n);
            Ok(())
        }
        CMD_HMAC => {
            p.check_types(MIn, MIn, MOut, No)?;
            let mut key_ref = p.0.as_memref()?;
            let key_bytes = key_ref.buffer();
            let mut key = TransientObject::allocate(TransientObjectType::HmacSha256, key_bytes.len() * 8)?;
            key.populate(&[AttributeMemref::from_ref(AttributeId::SecretValue, key_bytes).into()])?;
            let op = Mac::allocate(AlgorithmId::HmacSha256, key_bytes.len() * 8)?;
            op.set_key(&key)?;
            op.init(&[]);
            let mut out = p.2.as_memref()?;
            let n = op.compute_final(p.1.as_memref()?.buffer(), out.buffer())?;
            out.set_updated_size(n);
            Ok(())
        }
        CMD_AES_CBC => {
            p.check_types(MIn, MIn, MIn, MOut)?;
            let mut key_ref = p.0.as_memref()?;
            let mut key = TransientObject::allocate(TransientObjectType::Aes, 128)?;
            key.populate(&[AttributeMemref::from_ref(AttributeId::SecretValue, key_ref.buffer()).into()])?;
            let op = Cipher::allocate(AlgorithmId::AesCbcNopad, OperationMode::Encrypt, 128)?;
            op.set_key(&key)?;
            op.init(p.1.as_memref()?.buffer());
            let mut out = p.3.as_memref()?;
            let n = op.do_final(p.2.as_memref()?.buffer(), out.buffer())?;
            out.set_updated_size(n);
            Ok(())
        }
        CMD_STORE => {
            p.check_types(MIn, MIn, No, No)?;
            let flags =
                DataFlag::ACCESS_READ | DataFlag::ACCESS_WRITE | DataFlag::ACCESS_WRITE_META | DataFlag::OVERWRITE;
            let id = p.0.as_memref()?.buffer().to_vec();
            PersistentObject::create(ObjectStorageConstants::Private, &id, flags, None, p.1.as_memref()?.buffer())?;
            Ok(())
        }
        CMD_LOAD => {
            p.check_types(MIn, MOut, No, No)?;
            let id = p.0.as_memref()?.buffer().to_vec();
            let mut obj = PersistentObject::open(ObjectStorageConstants::Private, &id, DataFlag::ACCESS_READ)?;
            let size = obj.info()?.data_size();
            let mut out = p.1.as_memref()?;
            if out.buffer().len() < size {
                out.set_updated_size(size);
                return Err(ErrorKind::ShortBuffer.into());
            }
            let n = obj.read(out.buffer())?;
            out.set_updated_size(n as usize);
            Ok(())
        }
        CMD_COUNT => {
            p.check_types(VOut, No, No, No)?;
            let mut e = ObjectEnumHandle::allocate()?;
            let mut n = 0;
            if e.start(ObjectStorageConstants::Private as u32).is_ok() {
                while e.next_object().is_ok() {
                    n += 1;
                }
            }
            p.0.as_value()?.set_a(n);
            Ok(())
        }
        CMD_DELETE => {
            p.check_types(MIn, No, No, No)?;
            let id = p.0.as_memref()?.buffer().to_vec();
            PersistentObject::open(ObjectStorageConstants::Private, &id, DataFlag::ACCESS_WRITE_META)?
                .close_and_delete()
        }
        CMD_PROPS => {
            p.check_types(VOut, MOut, No, No)?;
            let mut v = p.0.as_value()?;
            v.set_a(TaProperty::get_u32("sim-demo.answer")?);
            v.set_b(TaProperty::get_u32("gpd.ta.dataSize")?);
            let version = TeeProperty::get_string("gpd.tee.apiversion")?;
            let mut out = p.1.as_memref()?;
            let n = version.len().min(out.buffer().len());
            out.buffer()[..n].copy_from_slice(&version.as_bytes()[..n]);
            out.set_updated_size(version.len());
            Ok(())
        }
        CMD_TIME => {
            p.check_types(VOut, VOut, No, No)?;
            let (mut sys, mut ree) = (Time::new(), Time::new());
            sys.system_time();
            ree.ree_time();
            let mut v = p.0.as_value()?;
            v.set_a(sys.seconds);
            v.set_b(sys.millis);
            let mut v = p.1.as_value()?;
            v.set_a(ree.seconds);
            v.set_b(ree.millis);
            Ok(())
        }
        CMD_CALL_PEER => {
            p.check_types(VIo, MOut, No, No)?;
            let (peer_cmd, value) = {
                let v = p.0.as_value()?;
                (v.a(), v.b())
            };
            let mut buf = vec![0u8; p.1.as_memref()?.buffer().len()];
            let mut peer = TaSession::open(Uuid::parse_str(PEER)?)?;
            let mut params = TeeParams::new(
                TeeParam::value_inout(0, value),
                TeeParam::memref_output(&mut buf),
                TeeParam::none(),
                TeeParam::none(),
            );
            peer.invoke_command(peer_cmd, &mut params)?;
            let back = params.0[0].value().map_or(0, |v| v.1);
            let size = params.0[1].size().unwrap_or(0);
            p.0.as_value()?.set_b(back);
            let mut out = p.1.as_memref()?;
            let n = size.min(out.buffer().len());
            out.buffer()[..n].copy_from_slice(&buf[..n]);
            out.set_updated_size(size);
            Ok(())
        }
        CMD_ENTROPY => {
            p.check_types(MOut, No, No, No)?;
            let mut out = p.0.as_memref()?;
            let mut buf = vec![0u8; out.buffer().len()];
            let mut rng = TaSession::open(Uuid::parse_str(RNG_PTA)?)?;
            let mut params =
                TeeParams::new(TeeParam::memref_inout(&mut buf), TeeParam::none(), TeeParam::none(), TeeParam::none());
            rng.invoke_command(0, &mut params)?;
            out.buffer().copy_from_slice(&buf);
            Ok(())
        }
        CMD_PANIC => oxtee_utee::tee_panic(0xdead),
        CMD_PANIC_RUST => panic!("sim-demo: asked to panic"),
        CMD_INSTANCE_COUNT => {
            p.check_types(VOut, No, No, No)?;
            let served = *SERVED.borrow();
            p.0.as_value()?.set_a(served);
            Ok(())
        }
        _ => {
            // Random is here so the crate uses it on the device too.
            let mut b = [0u8; 1];
            Random::generate(&mut b);
            Err(ErrorKind::NotSupported.into())
        }
    }
}

#[cfg(test)]
mod tests;
