//! Boots images under QEMU `virt` (secure=on, Cortex-A57) with both UARTs
//! captured to files, a hard timeout, and optional live display.

use crate::images::{self, Images};
use crate::{Result, root};
use oxtee_platform::map;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Guest RAM (`-m`).
pub const RAM_SIZE: u64 = 1 << 30;

#[derive(Clone, Debug)]
pub struct Config {
    pub smp: u32,
    pub gic: u32,
    pub timeout_secs: u64,
    /// Replace our monitor+OS flash with this firmware image.
    pub bios: Option<PathBuf>,
    /// Normal-world payload (default: the harness), and where QEMU's
    /// loader puts it.
    pub ns: Option<PathBuf>,
    pub ns_addr: u64,
    /// `-icount shift=0` and the harness in benchmark mode.
    pub bench: bool,
    pub name: String,
    /// Extra QEMU arguments (e.g. loaders for a Linux guest); when given,
    /// the harness is not loaded.
    pub extra: Vec<String>,
    /// Semihosting for foreign firmware (TF-A loads its stages with it).
    pub semihosting: bool,
    /// `-icount shift=0`: one guest instruction per virtual nanosecond.
    pub icount: bool,
    /// The harness checks the default (production) image.
    pub production: bool,
    /// Boot the FF-A configuration (`Images::flash_ffa`): the monitor as
    /// SPMD, the OS as S-EL1 SPMC.
    pub ffa: bool,
    /// Words QEMU's loader writes into RAM before reset: (address, value);
    /// how the harness is told its mode and parameters.
    pub words: Vec<(u64, u64)>,
    /// Kill QEMU once the normal-world console has been silent this long
    /// (a hung guest), well before `timeout_secs`.
    pub idle_secs: Option<u64>,
    /// Kill QEMU with SIGKILL (a power cut: nothing in the guest runs
    /// after it) this long after the normal-world console first shows
    /// this text.
    pub kill: Option<(String, Duration)>,
    /// Start halted with QEMU's gdbstub on this TCP port (`-gdb -S`).
    pub gdb: Option<u16>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            smp: 1,
            gic: 3,
            timeout_secs: 60,
            bios: None,
            ns: None,
            ns_addr: map::NS_PAYLOAD_ADDR,
            bench: false,
            name: String::new(),
            extra: Vec::new(),
            semihosting: false,
            icount: false,
            production: false,
            ffa: false,
            words: Vec::new(),
            idle_secs: None,
            kill: None,
            gdb: None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// Stream both consoles as they run.
    Live,
    /// Stream the normal-world console only (long runs whose secure log
    /// is large).
    Normal,
    /// Quiet; the caller prints tails if something went wrong.
    OnFailure,
}

pub struct Outcome {
    pub ns_log: String,
    pub secure_log: String,
    pub clean_exit: bool,
    pub timed_out: bool,
    /// Killed on purpose ([`Config::kill`]).
    pub killed: bool,
    pub secs: f64,
}

fn log_dir(cfg: &Config) -> PathBuf {
    let tag = if cfg.name.is_empty() { format!("smp{}-gic{}", cfg.smp, cfg.gic) } else { cfg.name.clone() };
    root().join("target/qemu").join(tag)
}

