//! Secure storage across power cuts, reboots and tampering, in QEMU, on a
//! store kept on the host (`run --store`, see `linux::store_args`).
//!
//! Per supplicant stack (ours, Debian's tee-supplicant 3.19), on a fresh
//! store:
//! 1. boot 1 runs the storage test TA's write loop (and a plain file
//!    appended with fsync, the store's own durability probe) and QEMU is
//!    killed (SIGKILL: a power cut) at a pseudo-random moment;
//! 2. boot 2 verifies every object (a whole record, generations in the
//!    loop's order, none older than the last generation the guest saw
//!    completed) and writes on until it is killed again;
//! 3. boot 3 verifies again and writes two more generations, then powers
//!    off cleanly.
//!
//! Then, with our stack (whose emulated RPMB outlives the guest, so a
//! rollback can be detected), on the same store:
//! 4. the host flips a byte in one object file, swaps two others,
//!    truncates one and deletes one; boot 4 opens and reads each object:
//!    exactly those give `TEE_ERROR_CORRUPT_OBJECT` or `TEE_ERROR_SECURITY`
//!    (the deleted one `TEE_ERROR_ITEM_NOT_FOUND` or one of those), the
//!    others their last generation; then the loop writes a generation
//!    over all of them and verifies;
//! 5. the host puts back the copy of the store taken before boot 3 (all
//!    but the RPMB file: that is the device); boot 5 must refuse every
//!    object (corrupt or security error), none may come back stale.
//!
//! In every boot the OS must not panic and the guest must not crash.

use crate::images::Images;
use crate::linux::{self, Boot, Mode};
use crate::qemu::{self, Outcome};
use crate::{Result, root};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Objects of the write loop, and their record size (several 4 KiB
/// blocks, not a multiple of it).
const OBJECTS: u32 = 8;
const RECORD: u32 = 9000;

/// What the guest's storage commands answer.
const CORRUPT: u32 = 0xF010_0001;
const SECURITY: u32 = 0xFFFF_000F;
const NOT_FOUND: u32 = 0xFFFF_0008;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stack {
    /// oxtee-supplicant (emulated RPMB in `<store>/rpmb.bin`).
    Ours,
    /// Debian's tee-supplicant 3.19 (RPMB emulated in its memory only).
    Debian,
}

impl Stack {
    fn name(self) -> &'static str {
        match self {
            Stack::Ours => "oxtee-supplicant",
            Stack::Debian => "Debian tee-supplicant",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Stack::Ours => "ours",
            Stack::Debian => "debian",
        }
    }

    /// Shell lines that leave this stack's supplicant serving (the guest
    /// starts ours before every command).
    fn start(self) -> &'static str {
        match self {
            Stack::Ours => "",
            Stack::Debian => concat!(
                "killall oxtee-supplicant; i=0; ",
                "while pidof oxtee-supplicant >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; ",
                "tee-supplicant -d; sleep 0.2; "
            ),
        }
    }
}

/// A small deterministic generator (xorshift64*), seeded per run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// The seed: `OXTEE_STORAGE_SEED` if set, else from the clock (printed,
/// so a failing run can be repeated).
pub fn seed() -> Result<u64> {
    match std::env::var("OXTEE_STORAGE_SEED") {
        Ok(s) => s.trim().parse().map_err(|_| format!("OXTEE_STORAGE_SEED={s}: want a decimal number")),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_007)),
    }
}

/// Checks of one run, printed as they are made.
#[derive(Default)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    fn check(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            println!("  FAIL {what}: {detail}");
        }
    }
}

/// The last generation the guest reported complete in this boot
/// (`storage-loop: generation N`).
fn last_generation(log: &str) -> Option<u32> {
    log.lines().rev().find_map(|l| {
        let rest = &l[l.find("storage-loop: generation ")? + "storage-loop: generation ".len()..];
        rest.trim().parse().ok()
    })
}

/// `storage-verify: ok generations HI..LO present P first-lower F`.
#[derive(Debug, PartialEq, Eq)]
struct Verified {
    highest: u32,
    lowest: u32,
    present: u32,
}

