//! OPTEE_RPC_CMD_SOCKET: TCP and UDP sockets for TAs, served as upstream
//! tee-supplicant serves them (optee_client's `tee_socket.c`, 3.19):
//!
//! - sockets are numbered per TA instance (the id the OS sends), each
//!   instance's handles from 0 up, the lowest free one first;
//! - OPEN resolves the server's name (a NUL-terminated string, else
//!   `TEE_ISOCKET_ERROR_HOSTNAME`), connects (blocking; refused or
//!   unreachable: `TEEC_ERROR_COMMUNICATION`, timed out:
//!   `TEE_ISOCKET_ERROR_TIMEOUT`), then makes the socket non-blocking;
//! - SEND and RECV wait up to the timeout in ms (0: not at all,
//!   0xffffffff: for ever) and answer `TEE_ISOCKET_ERROR_TIMEOUT` when it
//!   runs out; RECV of 0 bytes reports how much is queued without
//!   waiting; a datagram longer than the buffer reports its length;
//! - IOCTL: the TCP buffer sizes, the UDP peer's address and port;
//! - CLOSE_ALL closes every socket of an instance (its session closed).
//!
//! Everything in a request is hostile: handles are looked up in the
//! instance's own table, buffers are checked against the shared memory
//! they claim, names are bounded, and the number of sockets is capped.

use crate::errors::{BAD_PARAMETERS, GENERIC, NOT_SUPPORTED, OUT_OF_MEMORY};
use crate::handler::{MEMREF_INOUT, MEMREF_INPUT, MEMREF_OUTPUT, TYPE_MASK, VALUE_INOUT, VALUE_INPUT, VALUE_OUTPUT};
use crate::lock;
use crate::shm::{Memref, ShmTable};
use oxtee_abi::rpc;
use oxtee_abi::ta::socket as s;
use oxtee_abi::tee::TeeResult;
use oxtee_teec::sys::IoctlParam;
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;
use rustix::net::{RecvAncillaryBuffer, RecvFlags, ReturnFlags, SendFlags};
use std::collections::HashMap;
use std::io::IoSliceMut;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const COMMUNICATION: u32 = TeeResult::ERROR_COMMUNICATION.0;

/// Most sockets open at once, over all instances (upstream is bounded by
/// its file descriptors only).
pub const MAX_SOCKETS: usize = 256;
/// Longest server name accepted, its NUL included (a DNS name is at most
/// 253 characters).
pub const NAME_MAX: usize = 1024;
/// How much a look at the queue may see (upstream's SUPP_MAX_PEEK_LEN).
const PEEK_MAX: usize = 4096;

enum Sock {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Sock {
    fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        match self {
            Sock::Tcp(t) => t.as_fd(),
            Sock::Udp(u) => u.as_fd(),
        }
    }

    fn is_dgram(&self) -> bool {
        matches!(self, Sock::Udp(_))
    }
}

#[derive(Default)]
struct Table {
    /// Instance id -> its sockets, indexed by handle.
    by_instance: HashMap<u32, Vec<Option<Arc<Sock>>>>,
    open: usize,
}

#[derive(Default)]
pub struct Sockets {
    table: Mutex<Table>,
}

fn kind(p: &IoctlParam) -> u64 {
    p.attr & TYPE_MASK
}

fn check(params: &[IoctlParam], types: &[u64]) -> Result<(), u32> {
    let ok = params.len() == types.len() && params.iter().zip(types).all(|(p, t)| kind(p) == *t);
    if ok { Ok(()) } else { Err(BAD_PARAMETERS) }
}

/// A name from a request: NUL-terminated in its last byte, as upstream
/// requires, and read up to its first NUL.
fn name(shm: &ShmTable, m: Option<Memref>) -> Result<String, u32> {
    let m = m.filter(|m| m.len > 0 && m.len <= NAME_MAX).ok_or(s::ERROR_HOSTNAME)?;
    let bytes = shm.read(&m, m.len)?;
    if bytes.last() != Some(&0) {
        return Err(s::ERROR_HOSTNAME);
    }
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(0);
    String::from_utf8(bytes[..end].to_vec()).map_err(|_| s::ERROR_HOSTNAME)
}

/// Addresses of `host`:`port` of the family `ip_version` asks for.
fn resolve(host: &str, port: u16, ip_version: u32) -> Result<Vec<SocketAddr>, u32> {
    let want = |a: &SocketAddr| match ip_version {
        s::IP_VERSION_4 => a.is_ipv4(),
        s::IP_VERSION_6 => a.is_ipv6(),
        _ => true,
    };
    let addrs: Vec<SocketAddr> =
        (host, port).to_socket_addrs().map_err(|_| s::ERROR_HOSTNAME)?.filter(|a| want(a)).collect();
    if addrs.is_empty() { Err(s::ERROR_HOSTNAME) } else { Ok(addrs) }
}

