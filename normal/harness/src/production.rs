//! The default OS image, as a user installs it: the fast calls answer as
//! in the test build, the test PTA does not exist, and the device
//! enumeration PTA lists the RNG PTA only.

use crate::checks::eq;
use crate::client::{self, send};
use crate::fastcalls;
use oxtee_abi::msg as m;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::uuid;
use oxtee_abi::{optee_smc as smc, test_pta as t};
use oxtee_core::msg::{Dir, Param};

/// True if the OS has the test PTA (its test build).
pub fn has_test_pta() -> bool {
    match client::open(t::UUID) {
        Ok(s) => {
            client::close(s);
            true
        }
        Err(_) => false,
    }
}

pub fn run() {
    fastcalls::battery(0, 1);
    let absent = (smc::RETURN_OK as u64, TeeResult::ERROR_ITEM_NOT_FOUND.0, Origin::Tee as u32);
    for login in [m::LOGIN_PUBLIC, m::LOGIN_REE_KERNEL] {
        let r = send(&client::open_msg(t::UUID, login, &[]));
        eq(0, "no test PTA in the default image", (r.a0, r.ret(), r.origin()), absent);
    }
    // Any login, as upstream (Linux 6.1 enumerates with a public one).
    let r = send(&client::open_msg(uuid::PTA_DEVICE_ENUM, m::LOGIN_PUBLIC, &[]));
    eq(0, "device PTA serves a public login", (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));
    eq(0, "closes", client::close(r.msg.hdr.session).ret(), 0);
    let r = send(&client::open_msg(uuid::PTA_DEVICE_ENUM, m::LOGIN_REE_KERNEL, &[]));
    eq(0, "device PTA serves the kernel", (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));
    let s = r.msg.hdr.session;
    let null = Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false };
    // The default image has one device that needs no supplicant: the RNG.
    let r = client::invoke(s, 0, alloc::vec![null]);
    let size = match r.msg.params.first() {
        Some(Param::Tmem { size, .. }) => *size,
        _ => u64::MAX,
    };
    let short = (smc::RETURN_OK as u64, TeeResult::ERROR_SHORT_BUFFER.0, 16);
    eq(0, "GET_DEVICES: one device (size query)", (r.a0, r.ret(), size), short);
    let r = client::invoke(s, 1, alloc::vec![null]);
    eq(0, "GET_DEVICES_SUPP: none", (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));
    eq(0, "closes", client::close(s).ret(), 0);
}
