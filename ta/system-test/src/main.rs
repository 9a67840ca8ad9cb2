//! oxtee's system-PTA test TA (numbers in `oxtee_abi::system_test_ta`): it
//! opens the system PTA through the SDK's TA-to-TA session API, as
//! upstream's libutee does, calls its commands, and touches the memory
//! MAP_ZI gives it (reads, writes, and faults where access is refused).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use core::hint::black_box;
use oxtee_abi::system_test_ta as c;
use oxtee_abi::tee::TeeResult;
use oxtee_utee::memory::{ACCESS_ANY_OWNER, ACCESS_READ, ACCESS_WRITE, check_memory_access_rights};
use oxtee_utee::{
    Error, ErrorKind, ParamType, Parameters, Result, TaSession, TeeParam, TeeParams, Uuid, fault, ta_close_session,
    ta_create, ta_destroy, ta_invoke_command, ta_open_session, trace_println,
};

oxtee_utee::ta_config! {
    uuid: Uuid::from_abi(c::UUID),
    flags: 0,
    stack_size: 16 * 1024,
    data_size: 64 * 1024,
    version: "1.0",
    description: "oxtee system PTA test TA",
    properties: {},
}

/// upstream's system PTA (`pta_system.h`).
const SYSTEM: Uuid = Uuid::from_abi(oxtee_abi::uuid::Uuid::new(
    0x3a2f_8978,
    0x5dc0,
    0x11e8,
    [0x9c, 0x2d, 0xfa, 0x7a, 0xe0, 0x1b, 0xbe, 0xbc],
));
const ADD_RNG_ENTROPY: u32 = 0;
const DERIVE_TA_UNIQUE_KEY: u32 = 1;
const MAP_ZI: u32 = 2;
const UNMAP: u32 = 3;
const SET_PROT: u32 = 8;
const REMAP: u32 = 9;
const DLOPEN: u32 = 10;
const DLSYM: u32 = 11;
const GET_TPM_EVENT_LOG: u32 = 12;
const SUPP_PLUGIN_INVOKE: u32 = 13;
const FLAG_SHAREABLE: u32 = 1;
const FLAG_WRITEABLE: u32 = 2;
const FLAG_EXECUTABLE: u32 = 4;
const PAGE: u64 = 4096;

#[ta_create]
fn create() -> Result<()> {
    Ok(())
}

#[ta_destroy]
fn destroy() {}

#[ta_open_session]
fn open_session(_params: &mut Parameters) -> Result<()> {
    Ok(())
}

#[ta_close_session]
fn close_session() {}

/// A `TEE_UUID` as it lies in TA memory (native-endian fields), from the
/// UUID's octets (big-endian fields).
fn tee_uuid_bytes(o: [u8; 16]) -> [u8; 16] {
    let mut b = o;
    b[..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

fn code(r: Result<()>) -> u32 {
    match r {
        Ok(()) => TeeResult::SUCCESS.0,
        Err(e) => e.raw_code(),
    }
}

fn pair(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}

fn v(n: u32) -> TeeParam<'static> {
    TeeParam::value_input(n, 0)
}

fn none() -> TeeParam<'static> {
    TeeParam::none()
}

fn map_zi(s: &mut TaSession, len: u32, flags: u32, at: u64, pad: (u32, u32)) -> Result<u64> {
    let (hi, lo) = pair(at);
    let mut p = TeeParams::new(
        TeeParam::value_input(len, flags),
        TeeParam::value_inout(hi, lo),
        TeeParam::value_input(pad.0, pad.1),
        none(),
    );
    s.invoke_command(MAP_ZI, &mut p)?;
    let (hi, lo) = p.0[1].value().unwrap_or_default();
    Ok(((hi as u64) << 32) | lo as u64)
}

fn unmap(s: &mut TaSession, va: u64, len: u32) -> Result<()> {
    let (hi, lo) = pair(va);
    s.invoke_command(UNMAP, &mut TeeParams::new(v(len), TeeParam::value_input(hi, lo), none(), none()))
}