pub fn command(imgs: &Images, cfg: &Config, ns_log: &Path, sec_log: &Path) -> Command {
    let mut c = Command::new("qemu-system-aarch64");
    let ours = if cfg.ffa { &imgs.flash_ffa } else { &imgs.flash };
    let bios = cfg.bios.clone().unwrap_or_else(|| ours.clone());
    let ns = cfg.ns.clone().unwrap_or_else(|| imgs.harness.clone());
    c.arg("-M")
        .arg(format!("virt,secure=on,virtualization=off,gic-version={}", cfg.gic))
        .args(["-cpu", "cortex-a57", "-m", &(RAM_SIZE >> 20).to_string(), "-smp", &cfg.smp.to_string()])
        .args(["-nographic", "-monitor", "none", "-no-reboot"])
        // No run needs a network card; the default one wants an option ROM
        // (efi-virtio.rom) that QEMU installed without recommends lacks.
        .args(["-nic", "none"])
        .arg("-bios")
        .arg(bios);
    if cfg.extra.is_empty() {
        c.arg("-device").arg(format!("loader,file={},addr={:#x},force-raw=on", ns.display(), cfg.ns_addr));
    }
    c.args(&cfg.extra)
        .arg("-serial")
        .arg(format!("file:{}", ns_log.display()))
        .arg("-serial")
        .arg(format!("file:{}", sec_log.display()));
    if cfg.semihosting {
        // Upstream TF-A on QEMU loads its later stages through semihosting.
        c.args(["-semihosting-config", "enable=on,target=native"]);
    }
    if cfg.bench || cfg.icount {
        c.args(["-icount", "shift=0"]);
    }
    if cfg.bench {
        c.arg("-device").arg(format!(
            "loader,addr={:#x},data={:#x},data-len=4",
            map::HARNESS_MODE_ADDR,
            map::HARNESS_MODE_BENCH
        ));
    } else if cfg.production {
        c.arg("-device").arg(format!(
            "loader,addr={:#x},data={:#x},data-len=4",
            map::HARNESS_MODE_ADDR,
            map::HARNESS_MODE_PRODUCTION
        ));
    }
    if let Some(port) = cfg.gdb {
        c.args(["-gdb", &format!("tcp::{port}"), "-S"]);
    }
    for (addr, value) in &cfg.words {
        c.arg("-device").arg(format!("loader,addr={addr:#x},data={value:#x},data-len=8"));
    }
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// The secure log levels `--log` takes, in `map::SECURE_LOG_ADDR`'s
/// numbering (1 error .. 5 trace).
pub const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// The loader word that sets the secure world's log level at boot.
pub fn log_word(level: &str) -> Result<(u64, u64)> {
    let i = LOG_LEVELS
        .iter()
        .position(|l| l.eq_ignore_ascii_case(level))
        .ok_or_else(|| format!("--log {level:?}: one of {}", LOG_LEVELS.join(", ")))?;
    Ok((map::SECURE_LOG_ADDR, map::SECURE_LOG_MAGIC << 32 | (i as u64 + 1)))
}

/// What to type into gdb-multiarch for a QEMU started with `--gdb PORT`.
pub fn gdb_help(port: u16, test_build: bool) -> String {
    let variant = if test_build { images::Variant::Test } else { images::Variant::Default };
    let os = images::os_elf(variant);
    let os = os.strip_prefix(root()).unwrap_or(&os).display().to_string();
    format!(
        "QEMU waits for the debugger (gdbstub on port {port}). In another terminal, from {root}:\n\
         \x20 gdb-multiarch -q {os} \\\n\
         \x20   -ex 'target remote :{port}' \\\n\
         \x20   -ex 'break oxtee_core::user::crash_report' \\\n\
         \x20   -ex continue\n\
         For a TA (its ELF keeps symbols; its load address is in the `TA <uuid> loaded at` line of\n\
         `--log debug`, or in a crash report's `image` line):\n\
         \x20 (gdb) add-symbol-file ta/target/aarch64-unknown-none/release/<ta> -o <load address>\n\
         \x20 (gdb) break <ta function>\n\
         \x20 (gdb) continue\n\
         See docs/debugging.md.",
        root = root().display()
    )
}

/// Streams new bytes of a log file with a prefix on each line.
struct Tail {
    path: PathBuf,
    pos: u64,
    prefix: &'static str,
    partial: String,
}

impl Tail {
    fn pump(&mut self, out: &mut impl Write) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        if f.seek(SeekFrom::Start(self.pos)).is_err() {
            return;
        }
        let mut buf = Vec::new();
        if f.read_to_end(&mut buf).is_err() {
            return;
        }
        self.pos += buf.len() as u64;
        self.partial.push_str(&String::from_utf8_lossy(&buf));
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            let _ = write!(out, "{}{}", self.prefix, line.trim_end_matches('\r'));
            if !line.ends_with('\n') {
                let _ = writeln!(out);
            }
        }
    }
}

