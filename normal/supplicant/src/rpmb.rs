//! An emulated eMMC RPMB partition kept in a file: authenticated key
//! programming, write counter, MAC-checked writes and nonce-bound reads
//! (HMAC-SHA256 over bytes 228..512 of each frame), as the OP-TEE OS's
//! RPMB file system expects from tee-supplicant's emulation.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

const FRAME: usize = 512;
const MAC_START: usize = 228;
const BLOCK: usize = 256;
/// 2 × 128 KiB.
const SIZE_MULT: u8 = 2;
const BLOCKS: usize = SIZE_MULT as usize * 128 * 1024 / BLOCK;

const CMD_DATA_REQUEST: u16 = 0;
const CMD_GET_DEV_INFO: u16 = 1;

const MSG_PROGRAM_KEY: u16 = 1;
const MSG_GET_WRITE_COUNTER: u16 = 2;
const MSG_WRITE_DATA: u16 = 3;
const MSG_READ_DATA: u16 = 4;

const RES_OK: u16 = 0;
const RES_GENERAL_FAILURE: u16 = 1;
const RES_AUTH_FAILURE: u16 = 2;
const RES_COUNTER_FAILURE: u16 = 3;
const RES_ADDRESS_FAILURE: u16 = 4;
const RES_KEY_NOT_PROGRAMMED: u16 = 7;

const BAD_PARAMETERS: u32 = 0xffff_0006;
const GENERIC: u32 = 0xffff_0000;

#[derive(Default)]
pub struct Rpmb {
    loaded: bool,
    key: Option<[u8; 32]>,
    counter: u32,
    data: Vec<u8>,
}

