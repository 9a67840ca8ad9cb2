//! One request from the secure side, served: the parameter checks (the
//! counts and types upstream tee-supplicant requires, with its error
//! codes), then LOAD_TA, the REE file system, RPMB, shared memory or
//! sockets.
//!
//! Everything here is hostile input: sizes are checked against the shared
//! memory they refer to before anything is allocated, arithmetic is
//! checked, and no request can make the supplicant panic. The device is
//! not touched here (see `ShmDriver`), so host tests drive it directly.

use crate::errors::{BAD_PARAMETERS, GENERIC, ITEM_NOT_FOUND, NOT_SUPPORTED, SHORT_BUFFER, SUCCESS};
use crate::fs::Fs;
use crate::lock;
use crate::rpmb::Rpmb;
use crate::shm::{Memref, ShmDriver, ShmTable};
use crate::socket::Sockets;
use oxtee_abi::rpc;
use oxtee_abi::uuid::Uuid;
use oxtee_teec::sys::IoctlParam;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;

pub const TYPE_MASK: u64 = 0xff;
pub const VALUE_INPUT: u64 = 1;
pub const VALUE_OUTPUT: u64 = 2;
pub const VALUE_INOUT: u64 = 3;
pub const MEMREF_INPUT: u64 = 5;
pub const MEMREF_OUTPUT: u64 = 6;
pub const MEMREF_INOUT: u64 = 7;

/// Longest name read from a memref (a longer one is refused by `fs`).
const NAME_READ_MAX: usize = 4096;

fn kind(p: &IoctlParam) -> u64 {
    p.attr & TYPE_MASK
}

fn is_value(p: &IoctlParam) -> bool {
    (VALUE_INPUT..=VALUE_INOUT).contains(&kind(p))
}

fn is_memref(p: &IoctlParam) -> bool {
    (MEMREF_INPUT..=MEMREF_INOUT).contains(&kind(p))
}

/// Exactly these parameter types, as upstream's FS handlers check them.
fn expect(params: &[IoctlParam], types: &[u64]) -> Result<(), u32> {
    let ok = params.len() == types.len() && params.iter().zip(types).all(|(p, t)| kind(p) == *t);
    if ok { Ok(()) } else { Err(BAD_PARAMETERS) }
}

pub struct Config {
    pub fs_root: PathBuf,
    pub ta_dir: PathBuf,
    pub rpmb_file: PathBuf,
    pub verbose: bool,
}

pub struct Handler {
    ta_dir: PathBuf,
    verbose: bool,
    pub fs: Fs,
    rpmb: Mutex<Rpmb>,
    pub shm: ShmTable,
    pub sockets: Sockets,
}

macro_rules! log {
    ($s:expr, $($arg:tt)*) => {
        if $s.verbose {
            eprintln!("oxtee-supplicant: {}", format_args!($($arg)*));
        }
    };
}

impl Handler {
    pub fn new(cfg: Config, driver: Box<dyn ShmDriver>) -> Handler {
        Handler {
            ta_dir: cfg.ta_dir,
            verbose: cfg.verbose,
            fs: Fs::new(cfg.fs_root),
            rpmb: Mutex::new(Rpmb::new(cfg.rpmb_file)),
            shm: ShmTable::new(driver),
            sockets: Sockets::default(),
        }
    }

    /// Serves request `func` with `params` (the non-meta parameters, updated
    /// in place for the answer); returns the TEEC code to answer with.
    pub fn handle(&self, func: u32, params: &mut [IoctlParam]) -> u32 {
        let r = match func {
            rpc::CMD_LOAD_TA => self.load_ta(params),
            rpc::CMD_FS => self.fs_request(params),
            rpc::CMD_RPMB => self.rpmb_request(params),
            rpc::CMD_SHM_ALLOC => self.shm_alloc(params),
            rpc::CMD_SHM_FREE => self.shm_free(params),
            rpc::CMD_SUPP_PLUGIN => self.supp_plugin(params),
            rpc::CMD_SOCKET => self.sockets.request(&self.shm, params),
            _ => Err(NOT_SUPPORTED),
        };
        match r {
            Ok(()) => SUCCESS,
            Err(e) => {
                log!(self, "request {func} failed: {e:#x}");
                e
            }
        }
    }

