//! What the hello_world TA and its clients agree on: optee_examples'
//! `hello_world` UUID and commands, so its upstream client works against
//! this TA unchanged (and this example's clients against upstream's TA).
//!
//! Both commands take one parameter, a value in/out: `a` is the number.
#![no_std]
#![forbid(unsafe_code)]

/// optee_examples' hello_world TA.
pub const UUID: &str = "8aaaf200-2450-11e4-abe2-0002a5d5c51b";

/// p0 value in/out: `a` becomes `a + 1` (wrapping).
pub const CMD_INC_VALUE: u32 = 0;
/// p0 value in/out: `a` becomes `a - 1` (wrapping).
pub const CMD_DEC_VALUE: u32 = 1;

/// What the TA computes for `cmd` on `a` (`None`: not a command), for
/// clients to check against.
pub const fn expected(cmd: u32, a: u32) -> Option<u32> {
    match cmd {
        CMD_INC_VALUE => Some(a.wrapping_add(1)),
        CMD_DEC_VALUE => Some(a.wrapping_sub(1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn uuid_is_optee_examples_hello_world() {
        let u = oxtee_teec::Uuid::parse(UUID).expect("a well-formed UUID");
        assert_eq!(u.time_low, 0x8aaa_f200);
        assert_eq!(u.clock_seq_and_node, [0xab, 0xe2, 0x00, 0x02, 0xa5, 0xd5, 0xc5, 0x1b]);
        assert_eq!(u.to_string(), UUID);
    }

    #[test]
    fn commands_are_upstreams_and_wrap() {
        assert_eq!((CMD_INC_VALUE, CMD_DEC_VALUE), (0, 1));
        assert_eq!(expected(CMD_INC_VALUE, 42), Some(43));
        assert_eq!(expected(CMD_DEC_VALUE, 0), Some(u32::MAX));
        assert_eq!(expected(CMD_INC_VALUE, u32::MAX), Some(0));
        assert_eq!(expected(2, 1), None);
    }
}
