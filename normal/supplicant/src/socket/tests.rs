//! The socket requests driven as the kernel would pass them, against real
//! sockets on the host's loopback, with shared memory in plain vectors.

use super::*;
use crate::errors::{BAD_PARAMETERS, NOT_SUPPORTED};
use crate::shm::{ShmBuf, ShmDriver};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicI32, Ordering};

struct VecBuf(Vec<u8>);

impl ShmBuf for VecBuf {
    fn bytes(&self) -> &[u8] {
        &self.0
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }
}

struct VecDriver(AtomicI32);

impl ShmDriver for VecDriver {
    fn register(&self, size: usize) -> Result<(i32, Box<dyn ShmBuf>), u32> {
        Ok((self.0.fetch_add(1, Ordering::Relaxed), Box::new(VecBuf(vec![0; size]))))
    }
}

struct Env {
    shm: ShmTable,
    s: Sockets,
    id: i32,
}

const INST: u64 = 7;

fn v(kind: u64, a: u64, b: u64, c: u64) -> IoctlParam {
    IoctlParam { attr: kind, a, b, c }
}

impl Env {
    fn new() -> Env {
        let shm = ShmTable::new(Box::new(VecDriver(AtomicI32::new(1))));
        let id = shm.alloc(8192).unwrap();
        Env { shm, s: Sockets::default(), id }
    }

    fn mem(&self, kind: u64, data: &[u8], size: usize) -> IoctlParam {
        self.shm.write(&Memref { id: self.id, offset: 0, len: data.len() }, data).unwrap();
        v(kind, 0, size as u64, self.id as u64)
    }

    fn bytes(&self, len: usize) -> Vec<u8> {
        self.shm.read(&Memref { id: self.id, offset: 0, len }, len).unwrap()
    }

    fn open_in(&self, inst: u64, host: &str, port: u16, proto: u32) -> Result<u64, u32> {
        let mut name = host.as_bytes().to_vec();
        name.push(0);
        let mut p = [
            v(VALUE_INPUT, rpc::SOCKET_OPEN as u64, inst, 0),
            v(VALUE_INPUT, port as u64, proto as u64, s::IP_VERSION_DC as u64),
            self.mem(MEMREF_INPUT, &name, name.len()),
            v(VALUE_OUTPUT, 0, 0, 0),
        ];
        self.s.request(&self.shm, &mut p).map(|()| p[3].a)
    }

    fn open(&self, host: &str, port: u16, proto: u32) -> Result<u64, u32> {
        self.open_in(INST, host, port, proto)
    }

    fn send(&self, h: u64, data: &[u8], timeout: u32) -> Result<u64, u32> {
        let mut p = [
            v(VALUE_INPUT, rpc::SOCKET_SEND as u64, INST, h),
            self.mem(MEMREF_INPUT, data, data.len()),
            v(VALUE_INOUT, timeout as u64, 0, 0),
        ];
        self.s.request(&self.shm, &mut p).map(|()| p[2].b)
    }

    fn recv(&self, h: u64, len: usize, timeout: u32) -> (Result<(), u32>, u64) {
        let mut p = [
            v(VALUE_INPUT, rpc::SOCKET_RECV as u64, INST, h),
            v(MEMREF_OUTPUT, 0, len as u64, self.id as u64),
            v(VALUE_INPUT, timeout as u64, 0, 0),
        ];
        let r = self.s.request(&self.shm, &mut p);
        (r, p[1].b)
    }

    fn close(&self, inst: u64, h: u64) -> Result<(), u32> {
        self.s.request(&self.shm, &mut [v(VALUE_INPUT, rpc::SOCKET_CLOSE as u64, inst, h)])
    }

    fn ioctl(&self, h: u64, cmd: u32, data: &[u8]) -> Result<(), u32> {
        let mut p = [
            v(VALUE_INPUT, rpc::SOCKET_IOCTL as u64, INST, h),
            self.mem(MEMREF_INOUT, data, data.len()),
            v(VALUE_INPUT, cmd as u64, 0, 0),
        ];
        self.s.request(&self.shm, &mut p)
    }
}

fn echo_server() -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    // The test connects four times; the listener lives until the fourth
    // connection is served (one at a time, the others wait in the backlog).
    let t = std::thread::spawn(move || {
        for _ in 0..4 {
            let (mut c, _) = l.accept().unwrap();
            let mut b = [0u8; 256];
            loop {
                match c.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => c.write_all(&b[..n]).unwrap(),
                }
            }
        }
    });
    (port, t)
}

