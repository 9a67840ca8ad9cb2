//! `cargo xtask`: builds the oxtee images, boots them under QEMU, runs the
//! tests and benchmarks, and checks code health. Host-only tool.
#![forbid(unsafe_code)]

mod bench;
mod debian;
mod images;
mod initramfs;
mod lint;
mod linux;
mod qemu;
mod setup;
mod sign;
mod soak;
mod tas;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

pub type Result<T = ()> = std::result::Result<T, String>;

const USAGE: &str = "usage: cargo xtask <command> [options]

commands:
  build                 build monitor, OS and harness; pack the flash image
  run [opts]            build and boot under QEMU, showing both consoles
  test                  host tests, lint, and the QEMU harness matrix
  bench                 instruction counts under QEMU -icount
  soak [opts]           the harness's hostile campaign, long (--help for options)
  lint                  rustfmt, clippy (safety lints at deny), unsafe policy
  setup                 install what the tools need (apt packages, targets)
  sign-ta [opts] IN OUT sign a TA ELF (or re-sign a .ta): --key PEM, --uuid UUID,
                        --version N; key default $OXTEE_TA_KEY or keys/dev_ta_key.pem
  tas                   build, check and sign the TAs in ta/ into target/ta/<uuid>.ta

run options:
  --smp N               CPUs (default 1)
  --gic 2|3             GIC version (default 3)
  --os FILE             trusted OS image to pack instead of ours (raw or ELF)
  --bios FILE           secure firmware to boot instead of our monitor+OS
  --add FILE[:PATH]     put a file in the Linux guest (a .ta under /lib/optee_armtz,
                        a program under /usr/bin, or at PATH); repeatable
  --ns FILE             normal-world payload instead of the harness
  --timeout SECS        kill QEMU after this long (default 60)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "build" => images::build().map(|_| ()),
        "run" => qemu::run_cli(rest),
        "test" => test(),
        "bench" => bench::run(),
        "soak" => soak::run_cli(rest),
        "lint" => lint::run(),
        "setup" => setup::ensure(true),
        "sign-ta" => sign::run_cli(rest),
        "tas" => tas::run_cli(),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs a command in the workspace root, failing on a non-zero exit.
pub fn run_cmd(cmd: &mut Command) -> Result {
    let status = cmd.current_dir(root()).status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed: {status}")) }
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn test() -> Result {
    setup::ensure(false)?;
    println!("== host tests");
    run_cmd(cargo().args(["test", "--quiet"]))?;
    tas::host_tests()?;
    println!("== lint");
    lint::run()?;
    println!("== QEMU harness");
    let imgs = images::build()?;
    let mut passed = 0u64;
    let mut failed = 0u64;
    // The harness ends with a modest hostile campaign; its seed is fixed
    // unless OXTEE_HOSTILE_SEED names another.
    let seed = match std::env::var("OXTEE_HOSTILE_SEED") {
        Ok(s) => {
            let s = s.trim();
            let v = s.strip_prefix("0x").map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16));
            vec![(oxtee_platform::map::HARNESS_ARG_SEED, v.map_err(|_| format!("OXTEE_HOSTILE_SEED={s}"))?)]
        }
        Err(_) => Vec::new(),
    };
    for (smp, gic) in [(1, 2), (4, 3)] {
        let cfg = qemu::Config { smp, gic, timeout_secs: 120, words: seed.clone(), ..qemu::Config::default() };
        let out = qemu::boot(&imgs, &cfg, qemu::Show::OnFailure)?;
        if let Some(l) = out.ns_log.lines().find(|l| l.contains("hostile: summary")) {
            println!("  {}", l.trim());
        }
        match qemu::harness_tally(&out.ns_log) {
            Some((p, f)) => {
                // OS panics and exceptions the harness did not cause on
                // purpose fail the run even if every check passed.
                let panics = qemu::unexpected_incidents(&out);
                println!(
                    "  {smp} CPU(s), GICv{gic}: {p} passed, {f} failed, {panics} unexpected OS panics ({:.1} s)",
                    out.secs
                );
                if f > 0 || panics > 0 {
                    for l in out.ns_log.lines().filter(|l| l.contains("FAIL")).take(40) {
                        eprintln!("  {l}");
                    }
                    qemu::print_tails(&out);
                }
                passed += p;
                failed += f + panics;
            }
            None => {
                qemu::print_tails(&out);
                return Err(format!("{smp} CPU(s), GICv{gic}: the harness printed no tally"));
            }
        }
        if !out.clean_exit {
            qemu::print_tails(&out);
            return Err(format!("{smp} CPU(s), GICv{gic}: QEMU did not power off cleanly"));
        }
    }
    println!("== Linux guest (stock optee driver, both client stacks)");
    let extra = linux::guest_binaries()?;
    for (smp, gic) in [(1, 2), (4, 3)] {
        let out = linux::boot(&imgs, &linux::Boot::new(smp, gic, 600), &linux::Mode::Test, &extra)?;
        let (p, f) = linux::tally(&out.ns_log);
        println!("  Linux, {smp} CPU(s), GICv{gic}: {p} passed, {f} failed ({:.1} s)", out.secs);
        if f > 0 || !out.clean_exit || p == 0 {
            qemu::print_tails(&out);
            for l in out.ns_log.lines().filter(|l| l.contains("FAIL") || l.contains(" passed, ")) {
                eprintln!("  {l}");
            }
            failed += f.max(1);
        }
        passed += p;
    }
    println!("qemu: {passed} passed, {failed} failed");
    if failed > 0 { Err(format!("{failed} checks failed")) } else { Ok(()) }
}