pub fn boot(imgs: &Images, cfg: &Config, show: Show) -> Result<Outcome> {
    let dir = log_dir(cfg);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let ns_log = dir.join("normal.log");
    let sec_log = dir.join("secure.log");
    let _ = std::fs::remove_file(&ns_log);
    let _ = std::fs::remove_file(&sec_log);
    let mut cmd = command(imgs, cfg, &ns_log, &sec_log);
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("starting qemu-system-aarch64: {e} (run `cargo xtask setup`)"))?;
    let mut tails = [
        Tail { path: ns_log.clone(), pos: 0, prefix: "[normal] ", partial: String::new() },
        Tail { path: sec_log.clone(), pos: 0, prefix: "[secure] ", partial: String::new() },
    ];
    let deadline = Duration::from_secs(cfg.timeout_secs);
    let mut timed_out = false;
    let mut killed = false;
    let mut kill_at: Option<Instant> = None;
    let (mut ns_len, mut last_output) = (0, Instant::now());
    let status = loop {
        if show != Show::OnFailure {
            let mut out = std::io::stdout().lock();
            let n = if show == Show::Live { 2 } else { 1 };
            for t in &mut tails[..n] {
                t.pump(&mut out);
            }
        }
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(st);
        }
        let len = std::fs::metadata(&ns_log).map_or(0, |m| m.len());
        if len != ns_len {
            (ns_len, last_output) = (len, Instant::now());
            if let Some((marker, delay)) = &cfg.kill
                && kill_at.is_none()
                && std::fs::read(&ns_log).is_ok_and(|b| String::from_utf8_lossy(&b).contains(marker.as_str()))
            {
                kill_at = Some(Instant::now() + *delay);
            }
        }
        if kill_at.is_some_and(|t| Instant::now() >= t) {
            // Child::kill sends SIGKILL.
            let _ = child.kill();
            let _ = child.wait();
            killed = true;
            break None;
        }
        let silent = cfg.idle_secs.is_some_and(|s| last_output.elapsed() > Duration::from_secs(s));
        if start.elapsed() > deadline || silent {
            if silent {
                eprintln!(
                    "qemu: killed after {} s without normal-world output (hung)",
                    last_output.elapsed().as_secs()
                );
            }
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(if kill_at.is_some() { 2 } else { 20 }));
    };
    if show != Show::OnFailure {
        let mut out = std::io::stdout().lock();
        let n = if show == Show::Live { 2 } else { 1 };
        for t in &mut tails[..n] {
            t.pump(&mut out);
        }
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let secs = start.elapsed().as_secs_f64();
    let clean_exit = status.is_some_and(|s| s.success());
    if !stderr.trim().is_empty() && !clean_exit {
        eprintln!("qemu stderr: {}", stderr.trim());
    }
    if timed_out && start.elapsed() > deadline {
        eprintln!("qemu: killed after {} s (timeout)", cfg.timeout_secs);
    }
    Ok(Outcome {
        ns_log: std::fs::read_to_string(&ns_log).unwrap_or_default(),
        secure_log: std::fs::read_to_string(&sec_log).unwrap_or_default(),
        clean_exit,
        timed_out,
        killed,
        secs,
    })
}