#[test]
fn tcp_echo_handles_and_close() {
    let e = Env::new();
    let (port, server) = echo_server();
    let h = e.open("127.0.0.1", port, s::PROTOCOLID_TCP).unwrap();
    assert_eq!(h, 0, "the first handle of an instance is 0");
    assert_eq!(e.send(h, b"hello socket", s::TIMEOUT_BLOCKING), Ok(12));
    let (r, n) = e.recv(h, 64, 2000);
    assert_eq!((r, n), (Ok(()), 12));
    assert_eq!(e.bytes(12), b"hello socket");
    // Nothing more queued: a timeout, the size offered left alone; the
    // same without waiting.
    let t0 = Instant::now();
    assert_eq!(e.recv(h, 64, 50), (Err(s::ERROR_TIMEOUT), 64));
    assert!(t0.elapsed() >= Duration::from_millis(45));
    assert_eq!(e.recv(h, 64, s::TIMEOUT_NONBLOCKING), (Err(s::ERROR_TIMEOUT), 64));
    // Zero bytes asked for: how much is queued, without waiting.
    let mut p = [
        v(VALUE_INPUT, rpc::SOCKET_RECV as u64, INST, h),
        v(MEMREF_OUTPUT, 0, 0, oxtee_teec::sys::TEE_MEMREF_NULL),
        v(VALUE_INPUT, 1000, 0, 0),
    ];
    assert_eq!(e.s.request(&e.shm, &mut p), Ok(()));
    assert_eq!(p[1].b, 0);
    // The TCP ioctls; an unknown one.
    assert_eq!(e.ioctl(h, s::TCP_SET_RECVBUF, &4096i32.to_ne_bytes()), Ok(()));
    assert_eq!(e.ioctl(h, s::TCP_SET_SENDBUF, &4096i32.to_ne_bytes()), Ok(()));
    assert_eq!(e.ioctl(h, s::TCP_SET_SENDBUF, &[1, 2]), Err(BAD_PARAMETERS));
    assert_eq!(e.ioctl(h, s::UDP_CHANGEPORT, &[1, 2]), Err(NOT_SUPPORTED));
    // Handles: the lowest free one; per instance; another instance's
    // handle is not ours.
    let h1 = e.open("localhost", port, s::PROTOCOLID_TCP);
    assert_eq!(h1, Ok(1));
    assert_eq!(e.open_in(INST + 1, "127.0.0.1", port, s::PROTOCOLID_TCP), Ok(0));
    assert_eq!(e.close(INST, 0), Ok(()));
    assert_eq!(e.close(INST, 0), Err(BAD_PARAMETERS), "closed twice");
    assert_eq!(e.send(0, b"x", 0), Err(BAD_PARAMETERS), "closed handle");
    assert_eq!(e.open("127.0.0.1", port, s::PROTOCOLID_TCP), Ok(0), "lowest free handle again");
    assert_eq!(e.close(INST + 2, 0), Err(BAD_PARAMETERS), "unknown instance");
    assert_eq!(e.close(INST, u32::MAX as u64), Err(BAD_PARAMETERS));
    assert_eq!(e.s.open(), 3);
    // CLOSE_ALL closes the instance's sockets, and only those.
    assert_eq!(e.s.request(&e.shm, &mut [v(VALUE_INPUT, rpc::SOCKET_CLOSE_ALL as u64, INST, 0)]), Ok(()));
    assert_eq!(e.s.open(), 1);
    assert_eq!(e.send(1, b"x", 0), Err(BAD_PARAMETERS));
    assert_eq!(e.s.request(&e.shm, &mut [v(VALUE_INPUT, rpc::SOCKET_CLOSE_ALL as u64, INST + 1, 0)]), Ok(()));
    assert_eq!(e.s.open(), 0);
    server.join().unwrap();
}

