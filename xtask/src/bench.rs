//! `cargo xtask bench`: boots the harness in benchmark mode on one vCPU
//! under `-icount shift=0` (one guest instruction per virtual ns) and reports
//! guest instructions per operation, as a table and as JSON.

use crate::qemu::{self, Config, Show};
use crate::{Result, images, root};

/// Upstream OP-TEE 4.10 + TF-A 2.14 on the same QEMU, for reference.
const REFERENCE: &[(&str, &str, f64)] = &[
    ("fastcall_calls_uid_insns", "CALLS_UID round trip (NS -> EL3 -> S-EL1 -> NS)", 1450.0),
    ("boot_insns", "reset to first normal-world instruction", 18_800_000.0),
];

/// Crypto rows (`oxtee-xtest bench-crypto` keys) with upstream OP-TEE
/// 4.10's figures on this QEMU (one vCPU, from a TA) where measured.
const CRYPTO_REFERENCE: &[(&str, &str, f64)] = &[
    ("crypto_sha256_4k_insns", "SHA-256 of 4 KiB", 333_600.0),
    ("crypto_aes128_ecb_1k_insns", "AES-128-ECB of 1 KiB", 145_500.0),
    ("crypto_aes256_cbc_1k_insns", "AES-256-CBC of 1 KiB", 175_700.0),
    ("crypto_aes256_gcm_1k_insns", "AES-256-GCM of 1 KiB", f64::NAN),
    ("crypto_aes256_gcm_1m_insns", "AES-256-GCM of 1 MiB", f64::NAN),
    ("crypto_hmac_sha256_4k_insns", "HMAC-SHA256 of 4 KiB", f64::NAN),
    ("crypto_rsa2048_sign_insns", "RSA-2048 sign (PKCS#1 v1.5, SHA-256 digest)", f64::NAN),
    ("crypto_rsa2048_verify_insns", "RSA-2048 verify", f64::NAN),
    ("crypto_ecdsa_p256_sign_insns", "ECDSA P-256 sign", f64::NAN),
    ("crypto_ecdsa_p256_verify_insns", "ECDSA P-256 verify", f64::NAN),
    ("crypto_rsa3072_keygen_insns", "RSA-3072 key generation (mean of 3)", f64::NAN),
];

pub fn run() -> Result {
    crate::setup::ensure(false)?;
    // The benchmarks call the test PTA.
    let imgs = images::build_test()?;
    let cfg = Config { smp: 1, gic: 3, bench: true, timeout_secs: 300, name: "bench".into(), ..Config::default() };
    let out = qemu::boot(&imgs, &cfg, Show::OnFailure)?;
    let figures: Vec<(String, String)> = out
        .ns_log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BENCH "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    if figures.is_empty() || !out.clean_exit {
        qemu::print_tails(&out);
        return Err("benchmark run produced no figures".into());
    }
    let get = |k: &str| figures.iter().find(|(n, _)| n == k).and_then(|(_, v)| v.parse::<f64>().ok());
    println!(
        "{:<58} {:>14} {:>14} {:>8}",
        "guest instructions (QEMU -icount shift=0, 1 vCPU)", "oxtee", "OP-TEE+TF-A", "ratio"
    );
    for (key, what, reference) in REFERENCE {
        if let Some(v) = get(key) {
            println!("{what:<58} {v:>14.1} {reference:>14.0} {:>7.2}x", v / reference);
        }
    }
    for (key, what) in [
        ("monitor_only_call_insns", "SMCCC_VERSION round trip (EL3 only)"),
        ("pta_noop_invoke_insns", "no-op invoke to a PTA (yielding call, harness driver)"),
        ("rpc_round_trip_insns", "one RPC round trip inside a call (GET_TIME)"),
        ("pta_open_close_insns", "open + close session to a PTA"),
    ] {
        if let Some(v) = get(key) {
            println!("{what:<58} {v:>14.1} {:>14} {:>8}", "-", "-");
        }
    }
    // The same harness in FF-A mode (the monitor as SPMD, the OS as SPMC).
    let cfg = Config { ffa: true, name: "bench-ffa".into(), ..cfg };
    let out = qemu::boot(&imgs, &cfg, Show::OnFailure)?;
    let ffa: Vec<(String, String)> = out
        .ns_log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BENCH "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    for (key, what) in [
        ("ffa_direct_msg_insns", "FF-A direct message round trip (GET_API_VERSION)"),
        ("ffa_pta_noop_invoke_insns", "FF-A: no-op invoke to a PTA (yielding call, shared arg)"),
    ] {
        match ffa.iter().find(|(n, _)| n == key).and_then(|(_, v)| v.parse::<f64>().ok()) {
            Some(v) => println!("{what:<58} {v:>14.1} {:>14} {:>8}", "-", "-"),
            None => {
                qemu::print_tails(&out);
                return Err(format!("the FF-A benchmark run gave no {key}"));
            }
        }
    }
    let mut figures = figures;
    figures.extend(ffa.into_iter().filter(|(k, _)| k.ends_with("_insns")));
    // Linux: TEEC-style invokes from a process through the stock driver.
    let extra = crate::linux::guest_binaries()?;
    let per_insns = linux_figure(&imgs, &extra, "oxtee-xtest bench 2000", true, "per_invoke_ns")?;
    let wall_ns = linux_figure(&imgs, &extra, "oxtee-xtest bench 10000", false, "total_ns")?;
    println!(
        "{:<58} {per_insns:>14.1} {:>14} {:>7.2}x",
        "no-op invoke from a Linux process (driver round trip)",
        57_400,
        per_insns / 57_400.0
    );
    println!(
        "{:<58} {:>14.3} {:>14} {:>8}",
        "wall time for 10,000 such invokes (s, no icount)",
        wall_ns / 1e9,
        "-",
        "-"
    );
    figures.push(("linux_noop_invoke_insns".into(), format!("{per_insns:.1}")));
    // User TAs, from a Linux process: open + close and no-op invokes.
    let ta = linux_figures(&imgs, &extra, "oxtee-xtest bench-ta 1000", true)?;
    for (key, what, reference) in [
        ("ta_first_open_close_ns", "first open + close of a user TA (cold: load, verify)", 57_500_000.0),
        ("ta_cold_open_close_ns", "open + close of a multi-instance user TA (loads each time)", 39_000_000.0),
        ("ta_warm_open_close_ns", "open + close of an already loaded (keep-alive) user TA", f64::NAN),
        ("ta_per_invoke_ns", "no-op invoke to a user TA from a Linux process", 57_400.0),
    ] {
        let v = ta.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.parse::<f64>().ok());
        let Some(v) = v else { return Err(format!("no {key} figure from bench-ta")) };
        if reference.is_nan() {
            println!("{what:<58} {v:>14.1} {:>14} {:>8}", "-", "-");
        } else {
            println!("{what:<58} {v:>14.1} {reference:>14.0} {:>7.2}x", v / reference);
        }
        figures.push((key.replace("_ns", "_insns"), format!("{v:.1}")));
    }
    figures.push(("linux_10000_invokes_wall_s".into(), format!("{:.3}", wall_ns / 1e9)));
    // A failed crypto or storage row fails the command, after the figures
    // are written.
    let crypto_rows = crypto(&imgs, &extra, &mut figures);
    let storage_rows = storage(&imgs, &extra, &mut figures);
    let mut json = String::from(
        "{\n  \"unit\": \"guest instructions\",\n  \"qemu\": \"virt,secure=on cortex-a57 -icount shift=0 -smp 1\",\n",
    );
    let body: Vec<String> = figures.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    json.push_str(&body.join(",\n"));
    json.push_str("\n}\n");
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("fastcall.json");
    std::fs::write(&path, json).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    crypto_rows.and(storage_rows)
}