    /// `/lib/optee_armtz/<uuid>.ta`, or upstream's older name without the
    /// last dash.
    fn open_ta(&self, uuid: Uuid) -> Option<(File, u64)> {
        let name = uuid.to_string();
        let legacy: String = name.char_indices().filter(|(i, _)| *i != 23).map(|(_, c)| c).collect();
        [name, legacy].iter().find_map(|n| {
            let f = File::open(self.ta_dir.join(format!("{n}.ta"))).ok()?;
            let meta = f.metadata().ok().filter(|m| m.is_file())?;
            Some((f, meta.len()))
        })
    }

    fn load_ta(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        let [uuid_p, buf_p] = params else { return Err(BAD_PARAMETERS) };
        if !is_value(uuid_p) || !is_memref(buf_p) {
            return Err(BAD_PARAMETERS);
        }
        let buf = match self.shm.resolve(buf_p)? {
            // An input buffer cannot be a size query.
            None if kind(buf_p) == MEMREF_INPUT => return Err(BAD_PARAMETERS),
            b => b,
        };
        let mut octets = [0u8; 16];
        octets[..8].copy_from_slice(&uuid_p.a.to_le_bytes());
        octets[8..].copy_from_slice(&uuid_p.b.to_le_bytes());
        let uuid = Uuid::from_octets(octets);
        let (file, size) = self.open_ta(uuid).ok_or(ITEM_NOT_FOUND)?;
        log!(self, "LOAD_TA {uuid}: {size} bytes, buffer {:?}", buf.map(|b| b.len));
        buf_p.b = size;
        let Some(buf) = buf else { return Ok(()) };
        // Not more than the buffer, which lies in memory we allocated.
        let size = usize::try_from(size).ok().filter(|s| *s <= buf.len).ok_or(SHORT_BUFFER)?;
        let mut image = Vec::with_capacity(size);
        file.take(size as u64).read_to_end(&mut image).map_err(|_| ITEM_NOT_FOUND)?;
        if image.len() != size {
            return Err(ITEM_NOT_FOUND);
        }
        self.shm.write(&buf, &image)
    }

    /// SUPP_PLUGIN, with upstream's checks: four parameters (value in,
    /// value in, value inout, memref inout); the plugin's UUID is in
    /// little-endian words of its octets.
    fn supp_plugin(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        let [p0, p1, p2, p3] = params else { return Err(BAD_PARAMETERS) };
        expect(&[*p0, *p1, *p2, *p3], &[VALUE_INPUT, VALUE_INPUT, VALUE_INOUT, MEMREF_INOUT])?;
        let mut octets = [0u8; 16];
        for (i, w) in [p0.b, p0.c, p1.a, p1.b].into_iter().enumerate() {
            octets[4 * i..4 * i + 4].copy_from_slice(&(w as u32).to_le_bytes());
        }
        let uuid = Uuid::from_octets(octets);
        let (cmd, sub_cmd) = (p1.c as u32, p2.a as u32);
        let data = self.shm.resolve(p3)?;
        if p3.b != 0 && data.is_none() {
            return Err(BAD_PARAMETERS);
        }
        if p0.a != u64::from(rpc::SUPP_PLUGIN_INVOKE) {
            return Err(NOT_SUPPORTED);
        }
        let plugin = crate::plugin::find(uuid).ok_or(ITEM_NOT_FOUND)?;
        let (code, outlen) = match &data {
            Some(m) => self.shm.with(m, |d| plugin.invoke(cmd, sub_cmd, d))?,
            None => plugin.invoke(cmd, sub_cmd, &mut []),
        };
        log!(self, "SUPP_PLUGIN {} ({uuid}) cmd {cmd} sub {sub_cmd}: {code:#x}, {outlen} bytes", plugin.name());
        p2.b = outlen as u64;
        if code == SUCCESS { Ok(()) } else { Err(code) }
    }

    fn name(&self, p: &IoctlParam) -> Result<Vec<u8>, u32> {
        self.shm.read(&self.shm.require(p)?, NAME_READ_MAX)
    }