fn connect_error(e: &std::io::Error) -> u32 {
    if e.kind() == std::io::ErrorKind::TimedOut { s::ERROR_TIMEOUT } else { COMMUNICATION }
}

fn socket_error(e: &std::io::Error) -> u32 {
    match Errno::from_io_error(e) {
        Some(Errno::NOMEM | Errno::NOBUFS) => s::ERROR_OUT_OF_RESOURCES,
        _ => GENERIC,
    }
}

fn unspecified(a: &SocketAddr) -> SocketAddr {
    let ip: IpAddr = if a.is_ipv4() { [0u8; 4].into() } else { [0u16; 8].into() };
    SocketAddr::new(ip, 0)
}

/// Connects to the first address that answers, as upstream walks
/// getaddrinfo's list; the socket is then non-blocking.
fn connect(addrs: &[SocketAddr], protocol: u32) -> Result<Sock, u32> {
    let mut err = GENERIC;
    for a in addrs {
        let sock = if protocol == s::PROTOCOLID_TCP {
            match TcpStream::connect(a) {
                Ok(t) => Sock::Tcp(t),
                Err(e) => {
                    err = connect_error(&e);
                    continue;
                }
            }
        } else {
            let u = match UdpSocket::bind(unspecified(a)) {
                Ok(u) => u,
                Err(e) => {
                    err = socket_error(&e);
                    continue;
                }
            };
            if let Err(e) = u.connect(a) {
                err = connect_error(&e);
                continue;
            }
            Sock::Udp(u)
        };
        let nb = match &sock {
            Sock::Tcp(t) => t.set_nonblocking(true),
            Sock::Udp(u) => u.set_nonblocking(true),
        };
        return nb.map(|_| sock).map_err(|_| GENERIC);
    }
    Err(err)
}

/// Waits until `fd` is ready for `events` or `timeout` ms pass.
fn wait(fd: std::os::fd::BorrowedFd<'_>, events: PollFlags, timeout: u32) -> Result<(), u32> {
    let deadline = (timeout != s::TIMEOUT_BLOCKING).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let ts = left.map(|l| Timespec { tv_sec: l.as_secs() as _, tv_nsec: l.subsec_nanos() as _ });
        let mut fds = [PollFd::from_borrowed_fd(fd, events)];
        match poll(&mut fds, ts.as_ref()) {
            Ok(0) => return Err(s::ERROR_TIMEOUT),
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => continue,
            Err(_) => return Err(BAD_PARAMETERS),
        }
    }
}