fn verified(log: &str) -> std::result::Result<Verified, String> {
    let line = log.lines().rev().find(|l| l.contains("storage-verify: ")).ok_or("no storage-verify line")?;
    let rest = line[line.find("storage-verify: ").unwrap_or(0) + "storage-verify: ".len()..].trim();
    let bad = || rest.to_string();
    let kv = rest.strip_prefix("ok generations ").ok_or_else(bad)?;
    let mut w = kv.split_whitespace();
    let (hi, lo) = w.next().and_then(|g| g.split_once("..")).ok_or_else(bad)?;
    let present = match (w.next(), w.next()) {
        (Some("present"), Some(p)) => p.parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    Ok(Verified { highest: hi.parse().map_err(|_| bad())?, lowest: lo.parse().map_err(|_| bad())?, present })
}

/// `storage-check: wl-<i> <code> gen=<G|->` lines: (index, code, generation).
fn checked(log: &str) -> Vec<(u32, u32, Option<u32>)> {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find("storage-check: wl-")? + "storage-check: wl-".len()..];
            let mut w = rest.split_whitespace();
            let i = w.next()?.parse().ok()?;
            let code = u32::from_str_radix(w.next()?.trim_start_matches("0x"), 16).ok()?;
            let g = w.next()?.strip_prefix("gen=")?.parse().ok();
            Some((i, code, g))
        })
        .collect()
}

/// The probe's last number the guest printed, and the last whole line of
/// the probe file on the host.
fn probe_figures(log: &str, store: &Path) -> (Option<u64>, Option<u64>) {
    let printed =
        log.lines().rev().find_map(|l| l[l.find("probe: ")? + "probe: ".len()..].trim_end().parse::<u64>().ok());
    let stored = std::fs::read_to_string(store.join("probe")).ok().and_then(|s| {
        let whole = &s[..s.rfind('\n').map_or(0, |i| i + 1)];
        whole.lines().next_back().and_then(|l| l.trim().parse().ok())
    });
    (printed, stored)
}

/// The object files in a store: `<32 hex>/<64 hex>`.
pub fn object_files(store: &Path) -> Vec<PathBuf> {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let mut out = Vec::new();
    for d in std::fs::read_dir(store).into_iter().flatten().flatten() {
        let name = d.file_name().to_string_lossy().to_string();
        if !hex(&name, 32) || !d.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
            if hex(&f.file_name().to_string_lossy(), 64) && f.path().is_file() {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path, skip: &str) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for e in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?.flatten() {
        if e.file_name() == skip {
            continue;
        }
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dst, "")?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// Replaces everything in `store` but the RPMB file with `old`'s copy.
fn restore(store: &Path, old: &Path) -> Result {
    for e in std::fs::read_dir(store).map_err(|e| e.to_string())?.flatten() {
        if e.file_name() == "rpmb.bin" {
            continue;
        }
        let p = e.path();
        let r = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        r.map_err(|e| format!("{}: {e}", p.display()))?;
    }
    copy_dir(old, store, "rpmb.bin")
}

/// The engine's object file (docs/storage.md): two header slots of S
/// bytes (S = 2^byte 6 of the first, after the magic `OXTS`), then 4 KiB
/// data blocks. Returns S.
fn slot_size(data: &[u8]) -> Option<u64> {
    let shift = *data.get(6)?;
    (data.starts_with(b"OXTS") && (12..=27).contains(&shift)).then(|| 1u64 << shift)
}

/// The host's tampering, on five distinct object files picked by `rng`:
/// - one bit flipped at a random place in every data block of one file
///   (a flip in a block the header no longer references, or in the
///   older header slot, changes nothing a reader sees: these hit the
///   object's live data wherever it is);
/// - two files swapped;
/// - one file cut at a random length within its header slots (its data
///   is gone);
/// - one file deleted.
///
/// Returns a description.
pub fn tamper(files: &[PathBuf], rng: &mut Rng) -> Result<String> {
    if files.len() < 5 {
        return Err(format!("{} object files, want at least 5", files.len()));
    }
    let mut pick: Vec<usize> = (0..files.len()).collect();
    for i in (1..pick.len()).rev() {
        pick.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let [flip, a, b, cut, gone] = [pick[0], pick[1], pick[2], pick[3], pick[4]].map(|i| &files[i]);
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let format =
        |p: &Path| format!("{}: not an object file of the format tamper() knows (docs/storage.md)", p.display());
    let mut data = std::fs::read(flip).map_err(|e| io(flip, e))?;
    let slot = slot_size(&data).ok_or_else(|| format(flip))?;
    let mut flipped = 0;
    let mut at = 2 * slot as usize;
    while at < data.len() {
        let end = (at + 4096).min(data.len());
        let i = at + rng.below((end - at) as u64) as usize;
        data[i] ^= 1 << rng.below(8);
        flipped += 1;
        at = end;
    }
    if flipped == 0 {
        return Err(format!("{}: no data block to flip a bit in", flip.display()));
    }
    std::fs::write(flip, &data).map_err(|e| io(flip, e))?;
    let tmp = a.with_extension("swap");
    std::fs::rename(a, &tmp).map_err(|e| io(a, e))?;
    std::fs::rename(b, a).map_err(|e| io(b, e))?;
    std::fs::rename(&tmp, b).map_err(|e| io(b, e))?;
    let head = std::fs::read(cut).map_err(|e| io(cut, e))?;
    let slot = slot_size(&head).ok_or_else(|| format(cut))?;
    let len = rng.below(2 * slot + 1);
    std::fs::OpenOptions::new().write(true).open(cut).and_then(|f| f.set_len(len)).map_err(|e| io(cut, e))?;
    std::fs::remove_file(gone).map_err(|e| io(gone, e))?;
    let short = |p: &Path| p.file_name().map_or(String::new(), |n| n.to_string_lossy()[..8].to_string());
    Ok(format!(
        "flipped a bit in each of the {flipped} data blocks of {}, swapped {} and {}, cut {} ({} bytes) to {len} bytes, deleted {}",
        short(flip),
        short(a),
        short(b),
        short(cut),
        head.len(),
        short(gone)
    ))
}

struct Ctx<'a> {
    imgs: &'a Images,
    extra: &'a [(PathBuf, &'a str)],
    store: PathBuf,
    stack: Stack,
    tally: Tally,
    boots: u32,
}

