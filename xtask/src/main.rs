//! `cargo xtask`: builds the oxtee images, boots them under QEMU, runs the
//! tests and benchmarks, and checks code health. Host-only tool.
#![forbid(unsafe_code)]

mod bench;
mod debian;
mod examples;
mod images;
mod imgfmt;
mod initramfs;
mod lint;
mod linux;
mod new;
mod qemu;
mod setup;
mod sign;
mod soak;
mod storage;
mod tas;

use oxtee_platform::map;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

pub type Result<T = ()> = std::result::Result<T, String>;

pub const USAGE: &str = "usage: cargo xtask <command> [options]

commands:
  build                 build monitor, OS and harness; pack the flash image
  run [opts] [-- CMD [ARG...]]
                        build and boot Linux under QEMU, showing both consoles:
                        a shell, or CMD run in the guest (exit status passed on)
  test                  host tests, lint, the QEMU harness and Linux runs
  bench                 instruction counts under QEMU -icount (--crypto: only the
                        crypto rows, from the crypto test TA; --storage: only
                        the secure-storage rows, from the storage bench TA)
  soak [opts]           the harness's hostile campaign, long (--help for options)
  storage-test          secure storage across power cuts (QEMU killed in a write
                        loop), reboots, tampered files and a rolled-back store,
                        on a host store, with both supplicants (part of `test`;
                        OXTEE_STORAGE_SEED=N repeats a run)
  lint                  rustfmt, clippy (safety lints at deny), unsafe policy
  setup                 install what the tools need (apt packages, targets)
  sign-ta [opts] IN OUT sign a TA ELF (or re-sign a .ta): --key PEM, --uuid UUID,
                        --version N; key default $OXTEE_TA_KEY or keys/dev_ta_key.pem;
                        --subkey BIN --name NAME (signed with a subkey: --key is
                        the subkey's PEM), --encrypt (AES-GCM, this device's key)
                        or --enc-key HEX
  sign-subkey [opts]    sign a subkey (upstream's sign_encrypt.py sign-subkey):
                        --uuid U --in PUB.pem --out OUT.bin --name-size N
                        [--max-depth N --subkey-version N --key PEM
                        --subkey PARENT.bin --name NAME]
  subkey-uuid --in BIN [--name NAME]  the UUID a name gets under a subkey
  ta-enc-key            this device's TA encryption key (hex), for upstream's
                        sign_encrypt.py --enc-key
  tas                   build, check and sign the TAs (examples/, ta/) into
                        target/ta/<uuid>.ta
  new NAME [--dir DIR]  a new TA project (proto, ta, host crates) in DIR (default
                        ./NAME) with a fresh UUID, for `run --ta DIR/ta --host
                        DIR/host -- NAME`
  help                  this text

run options:
  --smp N               CPUs (default 1)
  --gic 2|3             GIC version (default 3)
  --os FILE             trusted OS image to pack instead of ours (raw or ELF)
  --bios FILE           secure firmware to boot instead of our monitor+OS
  --add FILE[:PATH]     put a file in the Linux guest: a signed TA as
                        /lib/optee_armtz/<uuid>.ta (its signed UUID), a program
                        under /usr/bin, or at PATH; repeatable
  --ta DIR              build the TA crate in DIR (release, aarch64-unknown-none,
                        in its own workspace), check it, sign it with the OS's
                        key, install it as /lib/optee_armtz/<uuid>.ta; repeatable
  --host DIR            build the program(s) in DIR for the guest's /usr/bin: a
                        Rust crate (static musl, every binary) or C (a Makefile
                        or *.c, against Debian's libteec); repeatable
  --example NAME        --ta/--host of examples/NAME, runs example-NAME
  --harness             boot the bare-metal test harness instead of Linux
  --ns FILE             boot this normal-world payload instead of Linux: raw (at
                        --ns-addr, entered there) or ELF (where it is linked)
  --ns-addr ADDR        load and entry address of a raw --ns payload
                        (default 0x40200000)
  --test-build          boot the test build of the OS (test PTA, fault injection)
  --kernel FILE         boot this arm64 kernel Image instead of Debian's (TEE,
                        OP-TEE built in; with --ffa: ARM_FFA_TRANSPORT too, see
                        docs/ffa.md)
  --ffa                 FF-A configuration: the monitor as SPMD, the OS as S-EL1
                        SPMC (default: TF-A's opteed protocol); boots the harness
                        (or an --ns payload), or Linux with --kernel
  --store DIR           keep the supplicants' storage (REE FS files, emulated
                        RPMB) in this host directory (created if missing), so
                        it outlives the guest; default: the guest's RAM
  --timeout SECS        kill QEMU after this long (default 60; 120 with -- CMD)
  -- CMD [ARG...]       run CMD with these arguments (passed as they are; for
                        pipes or ';' use: -- sh -c '...') and power off";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let no_options = |run: fn() -> Result| match rest.first().map(String::as_str) {
        None => run().map(|()| 0),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            Ok(0)
        }
        Some(other) => Err(format!("{cmd} takes no options, not {other:?}\n{USAGE}")),
    };
    let result = match cmd.as_str() {
        // The guest command's exit status, when there is one.
        "run" => qemu::run_cli(rest),
        "build" => no_options(|| images::build().map(|_| ())),
        "test" => no_options(test),
        "bench" if rest.first().is_some_and(|a| a == "--crypto") => bench::run_crypto().map(|()| 0),
        "bench" if rest.first().is_some_and(|a| a == "--storage") => bench::run_storage().map(|()| 0),
        "bench" => no_options(bench::run),
        "lint" => no_options(lint::run),
        "setup" => no_options(|| setup::ensure(true)),
        "soak" => soak::run_cli(rest).map(|()| 0),
        "storage-test" => no_options(storage::run_cli),
        "sign-ta" => sign::run_cli(rest).map(|()| 0),
        "sign-subkey" => imgfmt::sign_subkey_cli(rest).map(|()| 0),
        "subkey-uuid" => imgfmt::subkey_uuid_cli(rest).map(|()| 0),
        "ta-enc-key" => no_options(imgfmt::ta_enc_key_cli),
        "tas" => no_options(tas::run_cli),
        "new" => new::run_cli(rest).map(|()| 0),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    };
    match result {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The default OS image carries no test hooks; the test build does (so the
/// check can tell): the test PTA's name is in one image only.
fn production_image_check() -> Result {
    let marker = b"oxtee-test.pta";
    let find = |v: images::Variant| -> Result<bool> {
        let elf = std::fs::read(images::os_elf(v)).map_err(|e| format!("{:?} OS image: {e}", v))?;
        Ok(elf.windows(marker.len()).any(|w| w == marker))
    };
    match (find(images::Variant::Default)?, find(images::Variant::Test)?) {
        (false, true) => Ok(()),
        (d, t) => Err(format!("test PTA in the default image: {d}, in the test build: {t}")),
    }
}

/// The monitor's count of secure interrupts it delivered to the SPMC with
/// `FFA_INTERRUPT` (logged at system off).
fn ffa_interrupts(secure_log: &str) -> Option<u64> {
    secure_log.lines().rev().find_map(|l| {
        let rest = l.split("SPMD: ").nth(1)?;
        rest.strip_suffix(" secure interrupts delivered with FFA_INTERRUPT")
            .or_else(|| rest.split(" secure interrupts delivered").next())
            .and_then(|n| n.trim().parse().ok())
    })
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
    examples::host_tests()?;
    println!("== lint");
    lint::run()?;
    println!("== QEMU harness");
    let imgs = images::build_test()?;
    let mut passed = 0u64;
    let mut failed = 0u64;
    // The harness ends with a modest hostile campaign; its seed is fixed
    // unless OXTEE_HOSTILE_SEED names another.
    let seed = match std::env::var("OXTEE_HOSTILE_SEED") {
        Ok(s) => {
            let s = s.trim();
            let v = s.strip_prefix("0x").map_or_else(|| s.parse(), |h| u64::from_str_radix(h, 16));
            vec![(map::HARNESS_ARG_SEED, v.map_err(|_| format!("OXTEE_HOSTILE_SEED={s}"))?)]
        }
        Err(_) => Vec::new(),
    };
    // The two machine shapes, then one with a CPU more than the platform
    // supports (GICv3 numbers it Aff0 = 8): it must stay parked.
    let over = oxtee_platform::MAX_CPUS as u32 + 1;
    for (smp, gic) in [(1, 2), (4, 3), (over, 3)] {
        let mut cfg = qemu::Config { smp, gic, timeout_secs: 120, words: seed.clone(), ..qemu::Config::default() };
        if smp == over {
            cfg.name = format!("smp{smp}-gic{gic}-topology");
            cfg.words.clear();
            let harness =
                format!("loader,file={},addr={:#x},force-raw=on", imgs.harness.display(), map::NS_PAYLOAD_ADDR);
            let mode =
                format!("loader,addr={:#x},data={:#x},data-len=4", map::HARNESS_MODE_ADDR, map::HARNESS_MODE_TOPOLOGY);
            cfg.extra = vec!["-device".into(), harness, "-device".into(), mode];
        }
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
    println!("== QEMU harness, FF-A mode (the monitor as SPMD, the OS as S-EL1 SPMC)");
    for (smp, gic) in [(1, 3), (4, 3)] {
        let cfg = qemu::Config {
            smp,
            gic,
            ffa: true,
            timeout_secs: 120,
            name: format!("ffa-smp{smp}-gic{gic}"),
            ..qemu::Config::default()
        };
        let out = qemu::boot(&imgs, &cfg, qemu::Show::OnFailure)?;
        let Some((p, f)) = qemu::harness_tally(&out.ns_log) else {
            qemu::print_tails(&out);
            return Err(format!("FF-A, {smp} CPU(s), GICv{gic}: the harness printed no tally"));
        };
        let panics = qemu::unexpected_incidents(&out);
        // The harness makes a secure timer fire while the normal world
        // runs: the SPMD must have delivered it with FFA_INTERRUPT.
        let interrupts = ffa_interrupts(&out.secure_log);
        let f = f + u64::from(interrupts.is_none_or(|n| n == 0));
        println!(
            "  FF-A, {smp} CPU(s), GICv{gic}: {p} passed, {f} failed, {panics} unexpected OS panics, \
             {} FFA_INTERRUPTs ({:.1} s)",
            interrupts.unwrap_or(0),
            out.secs
        );
        if f > 0 || panics > 0 || !out.clean_exit {
            for l in out.ns_log.lines().filter(|l| l.contains("FAIL")).take(40) {
                eprintln!("  {l}");
            }
            qemu::print_tails(&out);
        }
        if !out.clean_exit {
            return Err(format!("FF-A, {smp} CPU(s), GICv{gic}: QEMU did not power off cleanly"));
        }
        passed += p;
        failed += f + panics;
    }
    println!("== default image (what a user installs)");
    let prod = images::build()?;
    production_image_check()?;
    let cfg = qemu::Config { production: true, name: "production".into(), timeout_secs: 60, ..qemu::Config::default() };
    let out = qemu::boot(&prod, &cfg, qemu::Show::OnFailure)?;
    match qemu::harness_tally(&out.ns_log) {
        Some((p, 0)) if out.clean_exit => {
            println!(
                "  harness: no test PTA, device PTA for the kernel only: {p} passed, 0 failed ({:.1} s)",
                out.secs
            );
            passed += p;
        }
        t => {
            qemu::print_tails(&out);
            return Err(format!("default image: {t:?}"));
        }
    }
    let mut extra = linux::guest_binaries()?;
    // A project made by `cargo xtask new` (fresh UUID), run with the
    // examples (`example-new`).
    extra.extend(new::qemu_check_files()?);
    // Real clients of the default image: the user-TA cases of xtest (the
    // rest need the test PTA) and the C client's hello_world part.
    let cmd = linux::Mode::Command("oxtee-xtest && oxtee-cclient".into());
    let out = linux::boot(&prod, &linux::Boot::new(1, 2, 600), &cmd, &extra)?;
    let tallies: Vec<(u64, u64)> = out.ns_log.lines().filter_map(linux::tally_line).collect();
    let (p, f) = tallies.iter().fold((0, 0), |(p, f), t| (p + t.0, f + t.1));
    let status = linux::command_status(&out.ns_log);
    println!("  Linux, 1 CPU, GICv2: {p} passed, {f} failed ({:.1} s)", out.secs);
    if tallies.len() != 2 || f > 0 || status != Some(0) || !out.clean_exit {
        qemu::print_tails(&out);
        failed += f.max(1);
    }
    passed += p;
    println!("== Linux guest (stock optee driver, both client stacks)");
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
    println!("== secure storage: power cuts, reboots, tampering (store on the host)");
    let (p, f) = storage::run(&imgs, &extra)?;
    passed += p;
    failed += f;
    println!("qemu: {passed} passed, {failed} failed");
    if failed > 0 { Err(format!("{failed} checks failed")) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options `run` documents in USAGE.
    fn run_options() -> Vec<&'static str> {
        let section = USAGE.split("run options:").nth(1).unwrap();
        // Option lines start at column 2; their continuations further in.
        section.lines().filter_map(|l| l.strip_prefix("  --")).map(|l| &l[..l.find(' ').unwrap_or(l.len())]).collect()
    }

    #[test]
    fn every_run_option_is_in_the_readme_table() {
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        let table: Vec<&str> = readme.lines().filter(|l| l.starts_with("| `cargo xtask run")).collect();
        let options = run_options();
        assert!(options.len() >= 10, "{options:?}");
        for opt in options {
            // `--ns` must not count as `--ns-addr`: the name ends there.
            let shown = |row: &&str| [" ", "`"].iter().any(|end| row.contains(&format!(" --{opt}{end}")));
            assert!(table.iter().any(shown), "README's table lacks `--{opt}`");
        }
    }

    #[test]
    fn ffa_interrupt_count_is_read_from_the_monitor_log() {
        let log = "[mon c0 I] SYSTEM_OFF\n[mon c0 I] SPMD: 3 secure interrupts delivered with FFA_INTERRUPT\r\n";
        assert_eq!(ffa_interrupts(log), Some(3));
        assert_eq!(ffa_interrupts("[mon c0 I] SYSTEM_OFF\n"), None);
    }

    #[test]
    fn usage_states_the_real_payload_address() {
        assert!(USAGE.contains(&format!("(default {:#x})", oxtee_platform::map::NS_PAYLOAD_ADDR)));
        let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
        assert!(readme.contains(&format!("default {:#x}", oxtee_platform::map::NS_PAYLOAD_ADDR)));
    }
}
