//! `cargo xtask symbolize [--elf ELF ...] [LOGFILE|-]`: finds the crash
//! reports of killed TAs (`TA crash:` lines) and of the OS (`OS crash:`)
//! in a log and appends the function and `file:line` to each address the
//! reports place in an image, `0xADDR (NAME+0xOFF)`. NAME is a TA or
//! library UUID (looked up at OFF in that TA's ELF) or `os` (the OS ELF,
//! linked where it runs: looked up at ADDR). The format is in
//! docs/debugging.md.

use crate::{Result, root};
use addr2line::gimli;
use object::{Object, ObjectSection, ObjectSymbol};
use oxtee_abi::uuid::Uuid;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

const USAGE: &str = "usage: cargo xtask symbolize [--elf TA_OR_OS_ELF ...] [LOGFILE|-]";

/// One address of a report to resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// Line index in the log.
    pub line: usize,
    /// The image: `os` or a UUID as printed.
    pub image: String,
    /// The address to look up in that image's ELF.
    pub addr: u64,
}

/// The addresses of the crash reports in `log`. Return addresses (`lr`
/// and the call stack's frames after `#0`) are looked up 4 bytes back, at
/// their call instruction.
pub fn sites(log: &str) -> Vec<Site> {
    let mut out = Vec::new();
    for (i, l) in log.lines().enumerate() {
        let Some(rest) = l.find("TA crash: ").or_else(|| l.find("OS crash: ")).map(|p| &l[p + 10..]) else {
            continue;
        };
        let rest = rest.trim_start();
        let is_return = rest.starts_with("lr ") || (rest.starts_with('#') && !rest.starts_with("#0 "));
        let is_site = is_return || rest.starts_with("pc ") || rest.starts_with("#0 ");
        if !is_site {
            continue;
        }
        let Some((abs, image, off)) = addr_in_image(rest) else {
            continue;
        };
        let addr = if image == "os" { abs } else { off };
        let addr = if is_return { addr.saturating_sub(4) } else { addr };
        out.push(Site { line: i, image, addr });
    }
    out
}

/// Parses `... 0xABS (NAME+0xOFF)` out of a report line.
fn addr_in_image(s: &str) -> Option<(u64, String, u64)> {
    let open = s.find(" (")?;
    let close = s[open..].find(')')? + open;
    let abs_text = s[..open].rsplit(' ').next()?;
    let abs = u64::from_str_radix(abs_text.strip_prefix("0x")?, 16).ok()?;
    let (name, off) = s[open + 2..close].rsplit_once("+0x")?;
    let off = u64::from_str_radix(off, 16).ok()?;
    if name != "os" && !is_uuid(name) {
        return None;
    }
    Some((abs, name.to_string(), off))
}

/// `8-4-4-4-12` hex digits.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| if [8, 13, 18, 23].contains(&i) { c == '-' } else { c.is_ascii_hexdigit() })
}

/// The UUID in a TA ELF's `.ta_head`, if it has one.
pub fn elf_ta_uuid(data: &[u8]) -> Option<Uuid> {
    let file = object::File::parse(data).ok()?;
    let head = file.section_by_name(".ta_head")?.data().ok()?;
    let raw = oxtee_abi::ta::TeeUuid::read_from_prefix(head).ok()?.0;
    Some(Uuid::from(raw))
}

use zerocopy::FromBytes;

/// ELFs under `dir` (files without an extension, as cargo names
/// binaries), not recursing.
fn elfs_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && (p.extension().is_none() || p.extension().is_some_and(|e| e == "elf")))
        .collect()
}

/// Where TA ELFs are found when not given: the copies `cargo xtask tas` and
/// `sign-ta` keep by UUID, the TA workspace's builds, and the examples'.
fn ta_candidates() -> Vec<PathBuf> {
    let r = root();
    let mut v = elfs_in(&r.join("target/ta/elf"));
    for profile in ["release", "debug"] {
        v.extend(elfs_in(&r.join("ta/target/aarch64-unknown-none").join(profile)));
        v.extend(elfs_in(&r.join("target/examples/aarch64-unknown-none").join(profile)));
        if let Ok(rd) = std::fs::read_dir(r.join("examples")) {
            for e in rd.flatten() {
                for sub in ["", "ta"] {
                    v.extend(elfs_in(&e.path().join(sub).join("target/aarch64-unknown-none").join(profile)));
                }
            }
        }
    }
    v
}

/// The OS ELF: the newest of the default and test builds.
fn os_candidates() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = [crate::images::Variant::Default, crate::images::Variant::Test]
        .into_iter()
        .map(crate::images::os_elf)
        .filter(|p| p.is_file())
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).and_then(|m| m.modified()).ok()));
    v
}