impl Ctx<'_> {
    /// Boots with the store and runs `cmd` after the stack's supplicant
    /// is serving; kills QEMU `kill` after the first completed generation.
    fn boot(&mut self, cmd: &str, kill: Option<Duration>) -> Result<Outcome> {
        self.boots += 1;
        let failed_before = self.tally.failed;
        let b = Boot {
            store: Some(self.store.clone()),
            kill: kill.map(|d| ("storage-loop: generation ".to_string(), d)),
            name: Some(format!("storage-{}-{}", self.stack.tag(), self.boots)),
            ..Boot::new(1, 3, 120)
        };
        let out = linux::boot(self.imgs, &b, &Mode::Command(format!("{}{cmd}", self.stack.start())), self.extra)?;
        let what = format!("{} boot {}", self.stack.name(), self.boots);
        let (panics, exceptions) = qemu::os_incidents(&out.secure_log);
        self.tally.check(
            panics + exceptions == 0,
            &format!("{what}: no OS panic"),
            format!("{panics} panics, {exceptions} exceptions"),
        );
        self.tally.check(
            !out.ns_log.contains("Kernel panic") && !out.ns_log.contains("Internal error:"),
            &format!("{what}: no guest kernel crash"),
            "see target/qemu",
        );
        self.tally.check(!out.ns_log.contains("FAIL store"), &format!("{what}: store mounted"), "9p mount failed");
        if kill.is_some() {
            self.tally.check(out.killed, &format!("{what}: killed inside the write loop"), "the loop never ran");
        } else {
            self.tally.check(
                out.clean_exit && linux::command_status(&out.ns_log) == Some(0),
                &format!("{what}: commands succeeded, clean power-off"),
                format!("status {:?}", linux::command_status(&out.ns_log)),
            );
        }
        if self.tally.failed > failed_before {
            qemu::print_tails(&out);
        }
        Ok(out)
    }

    fn verify_after(&mut self, out: &Outcome, done_before: Option<u32>, what: &str) {
        match verified(&out.ns_log) {
            Ok(v) => {
                let floor = done_before.unwrap_or(0);
                let ok = v.lowest >= floor && v.highest <= floor + 1 && (floor == 0 || v.present == OBJECTS);
                self.tally.check(
                    ok,
                    &format!(
                        "{}: {what}: every object whole, none older than the last completed generation",
                        self.stack.name()
                    ),
                    format!("{v:?}, last generation reported complete before: {floor}"),
                );
                println!(
                    "  {}: {what}: generations {}..{} on {} objects (last completed before the cut: {floor})",
                    self.stack.name(),
                    v.lowest,
                    v.highest,
                    v.present
                );
            }
            Err(e) => self.tally.check(false, &format!("{}: {what}: verify", self.stack.name()), e),
        }
    }
}

/// The loop with the probe beside it, for a boot that ends in a power cut
/// (a brace group, so it can follow `&&`).
fn loop_cmd() -> String {
    format!(
        "{{ (i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo $i >> /var/lib/tee/probe && sync /var/lib/tee/probe \
         && echo \"probe: $i\"; sleep 0.05; done) & oxtee-xtest storage-loop ree {OBJECTS} 0 {RECORD}; }}"
    )
}