fn tail(s: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

pub fn print_tails(out: &Outcome) {
    eprintln!("---- normal-world console (last 30 lines) ----");
    for l in tail(&out.ns_log, 30) {
        eprintln!("  {l}");
    }
    eprintln!("---- secure console (last 30 lines) ----");
    for l in tail(&out.secure_log, 30) {
        eprintln!("  {l}");
    }
}

/// Incidents the OS logged: (panics, exceptions it aborted a call for).
/// Exceptions include the ones the harness causes on purpose.
pub fn os_incidents(secure_log: &str) -> (u64, u64) {
    let mut panics = 0;
    let mut exceptions = 0;
    for l in secure_log.lines() {
        if l.contains(" PANIC] ") {
            panics += 1;
        } else if l.contains("exception in the OS") {
            exceptions += 1;
        }
    }
    (panics, exceptions)
}

/// A count the harness printed as `key=N` or `harness: N key` (last one).
pub fn harness_figure(log: &str, key: &str) -> Option<u64> {
    log.lines().rev().find_map(|l| {
        let l = l.trim();
        if let Some(rest) = l.strip_prefix("harness: ")
            && let Some(n) = rest.strip_suffix(key).map(str::trim)
        {
            return n.parse().ok();
        }
        l.split_whitespace()
            .find_map(|kv| kv.trim_start_matches('(').strip_prefix(key)?.strip_prefix('=')?.parse().ok())
    })
}

/// OS panics and exceptions nobody asked for: the harness counts the ones
/// it caused on purpose (a stack overflow, injected faults: one panic or
/// exception line each).
pub fn unexpected_incidents(out: &Outcome) -> u64 {
    let (panics, exceptions) = os_incidents(&out.secure_log);
    let deliberate = harness_figure(&out.ns_log, "deliberate OS aborts")
        .or_else(|| harness_figure(&out.ns_log, "deliberate_aborts"))
        .unwrap_or(0);
    (panics + exceptions).saturating_sub(deliberate)
}

/// The harness's closing `harness: N passed, M failed` line.
pub fn harness_tally(log: &str) -> Option<(u64, u64)> {
    log.lines().rev().find_map(|l| {
        let rest = l.trim().strip_prefix("harness: ")?;
        let (p, rest) = rest.split_once(" passed, ")?;
        let f = rest.strip_suffix(" failed")?;
        Some((p.parse().ok()?, f.parse().ok()?))
    })
}

/// A number as `0x...` hex or decimal.
fn log_word_of(level: &str) -> Result<(u64, u64)> {
    log_word(level)
}

fn parse_addr(s: &str) -> Result<u64> {
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => s.replace('_', "").parse(),
    };
    v.map_err(|_| format!("{s:?} is not an address (0x... or decimal)"))
}

/// Where `--add VALUE` puts a file in the guest: `HOST:GUEST` as given;
/// a TA (a signed image, a `.ta` file or a TA ELF) as
/// `/lib/optee_armtz/<uuid>.ta` under the UUID it is signed for, where
/// tee-supplicant looks, or refused if it isn't a signed TA; anything
/// else as a program in `/usr/bin`.
fn added_file(v: &str) -> Result<(PathBuf, String)> {
    if let Some((host, guest)) = v.split_once(':') {
        let host = PathBuf::from(host);
        if !host.is_file() {
            return Err(format!("--add: {} is not a file", host.display()));
        }
        return Ok((host, guest.to_string()));
    }
    let host = PathBuf::from(v);
    let data = std::fs::read(&host).map_err(|e| format!("--add {}: {e}", host.display()))?;
    let name = host.file_name().and_then(|n| n.to_str()).ok_or("bad --add path")?.to_string();
    if !crate::sign::looks_like_ta(&name, &data) {
        return Ok((host, format!("/usr/bin/{name}")));
    }
    let uuid = crate::sign::signed_ta_uuid(&data).map_err(|e| format!("--add {}: {e}", host.display()))?;
    if let Some(why) = crate::sign::os_would_refuse(&data, &uuid) {
        eprintln!("xtask: warning: --add {}: the OS built here will refuse TA {uuid}: {why}", host.display());
    }
    println!("--add {}: TA {uuid}, installed as /lib/optee_armtz/{uuid}.ta", host.display());
    Ok((host, format!("/lib/optee_armtz/{uuid}.ta")))
}

/// A `--ta`/`--host` directory, which must exist.
fn existing_dir(opt: &str, v: &str) -> Result<PathBuf> {
    let p = PathBuf::from(v);
    if p.is_dir() { Ok(p) } else { Err(format!("{opt} {v}: not a directory (a crate's, or a C program's)")) }
}