/// Finds the ELF for each image name the sites use.
fn find_elfs(sites: &[Site], given: &[PathBuf]) -> Result<BTreeMap<String, PathBuf>> {
    let mut map = BTreeMap::new();
    for p in given {
        let data = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        match elf_ta_uuid(&data) {
            Some(u) => map.insert(u.to_string(), p.clone()),
            None => map.insert("os".to_string(), p.clone()),
        };
    }
    let wanted: Vec<&String> = sites.iter().map(|s| &s.image).collect();
    if wanted.iter().any(|w| *w == "os")
        && !map.contains_key("os")
        && let Some(p) = os_candidates().into_iter().next()
    {
        map.insert("os".into(), p);
    }
    let missing: Vec<&String> = wanted.iter().copied().filter(|w| !map.contains_key(*w)).collect();
    if !missing.is_empty() {
        for p in ta_candidates() {
            let Ok(data) = std::fs::read(&p) else { continue };
            if let Some(u) = elf_ta_uuid(&data) {
                let k = u.to_string();
                if missing.contains(&&k) && !map.contains_key(&k) {
                    map.insert(k, p);
                }
            }
        }
    }
    Ok(map)
}

/// `function at file:line`, with the functions inlined there, for each
/// of `addrs` in the ELF `data`.
pub fn resolve(data: &[u8], addrs: &[u64]) -> Result<Vec<Option<String>>> {
    let file = object::File::parse(data).map_err(|e| format!("not an ELF: {e}"))?;
    let load = |id: gimli::SectionId| -> std::result::Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(file.section_by_name(id.name()).and_then(|s| s.uncompressed_data().ok()).unwrap_or(Cow::Borrowed(&[])))
    };
    let sections = gimli::DwarfSections::load(load).map_err(|e| format!("DWARF: {e}"))?;
    let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, gimli::LittleEndian));
    let ctx = addr2line::Context::from_dwarf(dwarf).map_err(|e| format!("DWARF: {e}"))?;
    // Symbol table, for code without line information.
    let mut syms: Vec<(u64, u64, String)> = file
        .symbols()
        .filter(|s| s.kind() == object::SymbolKind::Text)
        .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
        .collect();
    syms.sort();
    let mut out = Vec::new();
    for &a in addrs {
        let mut parts: Vec<String> = Vec::new();
        if let Ok(mut frames) = ctx.find_frames(a).skip_all_loads() {
            while let Ok(Some(f)) = frames.next() {
                let func = f.function.as_ref().and_then(|n| n.demangle().ok().map(|c| c.into_owned()));
                let loc = f
                    .location
                    .as_ref()
                    .map(|l| format!("{}:{}", l.file.map(short_path).unwrap_or("?"), l.line.unwrap_or(0)));
                match (func, loc) {
                    (Some(n), Some(l)) => parts.push(format!("{n} at {l}")),
                    (Some(n), None) => parts.push(n),
                    (None, Some(l)) => parts.push(format!("? at {l}")),
                    (None, None) => {}
                }
            }
        }
        if parts.is_empty()
            && let Some((base, _, name)) =
                syms.iter().rev().find(|(base, size, _)| a >= *base && (a - base < (*size).max(1)))
        {
            parts.push(format!("{:#}+{:#x}", rustc_demangle::demangle(name), a - base));
        }
        out.push((!parts.is_empty()).then(|| parts.join(", inlined into ")));
    }
    Ok(out)
}

/// A source path from the registry or the toolchain shortened to what
/// names it.
fn short_path(p: &str) -> &str {
    for marker in ["/library/", "/src/"] {
        if let Some(i) = p.find("/rustc/").and_then(|_| p.find(marker)) {
            return &p[i + 1..];
        }
    }
    p.strip_prefix(&format!("{}/", root().display())).unwrap_or(p)
}

/// The log with each resolved site's line followed by ` -> function at
/// file:line`; also how many sites there were and how many resolved.
pub fn annotate(log: &str, given: &[PathBuf]) -> Result<(String, usize, usize, Vec<String>)> {
    let sites = sites(log);
    let elfs = find_elfs(&sites, given)?;
    let mut notes: BTreeMap<usize, String> = BTreeMap::new();
    let mut resolved = 0;
    let mut problems = Vec::new();
    for (name, path) in &elfs {
        let mine: Vec<&Site> = sites.iter().filter(|s| &s.image == name).collect();
        if mine.is_empty() {
            continue;
        }
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let addrs: Vec<u64> = mine.iter().map(|s| s.addr).collect();
        for (s, r) in mine.iter().zip(resolve(&data, &addrs)?) {
            if let Some(r) = r {
                resolved += 1;
                notes.insert(s.line, r);
            }
        }
        problems.push(format!("{name}: {}", path.display()));
    }
    for s in &sites {
        if !elfs.contains_key(&s.image) && !problems.iter().any(|p| p.starts_with(&format!("{}: no ELF", s.image))) {
            problems.push(format!("{}: no ELF found (give it with --elf)", s.image));
        }
    }
    let mut out = String::with_capacity(log.len() * 2);
    for (i, l) in log.lines().enumerate() {
        out.push_str(l.trim_end_matches('\r'));
        if let Some(n) = notes.get(&i) {
            out.push_str(" -> ");
            out.push_str(n);
        }
        out.push('\n');
    }
    Ok((out, sites.len(), resolved, problems))
}