fn set_prot(s: &mut TaSession, va: u64, len: u32, flags: u32) -> Result<()> {
    let (hi, lo) = pair(va);
    s.invoke_command(
        SET_PROT,
        &mut TeeParams::new(TeeParam::value_input(len, flags), TeeParam::value_input(hi, lo), none(), none()),
    )
}

fn remap(s: &mut TaSession, old: u64, len: u32, new: u64) -> Result<u64> {
    let ((ohi, olo), (nhi, nlo)) = (pair(old), pair(new));
    let mut p = TeeParams::new(v(len), TeeParam::value_input(ohi, olo), TeeParam::value_inout(nhi, nlo), v(0));
    s.invoke_command(REMAP, &mut p)?;
    let (hi, lo) = p.0[2].value().unwrap_or_default();
    Ok(((hi as u64) << 32) | lo as u64)
}

/// A step of the scenario: `got` must be `want` (a TEE_Result).
struct Steps(u32);

impl Steps {
    fn expect(&mut self, got: u32, want: TeeResult, what: &str) -> Result<()> {
        self.0 += 1;
        if got == want.0 {
            return Ok(());
        }
        trace_println!("system test TA: step {} ({what}): {got:#x}, want {:#x}", self.0, want.0);
        Err(Error::from_raw_error(if got == 0 { TeeResult::ERROR_GENERIC.0 } else { got }))
    }

    fn check(&mut self, ok: bool, what: &str) -> Result<()> {
        let got = if ok { 0 } else { TeeResult::ERROR_GENERIC.0 };
        self.expect(got, TeeResult::SUCCESS, what)
    }
}

fn zi_scenario(out: &mut u32) -> Result<()> {
    let mut st = Steps(0);
    let r = zi_steps(&mut st);
    *out = st.0;
    r
}

