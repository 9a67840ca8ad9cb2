//! The TA's host tests: each runs its entry points in a fresh simulated
//! TEE (the real secure/core logic), see ta/README.md.

use super::*;
use oxtee_utee::sim::{MockParam, Origin, Param, Sim, TeeResult};

fn hex(s: &str) -> alloc::vec::Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn values_and_session_state() {
    let sim = Sim::new();
    let mut s = sim.open_session(&mut []).unwrap();
    let mut p = [Param::value_inout(41, 0)];
    s.invoke(CMD_INC, &mut p).unwrap();
    assert_eq!((p[0].a(), p[0].b()), (42, 1));
    s.invoke(CMD_INC, &mut p).unwrap();
    assert_eq!((p[0].a(), p[0].b()), (43, 2), "the session context lives across calls");
    // A second session has its own context.
    let mut s2 = sim.open_session(&mut []).unwrap();
    let mut p = [Param::value_inout(0, 0)];
    s2.invoke(CMD_INC, &mut p).unwrap();
    assert_eq!(p[0].b(), 1);
    // Wrong parameter types and unknown commands: GP errors from the TA.
    let err = s.invoke(CMD_INC, &mut [Param::value_input(1, 2)]).unwrap_err();
    assert_eq!((err.code, err.origin), (TeeResult::ERROR_BAD_PARAMETERS, Origin::TrustedApp));
    assert_eq!(s.invoke(999, &mut []).unwrap_err().code, TeeResult::ERROR_NOT_SUPPORTED);
}

