//! The wire format OPTEE_RPC_CMD_RPMB carries, as the OP-TEE OS and
//! tee-supplicant agree on it.
//!
//! A request is a `struct rpmb_req` header (`cmd`, `dev_id`,
//! `block_count`: three u16 in the CPU's byte order) followed by data
//! frames; the response is data frames, or for GET_DEV_INFO one
//! `struct rpmb_dev_info` (cid[16], rpmb_size_mult, rel_wr_sec_c,
//! ret_code). A data frame is the eMMC's 512-byte RPMB frame: its numeric
//! fields are big-endian, and the MAC (HMAC-SHA256 under the device key)
//! covers bytes 228..512 of every frame of a message, in order.

/// Bytes of one data frame.
pub const FRAME: usize = 512;
/// Bytes of data in one frame (one RPMB block, "half sector").
pub const BLOCK: usize = 256;
/// Bytes of `struct rpmb_req`.
pub const REQ_HEAD: usize = 6;
/// Bytes of `struct rpmb_dev_info`.
pub const DEV_INFO_LEN: usize = 19;
/// One unit of `rpmb_size_mult`.
pub const SIZE_UNIT: u32 = 128 * 1024;

/// `rpmb_req.cmd`.
pub const CMD_DATA_REQ: u16 = 0;
pub const CMD_GET_DEV_INFO: u16 = 1;
/// `rpmb_dev_info.ret_code`.
pub const DEV_INFO_OK: u8 = 0;
pub const DEV_INFO_ERROR: u8 = 1;

/// Request message types; a response's type is the request's `<< 8`.
pub const MSG_PROGRAM_KEY: u16 = 0x0001;
pub const MSG_GET_WRITE_COUNTER: u16 = 0x0002;
pub const MSG_AUTH_DATA_WRITE: u16 = 0x0003;
pub const MSG_AUTH_DATA_READ: u16 = 0x0004;
pub const MSG_RESULT_READ: u16 = 0x0005;

pub const fn response(msg: u16) -> u16 {
    msg << 8
}

/// Operation results (the low 6 bits; bit 7 says the counter expired).
pub const RES_OK: u16 = 0x00;
pub const RES_GENERAL_FAILURE: u16 = 0x01;
pub const RES_AUTH_FAILURE: u16 = 0x02;
pub const RES_COUNTER_FAILURE: u16 = 0x03;
pub const RES_ADDRESS_FAILURE: u16 = 0x04;
pub const RES_WRITE_FAILURE: u16 = 0x05;
pub const RES_READ_FAILURE: u16 = 0x06;
pub const RES_KEY_NOT_PROGRAMMED: u16 = 0x07;
pub const RES_MASK: u16 = 0x3f;
pub const RES_COUNTER_EXPIRED: u16 = 0x80;

/// Field offsets in a frame.
pub const KEY_MAC: usize = 196;
pub const DATA: usize = 228;
pub const NONCE: usize = 484;
pub const COUNTER: usize = 500;
pub const ADDRESS: usize = 504;
pub const BLOCK_COUNT: usize = 506;
pub const RESULT: usize = 508;
pub const MSG_TYPE: usize = 510;
/// The part of a frame the MAC covers.
pub const MAC_FROM: usize = DATA;

/// One data frame.
#[derive(Clone)]
pub struct Frame(pub [u8; FRAME]);

impl Default for Frame {
    fn default() -> Self {
        Frame([0; FRAME])
    }
}

impl Frame {
    /// The frame at the start of `b` (None if `b` is shorter).
    pub fn from_bytes(b: &[u8]) -> Option<Frame> {
        b.get(..FRAME).and_then(|s| s.try_into().ok()).map(Frame)
    }

    pub fn u16(&self, at: usize) -> u16 {
        u16::from_be_bytes([self.0[at], self.0[at + 1]])
    }

    pub fn u32(&self, at: usize) -> u32 {
        u32::from_be_bytes([self.0[at], self.0[at + 1], self.0[at + 2], self.0[at + 3]])
    }

    pub fn set_u16(&mut self, at: usize, v: u16) {
        self.0[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_u32(&mut self, at: usize, v: u32) {
        self.0[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    pub fn msg_type(&self) -> u16 {
        self.u16(MSG_TYPE)
    }

    /// The operation result without the counter-expired bit.
    pub fn result(&self) -> u16 {
        self.u16(RESULT) & RES_MASK
    }

    pub fn counter(&self) -> u32 {
        self.u32(COUNTER)
    }

    pub fn address(&self) -> u16 {
        self.u16(ADDRESS)
    }

    pub fn nonce(&self) -> &[u8] {
        &self.0[NONCE..NONCE + 16]
    }

    pub fn mac(&self) -> &[u8] {
        &self.0[KEY_MAC..KEY_MAC + 32]
    }

    pub fn data(&self) -> &[u8] {
        &self.0[DATA..DATA + BLOCK]
    }

    pub fn covered(&self) -> &[u8] {
        &self.0[MAC_FROM..]
    }
}

/// `struct rpmb_req` in the CPU's byte order (both sides run on it).
pub fn req_head(cmd: u16, dev_id: u16, block_count: u16) -> [u8; REQ_HEAD] {
    let mut h = [0u8; REQ_HEAD];
    h[0..2].copy_from_slice(&cmd.to_ne_bytes());
    h[2..4].copy_from_slice(&dev_id.to_ne_bytes());
    h[4..6].copy_from_slice(&block_count.to_ne_bytes());
    h
}

/// HMAC-SHA256 under `key` over the covered part of each frame.
/// (None only if the MAC cannot be computed at all.)
pub fn mac<'f>(key: &[u8], frames: impl IntoIterator<Item = &'f Frame>) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    let mut m = oxtee_crypto::mac::new(oxtee_abi::ta::crypto::ALG_HMAC_SHA256, key).ok()?;
    for f in frames {
        m.update(f.covered()).ok()?;
    }
    m.finish(&mut out).ok()?;
    Some(out)
}

/// Equality whose time does not depend on where the inputs differ.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
