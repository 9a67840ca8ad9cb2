//! Resources the campaign compares at the start and end of every phase: what
//! the OS says it holds (test PTA `CMD_RESOURCES`: the secure heap and every
//! count `Resources::held` lists) and what the normal world has lent the
//! OS. A new OS counter needs only a line in `Resources::held`; a
//! normal-world one, a line in `NORMAL`.

use super::drive;
use super::{Cpu, fail};
use crate::{arch, shm};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::test_pta::{self as t, Resources};
use oxtee_core::msg::{Dir, Param};
use zerocopy::FromBytes;

fn pool_blocks() -> u64 {
    crate::shm::pool_in_use() as u64
}

/// A count the normal world keeps: its name and how to read it.
type NormalCount = (&'static str, fn() -> u64);

/// Counts the normal world keeps of what it lent the OS.
const NORMAL: &[NormalCount] = &[
    ("RPC argument buffers the OS holds", drive::rpc_args_held),
    ("kernel SHM buffers the OS holds", drive::kernel_shm_held),
    ("static-pool blocks in use", pool_blocks),
];

/// The counters at one moment, by name (None: the OS would not say). The
/// busy-thread and running-call counts include the statistics call itself,
/// so they are 1 when quiet.
pub struct Snapshot(Vec<(&'static str, Option<u64>)>);

/// The OS's record, read with an honest call on `session`.
fn ask(cpu: &mut Cpu, session: u32) -> Option<Resources> {
    let size = size_of::<Resources>() as u64;
    let Some(pa) = shm::pool_alloc(size) else {
        fail!(cpu, "statistics: the static pool is full");
        return None;
    };
    let out = Param::Tmem { dir: Dir::Out, buf: pa, size, shm_ref: 0, noncontig: false };
    let msg = drive::invoke_msg(session, t::CMD_RESOURCES, vec![out]);
    let answer = drive::honest(cpu, &msg);
    let mut bytes = vec![0u8; size as usize];
    arch::read_mem(pa, &mut bytes);
    shm::pool_free(pa);
    match answer {
        Some((0, m)) if m.hdr.ret == 0 => Resources::read_from_bytes(&bytes).ok(),
        other => {
            let got = other.map(|(a0, m)| (a0, m.hdr.ret));
            fail!(cpu, "CMD_RESOURCES on session {session}: {got:x?}");
            None
        }
    }
}

/// Reads every counter. Call on a quiet system (no call in flight anywhere,
/// the OS's RPC-buffer cache drained), on an open test-PTA session.
pub fn take(cpu: &mut Cpu, session: u32) -> Snapshot {
    let record = ask(cpu, session);
    let mut values = vec![("secure heap bytes in use", record.map(|r| r.heap_used))];
    match record {
        Some(r) => values.extend(r.held().iter().map(|(n, v)| (*n, Some(*v)))),
        None => values.extend(Resources::default().held().iter().map(|(n, _)| (*n, None))),
    }
    values.extend(NORMAL.iter().map(|(n, f)| (*n, Some(f()))));
    Snapshot(values)
}

/// Reports every counter that differs; returns how many did.
pub fn compare(cpu: &Cpu, phase: &str, before: &Snapshot, after: &Snapshot) -> u64 {
    let mut differ = 0;
    for ((name, b), (_, a)) in before.0.iter().zip(&after.0) {
        if b != a || a.is_none() {
            differ += 1;
            let delta = match (b, a) {
                (Some(b), Some(a)) => *a as i64 - *b as i64,
                _ => 0,
            };
            fail!(cpu, "LEFT BEHIND after {phase}: {name}: {b:?} -> {a:?} ({delta:+})");
        }
    }
    differ
}

/// One line with every counter, for the log.
pub fn show(s: &Snapshot) -> String {
    use core::fmt::Write;
    let mut out = String::new();
    for (name, v) in &s.0 {
        let _ = write!(out, "{}={} ", name.replace(' ', "_"), v.map_or(-1, |v| v as i64));
    }
    out
}