#[test]
fn sha256_with_short_buffer() {
    let sim = Sim::new();
    let mut s = sim.open_session(&mut []).unwrap();
    let mut small = [0u8; 16];
    let mut p = [Param::memref_input(b"abc"), Param::memref_output(&mut small)];
    let err = s.invoke(CMD_SHA256, &mut p).unwrap_err();
    assert_eq!(err.code, TeeResult::ERROR_SHORT_BUFFER);
    assert_eq!(p[1].size(), 32, "the size needed comes back");
    let mut digest = [0u8; 32];
    let mut p = [Param::memref_input(b"abc"), Param::memref_output(&mut digest)];
    s.invoke(CMD_SHA256, &mut p).unwrap();
    assert_eq!(p[1].size(), 32);
    assert_eq!(digest[..], hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")[..]);
}

#[test]
fn hmac_and_aes() {
    let sim = Sim::new();
    let mut s = sim.open_session(&mut []).unwrap();
    // RFC 4231 test case 4.
    let mut mac = [0u8; 32];
    let key = hex("0102030405060708090a0b0c0d0e0f10111213141516171819");
    let mut p = [Param::memref_input(&key), Param::memref_input(&[0xcd; 50]), Param::memref_output(&mut mac)];
    s.invoke(CMD_HMAC, &mut p).unwrap();
    assert_eq!(mac[..], hex("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")[..]);
    // A 32-bit key is below HMAC-SHA-256's minimum (192 bits, GP): the
    // kernel refuses it, as on the device.
    let mut p = [Param::memref_input(b"Jefe"), Param::memref_input(b"x"), Param::memref_output(&mut mac)];
    assert_eq!(s.invoke(CMD_HMAC, &mut p).unwrap_err().code, TeeResult::ERROR_NOT_SUPPORTED);
    // SP 800-38A F.2.1 (two blocks).
    let (key, iv) = (hex("2b7e151628aed2a6abf7158809cf4f3c"), hex("000102030405060708090a0b0c0d0e0f"));
    let pt = hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
    let mut ct = [0u8; 32];
    let mut p =
        [Param::memref_input(&key), Param::memref_input(&iv), Param::memref_input(&pt), Param::memref_output(&mut ct)];
    s.invoke(CMD_AES_CBC, &mut p).unwrap();
    assert_eq!(ct[..], hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")[..]);
}

#[test]
fn persistent_objects_survive_sessions() {
    let sim = Sim::new();
    {
        let mut s = sim.open_session(&mut []).unwrap();
        s.invoke(CMD_STORE, &mut [Param::memref_input(b"greeting"), Param::memref_input(b"hello, storage")]).unwrap();
        s.invoke(CMD_STORE, &mut [Param::memref_input(b"other"), Param::memref_input(b"x")]).unwrap();
    }
    assert_eq!(sim.instances(), 0, "the instance died with its last session");
    assert!(!sim.storage_files().is_empty(), "objects are files of the REE FS: {:?}", sim.storage_files());
    let mut s = sim.open_session(&mut []).unwrap();
    let mut count = [Param::value_output()];
    s.invoke(CMD_COUNT, &mut count).unwrap();
    assert_eq!(count[0].a(), 2);
    let mut small = [0u8; 4];
    let mut p = [Param::memref_input(b"greeting"), Param::memref_output(&mut small)];
    assert_eq!(s.invoke(CMD_LOAD, &mut p).unwrap_err().code, TeeResult::ERROR_SHORT_BUFFER);
    assert_eq!(p[1].size(), 14);
    let mut buf = [0u8; 64];
    let mut p = [Param::memref_input(b"greeting"), Param::memref_output(&mut buf)];
    s.invoke(CMD_LOAD, &mut p).unwrap();
    assert_eq!(p[1].bytes(), b"hello, storage");
    s.invoke(CMD_DELETE, &mut [Param::memref_input(b"greeting")]).unwrap();
    let mut p = [Param::memref_input(b"greeting"), Param::memref_output(&mut buf)];
    assert_eq!(s.invoke(CMD_LOAD, &mut p).unwrap_err().code, TeeResult::ERROR_ITEM_NOT_FOUND);
    s.invoke(CMD_COUNT, &mut count).unwrap();
    assert_eq!(count[0].a(), 1);
    // Another simulated TEE has its own storage.
    let other = Sim::new();
    let mut s = other.open_session(&mut []).unwrap();
    s.invoke(CMD_COUNT, &mut count).unwrap();
    assert_eq!(count[0].a(), 0);
}

#[test]
fn properties_and_time() {
    let sim = Sim::new();
    let mut s = sim.open_session(&mut []).unwrap();
    let mut version = [0u8; 64];
    let mut p = [Param::value_output(), Param::memref_output(&mut version)];
    s.invoke(CMD_PROPS, &mut p).unwrap();
    assert_eq!((p[0].a(), p[0].b()), (42, 64 * 1024));
    assert!(!p[1].bytes().is_empty(), "gpd.tee.apiversion comes from the kernel");
    let mut p = [Param::value_output(), Param::value_output()];
    s.invoke(CMD_TIME, &mut p).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as u32;
    assert!(p[0].a() < 60, "system time counts from the simulated boot: {}", p[0].a());
    assert!(p[1].a().abs_diff(now) <= 2, "REE time is the host's clock: {} vs {now}", p[1].a());
}

#[test]
fn ta_to_ta_calls_reach_a_mock_and_a_pta() {
    let sim = Sim::new();
    sim.add_ta(PEER, 0, |cmd, p: &mut [MockParam; 4]| {
        if cmd != 7 {
            return Err(TeeResult::ERROR_NOT_SUPPORTED.0);
        }
        let MockParam::Value { b, .. } = &mut p[0] else { return Err(TeeResult::ERROR_BAD_PARAMETERS.0) };
        *b *= 2;
        p[1] = MockParam::Memref(b"pong".to_vec());
        Ok(())
    });
    let mut s = sim.open_session(&mut []).unwrap();
    let mut out = [0u8; 8];
    let mut p = [Param::value_inout(7, 21), Param::memref_output(&mut out)];
    s.invoke(CMD_CALL_PEER, &mut p).unwrap();
    assert_eq!((p[0].b(), p[1].bytes()), (42, &b"pong"[..]));
    // The peer's error comes back with its origin.
    let mut p = [Param::value_inout(8, 0), Param::memref_output(&mut out)];
    let err = s.invoke(CMD_CALL_PEER, &mut p).unwrap_err();
    assert_eq!((err.code, err.origin), (TeeResult::ERROR_NOT_SUPPORTED, Origin::TrustedApp));
    // TA to pseudo-TA.
    let mut random = [0u8; 32];
    s.invoke(CMD_ENTROPY, &mut [Param::memref_output(&mut random)]).unwrap();
    assert_ne!(random, [0u8; 32]);
}

#[test]
fn a_panic_kills_the_instance() {
    for cmd in [CMD_PANIC, CMD_PANIC_RUST] {
        let sim = Sim::new();
        let mut s = sim.open_session(&mut []).unwrap();
        let mut other = sim.open_session(&mut []).unwrap();
        let err = s.invoke(cmd, &mut []).unwrap_err();
        assert_eq!((err.code, err.origin), (TeeResult::ERROR_TARGET_DEAD, Origin::Tee));
        let err = other.invoke(CMD_INC, &mut [Param::value_inout(0, 0)]).unwrap_err();
        assert_eq!(err.code, TeeResult::ERROR_TARGET_DEAD, "every session of the instance is dead");
        // A new session gets a new instance.
        let mut again = sim.open_session(&mut []).unwrap();
        again.invoke(CMD_INC, &mut [Param::value_inout(0, 0)]).unwrap();
    }
}

/// `InstanceCell` state works in the simulator. Statics are per process
/// on the host (other tests running in parallel count too), so only
/// growth is checked.
#[test]
fn instance_cell_counts_requests() {
    let sim = Sim::new();
    let mut s = sim.open_session(&mut []).unwrap();
    let mut p = [Param::value_output()];
    s.invoke(CMD_INSTANCE_COUNT, &mut p).unwrap();
    let first = p[0].a();
    s.invoke(CMD_INSTANCE_COUNT, &mut p).unwrap();
    assert!(first >= 1 && p[0].a() > first, "{first} then {}", p[0].a());
}