fn zi_steps(st: &mut Steps) -> Result<()> {
    use TeeResult as T;
    let mut s = TaSession::open(SYSTEM)?;
    // Three pages of zeroes, writable.
    let a = map_zi(&mut s, 3 * PAGE as u32 - 100, 0, 0, (0, 0))?;
    st.check(a != 0 && a % PAGE == 0, "MAP_ZI gives a page-aligned address")?;
    let zero = (0..3 * PAGE).step_by(8).all(|o| fault::read_u64((a + o) as usize) == 0);
    st.check(zero, "fresh memory reads as zeroes")?;
    for i in 0..3 * PAGE / 8 {
        fault::write_u64((a + 8 * i) as usize, i ^ 0x5a5a_0000);
    }
    let back = (0..3 * PAGE / 8).all(|i| fault::read_u64((a + 8 * i) as usize) == i ^ 0x5a5a_0000);
    st.check(back, "written data reads back")?;
    // A second mapping does not overlap the first.
    let b = map_zi(&mut s, PAGE as u32, FLAG_SHAREABLE, 0, (0, 0))?;
    st.check(b >= a + 3 * PAGE || b + PAGE <= a, "second mapping apart")?;
    fault::write_u64(b as usize, 77);
    // Access rights as upstream: shareable memory is not the TA's own.
    let (rw, any) = (ACCESS_READ | ACCESS_WRITE, ACCESS_ANY_OWNER);
    st.check(check_memory_access_rights(rw, a as usize, 4096).is_ok(), "private MAP_ZI memory is the TA's")?;
    st.check(check_memory_access_rights(rw, b as usize, 4096).is_err(), "shareable memory is not private")?;
    st.check(check_memory_access_rights(rw | any, b as usize, 4096).is_ok(), "shareable memory, any owner")?;
    // Read-only: reads still work.
    st.expect(code(set_prot(&mut s, a + PAGE, PAGE as u32, 0)), T::SUCCESS, "SET_PROT read-only")?;
    st.check(fault::read_u64((a + PAGE) as usize) == (PAGE / 8) ^ 0x5a5a_0000, "read-only page readable")?;
    st.expect(code(set_prot(&mut s, a + PAGE, PAGE as u32, FLAG_WRITEABLE)), T::SUCCESS, "SET_PROT writable")?;
    fault::write_u64((a + PAGE) as usize, 1234);
    st.check(fault::read_u64((a + PAGE) as usize) == 1234, "writable again")?;
    st.expect(code(set_prot(&mut s, a, PAGE as u32, 8)), T::ERROR_BAD_PARAMETERS, "SET_PROT unknown flag")?;
    let wx = FLAG_WRITEABLE | FLAG_EXECUTABLE;
    st.expect(code(set_prot(&mut s, a, PAGE as u32, wx)), T::ERROR_ACCESS_DENIED, "SET_PROT W+X")?;
    // Remap moves the data.
    let c = remap(&mut s, a, 3 * PAGE as u32, 0)?;
    st.check(c != a, "REMAP gives a new address")?;
    st.check(fault::read_u64((c + 2 * PAGE) as usize) == (2 * PAGE / 8) ^ 0x5a5a_0000, "data moved")?;
    st.check(fault::read_u64((c + PAGE) as usize) == 1234, "data moved (middle)")?;
    st.expect(code(unmap(&mut s, a, PAGE as u32)), T::ERROR_BAD_PARAMETERS, "UNMAP the old place")?;
    // Partial unmap, then the rest.
    st.expect(code(unmap(&mut s, c + PAGE, PAGE as u32)), T::SUCCESS, "UNMAP the middle page")?;
    st.check(fault::read_u64(c as usize) == 0x5a5a_0000, "first page still there")?;
    st.expect(code(unmap(&mut s, c, 3 * PAGE as u32)), T::ERROR_BAD_PARAMETERS, "UNMAP over a hole")?;
    st.expect(code(unmap(&mut s, c, PAGE as u32)), T::SUCCESS, "UNMAP the first page")?;
    st.expect(code(unmap(&mut s, c + 2 * PAGE, PAGE as u32 - 8)), T::SUCCESS, "UNMAP the last page")?;
    // Refusals.
    st.expect(code(map_zi(&mut s, 0, 0, 0, (0, 0)).map(drop)), T::ERROR_BAD_PARAMETERS, "MAP_ZI of 0 bytes")?;
    st.expect(code(map_zi(&mut s, 4096, 2, 0, (0, 0)).map(drop)), T::ERROR_BAD_PARAMETERS, "MAP_ZI bad flag")?;
    let stack = &st as *const _ as u64 & !(PAGE - 1);
    st.expect(code(unmap(&mut s, stack, PAGE as u32)), T::ERROR_ACCESS_DENIED, "UNMAP the stack")?;
    let code_page = zi_steps as fn(&mut Steps) -> Result<()> as usize as u64 & !(PAGE - 1);
    st.expect(code(unmap(&mut s, code_page, PAGE as u32)), T::ERROR_ACCESS_DENIED, "UNMAP the code")?;
    st.expect(code(set_prot(&mut s, code_page, PAGE as u32, FLAG_WRITEABLE)), T::ERROR_ACCESS_DENIED, "SET_PROT code")?;
    st.expect(code(unmap(&mut s, b, PAGE as u32)), T::SUCCESS, "UNMAP the second mapping")?;
    st.expect(code(unmap(&mut s, b, PAGE as u32)), T::ERROR_BAD_PARAMETERS, "UNMAP twice")?;
    // A fixed address (where the first mapping was), with padding; then
    // the same address again is taken.
    let d = map_zi(&mut s, PAGE as u32, 0, a + PAGE, (PAGE as u32, PAGE as u32))?;
    st.check(d == a + PAGE, "MAP_ZI at a fixed address")?;
    st.check(fault::read_u64(d as usize) == 0, "fresh memory again zero")?;
    let again = map_zi(&mut s, PAGE as u32, 0, d, (0, 0)).map(drop);
    st.expect(code(again), T::ERROR_ACCESS_CONFLICT, "MAP_ZI over a mapping")?;
    let odd = map_zi(&mut s, PAGE as u32, 0, d + 8, (0, 0)).map(drop);
    st.expect(code(odd), T::ERROR_ACCESS_CONFLICT, "MAP_ZI at an unaligned address")?;
    // Padding keeps the pages around a new mapping free.
    let e = map_zi(&mut s, PAGE as u32, 0, 0, (2 * PAGE as u32, 2 * PAGE as u32))?;
    st.check(e >= d + 3 * PAGE || e + 3 * PAGE <= d, "padding respected")?;
    st.expect(code(unmap(&mut s, e, PAGE as u32)), T::SUCCESS, "UNMAP padded")?;
    st.expect(code(unmap(&mut s, d, PAGE as u32)), T::SUCCESS, "UNMAP fixed")?;
    // Wrong parameter types.
    let r = s.invoke_command(MAP_ZI, &mut TeeParams::new(v(4096), v(0), v(0), none()));
    st.expect(code(r), T::ERROR_BAD_PARAMETERS, "MAP_ZI with wrong types")?;
    // Many mappings, then all gone.
    let mut keep = vec![0u64; 64];
    for k in keep.iter_mut() {
        *k = map_zi(&mut s, 2 * PAGE as u32, 0, 0, (0, 0))?;
        fault::write_u64(*k as usize + PAGE as usize, *k);
    }
    st.check(keep.iter().all(|k| fault::read_u64(*k as usize + PAGE as usize) == *k), "64 mappings")?;
    for k in keep {
        st.expect(code(unmap(&mut s, k, 2 * PAGE as u32)), T::SUCCESS, "UNMAP each")?;
    }
    Ok(())
}

