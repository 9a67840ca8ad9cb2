//! Resources the campaign compares at the start and end of every phase: the
//! OS's own counters (test PTA `CMD_STATS` and `CMD_USER_STATS`) and what
//! the normal world has lent the OS. Adding a counter is one line in
//! `FIELDS`; a test-PTA counter in a new parameter is asked for
//! automatically.

use super::drive::{self, value};
use super::{Cpu, fail};
use alloc::vec::Vec;
use oxtee_abi::test_pta as t;
use oxtee_core::msg::{Dir, Param};

/// Slot of a value parameter (c does not travel back).
const A: usize = 0;
const B: usize = 1;

enum Source {
    /// Value-out parameter `param`, slot `slot`, of test-PTA command `cmd`.
    Pta { cmd: u32, param: usize, slot: usize },
    /// A count the normal world keeps.
    Normal(fn() -> u64),
}

struct Field {
    name: &'static str,
    source: Source,
}

const fn stats(name: &'static str, param: usize, slot: usize) -> Field {
    Field { name, source: Source::Pta { cmd: t::CMD_STATS, param, slot } }
}

const fn user(name: &'static str, param: usize, slot: usize) -> Field {
    Field { name, source: Source::Pta { cmd: t::CMD_USER_STATS, param, slot } }
}

fn pool_blocks() -> u64 {
    crate::shm::pool_in_use() as u64
}

/// Every counter that must come back to where it was. (The busy-thread
/// count includes the statistics call itself, so it is 1 when quiet.
/// CMD_STATS puts the uses held on registered buffers in p0.c, which never
/// travels back to the normal world: values carry a and b only.)
const FIELDS: &[Field] = &[
    stats("secure heap bytes in use", 0, A),
    stats("registered SHM buffers", 0, B),
    stats("busy trusted threads", 1, A),
    stats("open sessions", 1, B),
    user("live user-TA instances", 0, A),
    Field { name: "RPC argument buffers the OS holds", source: Source::Normal(drive::rpc_args_held) },
    Field { name: "kernel SHM buffers the OS holds", source: Source::Normal(drive::kernel_shm_held) },
    Field { name: "static-pool blocks in use", source: Source::Normal(pool_blocks) },
];

/// The counters at one moment (None: the OS would not say).
pub struct Snapshot(Vec<Option<u64>>);

/// Value-out parameters `cmd` needs for every field that reads it.
fn params_for(cmd: u32) -> usize {
    FIELDS
        .iter()
        .filter_map(|f| match f.source {
            Source::Pta { cmd: c, param, .. } if c == cmd => Some(param + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

fn ask(cpu: &mut Cpu, session: u32, cmd: u32) -> Option<Vec<Param>> {
    let n = params_for(cmd);
    let msg = drive::invoke_msg(session, cmd, (0..n).map(|_| value(Dir::Out, 0, 0)).collect());
    match drive::honest(cpu, &msg) {
        Some((0, answer)) if answer.hdr.ret == 0 => Some(answer.params),
        other => {
            let got = other.map(|(a0, m)| (a0, m.hdr.ret));
            fail!(cpu, "statistics command {cmd} on session {session}: {got:x?}");
            None
        }
    }
}

/// Reads every counter. Call on a quiet system (no call in flight anywhere,
/// the OS's RPC-buffer cache drained), on an open test-PTA session.
pub fn take(cpu: &mut Cpu, session: u32) -> Snapshot {
    let mut answers: Vec<(u32, Option<Vec<Param>>)> = Vec::new();
    let mut values = Vec::with_capacity(FIELDS.len());
    for f in FIELDS {
        values.push(match f.source {
            Source::Pta { cmd, param, slot } => {
                if !answers.iter().any(|(c, _)| *c == cmd) {
                    let a = ask(cpu, session, cmd);
                    answers.push((cmd, a));
                }
                let params = answers.iter().find(|(c, _)| *c == cmd).and_then(|(_, p)| p.as_ref());
                match params.and_then(|p| p.get(param)) {
                    Some(Param::Value { a, b, .. }) => Some([*a, *b][slot]),
                    _ => None,
                }
            }
            Source::Normal(f) => Some(f()),
        });
    }
    Snapshot(values)
}

/// Reports every counter that differs; returns how many did.
pub fn compare(cpu: &Cpu, phase: &str, before: &Snapshot, after: &Snapshot) -> u64 {
    let mut differ = 0;
    for (f, (b, a)) in FIELDS.iter().zip(before.0.iter().zip(&after.0)) {
        if b != a || a.is_none() {
            differ += 1;
            let delta = match (b, a) {
                (Some(b), Some(a)) => *a as i64 - *b as i64,
                _ => 0,
            };
            fail!(cpu, "LEFT BEHIND after {phase}: {}: {b:?} -> {a:?} ({delta:+})", f.name);
        }
    }
    differ
}

/// One line with every counter, for the log.
pub fn show(s: &Snapshot) -> alloc::string::String {
    use core::fmt::Write;
    let mut out = alloc::string::String::new();
    for (f, v) in FIELDS.iter().zip(&s.0) {
        let _ = write!(out, "{}={} ", f.name.replace(' ', "_"), v.map_or(-1, |v| v as i64));
    }
    out
}
