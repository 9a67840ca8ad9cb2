//! The simulator without a TA of its own: the test as the normal-world
//! client of mock TAs and pseudo-TAs, through the real core.

use super::*;
use oxtee_abi::upstream_pta::rng;

const MOCK: &str = "11111111-2222-4333-8444-555555555555";

#[test]
fn a_mock_ta_sees_the_parameters_and_answers() {
    let sim = Sim::default();
    sim.add_ta(MOCK, 0, |cmd, p| {
        let [MockParam::Value { a, b }, MockParam::Memref(data), ..] = p else {
            return Err(TeeResult::ERROR_BAD_PARAMETERS.0);
        };
        *a += cmd;
        *b = data.len() as u32;
        // Asks for more room than the client gave if cmd says so.
        data.resize(if cmd == 1 { 100 } else { 3 }, 0);
        data[..3].copy_from_slice(b"abc");
        Ok(())
    });
    let mut s = sim.open_session_to(MOCK, &mut []).unwrap();
    let mut buf = [0u8; 8];
    let mut p = [Param::value_inout(5, 0), Param::memref_inout(&mut buf)];
    s.invoke(2, &mut p).unwrap();
    assert_eq!((p[0].a(), p[0].b(), p[1].size()), (7, 8, 3));
    assert_eq!(p[1].bytes(), b"abc");
    let mut p = [Param::value_inout(5, 0), Param::memref_inout(&mut buf)];
    let err = s.invoke(1, &mut p);
    // The mock said success but reported a size beyond the buffer: the
    // client sees the size (GP's short-buffer convention).
    assert!(err.is_ok());
    assert_eq!(p[1].size(), 100);
    let err = s.invoke(0, &mut [Param::value_input(1, 1)]).unwrap_err();
    assert_eq!((err.code, err.origin), (TeeResult::ERROR_BAD_PARAMETERS, Origin::TrustedApp));
    assert_eq!(sim.instances(), 1);
    s.close().unwrap();
    assert_eq!(sim.instances(), 0);
}

#[test]
fn pseudo_tas_and_unknown_tas() {
    let sim = Sim::default();
    let mut s = sim.open_session_to(&rng::UUID.to_string(), &mut []).unwrap();
    let mut bytes = [0u8; 64];
    s.invoke(rng::CMD_GET_ENTROPY, &mut [Param::memref_inout(&mut bytes)]).unwrap();
    assert_ne!(bytes, [0u8; 64]);
    let err = sim.open_session_to(MOCK, &mut []).err().unwrap();
    assert_eq!((err.code, err.origin), (TeeResult::ERROR_ITEM_NOT_FOUND, Origin::Tee));
}

#[test]
fn uuid_text_round_trips() {
    assert_eq!(uuid(MOCK).to_string(), MOCK);
    assert!(std::panic::catch_unwind(|| uuid("not-a-uuid")).is_err());
}
