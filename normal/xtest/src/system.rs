//! The system PTA (upstream's `system.pta`), as user TAs reach it: the
//! system test TA (`ta/system-test`, numbers in
//! `oxtee_abi::system_test_ta`) calls each command through the SDK's
//! TA-to-TA sessions and touches the memory it maps. Supplicant plugins
//! go through whichever supplicant serves (both carry upstream's test
//! plugin: ours built in, Debian's as a `.so` the guest image installs).

use crate::{ORIGIN_TA, ORIGIN_TEE, check, eq, op};
use oxtee_abi::system_test_ta as c;
use oxtee_abi::tee::TeeResult;
use oxtee_abi::uuid::Uuid;
use oxtee_teec::{Context, Dir, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session};

const SYSTEM: Uuid = Uuid::new(0x3a2f_8978, 0x5dc0, 0x11e8, [0x9c, 0x2d, 0xfa, 0x7a, 0xe0, 0x1b, 0xbe, 0xbc]);
const SUCCESS: u32 = TeeResult::SUCCESS.0;
const BAD_PARAMETERS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;

fn vin<'a>(a: u32, b: u32) -> Param<'a> {
    ParamValue::new(a, b, Dir::In)
}

fn vout<'a>() -> Param<'a> {
    ParamValue::new(0, 0, Dir::Out)
}

fn code<T>(r: Result<T, oxtee_teec::Error>) -> Result<T, (u32, u32)> {
    r.map_err(|e| (e.code, e.origin))
}

fn derive(s: &mut Session, extra: Option<&[u8]>, n: u32) -> Result<Vec<u8>, (u32, u32)> {
    let mut key = vec![0u8; 64];
    let mut ex = extra.map(<[u8]>::to_vec).unwrap_or_default();
    let p0 = if extra.is_some() { ParamTmpRef::new_input(&mut ex) } else { ParamNone::new() };
    let mut o = Operation::new(0, p0, vin(n, 0), ParamTmpRef::new_output(&mut key), ParamNone::new());
    code(s.invoke_command(c::CMD_DERIVE, &mut o))?;
    let got = o.params[2].size().unwrap_or(0);
    key.truncate(got);
    Ok(key)
}

fn plugin(s: &mut Session, cmd: u32, sub: u32, data: Option<&mut [u8]>, absent: bool) -> Result<u32, (u32, u32)> {
    let p1 = match data {
        Some(d) => ParamTmpRef::new_inout(d),
        None => ParamNone::new(),
    };
    let mut o = Operation::new(0, vin(cmd, sub), p1, vout(), vin(absent as u32, 0));
    code(s.invoke_command(c::CMD_PLUGIN, &mut o))?;
    Ok(o.params[2].value().unwrap_or_default().0)
}