/// `cargo xtask run`; the exit status xtask should end with (the guest
/// command's, for `run -- CMD`).
pub fn run_cli(args: &[String]) -> Result<u8> {
    let mut cfg = Config::default();
    let mut timeout = None;
    let mut os = None;
    let mut harness = false;
    let mut test_build = false;
    let (mut ns, mut ns_addr) = (None, None);
    let mut guest_cmd: Option<Vec<String>> = None;
    let mut store: Option<PathBuf> = None;
    let mut kernel: Option<PathBuf> = None;
    let mut added: Vec<(PathBuf, &'static str)> = Vec::new();
    // Crates and C programs to build and install (`--ta`, `--host`,
    // `--example`).
    let (mut ta_dirs, mut host_dirs): (Vec<PathBuf>, Vec<PathBuf>) = (Vec::new(), Vec::new());
    let mut example_cmd = None;
    let mut log_word = None;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{}", crate::USAGE);
                return Ok(0);
            }
            "--smp" => cfg.smp = val()?.parse().map_err(|_| "bad --smp")?,
            "--gic" => cfg.gic = val()?.parse().map_err(|_| "bad --gic")?,
            "--timeout" => timeout = Some(val()?.parse().map_err(|_| "bad --timeout")?),
            "--os" => os = Some(PathBuf::from(val()?)),
            "--harness" => harness = true,
            "--test-build" => test_build = true,
            "--ffa" => cfg.ffa = true,
            "--store" => store = Some(PathBuf::from(val()?)),
            "--kernel" => kernel = Some(PathBuf::from(val()?)),
            "--add" => {
                let (host, guest) = added_file(&val()?)?;
                // The guest path must live as long as the file list.
                added.push((host, Box::leak(guest.into_boxed_str())));
            }
            "--ta" => ta_dirs.push(existing_dir("--ta", &val()?)?),
            "--host" => host_dirs.push(existing_dir("--host", &val()?)?),
            "--example" => {
                let name = val()?;
                let dir = crate::examples::dir().join(&name);
                let known = crate::examples::names()?;
                if !known.contains(&name) {
                    return Err(format!("--example {name}: no such example (examples/: {})", known.join(", ")));
                }
                // Its TAs (`ta`, and `ta-<what>` for more, as ta2ta's
                // callee), then its clients.
                for (sub, _) in crate::examples::ta_crates(&name) {
                    ta_dirs.push(crate::examples::dir().join(sub));
                }
                for sub in ["host", "host-c"] {
                    if dir.join(sub).is_dir() {
                        host_dirs.push(dir.join(sub));
                    }
                }
                example_cmd = Some(vec![format!("example-{name}")]);
            }
            "--bios" => {
                cfg.bios = Some(PathBuf::from(val()?));
                cfg.semihosting = true;
                harness = true;
            }
            "--ns" => {
                ns = Some(PathBuf::from(val()?));
                harness = true;
            }
            "--ns-addr" => ns_addr = Some(parse_addr(&val()?)?),
            "--log" => log_word = Some(log_word_of(&val()?)?),
            "--gdb" => {
                let port = match it.peek() {
                    Some(p) if !p.starts_with('-') => {
                        let p = it.next().cloned().unwrap_or_default();
                        p.parse().map_err(|_| format!("--gdb {p:?}: a TCP port"))?
                    }
                    _ => 1234,
                };
                cfg.gdb = Some(port);
            }
            "--" => {
                let cmd: Vec<String> = it.by_ref().cloned().collect();
                if cmd.is_empty() {
                    return Err("-- needs a command to run in the guest".into());
                }
                guest_cmd = Some(cmd);
            }
            other => return Err(format!("unknown option {other} (see cargo xtask run --help)")),
        }
    }
    // `--example NAME` runs `example-NAME` unless a command is given.
    if guest_cmd.is_none() {
        guest_cmd = example_cmd;
    }
    let builds = !ta_dirs.is_empty() || !host_dirs.is_empty();
    if !(1..=oxtee_platform::MAX_CPUS as u32).contains(&cfg.smp) || !(2..=3).contains(&cfg.gic) {
        return Err("--smp must be 1..=8 and --gic 2 or 3".into());
    }
    if harness && (guest_cmd.is_some() || !added.is_empty() || builds || store.is_some() || kernel.is_some()) {
        return Err("--add, --ta, --host, --example, --store, --kernel and `-- CMD` are for the Linux guest; not \
                    with --harness, --ns or --bios"
            .into());
    }
    if cfg.ffa
        && kernel.is_none()
        && (cfg.bios.is_some() || guest_cmd.is_some() || !added.is_empty() || builds || store.is_some())
    {
        return Err("--ffa boots our monitor and OS with the harness, an --ns payload, or a --kernel FILE with the \
                    FF-A transport (Debian's kernel has none)"
            .into());
    }
    // Debian's kernel does not speak FF-A: without --kernel, --ffa boots the
    // harness unless --ns names a payload.
    harness |= cfg.ffa && kernel.is_none();
    let linux_kernel = crate::linux::Kernel { image: kernel, ffa: cfg.ffa };
    if let Some(k) = &linux_kernel.image {
        crate::linux::kernel_image(k)?;
    }
    if ns_addr.is_some() && ns.is_none() {
        return Err("--ns-addr places the --ns payload; give --ns FILE too".into());
    }
    crate::setup::ensure(false)?;
    // The user's TAs and programs, built before anything of ours so that
    // their build errors come first. The guest paths live as long as the
    // file list.
    for d in &ta_dirs {
        let (uuid, signed) = crate::examples::build_ta(d)?;
        added.push((signed, Box::leak(format!("/lib/optee_armtz/{uuid}.ta").into_boxed_str())));
    }
    for d in &host_dirs {
        for bin in crate::examples::build_host(d)? {
            let name = bin.file_name().and_then(|n| n.to_str()).ok_or("program name")?.to_string();
            added.push((bin, Box::leak(format!("/usr/bin/{name}").into_boxed_str())));
        }
    }
    if let Some(w) = log_word {
        cfg.words.push(w);
    }
    if cfg.gdb.is_some() {
        // A debugging session lasts as long as it takes.
        timeout = Some(timeout.unwrap_or(24 * 3600));
    }
    let ns_boot = match &ns {
        Some(file) => {
            let p = images::ns_payload(file, ns_addr, RAM_SIZE)?;
            cfg.ns = Some(p.file);
            cfg.ns_addr = p.load;
            images::NsBoot { entry: p.entry, dtb: map::NS_DTB_ADDR }
        }
        None => images::HARNESS_BOOT,
    };
    let variant = if test_build { images::Variant::Test } else { images::Variant::Default };
    let imgs = images::build_variant(variant, os.as_deref(), ns_boot)?;
    if let Some(port) = cfg.gdb {
        println!("{}", gdb_help(port, test_build));
    }
    if !harness {
        let mut extra = crate::linux::guest_binaries()?;
        // Added files replace ours at the same guest path.
        extra.retain(|(_, g)| !added.iter().any(|(_, a)| a == g));
        extra.extend(added);
        let Some(cmd) = guest_cmd else {
            return crate::linux::interactive(&imgs, &cfg, &linux_kernel, &extra, store.as_deref()).map(|()| 0);
        };
        let b = crate::linux::Boot {
            show: Show::Live,
            store,
            kernel: linux_kernel,
            words: cfg.words.clone(),
            gdb: cfg.gdb,
            // target/qemu/run/secure.log, where the README's `symbolize` line looks.
            name: Some("run".into()),
            ..crate::linux::Boot::new(cfg.smp, cfg.gic, timeout.unwrap_or(120))
        };
        let mode = crate::linux::Mode::Command(crate::linux::shell_words(&cmd));
        let out = crate::linux::boot(&imgs, &b, &mode, &extra)?;
        let crashes = out.secure_log.lines().filter(|l| l.contains(" killed: ") || l.contains("] OS crash")).count();
        if crashes > 0 {
            eprintln!(
                "xtask: {crashes} crash report(s) in the secure log; function names and lines: \
                 cargo xtask symbolize target/qemu/run/secure.log"
            );
        }
        return match crate::linux::command_status(&out.ns_log) {
            Some(0) if out.clean_exit => Ok(0),
            Some(0) => Err("the guest did not power off cleanly".into()),
            Some(status) => {
                eprintln!("xtask: the guest command exited with status {status}");
                Ok(status)
            }
            None if out.timed_out => {
                Err(format!("the guest command did not finish in {} s (--timeout SECS)", b.timeout))
            }
            None => Err("the guest reported no exit status for the command".into()),
        };
    }
    cfg.timeout_secs = timeout.unwrap_or(cfg.timeout_secs);
    cfg.name = "run".into();
    println!(
        "booting: QEMU virt secure=on, {} CPU(s), GICv{}{}; normal UART -> [normal], secure UART -> [secure]",
        cfg.smp,
        cfg.gic,
        if cfg.ffa { ", FF-A (SPMD + S-EL1 SPMC)" } else { "" }
    );
    let out = boot(&imgs, &cfg, Show::Live)?;
    println!(
        "QEMU exited after {:.1} s ({})",
        out.secs,
        if out.clean_exit { "powered off" } else { "did not power off" }
    );
    if out.timed_out || !out.clean_exit {
        print_tails(&out);
        return Err("the system did not shut down cleanly".into());
    }
    if let Some((_, f)) = harness_tally(&out.ns_log)
        && f > 0
    {
        return Err(format!("{f} harness checks failed"));
    }
    Ok(0)
}

