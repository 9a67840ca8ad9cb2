//! The default OS image, as a user installs it: the fast calls answer as
//! in the test build, the test PTA does not exist, and the device
//! enumeration PTA serves the normal-world kernel only.

use crate::checks::eq;
use crate::client::{self, send};
use crate::fastcalls;
use oxtee_abi::msg as m;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::uuid;
use oxtee_abi::{optee_smc as smc, test_pta as t};
use oxtee_core::msg::{Dir, Param};

pub fn run() {
    fastcalls::battery(0, 1);
    let absent = (smc::RETURN_OK as u64, TeeResult::ERROR_ITEM_NOT_FOUND.0, Origin::Tee as u32);
    for login in [m::LOGIN_PUBLIC, m::LOGIN_REE_KERNEL] {
        let r = send(&client::open_msg(t::UUID, login, &[]));
        eq(0, "no test PTA in the default image", (r.a0, r.ret(), r.origin()), absent);
    }
    let r = send(&client::open_msg(uuid::PTA_DEVICE_ENUM, m::LOGIN_PUBLIC, &[]));
    let denied = (smc::RETURN_OK as u64, TeeResult::ERROR_ACCESS_DENIED.0, Origin::Tee as u32);
    eq(0, "device PTA refuses a public login", (r.a0, r.ret(), r.origin()), denied);
    let r = send(&client::open_msg(uuid::PTA_DEVICE_ENUM, m::LOGIN_REE_KERNEL, &[]));
    eq(0, "device PTA serves the kernel", (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));
    let s = r.msg.hdr.session;
    let null = Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false };
    let r = client::invoke(s, 0, alloc::vec![null]);
    eq(0, "GET_DEVICES: none", (r.a0, r.ret()), (smc::RETURN_OK as u64, 0));
    eq(0, "closes", client::close(s).ret(), 0);
}