/// Crypto from a TA (the crypto test TA's bench command, one Linux boot
/// under `-icount`): per operation, init to final on an allocated state.
fn crypto(imgs: &images::Images, extra: &[(std::path::PathBuf, &str)], figures: &mut Vec<(String, String)>) -> Result {
    let cr = linux_figures(imgs, extra, "oxtee-xtest bench-crypto", true)?;
    println!("{:<58} {:>14} {:>14} {:>8}", "crypto from a TA, per operation", "oxtee", "OP-TEE 4.10", "ratio");
    for (key, what, reference) in CRYPTO_REFERENCE {
        let v = cr.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.parse::<f64>().ok());
        let Some(v) = v else {
            println!("{what:<58} {:>14} (no figure)", "-");
            continue;
        };
        if reference.is_nan() {
            println!("{what:<58} {v:>14.0} {:>14} {:>8}", "-", "-");
        } else {
            println!("{what:<58} {v:>14.0} {reference:>14.0} {:>7.3}x", v / reference);
        }
        figures.push(((*key).into(), format!("{v:.0}")));
    }
    match cr.iter().find(|(k, _)| k == "crypto_failures") {
        Some((_, f)) if f == "0" => Ok(()),
        Some((_, f)) => Err(format!("bench-crypto: {f} rows failed")),
        None => Err("bench-crypto: no failure count".into()),
    }
}

/// Upstream OP-TEE's figures on this QEMU for xtest's storage benchmark
/// (1001 write, 1002 read, 1003 rewrite; 1 MiB in 1 KiB pieces), guest
/// instructions.
const STORAGE_REFERENCE: [(&str, f64); 3] =
    [("write_1m", 8_940_000_000.0), ("read_1m", 1_920_000_000.0), ("rewrite_1m", 10_870_000_000.0)];