    fn fs_request(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        let v = *params.first().filter(|p| is_value(p)).ok_or(BAD_PARAMETERS)?;
        self.fs.root()?;
        const VI: u64 = VALUE_INPUT;
        const VO: u64 = VALUE_OUTPUT;
        const MI: u64 = MEMREF_INPUT;
        const MO: u64 = MEMREF_OUTPUT;
        let fs = &self.fs;
        let cmd = u32::try_from(v.a).map_err(|_| BAD_PARAMETERS)?;
        match (cmd, &mut *params) {
            (rpc::FS_OPEN | rpc::FS_CREATE | rpc::FS_OPENDIR, [_, name_p, out_p]) => {
                expect(&[v, *name_p, *out_p], &[VI, MI, VO])?;
                let name = self.name(name_p)?;
                let h = match cmd {
                    rpc::FS_OPEN => fs.open(&name)?,
                    rpc::FS_CREATE => fs.create(&name)?,
                    _ => fs.opendir(&name)?,
                };
                log!(
                    self,
                    "FS {cmd} {} -> {h}",
                    String::from_utf8_lossy(name.split(|b| *b == 0).next().unwrap_or_default())
                );
                out_p.a = h;
                Ok(())
            }
            (rpc::FS_CLOSE, [_]) => {
                expect(&[v], &[VI])?;
                fs.close(v.b)
            }
            (rpc::FS_READ, [_, buf_p]) => {
                expect(&[v, *buf_p], &[VI, MO])?;
                let m = self.shm.require(buf_p)?;
                let data = fs.read(v.b, v.c, m.len)?;
                self.shm.write(&m, &data)?;
                buf_p.b = data.len() as u64;
                Ok(())
            }
            (rpc::FS_WRITE, [_, buf_p]) => {
                expect(&[v, *buf_p], &[VI, MI])?;
                let m = self.shm.require(buf_p)?;
                fs.write(v.b, v.c, &self.shm.read(&m, m.len)?)
            }
            (rpc::FS_TRUNCATE, [_]) => {
                expect(&[v], &[VI])?;
                fs.truncate(v.b, v.c)
            }
            (rpc::FS_REMOVE, [_, name_p]) => {
                expect(&[v, *name_p], &[VI, MI])?;
                fs.remove(&self.name(name_p)?)
            }
            (rpc::FS_RENAME, [_, old_p, new_p]) => {
                expect(&[v, *old_p, *new_p], &[VI, MI, MI])?;
                fs.rename(&self.name(old_p)?, &self.name(new_p)?, v.b != 0)
            }
            (rpc::FS_CLOSEDIR, [_]) => {
                expect(&[v], &[VI])?;
                fs.closedir(v.b)
            }
            (rpc::FS_READDIR, [_, buf_p]) => {
                expect(&[v, *buf_p], &[VI, MO])?;
                let m = self.shm.require(buf_p)?;
                let name = fs.readdir(v.b)?;
                buf_p.b = name.len() as u64;
                if name.len() > m.len {
                    return Err(SHORT_BUFFER);
                }
                self.shm.write(&m, &name)
            }
            // A known command with the wrong number of parameters, or an
            // unknown one.
            _ => Err(BAD_PARAMETERS),
        }
    }

    fn rpmb_request(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        let (rq, rs) = match params {
            [rq, rs, ..] if is_memref(rq) && is_memref(rs) => (*rq, *rs),
            _ => return Err(BAD_PARAMETERS),
        };
        let rq: Memref = self.shm.require(&rq)?;
        // The response length is checked against the shared memory it
        // lies in before anything else looks at it.
        let rs: Memref = self.shm.require(&rs)?;
        let input = self.shm.read(&rq, rq.len)?;
        // The RPMB file lives in the storage root by default: make sure the
        // root exists (it is otherwise made at the first file request).
        let _ = self.fs.root();
        let out = lock(&self.rpmb).request(&input, rs.len)?;
        if out.len() > rs.len {
            return Err(GENERIC);
        }
        self.shm.write(&rs, &out)
    }

    fn shm_alloc(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        let [p] = params else { return Err(BAD_PARAMETERS) };
        if !is_value(p) {
            return Err(BAD_PARAMETERS);
        }
        let id = self.shm.alloc(p.b)?;
        log!(self, "SHM_ALLOC {} bytes -> id {id}", p.b);
        p.c = id as u64;
        Ok(())
    }

    fn shm_free(&self, params: &mut [IoctlParam]) -> Result<(), u32> {
        let [p] = params else { return Err(BAD_PARAMETERS) };
        if !is_value(p) {
            return Err(BAD_PARAMETERS);
        }
        self.shm.free(p.b)
    }
}

#[cfg(test)]
mod tests;