/// One stack's reboot case (boots 1-3); with `tamper`, boots 4 and 5.
fn run_stack(imgs: &Images, extra: &[(PathBuf, &str)], stack: Stack, rng: &mut Rng, tamper_too: bool) -> Result<Tally> {
    let store = root().join("target/storage-test").join(stack.tag());
    let _ = std::fs::remove_dir_all(&store);
    let old = store.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    let mut c = Ctx { imgs, extra, store: store.clone(), stack, tally: Tally::default(), boots: 0 };
    // Boot 1: write until the power goes.
    let cut = Duration::from_millis(200 + rng.below(1500));
    let out = c.boot(&loop_cmd(), Some(cut))?;
    let done1 = last_generation(&out.ns_log);
    let (printed, stored) = probe_figures(&out.ns_log, &store);
    c.tally.check(
        printed.is_some() && stored >= printed,
        &format!("{}: boot 1: what the guest wrote with fsync survived the cut", stack.name()),
        format!("guest printed {printed:?}, the host has {stored:?}"),
    );
    println!(
        "  {}: boot 1 killed {} ms after the first generation: {} generations complete, probe {printed:?}/{stored:?}",
        stack.name(),
        cut.as_millis(),
        done1.unwrap_or(0)
    );
    c.tally.check(done1.is_some(), &format!("{}: boot 1: the write loop ran", stack.name()), "no generation completed");
    // Boot 2: verify, write on, cut again.
    let cut = Duration::from_millis(100 + rng.below(1500));
    let out = c.boot(&format!("oxtee-xtest storage-verify ree {OBJECTS} && {}", loop_cmd()), Some(cut))?;
    c.verify_after(&out, done1, "boot 2");
    let done2 = last_generation(&out.ns_log);
    copy_dir(&store, &old, "")?;
    // Boot 3: verify, two more generations, clean power-off.
    let cmd = format!("oxtee-xtest storage-verify ree {OBJECTS} && oxtee-xtest storage-loop ree {OBJECTS} 2 {RECORD}");
    let out = c.boot(&cmd, None)?;
    c.verify_after(&out, done2.or(done1), "boot 3");
    let done3 = last_generation(&out.ns_log);
    if !tamper_too {
        return Ok(c.tally);
    }
    // Boot 4: tampered files.
    let files = object_files(&store);
    c.tally.check(
        files.len() == OBJECTS as usize,
        &format!("{}: one file per object in the store", stack.name()),
        format!("{} object files for {OBJECTS} objects", files.len()),
    );
    let what = tamper(&files, rng)?;
    println!("  {}: tampering: {what}", stack.name());
    let cmd = format!("oxtee-xtest storage-check {OBJECTS} {RECORD} && oxtee-xtest storage-verify ree {OBJECTS}");
    let out = c.boot(&cmd, None)?;
    let rows = checked(&out.ns_log);
    let bad = rows.iter().filter(|r| r.1 == CORRUPT || r.1 == SECURITY).count();
    let missing = rows.iter().filter(|r| r.1 == NOT_FOUND).count();
    let good = rows.iter().filter(|r| r.1 == 0 && r.2 == done3).count();
    c.tally.check(
        rows.len() == OBJECTS as usize && good == OBJECTS as usize - 5 && bad + missing == 5 && missing <= 1,
        &format!("{}: boot 4: the five tampered objects refused, the others intact", stack.name()),
        format!("{rows:x?}"),
    );
    println!("  {}: boot 4: {bad} corrupt/security, {missing} not found, {good} intact", stack.name());
    c.tally.check(
        verified(&out.ns_log).is_ok(),
        &format!(
            "{}: boot 4: the store usable after the tampering (every object written anew, verified)",
            stack.name()
        ),
        "see the log",
    );
    // Boot 5: the whole store rolled back (RPMB kept).
    restore(&store, &old)?;
    let out = c.boot(&format!("oxtee-xtest storage-check {OBJECTS}"), None)?;
    let rows = checked(&out.ns_log);
    let refused = rows.iter().filter(|r| r.1 == CORRUPT || r.1 == SECURITY).count();
    c.tally.check(
        rows.len() == OBJECTS as usize && refused == rows.len(),
        &format!("{}: boot 5: an old copy of the store refused (rollback)", stack.name()),
        format!("{rows:x?}"),
    );
    println!("  {}: boot 5 (rollback): {refused} of {} objects refused", stack.name(), rows.len());
    Ok(c.tally)
}