pub fn run(ctx: &mut Context) {
    // Only TAs may open the system PTA.
    eq(
        "system: the normal world cannot open it",
        code(ctx.open_session(SYSTEM)).map(drop),
        Err((0xffff_0001, ORIGIN_TEE)),
    );
    let mut s = match ctx.open_session(c::UUID) {
        Ok(s) => s,
        Err(e) => {
            check(false, "system: open the system test TA", format_args!("{e:?}"));
            return;
        }
    };

    // Zero-initialised memory: map, touch, protect, remap, unmap.
    let mut o = op(vout(), ParamNone::new());
    let r = code(s.invoke_command(c::CMD_ZI_SCENARIO, &mut o));
    let steps = o.params[0].value().unwrap_or_default().0;
    eq("system: MAP_ZI/SET_PROT/REMAP/UNMAP scenario", r, Ok(()));
    check(steps >= 40, "system: scenario steps", format_args!("{steps} steps"));
    // Faults on refused accesses kill the TA.
    let dead = Err((TeeResult::ERROR_TARGET_DEAD.0, ORIGIN_TEE));
    let mut t = ctx.open_session(c::UUID).expect("open");
    eq(
        "system: write to read-only memory kills the TA",
        code(t.invoke_command(c::CMD_WRITE_READ_ONLY, &mut Operation::empty())),
        dead,
    );
    let mut t = ctx.open_session(c::UUID).expect("open");
    eq(
        "system: read of unmapped memory kills the TA",
        code(t.invoke_command(c::CMD_READ_UNMAPPED, &mut Operation::empty())),
        dead,
    );
    drop(t);
    // Memory goes with the instance: many instances each keep 4 MiB.
    let mut kept = 0;
    for _ in 0..48 {
        let Ok(mut t) = ctx.open_session(c::UUID) else { break };
        let mut o = op(vout(), vin(4 << 20, 0));
        if t.invoke_command(c::CMD_MAP_KEEP, &mut o).is_ok() {
            kept += 1;
        }
    }
    eq("system: 48 instances each map and keep 4 MiB (freed with them)", kept, 48);

    // TA-unique keys: deterministic, per TA and per extra data; sizes.
    let k1 = derive(&mut s, None, 32);
    let k2 = derive(&mut s, None, 32);
    check(k1.is_ok() && k1 == k2, "system: derived key is deterministic", format_args!("{k1:x?} / {k2:x?}"));
    let k1 = k1.unwrap_or_default();
    check(k1.len() == 32 && k1.iter().any(|b| *b != 0), "system: derived key size", format_args!("{k1:x?}"));
    let mut s2 = ctx.open_session(c::UUID).expect("open");
    eq("system: same key in another instance of the TA", derive(&mut s2, None, 32), Ok(k1.clone()));
    let ko =
        ctx.open_session(c::UUID_OTHER).map_err(|e| e.code).and_then(|mut o| derive(&mut o, None, 32).map_err(|e| e.0));
    check(
        ko.as_ref().is_ok_and(|k| k.len() == 32 && *k != k1),
        "system: another TA gets another key",
        format_args!("{ko:x?}"),
    );
    let ke = derive(&mut s, Some(b"extra data"), 32);
    check(ke.as_ref().is_ok_and(|k| *k != k1), "system: extra data changes the key", format_args!("{ke:x?}"));
    eq("system: same extra data, same key", derive(&mut s, Some(b"extra data"), 32), ke);
    let k16 = derive(&mut s, None, 16);
    check(k16.as_ref().is_ok_and(|k| k.len() == 16), "system: 16-byte key", format_args!("{k16:x?}"));
    for n in [15, 33, 0] {
        eq(&format!("system: {n}-byte key refused"), derive(&mut s, None, n), Err((BAD_PARAMETERS, ORIGIN_TA)));
    }
    eq("system: 1024 bytes of extra data", derive(&mut s, Some(&[7; 1024]), 32).map(|k| k.len()), Ok(32));
    eq(
        "system: 1025 bytes of extra data refused",
        derive(&mut s, Some(&[7; 1025]), 32),
        Err((BAD_PARAMETERS, ORIGIN_TA)),
    );
    let (mut extra, mut key) = ([1u8; 32], [0u8; 32]);
    let mut o = op(ParamTmpRef::new_input(&mut extra), ParamTmpRef::new_output(&mut key));
    eq(
        "system: key into normal-world shared memory refused",
        code(s.invoke_command(c::CMD_DERIVE_SHM, &mut o)),
        Err((TeeResult::ERROR_SECURITY.0, ORIGIN_TA)),
    );
    eq("system: no key written there", key, [0u8; 32]);

    // Entropy.
    let mut seed = [0x42u8; 48];
    eq(
        "system: ADD_RNG_ENTROPY",
        code(s.invoke_command(c::CMD_ENTROPY, &mut op(ParamTmpRef::new_input(&mut seed), ParamNone::new()))),
        Ok(()),
    );
    eq(
        "system: empty entropy refused",
        code(s.invoke_command(c::CMD_ENTROPY, &mut Operation::empty())),
        Err((BAD_PARAMETERS, ORIGIN_TA)),
    );

    // Other commands: upstream's answers.
    for (cmd, want) in [
        (4, 0xffff_0009),
        (5, 0xffff_0009),
        (6, 0xffff_0009),
        (7, 0xffff_0009),
        (14, 0xffff_0009),
        (0x1234, 0xffff_0009),
        (12, BAD_PARAMETERS),
        (0, BAD_PARAMETERS),
        (2, BAD_PARAMETERS),
    ] {
        let mut o = op(vin(cmd, 0), vout());
        let r = code(s.invoke_command(c::CMD_RAW, &mut o));
        let (plain, tpm) = o.params[1].value().unwrap_or_default();
        eq(&format!("system: command {cmd} with no parameters"), (r, plain), (Ok(()), want));
        eq("system: GET_TPM_EVENT_LOG (no TPM log)", tpm, TeeResult::ERROR_NOT_SUPPORTED.0);
    }

    // dlopen/dlsym: the parameter checks (a UUID must be 16 bytes); a
    // well-formed dlopen of a library that does not exist fails in the
    // loader, not in the checks.
    let mut lib = [0x5eu8; 16];
    let mut o = op(ParamTmpRef::new_input(&mut lib), vout());
    eq("system: DL command", code(s.invoke_command(c::CMD_DL, &mut o)), Ok(()));
    let (open, sym) = o.params[1].value().unwrap_or_default();
    check(
        open != SUCCESS && open != BAD_PARAMETERS,
        "system: dlopen of an absent library fails",
        format_args!("{open:#x}"),
    );
    eq("system: dlsym with a 15-byte UUID", sym, BAD_PARAMETERS);

    // Supplicant plugins: upstream's test plugin.
    eq("system: plugin ping", plugin(&mut s, c::PLUGIN_CMD_PING, 0, None, false), Ok(0));
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&20u32.to_ne_bytes());
    v[4..].copy_from_slice(&10u32.to_ne_bytes());
    eq("system: plugin adds", plugin(&mut s, c::PLUGIN_CMD_PASS_VALUES, '+' as u32, Some(&mut v), false), Ok(4));
    eq("system: plugin sum", u32::from_ne_bytes([v[0], v[1], v[2], v[3]]), 30);
    v[..4].copy_from_slice(&20u32.to_ne_bytes());
    eq("system: plugin subtracts", plugin(&mut s, c::PLUGIN_CMD_PASS_VALUES, '-' as u32, Some(&mut v), false), Ok(4));
    eq("system: plugin difference", u32::from_ne_bytes([v[0], v[1], v[2], v[3]]), 10);
    let mut a = [0u8, 1, 2, 3, 4, 5];
    eq("system: plugin reads an array", plugin(&mut s, c::PLUGIN_CMD_WRITE_ARR, 0, Some(&mut a), false), Ok(1));
    eq("system: plugin array sum", a[0], 15);
    let mut g = [0u8; 64];
    eq("system: plugin writes an array", plugin(&mut s, c::PLUGIN_CMD_GET_ARR, 0, Some(&mut g), false), Ok(18));
    eq("system: plugin array", &g[..18], b"Array from plugin\0".as_slice());
    eq(
        "system: unknown plugin",
        plugin(&mut s, c::PLUGIN_CMD_PING, 0, None, true),
        Err((TeeResult::ERROR_ITEM_NOT_FOUND.0, ORIGIN_TA)),
    );
}
