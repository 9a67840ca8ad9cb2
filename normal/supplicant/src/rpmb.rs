//! An emulated eMMC RPMB partition kept in a file: authenticated key
//! programming, write counter, MAC-checked writes and nonce-bound reads
//! (HMAC-SHA256 over bytes 228..512 of each frame), as the OP-TEE OS's
//! RPMB file system expects from tee-supplicant's emulation.
//!
//! Request and response sizes come from the secure side and are checked
//! against what each message allows (upstream's rules) before anything is
//! allocated; the largest response is a read of the whole partition. The
//! file is private (0600) and never reached through a link.

use crate::errors::{BAD_PARAMETERS, GENERIC};
use crate::fs::FILE_MODE;
use hmac::{Hmac, Mac};
use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use sha2::Sha256;
use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

pub const FRAME: usize = 512;
const MAC_START: usize = 228;
const BLOCK: usize = 256;
/// 2 × 128 KiB.
const SIZE_MULT: u8 = 2;
pub const BLOCKS: usize = SIZE_MULT as usize * 128 * 1024 / BLOCK;
/// `struct rpmb_req`: cmd, dev_id, block_count.
pub const REQ_HEAD: usize = 6;
/// `struct rpmb_dev_info`: cid[16], rpmb_size_mult, rel_wr_sec_c, ret_code.
pub const DEV_INFO_LEN: usize = 19;
/// Persisted image: key-set flag, key, write counter, data.
const IMAGE_LEN: usize = 1 + 32 + 4 + BLOCKS * BLOCK;

pub const CMD_DATA_REQUEST: u16 = 0;
pub const CMD_GET_DEV_INFO: u16 = 1;

pub const MSG_PROGRAM_KEY: u16 = 1;
pub const MSG_GET_WRITE_COUNTER: u16 = 2;
pub const MSG_WRITE_DATA: u16 = 3;
pub const MSG_READ_DATA: u16 = 4;

pub const RES_OK: u16 = 0;
pub const RES_GENERAL_FAILURE: u16 = 1;
pub const RES_AUTH_FAILURE: u16 = 2;
pub const RES_COUNTER_FAILURE: u16 = 3;
pub const RES_ADDRESS_FAILURE: u16 = 4;
pub const RES_KEY_NOT_PROGRAMMED: u16 = 7;
/// Result bit: the write counter has reached its end.
const RES_COUNTER_EXPIRED: u16 = 0x80;

// Frame field offsets.
pub const KEY_MAC: usize = 196;
pub const DATA: usize = 228;
pub const NONCE: usize = 484;
pub const COUNTER: usize = 500;
pub const ADDRESS: usize = 504;
pub const BLOCK_COUNT: usize = 506;
pub const RESULT: usize = 508;
pub const MSG_TYPE: usize = 510;

pub type Frame = [u8; FRAME];

pub fn be16(f: &Frame, at: usize) -> u16 {
    match f.get(at..at + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

pub fn put16(f: &mut Frame, at: usize, v: u16) {
    if let Some(d) = f.get_mut(at..at + 2) {
        d.copy_from_slice(&v.to_be_bytes());
    }
}

fn field<const N: usize>(f: &Frame, at: usize) -> [u8; N] {
    f.get(at..at + N).and_then(|s| s.try_into().ok()).unwrap_or([0; N])
}

fn put(f: &mut Frame, at: usize, v: &[u8]) {
    if let Some(d) = f.get_mut(at..at + v.len()) {
        d.copy_from_slice(v);
    }
}

struct State {
    key: Option<[u8; 32]>,
    counter: u32,
    data: Vec<u8>,
}

impl State {
    fn fresh() -> State {
        State { key: None, counter: 0, data: vec![0; BLOCKS * BLOCK] }
    }

    fn parse(b: &[u8]) -> Option<State> {
        let (&flag, rest) = b.split_first()?;
        let (key, rest) = rest.split_first_chunk::<32>()?;
        let (counter, data) = rest.split_first_chunk::<4>()?;
        (data.len() == BLOCKS * BLOCK).then(|| State {
            key: (flag == 1).then_some(*key),
            counter: u32::from_be_bytes(*counter),
            data: data.to_vec(),
        })
    }

    fn image(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(IMAGE_LEN);
        b.push(self.key.is_some() as u8);
        b.extend_from_slice(&self.key.unwrap_or([0; 32]));
        b.extend_from_slice(&self.counter.to_be_bytes());
        b.extend_from_slice(&self.data);
        b
    }

    fn mac<'a>(&self, frames: impl IntoIterator<Item = &'a Frame>) -> Option<[u8; 32]> {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key?).ok()?;
        for f in frames {
            m.update(f.get(MAC_START..).unwrap_or_default());
        }
        Some(m.finalize().into_bytes().into())
    }
}