/// What `oxtee-xtest crash` makes the test TA (TEST_MULTI) do, and the
/// reason its crash report must give.
pub const EXPECTED_REPORTS: [(&str, &str); 4] = [
    ("stack overflow", "killed: stack overflow: access to "),
    ("null dereference", "killed: access to unmapped address: read of 0x0 (null pointer dereference)"),
    ("undefined instruction", "killed: undefined instruction"),
    ("panic", "killed: panic (TEE_Panic code 0xc0de)"),
];

/// Checks the crash reports `oxtee-xtest crash` leaves in the secure log:
/// each with its reason, registers, the TA's image line and a call stack
/// of at least one frame, and the stack overflow's frames symbolized to
/// the recursing function. The failures, in words.
pub fn check_reports(secure_log: &str) -> Vec<String> {
    let ta = oxtee_abi::test_ta::TEST_MULTI.to_string();
    let lines: Vec<&str> = secure_log.lines().collect();
    let mut failures = Vec::new();
    let mut overflow_at = None;
    for (what, reason) in EXPECTED_REPORTS {
        let Some(start) = lines.iter().position(|l| l.contains(&format!("TA {ta} {reason}"))) else {
            failures.push(format!("{what}: no `TA {ta} {reason}` line"));
            continue;
        };
        if what == "stack overflow" {
            overflow_at = Some(start);
        }
        let end = lines[start..].iter().position(|l| l.contains("TA crash: end of dump")).map(|n| start + n);
        let Some(end) = end else {
            failures.push(format!("{what}: the report has no end"));
            continue;
        };
        let dump = &lines[start..=end];
        let has = |s: &str| dump.iter().any(|l| l.contains(s));
        for want in [
            "TA crash: esr 0x",
            "TA crash: x0 ",
            "TA crash: x28 ",
            "TA crash: sp  ",
            &format!("TA crash: image {ta} at 0x"),
        ] {
            if !has(want) {
                failures.push(format!("{what}: no `{want}` line"));
            }
        }
        if !has("TA crash: pc 0x")
            || !dump.iter().any(|l| l.contains("TA crash: pc ") && l.contains(&format!("({ta}+0x")))
        {
            failures.push(format!("{what}: pc not placed in the TA's image"));
        }
        let frames = dump.iter().filter(|l| l.contains("TA crash:  #")).count();
        if frames < 2 {
            failures.push(format!("{what}: call stack of {frames} entries (want pc and at least one caller)"));
        }
    }
    if let Some(start) = overflow_at {
        match annotate(secure_log, &[]) {
            Ok((out, ..)) => {
                let out: Vec<&str> = out.lines().collect();
                let recursing = out[start..]
                    .iter()
                    .take_while(|l| !l.contains("TA crash: end of dump"))
                    .filter(|l| l.contains("TA crash:  #") && l.contains("-> ") && l.contains("recurse"))
                    .count();
                if recursing < 2 {
                    failures
                        .push(format!("stack overflow: {recursing} frames symbolized to `recurse` (want 2 or more)"));
                }
            }
            Err(e) => failures.push(format!("symbolize: {e}")),
        }
    }
    failures
}

/// Checks the OS's own crash reports for the faults the harness injects
/// through the test PTA (test build): an unmapped load and a thread stack
/// overflow, each worded, with a call stack that symbolizes to the
/// injecting (or recursing) function.
pub fn check_os_reports(secure_log: &str, os_elf: &Path) -> Vec<String> {
    let lines: Vec<&str> = secure_log.lines().collect();
    let mut failures = Vec::new();
    let annotated = match annotate(secure_log, &[os_elf.to_path_buf()]) {
        Ok((out, ..)) => out,
        Err(e) => return vec![format!("symbolize: {e}")],
    };
    let annotated: Vec<&str> = annotated.lines().collect();
    for (what, reason, function) in [
        ("unmapped load", "OS crash: access to unmapped address: read of 0x10", "inject_fault"),
        ("stack overflow", "OS crash: stack overflow: access to ", "recurse"),
    ] {
        let Some(start) = lines.iter().position(|l| l.contains(reason)) else {
            failures.push(format!("{what}: no `{reason}` line"));
            continue;
        };
        let dump: Vec<&str> =
            annotated[start..].iter().copied().take_while(|l| !l.contains("OS crash: end of dump")).collect();
        let frames = dump.iter().filter(|l| l.contains("OS crash:  #")).count();
        if frames < 2 {
            failures.push(format!("{what}: call stack of {frames} entries (want pc and at least one caller)"));
        }
        if !dump.iter().any(|l| l.contains("OS crash: image os at 0x")) {
            failures.push(format!("{what}: no image line"));
        }
        let named = dump.iter().any(|l| l.contains("OS crash:  #") && l.contains("-> ") && l.contains(function));
        if !named {
            failures.push(format!("{what}: no frame symbolized to `{function}`"));
        }
    }
    failures
}