#[test]
fn refused_hostname_and_bad_requests() {
    let e = Env::new();
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_eq!(e.open("127.0.0.1", port, s::PROTOCOLID_TCP), Err(COMMUNICATION));
    assert_eq!(e.open("no such host", port, s::PROTOCOLID_TCP), Err(s::ERROR_HOSTNAME));
    // A name without its NUL; an empty or absent one; one too long.
    let mut p = [
        v(VALUE_INPUT, rpc::SOCKET_OPEN as u64, INST, 0),
        v(VALUE_INPUT, port as u64, s::PROTOCOLID_TCP as u64, 0),
        e.mem(MEMREF_INPUT, b"127.0.0.1", 9),
        v(VALUE_OUTPUT, 0, 0, 0),
    ];
    assert_eq!(e.s.request(&e.shm, &mut p), Err(s::ERROR_HOSTNAME));
    p[2] = v(MEMREF_INPUT, 0, 0, oxtee_teec::sys::TEE_MEMREF_NULL);
    assert_eq!(e.s.request(&e.shm, &mut p), Err(s::ERROR_HOSTNAME));
    p[2] = e.mem(MEMREF_INPUT, &[b'a'; 2000], 2000);
    assert_eq!(e.s.request(&e.shm, &mut p), Err(s::ERROR_HOSTNAME));
    // A buffer beyond its shared memory.
    p[2] = v(MEMREF_INPUT, 8190, 10, e.id as u64);
    assert_eq!(e.s.request(&e.shm, &mut p), Err(BAD_PARAMETERS));
    // Unknown protocol or IP version.
    assert_eq!(e.open("127.0.0.1", port, 0x67), Err(BAD_PARAMETERS));
    // Wrong counts and types, unknown sub-commands, a memref first.
    for bad in [
        &mut [v(VALUE_INPUT, rpc::SOCKET_CLOSE as u64, INST, 0), v(VALUE_INPUT, 0, 0, 0)][..],
        &mut [v(VALUE_OUTPUT, rpc::SOCKET_SEND as u64, INST, 0)][..],
        &mut [v(VALUE_INPUT, 99, INST, 0)][..],
        &mut [v(VALUE_INPUT, 1 << 32, INST, 0)][..],
        &mut [v(MEMREF_INPUT, 0, 0, 0)][..],
        &mut [][..],
        &mut [
            v(VALUE_INPUT, rpc::SOCKET_RECV as u64, INST, 0),
            v(MEMREF_INPUT, 0, 4, e.id as u64),
            v(VALUE_INPUT, 0, 0, 0),
        ][..],
    ] {
        assert_eq!(e.s.request(&e.shm, bad), Err(BAD_PARAMETERS), "{bad:?}");
    }
    assert_eq!(e.s.open(), 0);
}

#[test]
fn udp_echo_truncation_and_peer_changes() {
    let e = Env::new();
    let servers: Vec<UdpSocket> = (0..2).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    let ports: Vec<u16> = servers.iter().map(|s| s.local_addr().unwrap().port()).collect();
    let threads: Vec<_> = servers
        .into_iter()
        .map(|srv| {
            std::thread::spawn(move || {
                let mut b = [0u8; 512];
                // Echo two datagrams each, the first byte marking the server.
                for _ in 0..2 {
                    let (n, from) = srv.recv_from(&mut b).unwrap();
                    b[0] = srv.local_addr().unwrap().port() as u8;
                    srv.send_to(&b[..n], from).unwrap();
                }
            })
        })
        .collect();
    let h = e.open("127.0.0.1", ports[0], s::PROTOCOLID_UDP).unwrap();
    let data: Vec<u8> = (0..64u8).collect();
    assert_eq!(e.send(h, &data, s::TIMEOUT_BLOCKING), Ok(64));
    assert_eq!(e.recv(h, 64, 2000), (Ok(()), 64));
    assert_eq!(e.bytes(64)[1..], data[1..]);
    // A datagram longer than the buffer: filled, its length reported.
    assert_eq!(e.send(h, &data, s::TIMEOUT_BLOCKING), Ok(64));
    assert_eq!(e.recv(h, 32, 2000), (Ok(()), 64));
    assert_eq!(e.bytes(32)[1..], data[1..32]);
    // To the second server, by port and then by name.
    assert_eq!(e.ioctl(h, s::UDP_CHANGEPORT, &ports[1].to_ne_bytes()), Ok(()));
    assert_eq!(e.send(h, &data, s::TIMEOUT_BLOCKING), Ok(64));
    assert_eq!(e.recv(h, 64, 2000), (Ok(()), 64));
    assert_eq!(e.bytes(1)[0], ports[1] as u8);
    assert_eq!(e.ioctl(h, s::UDP_CHANGEADDR, b"localhost\0"), Ok(()));
    assert_eq!(e.ioctl(h, s::UDP_CHANGEADDR, b"localhost"), Err(s::ERROR_HOSTNAME));
    assert_eq!(e.ioctl(h, s::UDP_CHANGEPORT, &[1, 2, 3]), Err(BAD_PARAMETERS));
    assert_eq!(e.ioctl(h, s::TCP_SET_RECVBUF, &[0; 4]), Err(NOT_SUPPORTED));
    assert_eq!(e.send(h, &data, s::TIMEOUT_BLOCKING), Ok(64));
    assert_eq!(e.recv(h, 64, 2000), (Ok(()), 64));
    assert_eq!(e.bytes(1)[0], ports[1] as u8);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(e.close(INST, h), Ok(()));
}