pub struct Rpmb {
    file: PathBuf,
    /// Loaded on first use; dropped after a failed save so the next
    /// request starts again from what is on disk.
    state: Option<State>,
}

/// The directory holding `path` (configuration: links in it are
/// followed) and the file's own name (never followed).
fn dir_and_name(path: &Path) -> std::io::Result<(OwnedFd, OsString)> {
    let name = path.file_name().ok_or(std::io::ErrorKind::InvalidInput)?.to_owned();
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p,
        None => Path::new("."),
    };
    Ok((rfs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?, name))
}

/// The saved state; `None` if there is no file yet. A file that is a
/// link, not a regular file or not an image is an error, never replaced.
fn load(path: &Path) -> std::io::Result<Option<State>> {
    let (dir, name) = dir_and_name(path)?;
    let fd = match rfs::openat(&dir, &name, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty()) {
        Err(Errno::NOENT) => return Ok(None),
        r => r?,
    };
    let mut f = File::from(fd);
    let meta = f.metadata()?;
    if !meta.is_file() || meta.len() != IMAGE_LEN as u64 {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    let mut b = vec![0; IMAGE_LEN];
    f.read_exact(&mut b)?;
    State::parse(&b).map(Some).ok_or_else(|| std::io::ErrorKind::InvalidData.into())
}

/// Replaces the file atomically: a fresh private temporary beside it,
/// synced, renamed over it, and the directory synced.
fn save(path: &Path, state: &State) -> std::io::Result<()> {
    let (dir, name) = dir_and_name(path)?;
    let mut tmp = name.clone();
    tmp.push(".tmp");
    match rfs::unlinkat(&dir, &tmp, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(e.into()),
    }
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rfs::openat(&dir, &tmp, flags, Mode::from_raw_mode(FILE_MODE))?;
    rfs::fchmod(&fd, Mode::from_raw_mode(FILE_MODE))?;
    let mut f = File::from(fd);
    f.write_all(&state.image())?;
    f.sync_all()?;
    rfs::renameat(&dir, &tmp, &dir, &name)?;
    rfs::fsync(&dir)?;
    Ok(())
}

impl Rpmb {
    pub fn new(file: PathBuf) -> Rpmb {
        Rpmb { file, state: None }
    }

    fn state(&mut self) -> Result<&mut State, u32> {
        if self.state.is_none() {
            let loaded = load(&self.file).map_err(|_| GENERIC)?;
            self.state = Some(loaded.unwrap_or_else(State::fresh));
        }
        self.state.as_mut().ok_or(GENERIC)
    }

    fn save(&mut self) -> Result<(), u32> {
        let r = match &self.state {
            Some(s) => save(&self.file, s).map_err(|_| GENERIC),
            None => Err(GENERIC),
        };
        if r.is_err() {
            self.state = None;
        }
        r
    }

    /// Serves one request (`struct rpmb_req` and its frames); `rsp_len` is
    /// the size of the response buffer, already bounded by the caller to
    /// the shared memory it lies in.
    pub fn request(&mut self, req: &[u8], rsp_len: usize) -> Result<Vec<u8>, u32> {
        let (head, body) = req.split_first_chunk::<REQ_HEAD>().ok_or(BAD_PARAMETERS)?;
        match u16::from_ne_bytes([head[0], head[1]]) {
            CMD_GET_DEV_INFO => {
                if !body.is_empty() || rsp_len != DEV_INFO_LEN {
                    return Err(BAD_PARAMETERS);
                }
                let mut info = vec![0u8; DEV_INFO_LEN];
                info[..16].copy_from_slice(b"oxtee-emu-rpmb\0\0");
                info[16] = SIZE_MULT;
                info[17] = 1; // rel_wr_sec_c
                info[18] = 0; // ret_code: OK
                Ok(info)
            }
            CMD_DATA_REQUEST => {
                let frames: Vec<Frame> = body.chunks_exact(FRAME).filter_map(|c| c.try_into().ok()).collect();
                self.data_request(&frames, rsp_len / FRAME)
            }
            _ => Err(BAD_PARAMETERS),
        }
    }

    fn data_request(&mut self, frames: &[Frame], rsp_frames: usize) -> Result<Vec<u8>, u32> {
        let first = frames.first().ok_or(BAD_PARAMETERS)?;
        let msg = be16(first, MSG_TYPE);
        if frames.iter().any(|f| be16(f, MSG_TYPE) != msg) {
            return Err(BAD_PARAMETERS);
        }
        // Frame counts each message allows; anything else is refused before
        // a response is allocated.
        let counts_ok = match msg {
            MSG_PROGRAM_KEY | MSG_WRITE_DATA => rsp_frames == 1,
            MSG_GET_WRITE_COUNTER => rsp_frames == 1 && frames.len() == 1,
            MSG_READ_DATA => frames.len() == 1 && (1..=BLOCKS).contains(&rsp_frames),
            _ => return Err(GENERIC),
        };
        if !counts_ok {
            return Err(BAD_PARAMETERS);
        }
        let mut out = vec![[0u8; FRAME]; rsp_frames];
        let st = self.state()?;
        match msg {
            MSG_PROGRAM_KEY => {
                let result = if st.key.is_some() {
                    RES_GENERAL_FAILURE
                } else {
                    st.key = Some(field(first, KEY_MAC));
                    self.save()?;
                    RES_OK
                };
                let o = out.first_mut().ok_or(GENERIC)?;
                put16(o, RESULT, result);
                put16(o, MSG_TYPE, MSG_PROGRAM_KEY << 8);
            }
            MSG_GET_WRITE_COUNTER => {
                let o = out.first_mut().ok_or(GENERIC)?;
                put(o, NONCE, &field::<16>(first, NONCE));
                put(o, COUNTER, &st.counter.to_be_bytes());
                put16(o, MSG_TYPE, MSG_GET_WRITE_COUNTER << 8);
                put16(o, RESULT, if st.key.is_some() { RES_OK } else { RES_KEY_NOT_PROGRAMMED });
                if let Some(mac) = st.mac([&*o]) {
                    put(o, KEY_MAC, &mac);
                }
            }
            MSG_WRITE_DATA => {
                let addr = be16(first, ADDRESS);
                let last = frames.last().ok_or(BAD_PARAMETERS)?;
                let fits = (addr as usize).checked_add(frames.len()).is_some_and(|end| end <= BLOCKS);
                let result = match st.mac(frames) {
                    None => RES_KEY_NOT_PROGRAMMED,
                    Some(mac) if mac != field::<32>(last, KEY_MAC) => RES_AUTH_FAILURE,
                    Some(_) if u32::from_be_bytes(field(first, COUNTER)) != st.counter => RES_COUNTER_FAILURE,
                    Some(_) if !fits => RES_ADDRESS_FAILURE,
                    Some(_) => match st.counter.checked_add(1) {
                        None => RES_GENERAL_FAILURE | RES_COUNTER_EXPIRED,
                        Some(next) => {
                            let start = addr as usize * BLOCK;
                            let dst = st.data.get_mut(start..start + frames.len() * BLOCK).ok_or(GENERIC)?;
                            for (d, f) in dst.chunks_exact_mut(BLOCK).zip(frames) {
                                d.copy_from_slice(&field::<BLOCK>(f, DATA));
                            }
                            st.counter = next;
                            self.save()?;
                            RES_OK
                        }
                    },
                };
                let st = self.state()?;
                let o = out.first_mut().ok_or(GENERIC)?;
                put(o, COUNTER, &st.counter.to_be_bytes());
                put16(o, ADDRESS, addr);
                put16(o, RESULT, result);
                put16(o, MSG_TYPE, MSG_WRITE_DATA << 8);
                if let Some(mac) = st.mac([&*o]) {
                    put(o, KEY_MAC, &mac);
                }
            }
            MSG_READ_DATA => {
                let addr = be16(first, ADDRESS);
                let start = addr as usize * BLOCK;
                let src = st.data.get(start..start + rsp_frames * BLOCK);
                let result = if src.is_some() { RES_OK } else { RES_ADDRESS_FAILURE };
                for (i, o) in out.iter_mut().enumerate() {
                    if let Some(block) = src.and_then(|s| s.get(i * BLOCK..(i + 1) * BLOCK)) {
                        put(o, DATA, block);
                    }
                    put(o, NONCE, &field::<16>(first, NONCE));
                    put16(o, ADDRESS, addr);
                    put16(o, BLOCK_COUNT, rsp_frames as u16);
                    put16(o, RESULT, result);
                    put16(o, MSG_TYPE, MSG_READ_DATA << 8);
                }
                if let Some(mac) = st.mac(out.iter())
                    && let Some(o) = out.last_mut()
                {
                    put(o, KEY_MAC, &mac);
                }
            }
            _ => return Err(GENERIC),
        }
        Ok(out.concat())
    }
}

#[cfg(test)]
mod tests;