fn be16(f: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([f[at], f[at + 1]])
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

// Frame field offsets.
const KEY_MAC: usize = 196;
const DATA: usize = 228;
const NONCE: usize = 484;
const COUNTER: usize = 500;
const ADDRESS: usize = 504;
const BLOCK_COUNT: usize = 506;
const RESULT: usize = 508;
const MSG_TYPE: usize = 510;

impl Rpmb {
    fn load(&mut self, file: &Path) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        self.data = vec![0; BLOCKS * BLOCK];
        if let Ok(b) = crate::fs::read_all(file)
            && b.len() == 37 + BLOCKS * BLOCK
        {
            if b[0] == 1 {
                self.key = Some(b[1..33].try_into().unwrap());
            }
            self.counter = u32::from_be_bytes(b[33..37].try_into().unwrap());
            self.data.copy_from_slice(&b[37..]);
        }
    }

    fn save(&self, file: &Path) -> Result<(), u32> {
        let mut b = vec![self.key.is_some() as u8];
        b.extend_from_slice(&self.key.unwrap_or([0; 32]));
        b.extend_from_slice(&self.counter.to_be_bytes());
        b.extend_from_slice(&self.data);
        crate::fs::write_all_durable(file, &b).map_err(|_| GENERIC)
    }

    fn mac(&self, frames: &[&[u8]]) -> Option<[u8; 32]> {
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key?).ok()?;
        for f in frames {
            m.update(&f[MAC_START..FRAME]);
        }
        Some(m.finalize().into_bytes().into())
    }

    /// Serves one request; `rsp_len` is the size of the response buffer.
    pub fn request(&mut self, req: &[u8], rsp_len: usize, file: &Path) -> Result<Vec<u8>, u32> {
        self.load(file);
        if req.len() < 6 {
            return Err(BAD_PARAMETERS);
        }
        let cmd = u16::from_le_bytes([req[0], req[1]]);
        match cmd {
            CMD_GET_DEV_INFO => {
                let mut info = vec![0u8; 19];
                info[..16].copy_from_slice(b"oxtee-emu-rpmb\0\0");
                info[16] = SIZE_MULT;
                info[17] = 1;
                info[18] = 0;
                Ok(info)
            }
            CMD_DATA_REQUEST => {
                let frames: Vec<&[u8]> = req[6..].chunks_exact(FRAME).collect();
                if frames.is_empty() || rsp_len < FRAME || !rsp_len.is_multiple_of(FRAME) {
                    return Err(BAD_PARAMETERS);
                }
                self.data_request(&frames, rsp_len / FRAME, file)
            }
            _ => Err(BAD_PARAMETERS),
        }
    }

    fn data_request(&mut self, frames: &[&[u8]], rsp_frames: usize, file: &Path) -> Result<Vec<u8>, u32> {
        let first = frames[0];
        let msg = be16(first, MSG_TYPE);
        let mut out = vec![0u8; rsp_frames * FRAME];
        match msg {
            MSG_PROGRAM_KEY => {
                let result = if self.key.is_some() {
                    RES_GENERAL_FAILURE
                } else {
                    self.key = Some(first[KEY_MAC..KEY_MAC + 32].try_into().unwrap());
                    self.save(file)?;
                    RES_OK
                };
                put16(&mut out, RESULT, result);
                put16(&mut out, MSG_TYPE, MSG_PROGRAM_KEY << 8);
            }
            MSG_GET_WRITE_COUNTER => {
                out[NONCE..NONCE + 16].copy_from_slice(&first[NONCE..NONCE + 16]);
                out[COUNTER..COUNTER + 4].copy_from_slice(&self.counter.to_be_bytes());
                put16(&mut out, MSG_TYPE, MSG_GET_WRITE_COUNTER << 8);
                let result = if self.key.is_some() { RES_OK } else { RES_KEY_NOT_PROGRAMMED };
                put16(&mut out, RESULT, result);
                if let Some(mac) = self.mac(&[&out[..FRAME]]) {
                    out[KEY_MAC..KEY_MAC + 32].copy_from_slice(&mac);
                }
            }
            MSG_WRITE_DATA => {
                let addr = be16(first, ADDRESS) as usize;
                let count = frames.len();
                let last = frames[count - 1];
                let result = match self.mac(frames) {
                    None => RES_KEY_NOT_PROGRAMMED,
                    Some(mac) if mac != last[KEY_MAC..KEY_MAC + 32] => RES_AUTH_FAILURE,
                    Some(_) if u32::from_be_bytes(first[COUNTER..COUNTER + 4].try_into().unwrap()) != self.counter => {
                        RES_COUNTER_FAILURE
                    }
                    Some(_) if addr + count > BLOCKS => RES_ADDRESS_FAILURE,
                    Some(_) => {
                        for (i, f) in frames.iter().enumerate() {
                            let at = (addr + i) * BLOCK;
                            self.data[at..at + BLOCK].copy_from_slice(&f[DATA..DATA + BLOCK]);
                        }
                        self.counter += 1;
                        self.save(file)?;
                        RES_OK
                    }
                };
                out[COUNTER..COUNTER + 4].copy_from_slice(&self.counter.to_be_bytes());
                put16(&mut out, ADDRESS, addr as u16);
                put16(&mut out, RESULT, result);
                put16(&mut out, MSG_TYPE, MSG_WRITE_DATA << 8);
                if let Some(mac) = self.mac(&[&out[..FRAME]]) {
                    out[KEY_MAC..KEY_MAC + 32].copy_from_slice(&mac);
                }
            }
            MSG_READ_DATA => {
                let addr = be16(first, ADDRESS) as usize;
                let result = if addr + rsp_frames > BLOCKS { RES_ADDRESS_FAILURE } else { RES_OK };
                for i in 0..rsp_frames {
                    let f = &mut out[i * FRAME..(i + 1) * FRAME];
                    if result == RES_OK {
                        let at = (addr + i) * BLOCK;
                        f[DATA..DATA + BLOCK].copy_from_slice(&self.data[at..at + BLOCK]);
                    }
                    f[NONCE..NONCE + 16].copy_from_slice(&first[NONCE..NONCE + 16]);
                    put16(f, ADDRESS, addr as u16);
                    put16(f, BLOCK_COUNT, rsp_frames as u16);
                    put16(f, RESULT, result);
                    put16(f, MSG_TYPE, MSG_READ_DATA << 8);
                }
                let frames_out: Vec<&[u8]> = out.chunks_exact(FRAME).collect();
                if let Some(mac) = self.mac(&frames_out) {
                    let at = (rsp_frames - 1) * FRAME + KEY_MAC;
                    out[at..at + 32].copy_from_slice(&mac);
                }
            }
            _ => return Err(BAD_PARAMETERS),
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(msg: u16) -> Vec<u8> {
        let mut f = vec![0u8; FRAME];
        put16(&mut f, MSG_TYPE, msg);
        f
    }

    fn req(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut r = vec![0u8; 6];
        for f in frames {
            r.extend_from_slice(f);
        }
        r
    }

    #[test]
    fn key_counter_write_read_and_persistence() {
        let file = std::env::temp_dir().join(format!("oxtee-rpmb-{}.bin", std::process::id()));
        let _ = std::fs::remove_file(&file);
        let mut r = Rpmb::default();
        let c = r.request(&req(&[frame(MSG_GET_WRITE_COUNTER)]), FRAME, &file).unwrap();
        assert_eq!(be16(&c, RESULT), RES_KEY_NOT_PROGRAMMED);
        let mut k = frame(MSG_PROGRAM_KEY);
        k[KEY_MAC..KEY_MAC + 32].copy_from_slice(&[7; 32]);
        assert_eq!(be16(&r.request(&req(&[k.clone()]), FRAME, &file).unwrap(), RESULT), RES_OK);
        assert_eq!(be16(&r.request(&req(&[k]), FRAME, &file).unwrap(), RESULT), RES_GENERAL_FAILURE);
        // An authenticated write of two blocks at address 3.
        let mut w1 = frame(MSG_WRITE_DATA);
        let mut w2 = frame(MSG_WRITE_DATA);
        for w in [&mut w1, &mut w2] {
            put16(w, ADDRESS, 3);
            put16(w, BLOCK_COUNT, 2);
        }
        w1[DATA..DATA + BLOCK].fill(0xaa);
        w2[DATA..DATA + BLOCK].fill(0xbb);
        let mac = r.mac(&[&w1, &w2]).unwrap();
        w2[KEY_MAC..KEY_MAC + 32].copy_from_slice(&mac);
        let out = r.request(&req(&[w1.clone(), w2.clone()]), FRAME, &file).unwrap();
        assert_eq!((be16(&out, RESULT), r.counter), (RES_OK, 1));
        // Replay: counter mismatch. Tampered MAC: auth failure.
        assert_eq!(
            be16(&r.request(&req(&[w1.clone(), w2.clone()]), FRAME, &file).unwrap(), RESULT),
            RES_COUNTER_FAILURE
        );
        w2[KEY_MAC] ^= 1;
        assert_eq!(be16(&r.request(&req(&[w1, w2]), FRAME, &file).unwrap(), RESULT), RES_AUTH_FAILURE);
        // A fresh instance reads the data back from the file, MAC'd.
        let mut r2 = Rpmb::default();
        let mut rd = frame(MSG_READ_DATA);
        put16(&mut rd, ADDRESS, 3);
        rd[NONCE..NONCE + 16].copy_from_slice(&[5; 16]);
        let out = r2.request(&req(&[rd]), 2 * FRAME, &file).unwrap();
        assert_eq!(&out[DATA..DATA + 4], &[0xaa; 4]);
        assert_eq!(&out[FRAME + DATA..FRAME + DATA + 4], &[0xbb; 4]);
        let frames: Vec<&[u8]> = out.chunks_exact(FRAME).collect();
        assert_eq!(r2.mac(&frames).unwrap(), out[FRAME + KEY_MAC..FRAME + KEY_MAC + 32]);
        assert_eq!(r2.counter, 1);
        let _ = std::fs::remove_file(&file);
    }
}