pub fn run_cli(args: &[String]) -> Result<u8> {
    let mut given = Vec::new();
    let mut input: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--elf" => given.push(PathBuf::from(it.next().ok_or("--elf needs a file")?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(0);
            }
            "-" => input = Some("-".into()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}\n{USAGE}")),
            s if input.is_none() => input = Some(s.into()),
            _ => return Err(USAGE.into()),
        }
    }
    let mut log = String::new();
    match input.as_deref() {
        None | Some("-") => {
            let mut raw = Vec::new();
            std::io::stdin().read_to_end(&mut raw).map_err(|e| format!("stdin: {e}"))?;
            log = String::from_utf8_lossy(&raw).into_owned();
        }
        Some(p) => {
            let raw = std::fs::read(p).map_err(|e| format!("{p}: {e}"))?;
            log.push_str(&String::from_utf8_lossy(&raw));
        }
    }
    let (out, n, resolved, notes) = annotate(&log, &given)?;
    print!("{out}");
    for n in &notes {
        eprintln!("symbolize: {n}");
    }
    eprintln!("symbolize: {resolved} of {n} addresses resolved");
    Ok(if n > 0 && resolved == 0 { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TA: &str = "5e57a001-0000-4000-8000-000000000001";

    #[test]
    fn report_lines_give_their_sites() {
        let log = format!(
            "[normal] boot\n\
             [os c0 W] TA {TA} killed: stack overflow: access to 0x8040001ff0, 16 bytes below the stack, in the guard page\r\n\
             [os c0 W] TA crash: esr 0x92000047 (EC 0x24 data abort from a lower level) far 0x8040001ff0\n\
             [os c0 W] TA crash: image {TA} at 0x8040000000 (size 0x30000)\n\
             [os c0 W] TA crash: pc 0x8040003864 ({TA}+0x3864)\n\
             [os c0 W] TA crash: lr 0x80400038b0 ({TA}+0x38b0)\n\
             [os c0 W] TA crash: call stack (2 frames from the frame-pointer chain, return addresses):\n\
             [os c0 W] TA crash:  #0 0x8040003864 ({TA}+0x3864)\n\
             [os c0 W] TA crash:  #1 0x80400038b0 ({TA}+0x38b0)\n\
             [os c0 W] TA crash:  #2 0x9000000000\n\
             [secure] [os c1 E] OS crash: pc 0xe123456 (os+0x23456)\n\
             [os c0 W] TA crash:  #3 0x8040000010 (not-a-uuid+0x10)\n"
        );
        let s = sites(&log);
        let want = [
            Site { line: 4, image: TA.into(), addr: 0x3864 },
            Site { line: 5, image: TA.into(), addr: 0x38ac },
            Site { line: 7, image: TA.into(), addr: 0x3864 },
            Site { line: 8, image: TA.into(), addr: 0x38ac },
            Site { line: 10, image: "os".into(), addr: 0xe123456 },
        ];
        assert_eq!(s, want);
    }

    #[test]
    fn unknown_images_are_reported_not_guessed() {
        let log = "[os c0 W] TA crash: pc 0x10 (00000000-0000-0000-0000-0000000000ff+0x10)\n";
        let (out, n, resolved, notes) = annotate(log, &[]).unwrap();
        assert_eq!((n, resolved), (1, 0));
        assert_eq!(out, log);
        assert!(notes.iter().any(|n| n.contains("no ELF found")), "{notes:?}");
    }

    #[test]
    fn addresses_resolve_to_functions_in_an_elf() {
        // This test binary itself: a function's own address names it.
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(&exe).unwrap();
        let f: fn(&str) -> Vec<Site> = sites;
        let file = object::File::parse(&*data).unwrap();
        // Position independent: find the function's link-time address by
        // its runtime offset from a known symbol is not portable; look it
        // up by name instead.
        let sym = file
            .symbols()
            .find(|s| s.name().is_ok_and(|n| n.contains("symbolize5sites")))
            .expect("the sites function is in the symbol table");
        let _ = f;
        let r = resolve(&data, &[sym.address() + 4]).unwrap();
        let text = r[0].as_deref().unwrap_or("");
        assert!(text.contains("symbolize::sites"), "{text}");
    }
}
