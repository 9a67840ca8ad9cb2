//! oxtee's socket test TA (protocol in `oxtee_abi::socket_test_ta`): TCP
//! and UDP sockets through the SDK's iSocket API (`oxtee_utee::socket`),
//! held in the instance by slot, and raw calls to the socket PTA for the
//! hostile cases.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use oxtee_abi::socket_test_ta as c;
use oxtee_abi::ta::socket as abi;
use oxtee_utee::socket::{IpVersion, Setup, Socket, TCP_SOCKET, UDP_SOCKET};
use oxtee_utee::{
    Error, ErrorKind, InstanceCell, ParamType, Parameter, Parameters, Result, TaSession, TeeParam, TeeParams, Uuid,
    ta_close_session, ta_create, ta_destroy, ta_invoke_command, ta_open_session,
};

oxtee_utee::ta_config! {
    uuid: Uuid::from_abi(c::UUID),
    flags: 0,
    stack_size: c::STACK_SIZE,
    data_size: c::DATA_SIZE as usize,
    version: "1.0",
    description: "oxtee socket test TA",
    properties: {},
}

/// Most sockets the TA keeps, and the largest receive buffer it offers.
const SLOTS: usize = 8;
const RECV_MAX: usize = 64 * 1024;

static SOCKETS: InstanceCell<Vec<Option<Socket>>> = InstanceCell::new(Vec::new());
/// The raw session to the PTA (kept: closing it would close the
/// instance's sockets).
static RAW: InstanceCell<Option<TaSession>> = InstanceCell::new(None);

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

fn bad() -> Error {
    ErrorKind::BadParameters.into()
}

fn value(p: &mut Parameter) -> Result<(u32, u32)> {
    if !matches!(p.param_type(), ParamType::ValueInput | ParamType::ValueInout) {
        return Err(bad());
    }
    let v = p.as_value()?;
    Ok((v.a(), v.b()))
}

fn set_out(p: &mut Parameter, a: u32, b: u32) -> Result<()> {
    if !matches!(p.param_type(), ParamType::ValueOutput | ParamType::ValueInout) {
        return Err(bad());
    }
    let mut v = p.as_value()?;
    v.set_a(a);
    v.set_b(b);
    Ok(())
}

fn bytes(p: &mut Parameter) -> Result<Vec<u8>> {
    match p.param_type() {
        ParamType::None => Ok(Vec::new()),
        ParamType::MemrefInput | ParamType::MemrefInout => Ok(p.as_memref()?.buffer().to_vec()),
        _ => Err(bad()),
    }
}

fn with_socket<T>(slot: u32, f: impl FnOnce(&mut Socket) -> Result<T>) -> Result<T> {
    let mut s = SOCKETS.borrow_mut();
    let sock = s.get_mut(slot as usize).and_then(Option::as_mut).ok_or_else(bad)?;
    f(sock)
}

fn open(p: &mut Parameters) -> Result<()> {
    let (proto, port) = value(&mut p.0)?;
    let addr = bytes(&mut p.1)?;
    let (ipv, _) = value(&mut p.2)?;
    let addr = core::str::from_utf8(&addr).map_err(|_| bad())?;
    let ip_version = match ipv {
        abi::IP_VERSION_4 => IpVersion::V4,
        abi::IP_VERSION_6 => IpVersion::V6,
        _ => IpVersion::DontCare,
    };
    let iface = if proto == abi::PROTOCOLID_UDP { &UDP_SOCKET } else { &TCP_SOCKET };
    let setup = Setup { ip_version, server_addr: addr, server_port: port as u16 };
    match iface.open(&setup) {
        Ok(sock) => {
            let mut s = SOCKETS.borrow_mut();
            let slot = match s.iter().position(Option::is_none) {
                Some(i) => i,
                None if s.len() < SLOTS => {
                    s.push(None);
                    s.len() - 1
                }
                None => return Err(ErrorKind::OutOfMemory.into()),
            };
            s[slot] = Some(sock);
            set_out(&mut p.3, slot as u32, 0)
        }
        Err(e) => {
            set_out(&mut p.3, u32::MAX, e.protocol_error)?;
            Err(e.error)
        }
    }
}