fn derive(extra: Option<&[u8]>, key: &mut [u8]) -> Result<()> {
    let mut s = TaSession::open(SYSTEM)?;
    let mut buf = vec![0u8; key.len()];
    let empty = [0u8; 0];
    let mut p = TeeParams::new(
        TeeParam::memref_input(extra.unwrap_or(&empty)),
        TeeParam::memref_output(&mut buf),
        none(),
        none(),
    );
    s.invoke_command(DERIVE_TA_UNIQUE_KEY, &mut p)?;
    key.copy_from_slice(&buf);
    Ok(())
}

fn system_cmd(cmd: u32, p: &mut TeeParams<'_>) -> u32 {
    match TaSession::open(SYSTEM) {
        Ok(mut s) => code(s.invoke_command(cmd, p)),
        Err(e) => e.raw_code(),
    }
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, params: &mut Parameters) -> Result<()> {
    use ParamType::{MemrefInout, MemrefInput, MemrefOutput, None as Nil, ValueInput, ValueOutput};
    match cmd {
        c::CMD_ZI_SCENARIO => {
            params.check_types(ValueOutput, Nil, Nil, Nil)?;
            let mut steps = 0;
            let r = zi_scenario(&mut steps);
            params.0.as_value()?.set_a(steps);
            r
        }
        c::CMD_WRITE_READ_ONLY | c::CMD_READ_UNMAPPED => {
            let mut s = TaSession::open(SYSTEM)?;
            let a = map_zi(&mut s, PAGE as u32, 0, 0, (0, 0))?;
            fault::write_u64(a as usize, 5);
            if cmd == c::CMD_WRITE_READ_ONLY {
                set_prot(&mut s, a, PAGE as u32, 0)?;
                trace_println!("system test TA: writing read-only memory at {a:#x}");
                fault::write_u64(a as usize, 6);
            } else {
                unmap(&mut s, a, PAGE as u32)?;
                trace_println!("system test TA: reading unmapped memory at {a:#x}");
                black_box(fault::read_u64(a as usize));
            }
            // Still alive: the access was not refused.
            Err(Error::new(ErrorKind::Generic))
        }
        c::CMD_DERIVE => {
            let extra_kind = params.0.param_type();
            if !(extra_kind == MemrefInput || extra_kind == Nil) {
                return Err(ErrorKind::BadParameters.into());
            }
            params.check_types(extra_kind, ValueInput, MemrefOutput, Nil)?;
            let n = params.1.as_value()?.a() as usize;
            let mut key = vec![0u8; n];
            if extra_kind == MemrefInput {
                let extra = params.0.as_memref()?.buffer().to_vec();
                derive(Some(&extra), &mut key)?;
            } else {
                derive(None, &mut key)?;
            }
            let mut out = params.2.as_memref()?;
            if out.buffer().len() < n {
                return Err(ErrorKind::ShortBuffer.into());
            }
            out.buffer()[..n].copy_from_slice(&key);
            out.set_updated_size(n);
            Ok(())
        }
        c::CMD_DERIVE_SHM => {
            params.check_types(MemrefInput, MemrefOutput, Nil, Nil)?;
            let mut extra = params.0.as_memref()?;
            let mut key = params.1.as_memref()?;
            let mut p = TeeParams::new(
                TeeParam::memref_input(extra.buffer()),
                TeeParam::memref_output(key.buffer()),
                none(),
                none(),
            );
            let mut s = TaSession::open(SYSTEM)?;
            s.invoke_command(DERIVE_TA_UNIQUE_KEY, &mut p)
        }
        c::CMD_ENTROPY => {
            let data = match params.0.param_type() {
                MemrefInput => params.0.as_memref()?.buffer().to_vec(),
                _ => vec![],
            };
            let mut s = TaSession::open(SYSTEM)?;
            let mut p = TeeParams::new(TeeParam::memref_input(&data), none(), none(), none());
            s.invoke_command(ADD_RNG_ENTROPY, &mut p)
        }
        c::CMD_PLUGIN => {
            let data_kind = params.1.param_type();
            params.check_types(ValueInput, data_kind, ValueOutput, ValueInput)?;
            let (pcmd, sub) = (params.0.as_value()?.a(), params.0.as_value()?.b());
            let plugin = if params.3.as_value()?.a() == 1 { c::ABSENT_PLUGIN } else { c::TEST_PLUGIN };
            let uuid = tee_uuid_bytes(plugin.to_octets());
            let mut empty = [0u8; 0];
            let mut data_mem;
            let data: &mut [u8] = if data_kind == MemrefInout {
                data_mem = params.1.as_memref()?;
                data_mem.buffer()
            } else {
                &mut empty
            };
            let mut p = TeeParams::new(
                TeeParam::memref_input(&uuid),
                TeeParam::value_input(pcmd, sub),
                TeeParam::memref_inout(data),
                TeeParam::value_output(),
            );
            let mut s = TaSession::open(SYSTEM)?;
            let r = s.invoke_command(SUPP_PLUGIN_INVOKE, &mut p);
            let outlen = p.0[3].value().unwrap_or_default().0;
            params.2.as_value()?.set_a(outlen);
            r
        }
        c::CMD_RAW => {
            params.check_types(ValueInput, ValueOutput, Nil, Nil)?;
            let cmd = params.0.as_value()?.a();
            let plain = system_cmd(cmd, &mut TeeParams::empty());
            let mut log = [0u8; 64];
            let tpm = system_cmd(
                GET_TPM_EVENT_LOG,
                &mut TeeParams::new(TeeParam::memref_output(&mut log), none(), none(), none()),
            );
            let mut out = params.1.as_value()?;
            out.set_a(plain);
            out.set_b(tpm);
            Ok(())
        }
        c::CMD_DL => {
            params.check_types(MemrefInput, ValueOutput, Nil, Nil)?;
            let octets: [u8; 16] =
                params.0.as_memref()?.buffer().try_into().map_err(|_| Error::new(ErrorKind::BadParameters))?;
            let lib = tee_uuid_bytes(octets);
            // RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE: what libdl passes.
            let flags = 0x2 | 0x100 | 0x1000;
            let open = system_cmd(DLOPEN, &mut TeeParams::new(TeeParam::memref_input(&lib), v(flags), none(), none()));
            let name = b"main\0";
            let short = &lib[..lib.len().min(15)];
            let sym = system_cmd(
                DLSYM,
                &mut TeeParams::new(
                    TeeParam::memref_input(short),
                    TeeParam::memref_input(name),
                    TeeParam::value_output(),
                    none(),
                ),
            );
            let mut out = params.1.as_value()?;
            out.set_a(open);
            out.set_b(sym);
            Ok(())
        }
        c::CMD_MAP_KEEP => {
            params.check_types(ValueOutput, ValueInput, Nil, Nil)?;
            let n = params.1.as_value()?.a();
            let mut s = TaSession::open(SYSTEM)?;
            let a = map_zi(&mut s, n, 0, 0, (0, 0))?;
            fault::write_u64(a as usize, 1);
            let mut out = params.0.as_value()?;
            out.set_a(a as u32);
            out.set_b((a >> 32) as u32);
            Ok(())
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}
