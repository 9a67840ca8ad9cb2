//! Yielding-call battery each CPU runs concurrently: sessions on the test
//! PTA, every parameter kind and direction, memrefs in the static pool,
//! registered and non-contiguous, null memrefs, short buffers, RPC, the
//! sleeping mutex, and arguments passed in registered memory.

use crate::checks::{check, eq};
use crate::client::{self, Scattered, Via, value};
use crate::driver::{self, ArgRef};
use crate::{arch, shm};
use alloc::vec;
use core::sync::atomic::{AtomicU64, Ordering};
use oxtee_abi::msg as m;
use oxtee_abi::optee_smc as smc;
use oxtee_abi::tee::{Origin, TeeResult};
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{Dir, Param};

pub static MUTEX_SLEEPS: AtomicU64 = AtomicU64::new(0);
static NEXT_COOKIE: AtomicU64 = AtomicU64::new(0x1000);

pub fn cookie() -> u64 {
    NEXT_COOKIE.fetch_add(1, Ordering::Relaxed)
}

fn pattern(i: u64) -> u8 {
    (i as u8).wrapping_mul(7).wrapping_add(3)
}

const OK: u32 = 0;
const TA: u32 = Origin::TrustedApp as u32;

pub fn battery(cpu: usize) {
    let s = match client::open(t::UUID) {
        Ok(s) => s,
        Err(e) => {
            check(false, cpu, "open test PTA", format_args!("{e:x?}"));
            return;
        }
    };
    check(s != 0, cpu, "session id", format_args!("0"));

    // A trusted thread overflowing its stack hits the guard page: that call
    // alone is aborted, and the session and the OS serve on.
    if cpu == 0 {
        let r = client::invoke(s, t::CMD_STACK_OVERFLOW, vec![]);
        eq(
            cpu,
            "stack overflow aborts the call",
            (r.a0, r.ret(), r.origin()),
            (0, TeeResult::ERROR_GENERIC.0, Origin::Tee as u32),
        );
        if r.a0 == 0 && r.ret() == TeeResult::ERROR_GENERIC.0 {
            crate::checks::DELIBERATE_ABORTS.fetch_add(1, Ordering::Relaxed);
        }
        let r = client::invoke(s, t::CMD_NOOP, vec![]);
        eq(cpu, "serving after a stack overflow", (r.a0, r.ret()), (0, OK));
    }

    // Values: a and b travel both ways, c does not.
    let r = client::invoke(
        s,
        t::CMD_VALUES,
        vec![value(Dir::InOut, 41, 5), Param::Value { dir: Dir::Out, a: 0, b: 0, c: 77 }],
    );
    eq(cpu, "VALUES status", (r.a0, r.ret(), r.origin()), (0, OK, TA));
    eq(cpu, "VALUES inout", r.msg.params[0], Param::Value { dir: Dir::InOut, a: 42, b: 10, c: 0 });
    eq(cpu, "VALUES out", r.msg.params[1], Param::Value { dir: Dir::Out, a: 41 ^ 5, b: 0xc0ffee, c: 77 });

    // TMEM in the static pool, each direction, with a partial (offset) view.
    let buf = shm::pool_alloc(8192).unwrap();
    let data: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 3) as u8).collect();
    arch::write_mem(buf + 100, &data);
    let sum: u64 = data.iter().map(|b| *b as u64).sum();
    for dir in [Dir::In, Dir::InOut, Dir::Out] {
        arch::write_mem(buf + 100, &data);
        let tm = Param::Tmem { dir, buf: buf + 100, size: 300, shm_ref: 1, noncontig: false };
        let r = client::invoke(s, t::CMD_MEMREF, vec![tm, value(Dir::Out, 0, 0)]);
        eq(cpu, "TMEM status", (r.a0, r.ret()), (0, OK));
        let want_sum = if dir.is_input() { sum } else { 0 };
        eq(cpu, "TMEM sum/size", r.msg.params[1], Param::Value { dir: Dir::Out, a: want_sum, b: 300, c: 0 });
        let mut back = vec![0u8; 302];
        arch::read_mem(buf + 99, &mut back);
        let ok = back[0] == 0
            && back[301] == 0
            && (1..301).all(|i| {
                let j = (i - 1) as u64;
                back[i]
                    == match dir {
                        Dir::In => data[i - 1],
                        Dir::InOut => data[i - 1] ^ 0x5a,
                        Dir::Out => pattern(j),
                    }
            });
        check(ok, cpu, "TMEM bytes", format_args!("{dir:?}: data wrong or written outside the memref"));
    }
    shm::pool_free(buf);

    // Registered memory (RMEM) with an offset, and the same pages as a
    // NONCONTIG temporary memref.
    let sc = Scattered::new(3 * 4096 + 123, 0x80);
    let ck = cookie();
    eq(cpu, "REGISTER_SHM", client::register(&sc, ck).ret(), OK);
    sc.write(4000, &[9u8; 200]);
    let rm = Param::Rmem { dir: Dir::InOut, offs: 4000, size: 200, shm_ref: ck };
    let r = client::invoke(s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    eq(cpu, "RMEM inout", (r.ret(), r.msg.params[1]), (OK, Param::Value { dir: Dir::Out, a: 1800, b: 200, c: 0 }));
    let mut back = [0u8; 202];
    sc.read(3999, &mut back);
    check(
        back[0] == 0 && back[201] == 0 && back[1..201].iter().all(|b| *b == 9 ^ 0x5a),
        cpu,
        "RMEM bytes",
        format_args!("{:?}", &back[..4]),
    );
    let rm = Param::Rmem { dir: Dir::Out, offs: 0, size: sc.size, shm_ref: ck };
    let r = client::invoke(s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    let mut all = vec![0u8; sc.size as usize];
    sc.read(0, &mut all);
    check(
        r.ret() == OK && all.iter().enumerate().all(|(i, b)| *b == pattern(i as u64)),
        cpu,
        "RMEM out whole buffer",
        format_args!("ret {:#x}", r.ret()),
    );
    let rm = Param::Rmem { dir: Dir::In, offs: sc.size - 10, size: 11, shm_ref: ck };
    let r = client::invoke(s, t::CMD_MEMREF, vec![rm, value(Dir::Out, 0, 0)]);
    eq(cpu, "RMEM past the end", (r.ret(), r.origin()), (TeeResult::ERROR_SECURITY.0, Origin::Tee as u32));
    let nc = Param::Tmem { dir: Dir::In, buf: sc.list_ptr(), size: sc.size, shm_ref: 0, noncontig: true };
    let r = client::invoke(s, t::CMD_MEMREF, vec![nc, value(Dir::Out, 0, 0)]);
    let want: u64 = all.iter().map(|b| *b as u64).sum();
    eq(
        cpu,
        "NONCONTIG TMEM in",
        (r.ret(), r.msg.params[1]),
        (OK, Param::Value { dir: Dir::Out, a: want, b: sc.size, c: 0 }),
    );
    eq(cpu, "UNREGISTER_SHM", client::unregister(ck).ret(), OK);
    sc.free();

    // Null and zero-size memrefs; short buffer with the size needed.
    let null = Param::Tmem { dir: Dir::Out, buf: 0, size: 0, shm_ref: 0, noncontig: false };
    let r = client::invoke(s, t::CMD_SHORT_BUFFER, vec![null, value(Dir::In, 64, 0)]);
    eq(
        cpu,
        "null memref size query",
        (r.ret(), r.msg.params[0]),
        (
            TeeResult::ERROR_SHORT_BUFFER.0,
            Param::Tmem { dir: Dir::Out, buf: 0, size: 64, shm_ref: 0, noncontig: false },
        ),
    );
    let small = shm::pool_alloc(64).unwrap();
    let tm = Param::Tmem { dir: Dir::Out, buf: small, size: 10, shm_ref: 2, noncontig: false };
    let r = client::invoke(s, t::CMD_SHORT_BUFFER, vec![tm, value(Dir::In, 64, 0)]);
    eq(
        cpu,
        "short buffer",
        (r.ret(), r.msg.params[0]),
        (
            TeeResult::ERROR_SHORT_BUFFER.0,
            Param::Tmem { dir: Dir::Out, buf: small, size: 64, shm_ref: 2, noncontig: false },
        ),
    );
    let tm = Param::Tmem { dir: Dir::Out, buf: small, size: 64, shm_ref: 2, noncontig: false };
    eq(cpu, "exact buffer", client::invoke(s, t::CMD_SHORT_BUFFER, vec![tm, value(Dir::In, 64, 0)]).ret(), OK);
    let zero = Param::Tmem { dir: Dir::In, buf: small, size: 0, shm_ref: 2, noncontig: false };
    let r = client::invoke(s, t::CMD_MEMREF, vec![zero, value(Dir::Out, 1, 1)]);
    eq(cpu, "zero-size memref", (r.ret(), r.msg.params[1]), (OK, Param::Value { dir: Dir::Out, a: 0, b: 0, c: 0 }));
    shm::pool_free(small);

    // RPC from the secure side: time and a kernel shared-memory buffer.
    let r = client::invoke(s, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]);
    let ok = r.ret() == OK && matches!(r.msg.params[0], Param::Value { b, .. } if b < 1_000_000_000);
    check(ok, cpu, "RPC round trip", format_args!("{:x?}", (r.a0, r.ret(), r.msg.params.first())));
    let r = client::send_via(&client::invoke_msg(s, t::CMD_RPC, vec![value(Dir::Out, 0, 0)]), Via::Arg);
    eq(cpu, "RPC with RPC_ALLOC'd argument", r.ret(), OK);

    // The sleeping mutex: exclusion holds while other CPUs contend.
    let r = client::invoke(s, t::CMD_MUTEX, vec![value(Dir::In, 2, 0), value(Dir::Out, 0, 0)]);
    eq(cpu, "MUTEX status", r.ret(), OK);
    if let Param::Value { a, b, .. } = r.msg.params[1] {
        eq(cpu, "MUTEX exclusion", a, 0);
        MUTEX_SLEEPS.fetch_add(b, Ordering::Relaxed);
    }

    // Argument in registered memory (CALL_WITH_REGD_ARG), as Linux does.
    let page = Scattered::new(4096, 0);
    let ck = cookie();
    eq(cpu, "register arg page", client::register(&page, ck).ret(), OK);
    let msg = client::invoke_msg(s, t::CMD_VALUES, vec![value(Dir::InOut, 1, 1), value(Dir::Out, 0, 0)]);
    page.write(384, &msg.encode());
    let a0 = driver::run(ArgRef::Regd { cookie: ck, offset: 384 });
    let mut back = vec![0u8; 32 + 64];
    page.read(384, &mut back);
    let reply = oxtee_core::msg::parse(&back, 2).unwrap();
    eq(
        cpu,
        "REGD_ARG call",
        (a0, reply.hdr.ret, reply.params[0]),
        (0, OK, Param::Value { dir: Dir::InOut, a: 2, b: 2, c: 0 }),
    );
    let bad = driver::run(ArgRef::Regd { cookie: ck + 1_000_000, offset: 0 });
    eq(cpu, "REGD_ARG unknown cookie", bad, smc::RETURN_EBADADDR as u64);
    eq(cpu, "unregister arg page", client::unregister(ck).ret(), OK);
    page.free();

    eq(cpu, "close", client::close(s).ret(), OK);
    let r = client::invoke(s, t::CMD_NOOP, vec![]);
    eq(cpu, "invoke closed session", (r.ret(), r.origin()), (TeeResult::ERROR_BAD_PARAMETERS.0, Origin::Tee as u32));
    let r = client::send(&client::open_msg(oxtee_abi::uuid::Uuid::NIL, m::LOGIN_PUBLIC, &[]));
    eq(cpu, "open unknown UUID", (r.ret(), r.origin()), (TeeResult::ERROR_ITEM_NOT_FOUND.0, Origin::Tee as u32));
}