fn recv_flags(fd: std::os::fd::BorrowedFd<'_>, buf: &mut [u8], flags: RecvFlags) -> Result<(usize, bool), Errno> {
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        match rustix::net::recvmsg(fd, &mut iov, &mut RecvAncillaryBuffer::default(), flags) {
            Ok(r) => return Ok((r.bytes, r.flags.contains(ReturnFlags::TRUNC))),
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Reads at most `want` bytes (see the module's notes): the bytes, and
/// the length to report (larger for a truncated datagram).
fn read(sock: &Sock, want: usize, timeout: u32) -> Result<(Vec<u8>, usize), u32> {
    let fd = sock.fd();
    let again = |want: usize| if want == 0 { Ok((Vec::new(), 0)) } else { Err(s::ERROR_TIMEOUT) };
    if want > 0 {
        wait(fd, PollFlags::IN, timeout)?;
    }
    let mut peeked = 0;
    if (sock.is_dgram() && want < PEEK_MAX) || want == 0 {
        let mut b = vec![0u8; PEEK_MAX];
        match recv_flags(fd, &mut b, RecvFlags::PEEK | RecvFlags::DONTWAIT) {
            Ok((n, trunc)) => peeked = n + trunc as usize,
            Err(Errno::AGAIN) => return again(want),
            Err(_) => return Err(BAD_PARAMETERS),
        }
        if want == 0 {
            return Ok((Vec::new(), peeked));
        }
    }
    let mut buf = Vec::new();
    buf.try_reserve_exact(want).map_err(|_| OUT_OF_MEMORY)?;
    buf.resize(want, 0);
    let (n, trunc) = match recv_flags(fd, &mut buf, RecvFlags::DONTWAIT) {
        Ok(r) => r,
        Err(Errno::AGAIN) => return again(want),
        Err(_) => return Err(BAD_PARAMETERS),
    };
    buf.truncate(n);
    let len = if sock.is_dgram() && trunc { peeked.max(n + 1) } else { n };
    Ok((buf, len))
}

fn value_at(p: &IoctlParam) -> (u64, u64, u64) {
    (p.a, p.b, p.c)
}

impl Sockets {
    fn add(&self, instance: u32, sock: Sock) -> Result<u32, u32> {
        let mut t = lock(&self.table);
        if t.open >= MAX_SOCKETS {
            return Err(OUT_OF_MEMORY);
        }
        let list = t.by_instance.entry(instance).or_default();
        let h = match list.iter().position(Option::is_none) {
            Some(h) => h,
            None => {
                list.try_reserve(1).map_err(|_| OUT_OF_MEMORY)?;
                list.push(None);
                list.len() - 1
            }
        };
        list[h] = Some(Arc::new(sock));
        t.open += 1;
        Ok(h as u32)
    }

    fn get(&self, instance: u64, handle: u64) -> Result<Arc<Sock>, u32> {
        // 32-bit fields, as upstream reads them.
        let (i, h) = (instance as u32, usize::try_from(handle as u32).map_err(|_| BAD_PARAMETERS)?);
        let t = lock(&self.table);
        t.by_instance.get(&i).and_then(|l| l.get(h)).and_then(Option::clone).ok_or(BAD_PARAMETERS)
    }

    /// Sockets open.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        lock(&self.table).open
    }

    /// Serves one socket request; `params` are updated for the answer.
    pub fn request(&self, shm: &ShmTable, params: &mut [IoctlParam]) -> Result<(), u32> {
        let first = params.first().ok_or(BAD_PARAMETERS)?;
        if !(VALUE_INPUT..=VALUE_INOUT).contains(&kind(first)) {
            return Err(BAD_PARAMETERS);
        }
        match u32::try_from(first.a).map_err(|_| BAD_PARAMETERS)? {
            rpc::SOCKET_OPEN => self.open_socket(shm, params),
            rpc::SOCKET_CLOSE => self.close(params),
            rpc::SOCKET_CLOSE_ALL => self.close_all(params),
            rpc::SOCKET_SEND => self.send(shm, params),
            rpc::SOCKET_RECV => self.recv(shm, params),
            rpc::SOCKET_IOCTL => self.ioctl(shm, params),
            _ => Err(BAD_PARAMETERS),
        }
    }

    fn open_socket(&self, shm: &ShmTable, params: &mut [IoctlParam]) -> Result<(), u32> {
        check(params, &[VALUE_INPUT, VALUE_INPUT, MEMREF_INPUT, VALUE_OUTPUT])?;
        let instance = params[0].b as u32;
        let (port, protocol, ip_version) = value_at(&params[1]);
        let (port, protocol, ip_version) = (port as u16, protocol as u32, ip_version as u32);
        let host = name(shm, shm.resolve(&params[2])?)?;
        if !matches!(ip_version, s::IP_VERSION_DC | s::IP_VERSION_4 | s::IP_VERSION_6)
            || !matches!(protocol, s::PROTOCOLID_TCP | s::PROTOCOLID_UDP)
        {
            return Err(BAD_PARAMETERS);
        }
        let addrs = resolve(&host, port, ip_version)?;
        let sock = connect(&addrs, protocol)?;
        // Dropping the socket closes it if there is no room for it.
        params[3].a = self.add(instance, sock)? as u64;
        Ok(())
    }

    fn close(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        check(params, &[VALUE_INPUT])?;
        let (_, instance, handle) = value_at(&params[0]);
        let (instance, handle) = (instance as u32, usize::try_from(handle as u32).map_err(|_| BAD_PARAMETERS)?);
        let mut t = lock(&self.table);
        let list = t.by_instance.get_mut(&instance).ok_or(BAD_PARAMETERS)?;
        let slot = list.get_mut(handle).ok_or(BAD_PARAMETERS)?;
        // The socket closes when the last request using it ends.
        slot.take().ok_or(BAD_PARAMETERS)?;
        while list.last().is_some_and(Option::is_none) {
            list.pop();
        }
        if list.is_empty() {
            t.by_instance.remove(&instance);
        }
        t.open = t.open.saturating_sub(1);
        Ok(())
    }

    fn close_all(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        check(params, &[VALUE_INPUT])?;
        let instance = params[0].b as u32;
        let mut t = lock(&self.table);
        if let Some(list) = t.by_instance.remove(&instance) {
            let n = list.iter().flatten().count();
            t.open = t.open.saturating_sub(n);
        }
        Ok(())
    }

    fn send(&self, shm: &ShmTable, params: &mut [IoctlParam]) -> Result<(), u32> {
        check(params, &[VALUE_INPUT, MEMREF_INPUT, VALUE_INOUT])?;
        let (_, instance, handle) = value_at(&params[0]);
        let sock = self.get(instance, handle)?;
        let data = match shm.resolve(&params[1])? {
            Some(m) => shm.read(&m, m.len)?,
            None if params[1].b == 0 => Vec::new(),
            None => return Err(BAD_PARAMETERS),
        };
        let timeout = params[2].a as u32;
        wait(sock.fd(), PollFlags::OUT, timeout)?;
        // Interrupted or full after all: a timeout, as upstream.
        let sent = match rustix::net::send(sock.fd(), &data, SendFlags::NOSIGNAL | SendFlags::DONTWAIT) {
            Ok(n) => n,
            Err(Errno::AGAIN | Errno::INTR) => return Err(s::ERROR_TIMEOUT),
            Err(_) => return Err(BAD_PARAMETERS),
        };
        params[2].b = sent as u64;
        Ok(())
    }

    fn recv(&self, shm: &ShmTable, params: &mut [IoctlParam]) -> Result<(), u32> {
        check(params, &[VALUE_INPUT, MEMREF_OUTPUT, VALUE_INPUT])?;
        let (_, instance, handle) = value_at(&params[0]);
        let sock = self.get(instance, handle)?;
        let m = shm.resolve(&params[1])?;
        let want = match m {
            Some(m) => m.len,
            None if params[1].b == 0 => 0,
            None => return Err(BAD_PARAMETERS),
        };
        let (data, len) = read(&sock, want, params[2].a as u32)?;
        if let Some(m) = m {
            shm.write(&m, &data)?;
        }
        params[1].b = len as u64;
        Ok(())
    }

    fn ioctl(&self, shm: &ShmTable, params: &mut [IoctlParam]) -> Result<(), u32> {
        check(params, &[VALUE_INPUT, MEMREF_INOUT, VALUE_INPUT])?;
        let (_, instance, handle) = value_at(&params[0]);
        let sock = self.get(instance, handle)?;
        let cmd = params[2].a as u32;
        let m = shm.resolve(&params[1])?;
        let buf = match m {
            Some(m) => shm.read(&m, m.len)?,
            None if params[1].b == 0 => Vec::new(),
            None => return Err(BAD_PARAMETERS),
        };
        match &*sock {
            Sock::Tcp(t) => tcp_ioctl(t, cmd, &buf),
            Sock::Udp(u) => udp_ioctl(u, cmd, &buf),
        }
    }
}

fn int_arg(buf: &[u8]) -> Result<usize, u32> {
    // The kernel reads an int and wants at least that many bytes.
    let b: [u8; 4] = buf.get(..4).and_then(|b| b.try_into().ok()).ok_or(BAD_PARAMETERS)?;
    usize::try_from(i32::from_ne_bytes(b)).map_err(|_| BAD_PARAMETERS)
}

fn tcp_ioctl(t: &TcpStream, cmd: u32, buf: &[u8]) -> Result<(), u32> {
    let r = match cmd {
        s::TCP_SET_RECVBUF => rustix::net::sockopt::set_socket_recv_buffer_size(t, int_arg(buf)?),
        s::TCP_SET_SENDBUF => rustix::net::sockopt::set_socket_send_buffer_size(t, int_arg(buf)?),
        _ => return Err(NOT_SUPPORTED),
    };
    r.map_err(|_| BAD_PARAMETERS)
}

fn udp_ioctl(u: &UdpSocket, cmd: u32, buf: &[u8]) -> Result<(), u32> {
    let peer = u.peer_addr().map_err(|_| BAD_PARAMETERS)?;
    match cmd {
        s::UDP_CHANGEADDR => {
            if buf.last() != Some(&0) || buf.len() > NAME_MAX {
                return Err(s::ERROR_HOSTNAME);
            }
            let end = buf.iter().position(|b| *b == 0).unwrap_or(0);
            let host = std::str::from_utf8(&buf[..end]).map_err(|_| s::ERROR_HOSTNAME)?;
            let v = if peer.is_ipv4() { s::IP_VERSION_4 } else { s::IP_VERSION_6 };
            let mut err = s::ERROR_HOSTNAME;
            for a in resolve(host, peer.port(), v)? {
                match u.connect(a) {
                    Ok(()) => return Ok(()),
                    Err(e) => err = connect_error(&e),
                }
            }
            Err(err)
        }
        s::UDP_CHANGEPORT => {
            let port: [u8; 2] = buf.try_into().map_err(|_| BAD_PARAMETERS)?;
            let mut to = peer;
            to.set_port(u16::from_ne_bytes(port));
            u.connect(to).map_err(|_| GENERIC)
        }
        _ => Err(NOT_SUPPORTED),
    }
}

#[cfg(test)]
mod tests;
