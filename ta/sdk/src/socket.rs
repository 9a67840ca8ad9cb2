//! GP TEE Sockets: TCP and UDP client sockets (the iSocket interface,
//! `TEE_tcpSocket` / `TEE_udpSocket`), through the socket pseudo-TA and
//! the normal world's tee-supplicant, as upstream's libutee provides them.
//!
//! ```ignore
//! let setup = Setup { ip_version: IpVersion::DontCare, server_addr: "127.0.0.1", server_port: 7 };
//! let mut s = TCP_SOCKET.open(&setup)?;
//! let sent = s.send(b"ping", TIMEOUT_INFINITE)?;
//! let mut buf = [0u8; 64];
//! let got = s.recv(&mut buf, 1000)?; // ms; ERROR_TIMEOUT when it runs out
//! ```
//!
//! The instance opens one session to the socket PTA at its first socket
//! and keeps it; when the instance ends, the OS closes every socket it
//! left open. Errors carry the iSocket codes (`ERROR_TIMEOUT`,
//! `ERROR_PROTOCOL`, ...) as raw codes; [`Socket::error`] is the last
//! protocol error, as `TEE_iSocket.error`.

use crate::InstanceCell;
use crate::error::{Error, Result};
use crate::ta_session::{TaSession, TeeParam, TeeParams};
use crate::uuid::Uuid;
use oxtee_abi::ta::socket as s;

pub use oxtee_abi::ta::socket::{
    ERROR_HOSTNAME, ERROR_LARGE_BUFFER, ERROR_OUT_OF_RESOURCES, ERROR_PROTOCOL, ERROR_REMOTE_CLOSED, ERROR_TIMEOUT,
    PROTOCOLID_TCP, PROTOCOLID_UDP, TCP_SET_RECVBUF, TCP_SET_SENDBUF, TCP_WARNING_UNKNOWN_OUT_OF_BAND, UDP_CHANGEADDR,
    UDP_CHANGEPORT, UDP_WARNING_UNKNOWN_OUT_OF_BAND, WARNING_PROTOCOL,
};

/// `TEE_ipSocket_ipVersion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpVersion {
    /// Either (`TEE_IP_VERSION_DC`).
    DontCare = 0,
    V4 = 1,
    V6 = 2,
}

/// `TEE_tcpSocket_Setup` / `TEE_udpSocket_Setup`.
pub struct Setup<'a> {
    pub ip_version: IpVersion,
    /// A name or a numeric address.
    pub server_addr: &'a str,
    pub server_port: u16,
}

/// An iSocket interface (`TEE_iSocket`): its version and protocol.
pub struct ISocket {
    pub version: u32,
    pub protocol_id: u32,
}

/// `TEE_tcpSocket`.
pub static TCP_SOCKET: ISocket = ISocket { version: s::ISOCKET_VERSION, protocol_id: s::PROTOCOLID_TCP };
/// `TEE_udpSocket`.
pub static UDP_SOCKET: ISocket = ISocket { version: s::ISOCKET_VERSION, protocol_id: s::PROTOCOLID_UDP };

/// A failed open: the error, and the protocol error beside it
/// (`protocolError`): `ERROR_HOSTNAME` with `ERROR_PROTOCOL`.
#[derive(Debug)]
pub struct OpenError {
    pub error: Error,
    pub protocol_error: u32,
}

/// The instance's session to the socket PTA, opened at first use.
static PTA: InstanceCell<Option<TaSession>> = InstanceCell::new(None);

fn invoke(cmd: u32, params: &mut TeeParams<'_>) -> Result<()> {
    let mut sess = PTA.borrow_mut();
    if sess.is_none() {
        *sess = Some(TaSession::open(Uuid::from_abi(s::PTA_SOCKET))?);
    }
    match sess.as_mut() {
        Some(sess) => sess.invoke_command(cmd, params),
        None => Err(Error::from_raw_error(oxtee_abi::tee::TeeResult::ERROR_GENERIC.0)),
    }
}

/// An open socket; closed when dropped (or with [`Socket::close`]).
pub struct Socket {
    handle: u32,
    protocol_id: u32,
    proto_error: u32,
    open: bool,
}