/// Streams a growing log file to stderr with a prefix, forever (for a
/// detached thread next to an interactive QEMU).
pub fn follow(path: &Path, prefix: &'static str) {
    let mut t = Tail { path: path.to_path_buf(), pos: 0, prefix, partial: String::new() };
    loop {
        t.pump(&mut std::io::stderr().lock());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_subtract_deliberate_aborts() {
        let sec = "[os c0 E] exception in the OS (data abort): ESR 0x96000006\n\
                   [os c1 E] exception in the OS (data abort) on a trusted thread: ESR 0x96000046\n\
                   [os c0 PANIC] boom\n[os c0 I] fine\n";
        assert_eq!(os_incidents(sec), (1, 2));
        let out = |ns: &str| Outcome {
            ns_log: ns.into(),
            secure_log: sec.into(),
            clean_exit: true,
            timed_out: false,
            killed: false,
            secs: 0.0,
        };
        // Deliberate aborts (stack overflows, injected panics) cover
        // either kind of line.
        assert_eq!(unexpected_incidents(&out("harness: 2 deliberate OS aborts\n")), 1);
        assert_eq!(unexpected_incidents(&out("harness: 3 deliberate OS aborts\n")), 0);
        assert_eq!(unexpected_incidents(&out("hostile: progress smcs=9 deliberate_aborts=1 x=2\n")), 2);
        assert_eq!(unexpected_incidents(&out("")), 3);
        assert_eq!(harness_figure("a smcs=5 b\nsmcs=7\n", "smcs"), Some(7));
        assert_eq!(harness_figure("x (smcs=8 y=1)\n", "smcs"), Some(8));
    }

    #[test]
    fn tally_reads_the_last_harness_line() {
        assert_eq!(harness_tally("x\nharness: 12 passed, 0 failed\n"), Some((12, 0)));
        assert_eq!(harness_tally("harness: 1 passed, 2 failed\r\n"), Some((1, 2)));
        assert_eq!(harness_tally("harness: lots passed, 0 failed"), None);
        assert_eq!(harness_tally(""), None);
    }

    #[test]
    fn log_levels_become_the_word_the_os_reads() {
        for (i, name) in LOG_LEVELS.iter().enumerate() {
            let (addr, word) = log_word(name).unwrap();
            assert_eq!(addr, map::SECURE_LOG_ADDR);
            assert_eq!(map::secure_log_level(word), Some(i as u8 + 1));
        }
        assert_eq!(log_word("DEBUG").unwrap(), log_word("debug").unwrap());
        assert!(log_word("verbose").is_err());
        // Whatever else lies there keeps the default.
        for junk in
            [0, 4, map::SECURE_LOG_MAGIC << 32, map::SECURE_LOG_MAGIC << 32 | 6, map::SECURE_LOG_MAGIC << 32 | 0x104]
        {
            assert_eq!(map::secure_log_level(junk), None, "{junk:#x}");
        }
    }

    #[test]
    fn addresses_parse_as_hex_or_decimal() {
        assert_eq!(parse_addr("0x6000_0000"), Ok(0x6000_0000));
        assert_eq!(parse_addr("0X40200000"), Ok(0x4020_0000));
        assert_eq!(parse_addr("1075838976"), Ok(0x4020_0000));
        assert!(parse_addr("0x").is_err());
        assert!(parse_addr("sixty").is_err());
    }

    #[test]
    fn run_options_are_checked_before_anything_is_built() {
        let run = |a: &[&str]| run_cli(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(run(&["--help"]), Ok(0));
        assert_eq!(run(&["--smp", "2", "-h"]), Ok(0));
        assert!(run(&["--bogus"]).unwrap_err().contains("unknown option --bogus"));
        assert!(run(&["--"]).unwrap_err().contains("needs a command"));
        assert!(run(&["--ns-addr", "0x60000000"]).unwrap_err().contains("give --ns FILE"));
        assert!(run(&["--harness", "--", "true"]).unwrap_err().contains("for the Linux guest"));
        assert!(run(&["--harness", "--store", "/tmp/x"]).unwrap_err().contains("for the Linux guest"));
        assert!(run(&["--smp", "9"]).is_err());
        assert!(run(&["--add", "/nonexistent/my.ta"]).unwrap_err().contains("/nonexistent/my.ta"));
        assert!(run(&["--harness", "--kernel", "/tmp/Image"]).unwrap_err().contains("for the Linux guest"));
        assert!(run(&["--ta", "/nonexistent/ta"]).unwrap_err().contains("not a directory"));
        assert!(run(&["--host", "/nonexistent/host"]).unwrap_err().contains("not a directory"));
        assert!(run(&["--example", "no_such"]).unwrap_err().contains("hello_world"));
        assert!(run(&["--harness", "--example", "hello_world"]).unwrap_err().contains("for the Linux guest"));
        assert!(run(&["--ffa", "--", "true"]).unwrap_err().contains("--kernel FILE"));
        assert!(run(&["--ffa", "--kernel", "/nonexistent/Image"]).unwrap_err().contains("/nonexistent/Image"));
        let not_image = std::env::temp_dir().join(format!("oxtee-kernel-test-{}", std::process::id()));
        std::fs::write(&not_image, [0x1f, 0x8b, 8, 0]).unwrap();
        let e = run(&["--ffa", "--kernel", not_image.to_str().unwrap(), "--", "true"]).unwrap_err();
        let _ = std::fs::remove_file(&not_image);
        assert!(e.contains("not an arm64 kernel Image"), "{e}");
    }

    #[test]
    fn added_files_go_where_the_guest_looks() {
        let dir = std::env::temp_dir().join(format!("oxtee-add-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let prog = dir.join("my_client");
        std::fs::write(&prog, b"\x7fELF not a TA, a client program").unwrap();
        assert_eq!(added_file(prog.to_str().unwrap()).unwrap().1, "/usr/bin/my_client");
        let explicit = format!("{}:/etc/x.conf", prog.display());
        assert_eq!(added_file(&explicit).unwrap().1, "/etc/x.conf");
        // A .ta that isn't a signed image is refused, not installed where
        // nothing finds it.
        let fake = dir.join("my.ta");
        std::fs::write(&fake, b"hello").unwrap();
        assert!(added_file(fake.to_str().unwrap()).unwrap_err().contains("not a signed TA"));
        // A signed TA goes in under its UUID, whatever the file is called;
        // its unsigned ELF is refused with the command that signs it.
        use crate::sign::tests::{dev_key_path, elf_with_ta_head};
        let uuid = oxtee_abi::uuid::Uuid::new(0xd0c0_ffee, 0, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, 1]);
        let elf = elf_with_ta_head(&uuid);
        let signed = dir.join("my.ta");
        std::fs::write(&signed, crate::sign::sign_ta(&elf, &dev_key_path()).unwrap()).unwrap();
        let want = "/lib/optee_armtz/d0c0ffee-0000-4000-8000-000000000001.ta";
        assert_eq!(added_file(signed.to_str().unwrap()).unwrap().1, want);
        let unsigned = dir.join("my_ta");
        std::fs::write(&unsigned, &elf).unwrap();
        let e = added_file(unsigned.to_str().unwrap()).unwrap_err();
        assert!(e.contains("unsigned TA ELF") && e.contains("cargo xtask sign-ta"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
