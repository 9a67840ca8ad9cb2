//! `cargo xtask soak`: boots the harness with only the hostile campaign, a
//! long one (10 million SMCs by default), and reports what it found: SMCs
//! sent, yielding calls, RPCs served, OS panics (from the secure log, less
//! the calls the harness aborted on purpose), hangs and resources left
//! behind.

use crate::qemu::{self, Config, Show};
use crate::{Result, images};
use oxtee_platform::map;

const USAGE: &str =
    "usage: cargo xtask soak [--smp N] [--gic 2|3] [--seed S] [--smcs N] [--phases LIST] [--timeout SECS]
  --smp N         CPUs (default 4; --smps is accepted too)
  --seed S        campaign seed, decimal or 0x-hex (default: from the clock; printed)
  --smcs N        SMCs the random phase sends, all CPUs together (default 10000000)
  --phases LIST   comma-separated: random, directed, or single directed sequences:
                  bad-resumes, all-threads, mutex-waits, under-suspended, aborted-holding,
                  huge-regs, many-regs, sessions, mass-aborts (default random,directed)
  --timeout SECS  kill QEMU after this long (default 900 + smcs/2000); it is killed
                  earlier, as hung, after 300 s without normal-world output";

/// Directed sequences in the harness's order (`hostile/directed.rs`).
const SEQUENCES: [&str; 9] = [
    "bad-resumes",
    "all-threads",
    "mutex-waits",
    "under-suspended",
    "aborted-holding",
    "huge-regs",
    "many-regs",
    "sessions",
    "mass-aborts",
];

fn number(s: &str) -> Result<u64> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(&h.replace('_', ""), 16),
        None => s.replace('_', "").parse(),
    };
    r.map_err(|_| format!("not a number: {s}"))
}

/// The harness's phase bits: 1 random, 2 every directed sequence, 1 << (8 + i)
/// directed sequence i alone.
fn phases(list: &str) -> Result<u64> {
    let mut bits = 0;
    for p in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        bits |= match p {
            "random" => 1,
            "directed" => 2,
            name => match SEQUENCES.iter().position(|s| *s == name) {
                Some(i) => 1 << (8 + i),
                None => return Err(format!("unknown phase {name}\n{USAGE}")),
            },
        };
    }
    if bits == 0 { Err(format!("no phase given\n{USAGE}")) } else { Ok(bits) }
}

pub fn run_cli(args: &[String]) -> Result {
    let mut smp = 4u32;
    let mut gic = 3u32;
    let mut seed = None;
    let mut smcs = 10_000_000u64;
    let mut bits = 3u64;
    let mut timeout = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--smp" | "--smps" => smp = number(&val()?)? as u32,
            "--gic" => gic = number(&val()?)? as u32,
            "--seed" => seed = Some(number(&val()?)?),
            "--smcs" => smcs = number(&val()?)?,
            "--phases" => bits = phases(&val()?)?,
            "--timeout" => timeout = Some(number(&val()?)?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    if !(1..=oxtee_platform::MAX_CPUS as u32).contains(&smp) || !(2..=3).contains(&gic) {
        return Err("--smp must be 1..=8 and --gic 2 or 3".into());
    }
    let seed = seed.unwrap_or_else(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        (t.as_nanos() as u64) | 1
    });
    crate::setup::ensure(false)?;
    let imgs = images::build_test()?;
    let cfg = Config {
        smp,
        gic,
        timeout_secs: timeout.unwrap_or(900 + smcs / 2000),
        // The harness prints progress at least every minute or so.
        idle_secs: Some(300),
        name: "soak".into(),
        words: vec![
            (map::HARNESS_MODE_ADDR, map::HARNESS_MODE_SOAK as u64),
            (map::HARNESS_ARG_SEED, seed),
            (map::HARNESS_ARG_SMCS, smcs),
            (map::HARNESS_ARG_PHASES, bits),
        ],
        ..Config::default()
    };
    println!("soak: {smp} CPU(s), GICv{gic}, seed {seed:#x}, {smcs} random SMCs; timeout {} s", cfg.timeout_secs);
    let out = qemu::boot(&imgs, &cfg, Show::Normal)?;
    report(&out, seed, smp)
}

/// Prints the figures and fails on any panic, hang, leak or failed check.
pub fn report(out: &qemu::Outcome, seed: u64, smp: u32) -> Result {
    let fig = |k: &str| qemu::harness_figure(&out.ns_log, k).unwrap_or(0);
    let finished = out.ns_log.lines().any(|l| l.contains("hostile: summary"));
    let (panic_lines, exception_lines) = qemu::os_incidents(&out.secure_log);
    let unexpected = qemu::unexpected_incidents(out);
    let hangs = fig("hangs") + u64::from(!finished || out.timed_out);
    let left = fig("left_behind");
    let failures = fig("failures");
    println!(
        "soak: seed={seed:#x} cpus={smp} SMCs sent={} yielding calls={} RPCs served={} (hostile answers {}) \
         deliberate aborts={} OS panics={panic_lines} OS exceptions={exception_lines} \
         unexpected OS panics or exceptions={unexpected} hangs={hangs} \
         resources left behind={left} failed checks={failures} wall={:.0} s",
        fig("smcs"),
        fig("yielding"),
        fig("rpcs"),
        fig("hostile_answers"),
        fig("deliberate_aborts"),
        out.secs,
    );
    if !finished {
        println!(
            "soak: the run did not finish: figures are from its last progress line (exceptions may include \
             deliberate aborts made after it)"
        );
    }
    if unexpected + hangs + left + failures > 0 {
        for l in out.ns_log.lines().filter(|l| l.contains("FAIL")).take(40) {
            eprintln!("  {l}");
        }
        qemu::print_tails(out);
        return Err(format!("reproduce with: cargo xtask soak --smp {smp} --seed {seed:#x}"));
    }
    Ok(())
}