/// Every case, both stacks: (passed, failed).
pub fn run(imgs: &Images, extra: &[(PathBuf, &str)]) -> Result<(u64, u64)> {
    let seed = seed()?;
    println!("  seed {seed} (OXTEE_STORAGE_SEED={seed} repeats it)");
    let mut rng = Rng::new(seed);
    let (mut p, mut f) = (0, 0);
    for (stack, tamper) in [(Stack::Ours, true), (Stack::Debian, false)] {
        let t = run_stack(imgs, extra, stack, &mut rng, tamper)?;
        println!("  {}: {} passed, {} failed", stack.name(), t.passed, t.failed);
        p += t.passed;
        f += t.failed;
    }
    Ok((p, f))
}

/// `cargo xtask storage-test`: only these boots.
pub fn run_cli() -> Result {
    crate::setup::ensure(false)?;
    let imgs = crate::images::build_test()?;
    let extra = linux::guest_binaries()?;
    let (p, f) = run(&imgs, &extra)?;
    println!("storage: {p} passed, {f} failed");
    if f > 0 { Err(format!("{f} storage checks failed")) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_lines_parse() {
        let log = "[ 1.0] storage-loop: generation 3\r\nstorage-loop: generation 4\nx\n";
        assert_eq!(last_generation(log), Some(4));
        assert_eq!(last_generation("storage-loop: FAIL 0xf0100001"), None);
        let v = verified("storage-verify: ok generations 5..4 present 8 first-lower 2\r\n").unwrap();
        assert_eq!(v, Verified { highest: 5, lowest: 4, present: 8 });
        assert!(verified("storage-verify: FAIL 0xf0100001").is_err());
        assert!(verified("").is_err());
        let rows = checked(
            "storage-check: wl-0 0x00000000 gen=7\nstorage-check: wl-1 0xf0100001 gen=-\nstorage-check: done\n",
        );
        assert_eq!(rows, vec![(0, 0, Some(7)), (1, CORRUPT, None)]);
    }

    #[test]
    fn tampering_touches_five_files_as_described() {
        let dir = std::env::temp_dir().join(format!("oxtee-tamper-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ta = dir.join("0123456789abcdef0123456789abcdef");
        std::fs::create_dir_all(&ta).unwrap();
        std::fs::create_dir_all(dir.join("not-a-ta-dir")).unwrap();
        std::fs::write(dir.join("rpmb.bin"), b"rpmb").unwrap();
        let mut want = Vec::new();
        const LEN: usize = 2 * 4096 + 3 * 4096 - 100;
        for i in 0..8u8 {
            let name = format!("{:064x}", i as u64 + 1);
            let mut f = vec![i; LEN];
            f[..8].copy_from_slice(b"OXTS\x01\x00\x0c\x00");
            std::fs::write(ta.join(&name), &f).unwrap();
            want.push(f);
        }
        std::fs::write(ta.join("short"), b"x").unwrap();
        let files = object_files(&dir);
        assert_eq!(files.len(), 8);
        let old = dir.with_extension("old");
        copy_dir(&dir, &old, "").unwrap();
        tamper(&files, &mut Rng::new(7)).unwrap();
        let now: Vec<Option<Vec<u8>>> = files.iter().map(|f| std::fs::read(f).ok()).collect();
        assert_eq!(now.iter().filter(|d| d.is_none()).count(), 1, "one deleted");
        let same = now.iter().zip(&want).filter(|(n, w)| n.as_ref() == Some(*w)).count();
        assert_eq!(same, 3, "five of eight changed");
        assert_eq!(now.iter().flatten().filter(|d| d.len() <= 2 * 4096).count(), 1, "one cut within its headers");
        let flipped = |d: &Vec<u8>| {
            d.len() == LEN
                && d[..2 * 4096] == want.iter().find(|w| w[100] == d[100]).unwrap()[..2 * 4096]
                && d[2 * 4096..].chunks(4096).all(|c| c.iter().filter(|b| **b != d[8]).count() == 1)
        };
        assert_eq!(now.iter().flatten().filter(|d| flipped(d)).count(), 1, "a bit flipped in each data block");
        // Putting back the old copy keeps the current RPMB file.
        std::fs::write(dir.join("rpmb.bin"), b"newer").unwrap();
        restore(&dir, &old).unwrap();
        assert!(files.iter().zip(&want).all(|(f, w)| std::fs::read(f).unwrap() == *w));
        assert_eq!(std::fs::read(dir.join("rpmb.bin")).unwrap(), b"newer");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&old).unwrap();
    }

    #[test]
    fn probe_reads_the_last_whole_line() {
        let dir = std::env::temp_dir().join(format!("oxtee-probe-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("probe"), "1\n2\n3\n4").unwrap();
        assert_eq!(probe_figures("probe: 2\r\nprobe: 3\n", &dir), (Some(3), Some(3)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