/// Secure storage from a TA (the storage benchmark TA, objects in the
/// REE FS with oxtee-supplicant's directory in the guest's RAM): guest
/// instructions (one boot under `-icount`), wall time (one boot without)
/// and RPC round trips, per operation and size.
fn storage(imgs: &images::Images, extra: &[(std::path::PathBuf, &str)], figures: &mut Vec<(String, String)>) -> Result {
    let insns = linux_figures(imgs, extra, "oxtee-xtest bench-storage 3", true)?;
    let wall = linux_figures(imgs, extra, "oxtee-xtest bench-storage 3", false)?;
    let get = |v: &[(String, String)], k: &str| v.iter().find(|(n, _)| n == k).and_then(|(_, x)| x.parse::<f64>().ok());
    println!(
        "{:<34} {:>14} {:>12} {:>6} {:>14} {:>8}",
        "secure storage from a TA", "instructions", "wall (ms)", "RPCs", "OP-TEE 4.10", "ratio"
    );
    for (size, sname) in [(256, "256"), (4096, "4k"), (65536, "64k"), (1 << 20, "1m")] {
        for op in ["create", "write", "read", "rewrite"] {
            let key = format!("storage_{op}_{sname}");
            let what =
                format!("{op} {}", if size >= 1024 { format!("{} KiB", size / 1024) } else { format!("{size} B") });
            let (Some(i), Some(r)) = (get(&insns, &format!("{key}_ns")), get(&insns, &format!("{key}_rpcs"))) else {
                println!("{what:<34} {:>14} (no figure)", "-");
                continue;
            };
            let w = get(&wall, &format!("{key}_ns")).map_or("-".to_string(), |w| format!("{:.2}", w / 1e6));
            let reference = STORAGE_REFERENCE.iter().find(|(k, _)| key == format!("storage_{k}"));
            match reference {
                Some((_, refv)) => {
                    println!("{what:<34} {i:>14.0} {w:>12} {r:>6.0} {refv:>14.0} {:>7.3}x", i / refv)
                }
                None => println!("{what:<34} {i:>14.0} {w:>12} {r:>6.0} {:>14} {:>8}", "-", "-"),
            }
            figures.push((format!("{key}_insns"), format!("{i:.0}")));
            figures.push((format!("{key}_rpcs"), format!("{r:.0}")));
            if let Some(w) = get(&wall, &format!("{key}_ns")) {
                figures.push((format!("{key}_wall_ns"), format!("{w:.0}")));
            }
        }
    }
    match (get(&insns, "storage_failures"), get(&wall, "storage_failures")) {
        (Some(a), Some(b)) if a == 0.0 && b == 0.0 => Ok(()),
        (a, b) => Err(format!("bench-storage: failed rows: {a:?} under -icount, {b:?} without")),
    }
}

/// `cargo xtask bench --storage`: only the storage rows (two Linux boots);
/// also writes `target/bench/storage.json`.
pub fn run_storage() -> Result {
    crate::setup::ensure(false)?;
    let imgs = images::build_test()?;
    let extra = crate::linux::guest_binaries()?;
    let mut figures = Vec::new();
    let r = storage(&imgs, &extra, &mut figures);
    let body: Vec<String> = figures.iter().map(|(k, v)| format!("  \"{k}\": {v}")).collect();
    let json = format!(
        "{{\n  \"unit\": \"guest instructions (wall: ns)\",\n  \"qemu\": \"virt,secure=on cortex-a57 -icount shift=0 -smp 1\",\n{}\n}}\n",
        body.join(",\n")
    );
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("storage.json");
    std::fs::write(&path, json).map_err(|e| e.to_string())?;
    println!("wrote {}", path.display());
    r
}

/// `cargo xtask bench --crypto`: only the crypto rows (one Linux boot).
pub fn run_crypto() -> Result {
    crate::setup::ensure(false)?;
    let imgs = images::build_test()?;
    let extra = crate::linux::guest_binaries()?;
    let mut figures = Vec::new();
    crypto(&imgs, &extra, &mut figures)
}

/// Boots Linux, runs `cmd` (which prints `BENCH key=value ...`), returns
/// every figure it printed.
fn linux_figures(
    imgs: &images::Images,
    extra: &[(std::path::PathBuf, &str)],
    cmd: &str,
    icount: bool,
) -> Result<Vec<(String, String)>> {
    let b = crate::linux::Boot { icount, ..crate::linux::Boot::new(1, 3, 1800) };
    let out = crate::linux::boot(imgs, &b, &crate::linux::Mode::Command(cmd.into()), extra)?;
    let figures: Vec<(String, String)> = out
        .ns_log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BENCH "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    if figures.is_empty() {
        qemu::print_tails(&out);
        return Err(format!("no figures from `{cmd}`"));
    }
    Ok(figures)
}

/// Boots Linux, runs `cmd` (which prints `BENCH key=value ...`), returns `key`.
fn linux_figure(
    imgs: &images::Images,
    extra: &[(std::path::PathBuf, &str)],
    cmd: &str,
    icount: bool,
    key: &str,
) -> Result<f64> {
    let b = crate::linux::Boot { icount, ..crate::linux::Boot::new(1, 3, 900) };
    let out = crate::linux::boot(imgs, &b, &crate::linux::Mode::Command(cmd.into()), extra)?;
    out.ns_log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BENCH "))
        .flat_map(|l| l.split_whitespace())
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')).and_then(|v| v.parse().ok()))
        .ok_or_else(|| {
            qemu::print_tails(&out);
            format!("no {key} figure from `{cmd}`")
        })
}
