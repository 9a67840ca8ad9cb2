//! TEE sockets (the socket PTA, the supplicant's socket RPC) through the
//! socket test TA (`ta/socket-test`, protocol in
//! `oxtee_abi::socket_test_ta`), modelled on upstream's optee_test cases
//! 2001-2004, against servers this program runs on the guest's loopback:
//! TCP echo (data both ways, several sessions at once), a TCP server that
//! never answers nor reads (receive and send timeouts), UDP echo servers
//! (datagrams, a truncated one, the peer's port and address changed), a
//! refused connection and an unknown host; sockets a TA leaves open are
//! closed when its session closes or it panics (the server sees the end of
//! the stream); the PTA refuses the normal world, and malformed calls from
//! the TA get upstream's error codes.

use crate::{check, eq};
use oxtee_abi::socket_test_ta as c;
use oxtee_abi::ta::socket as s;
use oxtee_abi::tee::TeeResult;
use oxtee_teec::{Context, Dir, Error, Operation, Param, ParamNone, ParamTmpRef, ParamValue, Session};
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ORIGIN_TEE: u32 = 3;
const ORIGIN_TA: u32 = 4;
const INFINITE: u32 = s::TIMEOUT_BLOCKING;
const BAD_PARAMETERS: u32 = TeeResult::ERROR_BAD_PARAMETERS.0;

fn vin<'a>(a: u32, b: u32) -> Param<'a> {
    ParamValue::new(a, b, Dir::In)
}

fn vout<'a>() -> Param<'a> {
    ParamValue::new(0, 0, Dir::Out)
}

fn none<'a>() -> Param<'a> {
    ParamNone::new()
}

fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// Opens a socket in the TA: its slot, or the error and protocol error.
fn open(sess: &mut Session, proto: u32, addr: &str, port: u16, ipv: u32) -> Result<u32, (u32, u32, u32)> {
    let mut a = addr.as_bytes().to_vec();
    let mut o = Operation::new(0, vin(proto, port as u32), ParamTmpRef::new_input(&mut a), vin(ipv, 0), vout());
    let r = sess.invoke_command(c::CMD_OPEN, &mut o);
    let (slot, perr) = o.params[3].value().unwrap_or_default();
    r.map(|()| slot).map_err(|e| (e.code, e.origin, perr))
}

fn send(sess: &mut Session, slot: u32, data: &[u8], timeout: u32) -> Result<u32, u32> {
    let mut d = data.to_vec();
    let mut o = Operation::new(0, vin(slot, timeout), ParamTmpRef::new_input(&mut d), vout(), none());
    let r = sess.invoke_command(c::CMD_SEND, &mut o);
    r.map(|()| o.params[2].value().unwrap_or_default().0).map_err(|e| e.code)
}

/// Receives into a buffer of `len` bytes in the TA: the bytes, and the
/// length the receive reported.
fn recv(sess: &mut Session, slot: u32, len: usize, timeout: u32) -> Result<(Vec<u8>, u32), u32> {
    let mut buf = vec![0u8; len.max(1)];
    let (r, got, n) = {
        let mut o =
            Operation::new(0, vin(slot, timeout), vin(len as u32, 0), ParamTmpRef::new_output(&mut buf), vout());
        let r = sess.invoke_command(c::CMD_RECV, &mut o);
        (r, o.params[3].value().unwrap_or_default().0, o.params[2].size().unwrap_or_default())
    };
    buf.truncate(n.min(len));
    r.map(|()| (buf, got)).map_err(|e| e.code)
}

fn close(sess: &mut Session, slot: u32) -> Result<(), u32> {
    sess.invoke_command(c::CMD_CLOSE, &mut Operation::new(0, vin(slot, 0), none(), none(), none())).map_err(|e| e.code)
}

fn error(sess: &mut Session, slot: u32) -> u32 {
    let mut o = Operation::new(0, vin(slot, 0), vout(), none(), none());
    let _ = sess.invoke_command(c::CMD_ERROR, &mut o);
    o.params[1].value().unwrap_or_default().0
}

fn ioctl(sess: &mut Session, slot: u32, cmd: u32, data: &[u8]) -> Result<u32, Error> {
    let mut d = data.to_vec();
    let mut o = Operation::new(0, vin(slot, cmd), ParamTmpRef::new_inout(&mut d), vout(), none());
    let r = sess.invoke_command(c::CMD_IOCTL, &mut o);
    r.map(|()| o.params[2].value().unwrap_or_default().0)
}

