use super::*;
use alloc::vec;

fn raw(hdr: MsgArgHeader, params: &[MsgParam]) -> Vec<u8> {
    let mut v = hdr.as_bytes().to_vec();
    for p in params {
        v.extend_from_slice(p.as_bytes());
    }
    v
}

fn hdr(n: u32) -> MsgArgHeader {
    MsgArgHeader { cmd: m::CMD_INVOKE_COMMAND, func: 7, session: 3, num_params: n, ..Default::default() }
}

fn p(attr: u64, a: u64, b: u64, c: u64) -> MsgParam {
    MsgParam { attr, a, b, c }
}

#[test]
fn every_attribute_type_parses_and_round_trips() {
    let params = [
        p(m::ATTR_TYPE_NONE, 0, 0, 0),
        p(m::ATTR_TYPE_VALUE_INPUT, 1, 2, 3),
        p(m::ATTR_TYPE_VALUE_OUTPUT, 0, 0, 0),
        p(m::ATTR_TYPE_VALUE_INOUT, 4, 5, 6),
        p(m::ATTR_TYPE_RMEM_INPUT, 0, 16, 99),
        p(m::ATTR_TYPE_RMEM_OUTPUT, 8, 8, 99),
        p(m::ATTR_TYPE_RMEM_INOUT, 0, 0, 99),
        p(m::ATTR_TYPE_TMEM_INPUT, 0x4200_0000, 64, 5),
        p(m::ATTR_TYPE_TMEM_OUTPUT | m::ATTR_NONCONTIG, 0x4300_0010, 5000, 6),
        p(m::ATTR_TYPE_TMEM_INOUT, 0, 0, 0),
    ];
    let bytes = raw(hdr(params.len() as u32), &params);
    let msg = parse(&bytes, 127).unwrap();
    assert_eq!(msg.params.len(), 10);
    assert_eq!(msg.params[1], Param::Value { dir: Dir::In, a: 1, b: 2, c: 3 });
    assert_eq!(msg.params[6], Param::Rmem { dir: Dir::InOut, offs: 0, size: 0, shm_ref: 99 });
    assert_eq!(msg.params[8], Param::Tmem { dir: Dir::Out, buf: 0x4300_0010, size: 5000, shm_ref: 6, noncontig: true });
    assert_eq!(msg.encode(), bytes);
}

#[test]
fn meta_values_are_flagged() {
    let params = [p(m::ATTR_TYPE_VALUE_INPUT | m::ATTR_META, 1, 2, 0), p(m::ATTR_TYPE_VALUE_INPUT, 1, 2, 0)];
    let msg = parse(&raw(hdr(2), &params), 4).unwrap();
    assert_eq!(msg.meta, vec![true, false]);
    assert_eq!(msg.encode(), raw(hdr(2), &params));
}

#[test]
fn malformed_attributes_are_refused_with_their_index() {
    for attr in [
        4u64,
        8,
        0xc,
        0xff,
        m::ATTR_TYPE_VALUE_INPUT | m::ATTR_NONCONTIG,
        m::ATTR_TYPE_RMEM_INPUT | m::ATTR_NONCONTIG,
        m::ATTR_TYPE_TMEM_INPUT | m::ATTR_META,
        m::ATTR_TYPE_VALUE_INPUT | (1 << 10),
        m::ATTR_TYPE_VALUE_INPUT | (1 << 63),
        m::ATTR_TYPE_TMEM_INPUT | (1 << m::ATTR_CACHE_SHIFT),
        m::ATTR_TYPE_TMEM_INPUT | (7 << m::ATTR_CACHE_SHIFT),
    ] {
        let params = [p(m::ATTR_TYPE_VALUE_INPUT, 0, 0, 0), p(attr, 0, 0, 0)];
        assert_eq!(parse(&raw(hdr(2), &params), 4), Err(MsgError::BadAttr { index: 1 }), "attr {attr:#x}");
    }
}

#[test]
fn counts_and_lengths_are_checked() {
    assert_eq!(parse(&[0u8; 31], 4), Err(MsgError::Truncated));
    assert_eq!(parse(&raw(hdr(2), &[p(1, 0, 0, 0)]), 4), Err(MsgError::Truncated));
    assert_eq!(parse(&raw(hdr(5), &[]), 4), Err(MsgError::TooManyParams));
    assert_eq!(parse(&raw(hdr(u32::MAX), &[]), usize::MAX), Err(MsgError::TooManyParams));
    assert!(parse(&raw(hdr(0), &[]), 0).is_ok());
}

#[test]
fn fuzzed_bytes_never_panic_and_valid_parses_round_trip() {
    // A small deterministic generator: no external crates in no_std core.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for _ in 0..20_000 {
        let n = (next() % 6) as u32;
        let mut params = Vec::new();
        for _ in 0..n {
            let attr = match next() % 4 {
                0 => next() % 16,
                1 => next(),
                2 => (next() % 16) | ((next() % 2) << 8) | ((next() % 2) << 9),
                _ => next() % 12,
            };
            params.push(p(attr, next(), next(), next()));
        }
        let mut bytes = raw(hdr(if next() % 8 == 0 { next() as u32 } else { n }), &params);
        if next() % 8 == 0 {
            let cut = (next() as usize) % (bytes.len() + 1);
            bytes.truncate(cut);
        }
        if let Ok(msg) = parse(&bytes, 8) {
            let again = parse(&msg.encode(), 8).unwrap();
            assert_eq!(again, msg);
        }
    }
}