impl ISocket {
    /// Connects (TCP) or sets the peer (UDP) to the server of `setup`.
    pub fn open(&'static self, setup: &Setup<'_>) -> core::result::Result<Socket, OpenError> {
        // NUL-terminated, as the supplicant wants it.
        let mut name = alloc::vec::Vec::new();
        let fail = |error: Error| OpenError { protocol_error: 0, error };
        name.try_reserve_exact(setup.server_addr.len() + 1)
            .map_err(|_| fail(Error::from_raw_error(oxtee_abi::tee::TeeResult::ERROR_OUT_OF_MEMORY.0)))?;
        name.extend_from_slice(setup.server_addr.as_bytes());
        name.push(0);
        let mut p = TeeParams::new(
            TeeParam::value_input(setup.ip_version as u32, setup.server_port as u32),
            TeeParam::memref_input(&name),
            TeeParam::value_input(self.protocol_id, 0),
            TeeParam::value_output(),
        );
        match invoke(s::PTA_SOCKET_OPEN, &mut p) {
            Ok(()) => {
                let handle = p.0[3].value().unwrap_or_default().0;
                Ok(Socket { handle, protocol_id: self.protocol_id, proto_error: 0, open: true })
            }
            Err(e) => {
                let warning = match self.protocol_id {
                    s::PROTOCOLID_TCP => s::TCP_WARNING_UNKNOWN_OUT_OF_BAND,
                    _ => s::UDP_WARNING_UNKNOWN_OUT_OF_BAND,
                };
                let code = e.raw_code();
                let (error, protocol_error) = if code == s::ERROR_HOSTNAME {
                    (Error::from_raw_error(s::ERROR_PROTOCOL), code)
                } else if code == warning {
                    (Error::from_raw_error(s::WARNING_PROTOCOL), code)
                } else {
                    (e, 0)
                };
                Err(OpenError { error, protocol_error })
            }
        }
    }
}

impl Socket {
    /// The supplicant's handle for this socket.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    fn record<T>(&mut self, r: Result<T>) -> Result<T> {
        self.proto_error = match &r {
            Ok(_) => 0,
            Err(e) => e.raw_code(),
        };
        r
    }

    /// Sends `buf`, waiting at most `timeout` ms for room
    /// ([`crate::TIMEOUT_INFINITE`]: for ever); the bytes sent.
    pub fn send(&mut self, buf: &[u8], timeout: u32) -> Result<usize> {
        let mut p = TeeParams::new(
            TeeParam::value_input(self.handle, timeout),
            TeeParam::memref_input(buf),
            TeeParam::value_output(),
            TeeParam::none(),
        );
        let r = invoke(s::PTA_SOCKET_SEND, &mut p).map(|()| p.0[2].value().unwrap_or_default().0 as usize);
        self.record(r)
    }

    /// Receives into `buf`, waiting at most `timeout` ms for data. The
    /// length received; for a datagram longer than `buf`, its length
    /// (more than `buf` holds). An empty `buf` asks how much is queued.
    pub fn recv(&mut self, buf: &mut [u8], timeout: u32) -> Result<usize> {
        let mut p = TeeParams::new(
            TeeParam::value_input(self.handle, timeout),
            TeeParam::memref_output(buf),
            TeeParam::none(),
            TeeParam::none(),
        );
        let r = invoke(s::PTA_SOCKET_RECV, &mut p).map(|()| p.0[1].size().unwrap_or_default());
        self.record(r)
    }

    /// The last protocol error (`TEE_iSocket.error`): the result of the
    /// last send, receive or ioctl.
    pub fn error(&self) -> u32 {
        self.proto_error
    }

    /// A protocol-specific command ([`TCP_SET_RECVBUF`], [`UDP_CHANGEPORT`],
    /// ...) with `buf` in and out; the length it reports. A command of no
    /// protocol (top byte 0) does nothing; one of another protocol, or
    /// unknown, panics the TA, as libutee does.
    pub fn ioctl(&mut self, command: u32, buf: &mut [u8]) -> Result<usize> {
        let proto = s::ioctl_protocol(command);
        if proto == 0 {
            return Ok(buf.len());
        }
        let known = match self.protocol_id {
            s::PROTOCOLID_TCP => matches!(command, s::TCP_SET_RECVBUF | s::TCP_SET_SENDBUF),
            _ => matches!(command, s::UDP_CHANGEADDR | s::UDP_CHANGEPORT),
        };
        if !known {
            crate::tee_panic(0);
        }
        let mut p = TeeParams::new(
            TeeParam::value_input(self.handle, command),
            TeeParam::memref_inout(buf),
            TeeParam::none(),
            TeeParam::none(),
        );
        let r = invoke(s::PTA_SOCKET_IOCTL, &mut p).map(|()| p.0[1].size().unwrap_or_default());
        self.record(r)
    }

    /// Closes the socket.
    pub fn close(mut self) -> Result<()> {
        self.open = false;
        let mut p =
            TeeParams::new(TeeParam::value_input(self.handle, 0), TeeParam::none(), TeeParam::none(), TeeParam::none());
        invoke(s::PTA_SOCKET_CLOSE, &mut p)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.open {
            let mut p = TeeParams::new(
                TeeParam::value_input(self.handle, 0),
                TeeParam::none(),
                TeeParam::none(),
                TeeParam::none(),
            );
            let _ = invoke(s::PTA_SOCKET_CLOSE, &mut p);
        }
    }
}