/// A raw call of the socket PTA from the TA: its result.
fn raw(sess: &mut Session, cmd: u32, a: u32, b: u32, types: u32) -> u32 {
    let mut o = Operation::new(0, vin(cmd, 0), vin(a, b), vin(types, 0), vout());
    match sess.invoke_command(c::CMD_RAW, &mut o) {
        Ok(()) => o.params[3].value().unwrap_or_default().0,
        Err(e) => e.code,
    }
}

/// `TEE_PARAM_TYPES`.
fn types(t: [u32; 4]) -> u32 {
    t[0] | t[1] << 4 | t[2] << 8 | t[3] << 12
}

/// Reads until `n` bytes came (TCP may split them).
fn recv_all(sess: &mut Session, slot: u32, n: usize) -> Result<Vec<u8>, u32> {
    let mut out = Vec::new();
    while out.len() < n {
        let (b, _) = recv(sess, slot, n - out.len(), 5000)?;
        if b.is_empty() {
            break;
        }
        out.extend_from_slice(&b);
    }
    Ok(out)
}

/// A TCP server on 127.0.0.1: each connection is echoed (`echo`) or held
/// without reading; `ended` counts connections whose client closed.
struct TcpServer {
    port: u16,
    ended: Arc<AtomicUsize>,
}