fn recv(p: &mut Parameters) -> Result<()> {
    let (slot, timeout) = value(&mut p.0)?;
    let (len, _) = value(&mut p.1)?;
    let len = (len as usize).min(RECV_MAX);
    let mut buf = vec![0u8; len];
    let got = with_socket(slot, |s| s.recv(&mut buf, timeout))?;
    let mut m = p.2.as_memref()?;
    let n = got.min(len).min(m.size());
    m.buffer()[..n].copy_from_slice(&buf[..n]);
    m.set_updated_size(n);
    set_out(&mut p.3, got as u32, 0)
}

fn raw(p: &mut Parameters) -> Result<()> {
    let (cmd, _) = value(&mut p.0)?;
    let (a, b) = value(&mut p.1)?;
    let (types, _) = value(&mut p.2)?;
    let mut bufs = [[0u8; 16]; 4];
    let [b0, b1, b2, b3] = &mut bufs;
    let mut params = [TeeParam::none(), TeeParam::none(), TeeParam::none(), TeeParam::none()];
    for (i, (slot, buf)) in params.iter_mut().zip([b0, b1, b2, b3]).enumerate() {
        let (va, vb) = if i == 0 { (a, b) } else { (0, 0) };
        *slot = match (types >> (4 * i)) & 0xf {
            1 => TeeParam::value_input(va, vb),
            2 => TeeParam::value_output(),
            3 => TeeParam::value_inout(va, vb),
            5 => TeeParam::memref_input(buf),
            6 => TeeParam::memref_output(buf),
            7 => TeeParam::memref_inout(buf),
            _ => TeeParam::none(),
        };
    }
    let mut raw = RAW.borrow_mut();
    if raw.is_none() {
        *raw = Some(TaSession::open(Uuid::from_abi(abi::PTA_SOCKET))?);
    }
    let sess = raw.as_mut().ok_or_else(bad)?;
    let [p0, p1, p2, p3] = params;
    let r = match sess.invoke_command(cmd, &mut TeeParams::new(p0, p1, p2, p3)) {
        Ok(()) => 0,
        Err(e) => e.raw_code(),
    };
    set_out(&mut p.3, r, 0)
}

#[ta_invoke_command]
fn invoke_command(cmd: u32, p: &mut Parameters) -> Result<()> {
    match cmd {
        c::CMD_OPEN => open(p),
        c::CMD_SEND => {
            let (slot, timeout) = value(&mut p.0)?;
            // The client's buffer goes to the socket PTA as it is (no copy
            // in the TA), as upstream's socket TA passes it.
            let sent = if p.1.param_type() == ParamType::None {
                with_socket(slot, |s| s.send(&[], timeout))?
            } else {
                let mut m = p.1.as_memref()?;
                let data: &[u8] = m.buffer();
                with_socket(slot, |s| s.send(data, timeout))?
            };
            set_out(&mut p.2, sent as u32, 0)
        }
        c::CMD_RECV => recv(p),
        c::CMD_CLOSE => {
            let (slot, _) = value(&mut p.0)?;
            let sock = SOCKETS.borrow_mut().get_mut(slot as usize).and_then(Option::take).ok_or_else(bad)?;
            sock.close()
        }
        c::CMD_ERROR => {
            let (slot, _) = value(&mut p.0)?;
            let e = with_socket(slot, |s| Ok(s.error()))?;
            set_out(&mut p.1, e, 0)
        }
        c::CMD_IOCTL => {
            let (slot, command) = value(&mut p.0)?;
            let mut m = p.1.as_memref()?;
            let mut buf = m.buffer().to_vec();
            let n = with_socket(slot, |s| s.ioctl(command, &mut buf))?;
            set_out(&mut p.2, n as u32, 0)
        }
        c::CMD_RAW => raw(p),
        c::CMD_SECOND_SESSION => {
            let r = match TaSession::open(Uuid::from_abi(abi::PTA_SOCKET)) {
                Ok(s) => {
                    drop(s);
                    0
                }
                Err(e) => e.raw_code(),
            };
            set_out(&mut p.0, r, 0)
        }
        _ => Err(ErrorKind::NotSupported.into()),
    }
}