fn tcp_server(echo: bool) -> TcpServer {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind TCP server");
    let port = l.local_addr().expect("TCP server address").port();
    let ended = Arc::new(AtomicUsize::new(0));
    let e = ended.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let e = e.clone();
            std::thread::spawn(move || {
                if !echo {
                    // Never read, so the sender's queue fills; with nothing
                    // queued, the end of the stream shows.
                    let mut probe = [0u8; 1];
                    loop {
                        match c.peek(&mut probe) {
                            Ok(0) | Err(_) => break,
                            Ok(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                } else {
                    let mut b = [0u8; 4096];
                    loop {
                        match c.read(&mut b) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if c.write_all(&b[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                }
                e.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    TcpServer { port, ended }
}

fn wait_ended(srv: &TcpServer, want: usize) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        if srv.ended.load(Ordering::SeqCst) >= want {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A UDP echo server: replies with the datagram, its first byte replaced
/// by `mark`.
fn udp_server(mark: u8) -> u16 {
    let u = UdpSocket::bind("127.0.0.1:0").expect("bind UDP server");
    let port = u.local_addr().expect("UDP server address").port();
    std::thread::spawn(move || {
        let mut b = [0u8; 2048];
        while let Ok((n, from)) = u.recv_from(&mut b) {
            if n > 0 {
                b[0] = mark;
            }
            let _ = u.send_to(&b[..n], from);
        }
    });
    port
}

fn tcp_cases(ctx: &mut Context, echo: &TcpServer, silent: &TcpServer) {
    let mut sess = ctx.open_session(c::UUID).expect("open socket TA");
    let slot = open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", echo.port, s::IP_VERSION_DC);
    eq("TCP open", slot.map_err(|e| e.0), Ok(0));
    let slot = slot.unwrap_or(0);
    let data = pattern(1, 64);
    eq("TCP send", send(&mut sess, slot, &data, INFINITE), Ok(64));
    eq("TCP echo received", recv_all(&mut sess, slot, 64), Ok(data.clone()));
    eq("TCP error after success", error(&mut sess, slot), 0);
    // A larger exchange, in pieces.
    let big = pattern(7, 20000);
    let mut sent = 0;
    while sent < big.len() {
        match send(&mut sess, slot, &big[sent..(sent + 4096).min(big.len())], INFINITE) {
            Ok(n) if n > 0 => sent += n as usize,
            r => {
                check(false, "TCP send 20000 bytes", format_args!("{r:?} after {sent}"));
                break;
            }
        }
    }
    eq("TCP 20000 bytes echoed", recv_all(&mut sess, slot, big.len()).map(|b| b == big), Ok(true));
    // The TCP ioctls; one of no protocol does nothing.
    eq(
        "TCP SET_RECVBUF",
        ioctl(&mut sess, slot, s::TCP_SET_RECVBUF, &4096i32.to_ne_bytes()).map_err(|e| e.code),
        Ok(4),
    );
    eq(
        "TCP SET_SENDBUF",
        ioctl(&mut sess, slot, s::TCP_SET_SENDBUF, &4096i32.to_ne_bytes()).map_err(|e| e.code),
        Ok(4),
    );
    eq("ioctl of no protocol", ioctl(&mut sess, slot, 0x00f0_0000, &[0; 8]).map_err(|e| e.code), Ok(8));
    eq("TCP close", close(&mut sess, slot), Ok(()));
    eq("TCP server saw the close", wait_ended(echo, 1), true);

    // No data: a receive times out after its timeout, the error recorded;
    // without waiting; a zero-length receive reports nothing queued.
    let slot = open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", silent.port, s::IP_VERSION_4).unwrap_or(u32::MAX);
    let t0 = Instant::now();
    eq("TCP recv 200 ms timeout", recv(&mut sess, slot, 100, 200).map(|_| ()), Err(s::ERROR_TIMEOUT));
    let ms = t0.elapsed().as_millis();
    check((190..3000).contains(&ms), "TCP recv waited its timeout", format_args!("{ms} ms"));
    eq("TCP error() after a timeout", error(&mut sess, slot), s::ERROR_TIMEOUT);
    eq("TCP recv non-blocking", recv(&mut sess, slot, 100, s::TIMEOUT_NONBLOCKING).map(|_| ()), Err(s::ERROR_TIMEOUT));
    eq("TCP recv of 0 bytes", recv(&mut sess, slot, 0, 1000).map(|r| r.1), Ok(0));
    // Sends with a 10 ms timeout until the peer's window is full (2003).
    let _ = ioctl(&mut sess, slot, s::TCP_SET_SENDBUF, &4096i32.to_ne_bytes());
    let chunk = vec![0u8; 16 * 1024];
    let mut r = Ok(0);
    for _ in 0..2000 {
        r = send(&mut sess, slot, &chunk, 10);
        if r.is_err() {
            break;
        }
    }
    eq("TCP send times out when the peer does not read", r, Err(s::ERROR_TIMEOUT));
    eq("TCP close after timeouts", close(&mut sess, slot), Ok(()));
    eq("TCP unknown slot", close(&mut sess, slot), Err(BAD_PARAMETERS));

    // Refused, and a name that does not resolve.
    let free = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(1);
    eq(
        "TCP connection refused",
        open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", free, s::IP_VERSION_DC),
        Err((TeeResult::ERROR_COMMUNICATION.0, ORIGIN_TA, 0)),
    );
    eq(
        "unknown host",
        open(&mut sess, s::PROTOCOLID_TCP, "no.such.host.invalid", echo.port, s::IP_VERSION_DC),
        Err((s::ERROR_PROTOCOL, ORIGIN_TA, s::ERROR_HOSTNAME)),
    );
    eq(
        "IPv6 only to an IPv4 address",
        open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", echo.port, s::IP_VERSION_6).map_err(|e| e.2),
        Err(s::ERROR_HOSTNAME),
    );
}

fn udp_cases(ctx: &mut Context) {
    let (a, b) = (udp_server(0xa1), udp_server(0xb2));
    let mut sess = ctx.open_session(c::UUID).expect("open socket TA");
    let slot = open(&mut sess, s::PROTOCOLID_UDP, "127.0.0.1", a, s::IP_VERSION_DC);
    eq("UDP open", slot.map_err(|e| e.0), Ok(0));
    let slot = slot.unwrap_or(0);
    let data = pattern(3, 64);
    let mut want = data.clone();
    want[0] = 0xa1;
    eq("UDP send", send(&mut sess, slot, &data, INFINITE), Ok(64));
    // A zero-length receive never waits: 0 or the datagram's length.
    let q = recv(&mut sess, slot, 0, INFINITE).map(|r| r.1);
    check(matches!(q, Ok(0) | Ok(64)), "UDP queued size", format_args!("{q:?}"));
    eq("UDP datagram", recv(&mut sess, slot, 64, INFINITE), Ok((want.clone(), 64)));
    // Truncated: the buffer filled, the datagram's length reported.
    eq("UDP send again", send(&mut sess, slot, &data, INFINITE), Ok(64));
    eq("UDP truncated datagram", recv(&mut sess, slot, 32, INFINITE), Ok((want[..32].to_vec(), 64)));
    eq("UDP error after success", error(&mut sess, slot), 0);
    // Another server, by port; the address set again by name.
    eq("UDP CHANGEPORT", ioctl(&mut sess, slot, s::UDP_CHANGEPORT, &b.to_ne_bytes()).map_err(|e| e.code), Ok(2));
    eq("UDP send to the second server", send(&mut sess, slot, &data, INFINITE), Ok(64));
    eq("UDP from the second server", recv(&mut sess, slot, 64, 5000).map(|r| r.0[0]), Ok(0xb2));
    eq("UDP CHANGEADDR", ioctl(&mut sess, slot, s::UDP_CHANGEADDR, b"127.0.0.1\0").map_err(|e| e.code), Ok(10));
    eq(
        "UDP CHANGEADDR without NUL",
        ioctl(&mut sess, slot, s::UDP_CHANGEADDR, b"127.0.0.1").map_err(|e| e.code),
        Err(s::ERROR_HOSTNAME),
    );
    eq(
        "UDP CHANGEPORT of 3 bytes",
        ioctl(&mut sess, slot, s::UDP_CHANGEPORT, &[1, 2, 3]).map_err(|e| e.code),
        Err(BAD_PARAMETERS),
    );
    eq("UDP send after CHANGEADDR", send(&mut sess, slot, &data, INFINITE), Ok(64));
    eq("UDP from the same server", recv(&mut sess, slot, 64, 5000).map(|r| r.0[0]), Ok(0xb2));
    eq("UDP no more data", recv(&mut sess, slot, 64, 50).map(|_| ()), Err(s::ERROR_TIMEOUT));
    eq("UDP close", close(&mut sess, slot), Ok(()));
    // An ioctl of the other protocol panics the TA, as libutee does.
    let slot = open(&mut sess, s::PROTOCOLID_UDP, "127.0.0.1", a, s::IP_VERSION_DC).unwrap_or(0);
    let r = ioctl(&mut sess, slot, s::TCP_SET_RECVBUF, &[0; 4]).map_err(|e| e.code);
    eq("UDP socket given a TCP ioctl: TA panics", r, Err(TeeResult::ERROR_TARGET_DEAD.0));
}

/// Sockets a TA leaves open are closed with its session (CLOSE_ALL),
/// also when it panics; a second session's close closes them too, as
/// upstream.
fn cleanup_cases(ctx: &mut Context, silent: &TcpServer) {
    let before = silent.ended.load(Ordering::SeqCst);
    {
        let mut sess = ctx.open_session(c::UUID).expect("open socket TA");
        for _ in 0..3 {
            let _ = open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", silent.port, s::IP_VERSION_DC);
        }
    }
    eq("sockets left open are closed with the session", wait_ended(silent, before + 3), true);
    let before = silent.ended.load(Ordering::SeqCst);
    let mut sess = ctx.open_session(c::UUID).expect("open socket TA");
    let slot = open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", silent.port, s::IP_VERSION_DC).unwrap_or(0);
    let r = ioctl(&mut sess, slot, 0x3200_0000, &[0; 4]).map_err(|e| e.code);
    eq("unknown ioctl protocol: TA panics", r, Err(TeeResult::ERROR_TARGET_DEAD.0));
    eq("a panicked TA's sockets are closed", wait_ended(silent, before + 1), true);
    drop(sess);
    let before = silent.ended.load(Ordering::SeqCst);
    let mut sess = ctx.open_session(c::UUID).expect("open socket TA");
    let slot = open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", silent.port, s::IP_VERSION_DC).unwrap_or(0);
    let mut o = Operation::new(0, vout(), none(), none(), none());
    eq(
        "second PTA session",
        sess.invoke_command(c::CMD_SECOND_SESSION, &mut o).map(|()| o.params[0].value()),
        Ok(Some((0, 0))),
    );
    eq("closing any PTA session closes the instance's sockets", wait_ended(silent, before + 1), true);
    eq("send on a socket closed that way", send(&mut sess, slot, b"x", 0), Err(BAD_PARAMETERS));
}

fn hostile_cases(ctx: &mut Context) {
    let r = ctx.open_session(s::PTA_SOCKET).map(|s| s.id());
    eq(
        "socket PTA refuses the normal world",
        r,
        Err(Error { code: TeeResult::ERROR_ACCESS_DENIED.0, origin: ORIGIN_TEE }),
    );
    let mut sess = ctx.open_session(c::UUID).expect("open socket TA");
    let (vi, vo, mi, mo, mio) = (1, 2, 5, 6, 7);
    let send_t = types([vi, mi, vo, 0]);
    eq("PTA unknown command", raw(&mut sess, 99, 0, 0, 0), TeeResult::ERROR_NOT_IMPLEMENTED.0);
    eq("PTA command 0", raw(&mut sess, 0, 0, 0, types([vi, 0, 0, 0])), TeeResult::ERROR_NOT_IMPLEMENTED.0);
    eq("PTA send, wrong types", raw(&mut sess, s::PTA_SOCKET_SEND, 0, 0, types([vi, mi, 0, 0])), BAD_PARAMETERS);
    eq("PTA open, wrong types", raw(&mut sess, s::PTA_SOCKET_OPEN, 0, 0, types([vi, mi, vi, 0])), BAD_PARAMETERS);
    eq("PTA recv, wrong types", raw(&mut sess, s::PTA_SOCKET_RECV, 0, 0, types([vi, mio, 0, 0])), BAD_PARAMETERS);
    eq("PTA ioctl, wrong types", raw(&mut sess, s::PTA_SOCKET_IOCTL, 0, 0, types([vi, mo, 0, 0])), BAD_PARAMETERS);
    eq("PTA close, wrong types", raw(&mut sess, s::PTA_SOCKET_CLOSE, 0, 0, types([vo, 0, 0, 0])), BAD_PARAMETERS);
    eq("PTA send, no such handle", raw(&mut sess, s::PTA_SOCKET_SEND, 1234, INFINITE, send_t), BAD_PARAMETERS);
    eq("PTA recv, no such handle", raw(&mut sess, s::PTA_SOCKET_RECV, 7, 10, types([vi, mo, 0, 0])), BAD_PARAMETERS);
    eq("PTA ioctl, no such handle", raw(&mut sess, s::PTA_SOCKET_IOCTL, 7, 0, types([vi, mio, 0, 0])), BAD_PARAMETERS);
    eq(
        "PTA close, no such handle",
        raw(&mut sess, s::PTA_SOCKET_CLOSE, u32::MAX, 0, types([vi, 0, 0, 0])),
        BAD_PARAMETERS,
    );
    // An empty name (16 zero bytes) and protocol 0: refused, as
    // tee-supplicant refuses it.
    let open_t = types([vi, mi, vi, vo]);
    eq("PTA open, protocol 0", raw(&mut sess, s::PTA_SOCKET_OPEN, 0, 80, open_t), BAD_PARAMETERS);
}

/// Three sessions exchanging data at once (2002).
fn concurrent_cases(echo: &TcpServer) {
    let port = echo.port;
    let threads: Vec<_> = (0..3u8)
        .map(|t| {
            std::thread::spawn(move || -> Result<(), String> {
                let ctx = Context::new().map_err(|e| format!("{e:?}"))?;
                let mut sess = ctx.open_session(c::UUID).map_err(|e| format!("{e:?}"))?;
                let slot = open(&mut sess, s::PROTOCOLID_TCP, "127.0.0.1", port, s::IP_VERSION_DC)
                    .map_err(|e| format!("open {e:x?}"))?;
                for i in 0..40u8 {
                    let d = pattern(t.wrapping_mul(50).wrapping_add(i), 64);
                    send(&mut sess, slot, &d, INFINITE).map_err(|e| format!("send {e:#x}"))?;
                    if recv_all(&mut sess, slot, 64).map_err(|e| format!("recv {e:#x}"))? != d {
                        return Err(format!("round {i}: wrong bytes"));
                    }
                }
                close(&mut sess, slot).map_err(|e| format!("close {e:#x}"))
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        let r = t.join().unwrap_or_else(|_| Err("thread panicked".into()));
        eq(&format!("concurrent TCP session {i}"), r, Ok(()));
    }
}

pub fn run(ctx: &mut Context) {
    let echo = tcp_server(true);
    let silent = tcp_server(false);
    tcp_cases(ctx, &echo, &silent);
    udp_cases(ctx);
    cleanup_cases(ctx, &silent);
    hostile_cases(ctx);
    concurrent_cases(&echo);
}
