//! oxtee-supplicant: the normal-world helper of the OP-TEE OS, in Rust.
//! Receives requests from the kernel on /dev/teepriv0 (TEE_IOC_SUPPL_RECV),
//! serves them concurrently on a pool of threads, and answers
//! (TEE_IOC_SUPPL_SEND). An error in one request is answered as an error;
//! nothing a request contains can stop the supplicant.
#![forbid(unsafe_code)]

mod fs;
mod rpmb;

use oxtee_abi::rpc;
use oxtee_teec::sys::{self, IoctlParam, Mapping, SuppHead};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

const NUM_PARAMS: usize = 5;
const ATTR_VALUE_INPUT: u64 = 1;
const ATTR_VALUE_OUTPUT: u64 = 2;
const ATTR_VALUE_INOUT: u64 = 3;
const ATTR_MEMREF_INPUT: u64 = 5;
const ATTR_MEMREF_INOUT: u64 = 7;
const META: u64 = sys::TEE_IOCTL_PARAM_ATTR_META;

const TEEC_SUCCESS: u32 = 0;
const TEEC_ERROR_BAD_PARAMETERS: u32 = 0xffff_0006;
const TEEC_ERROR_ITEM_NOT_FOUND: u32 = 0xffff_0008;
const TEEC_ERROR_NOT_SUPPORTED: u32 = 0xffff_000a;
const TEEC_ERROR_OUT_OF_MEMORY: u32 = 0xffff_000c;

struct Config {
    device: String,
    fs_root: PathBuf,
    ta_dir: PathBuf,
    rpmb_file: PathBuf,
    threads: usize,
    daemon: bool,
    verbose: bool,
}

struct Shm {
    _file: File,
    map: Mapping,
    size: usize,
}

struct Supplicant {
    dev: File,
    cfg: Config,
    shm: Mutex<HashMap<i32, Shm>>,
    fs: fs::Fs,
    rpmb: Mutex<rpmb::Rpmb>,
}

macro_rules! log {
    ($s:expr, $($arg:tt)*) => {
        if $s.cfg.verbose {
            eprintln!("oxtee-supplicant: {}", format_args!($($arg)*));
        }
    };
}

fn usage() -> ! {
    eprintln!(
        "usage: oxtee-supplicant [-d] [-v] [-f FS_DIR] [-t TA_DIR] [-r RPMB_FILE] [-j THREADS] [DEVICE]\n\
         defaults: FS_DIR=/var/lib/tee TA_DIR=/lib/optee_armtz RPMB_FILE=FS_DIR/rpmb.bin DEVICE=/dev/teepriv0"
    );
    std::process::exit(2)
}

fn parse_args() -> Config {
    let mut cfg = Config {
        device: "/dev/teepriv0".into(),
        fs_root: "/var/lib/tee".into(),
        ta_dir: "/lib/optee_armtz".into(),
        rpmb_file: PathBuf::new(),
        threads: 4,
        daemon: false,
        verbose: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "-d" | "--daemonize" => cfg.daemon = true,
            "-v" | "--verbose" => cfg.verbose = true,
            "-f" | "--fs-path" => cfg.fs_root = val().into(),
            "-t" | "--ta-path" => cfg.ta_dir = val().into(),
            "-r" | "--rpmb-file" => cfg.rpmb_file = val().into(),
            "-j" | "--threads" => cfg.threads = val().parse().unwrap_or_else(|_| usage()),
            "-h" | "--help" => usage(),
            d if !d.starts_with('-') => cfg.device = d.into(),
            _ => usage(),
        }
    }
    if cfg.rpmb_file.as_os_str().is_empty() {
        cfg.rpmb_file = cfg.fs_root.join("rpmb.bin");
    }
    cfg.threads = cfg.threads.clamp(1, 64);
    cfg
}

/// A request as received: the function and its parameters (after the
/// meta parameter that carries the request id).
struct Request {
    meta: IoctlParam,
    func: u32,
    params: Vec<IoctlParam>,
}

impl Supplicant {
    fn recv(&self) -> std::io::Result<Request> {
        let head = SuppHead { func_or_ret: 0, num_params: 1 + NUM_PARAMS as u32 };
        let mut params = [IoctlParam::default(); 1 + NUM_PARAMS];
        // A bare META parameter asks the kernel for the request id (so
        // several threads can serve requests at once).
        params[0].attr = META;
        let mut buf = sys::encode(&head, &params);
        sys::ioctl_buf(&self.dev, sys::TEE_IOC_SUPPL_RECV, &mut buf)?;
        let (head, params): (SuppHead, [IoctlParam; 1 + NUM_PARAMS]) = sys::decode(&buf);
        let n = (head.num_params as usize).clamp(1, 1 + NUM_PARAMS);
        Ok(Request { meta: params[0], func: head.func_or_ret, params: params[1..n].to_vec() })
    }

    fn send(&self, req: &Request, ret: u32) -> std::io::Result<()> {
        let mut params = vec![req.meta];
        params.extend_from_slice(&req.params);
        let head = SuppHead { func_or_ret: ret, num_params: params.len() as u32 };
        let mut buf = sys::encode(&head, &params);
        sys::ioctl_buf(&self.dev, sys::TEE_IOC_SUPPL_SEND, &mut buf).map(|_| ())
    }

    /// The bytes of a memref parameter (a shm we allocated), as a copy.
    fn read_memref(&self, p: &IoctlParam) -> Result<Vec<u8>, u32> {
        let table = self.shm.lock().unwrap();
        let shm = table.get(&(p.c as i32)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        let end = p.a.checked_add(p.b).filter(|e| *e <= shm.size as u64).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        Ok(shm.map.as_slice()[p.a as usize..end as usize].to_vec())
    }

    /// Writes into a memref parameter; returns false if it does not fit.
    fn write_memref(&self, p: &IoctlParam, data: &[u8]) -> Result<(), u32> {
        let mut table = self.shm.lock().unwrap();
        let shm = table.get_mut(&(p.c as i32)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        if data.len() as u64 > p.b || p.a.checked_add(data.len() as u64).is_none_or(|e| e > shm.size as u64) {
            return Err(TEEC_ERROR_BAD_PARAMETERS);
        }
        let off = p.a as usize;
        shm.map.as_mut_slice()[off..off + data.len()].copy_from_slice(data);
        Ok(())
    }

    fn is_memref(p: &IoctlParam) -> bool {
        (ATTR_MEMREF_INPUT..=ATTR_MEMREF_INOUT).contains(&(p.attr & 0xff))
    }

    fn is_value(p: &IoctlParam) -> bool {
        (ATTR_VALUE_INPUT..=ATTR_VALUE_INOUT).contains(&(p.attr & 0xff))
    }

    fn handle(&self, req: &mut Request) -> u32 {
        let r = match req.func {
            rpc::CMD_LOAD_TA => self.load_ta(req),
            rpc::CMD_FS => self.fs_request(req),
            rpc::CMD_RPMB => self.rpmb_request(req),
            rpc::CMD_SHM_ALLOC => self.shm_alloc(req),
            rpc::CMD_SHM_FREE => self.shm_free(req),
            _ => Err(TEEC_ERROR_NOT_SUPPORTED),
        };
        match r {
            Ok(()) => TEEC_SUCCESS,
            Err(e) => e,
        }
    }

    fn load_ta(&self, req: &mut Request) -> Result<(), u32> {
        let [uuid_p, buf_p, ..] = req.params[..] else { return Err(TEEC_ERROR_BAD_PARAMETERS) };
        if !Self::is_value(&uuid_p) || !Self::is_memref(&buf_p) {
            return Err(TEEC_ERROR_BAD_PARAMETERS);
        }
        let mut octets = [0u8; 16];
        octets[..8].copy_from_slice(&uuid_p.a.to_le_bytes());
        octets[8..].copy_from_slice(&uuid_p.b.to_le_bytes());
        let uuid = oxtee_abi::uuid::Uuid::from_octets(octets);
        let path = self.cfg.ta_dir.join(format!("{uuid}.ta"));
        let image = fs::read_all(&path).map_err(|_| TEEC_ERROR_ITEM_NOT_FOUND)?;
        log!(self, "LOAD_TA {uuid}: {} bytes, buffer {}", image.len(), buf_p.b);
        if (image.len() as u64) > buf_p.b || buf_p.c == sys::TEE_MEMREF_NULL {
            // A size query: report what is needed.
            req.params[1].b = image.len() as u64;
            return Ok(());
        }
        self.write_memref(&buf_p, &image)?;
        req.params[1].b = image.len() as u64;
        Ok(())
    }

    fn name(&self, p: Option<&IoctlParam>) -> Result<Vec<u8>, u32> {
        let p = p.filter(|p| Self::is_memref(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        self.read_memref(p)
    }

    fn fs_request(&self, req: &mut Request) -> Result<(), u32> {
        let v = *req.params.first().filter(|p| Self::is_value(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        let fs = &self.fs;
        let set_value = |req: &mut Request, i: usize, a: u64| -> Result<(), u32> {
            let p = req
                .params
                .get_mut(i)
                .filter(|p| (p.attr & 0xff) == ATTR_VALUE_OUTPUT || (p.attr & 0xff) == ATTR_VALUE_INOUT);
            let p = p.ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
            p.a = a;
            Ok(())
        };
        match v.a as u32 {
            rpc::FS_OPEN | rpc::FS_CREATE => {
                let name = self.name(req.params.get(1))?;
                let fd = fs.open(&name, v.a as u32 == rpc::FS_CREATE)?;
                let shown = name.split(|b| *b == 0).next().unwrap_or(&[]);
                log!(self, "FS open {} -> {fd}", String::from_utf8_lossy(shown));
                set_value(req, 2, fd)
            }
            rpc::FS_CLOSE => fs.close(v.b),
            rpc::FS_READ => {
                let p = *req.params.get(1).filter(|p| Self::is_memref(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
                let mut data = vec![0u8; p.b.min(64 << 20) as usize];
                let n = fs.read(v.b, v.c, &mut data)?;
                self.write_memref(&p, &data[..n])?;
                req.params[1].b = n as u64;
                Ok(())
            }
            rpc::FS_WRITE => {
                let p = req.params.get(1).filter(|p| Self::is_memref(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
                let data = self.read_memref(p)?;
                fs.write(v.b, v.c, &data)
            }
            rpc::FS_TRUNCATE => fs.truncate(v.b, v.c),
            rpc::FS_REMOVE => fs.remove(&self.name(req.params.get(1))?),
            rpc::FS_RENAME => {
                let (old, new) = (self.name(req.params.get(1))?, self.name(req.params.get(2))?);
                fs.rename(&old, &new, v.b != 0)
            }
            rpc::FS_OPENDIR => {
                let name = self.name(req.params.get(1))?;
                let h = fs.opendir(&name)?;
                set_value(req, 2, h)
            }
            rpc::FS_CLOSEDIR => fs.closedir(v.b),
            rpc::FS_READDIR => {
                let p = *req.params.get(1).filter(|p| Self::is_memref(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
                let name = fs.readdir(v.b)?;
                req.params[1].b = name.len() as u64;
                if name.len() as u64 > p.b {
                    return Err(fs::SHORT_BUFFER);
                }
                self.write_memref(&p, &name)
            }
            _ => Err(TEEC_ERROR_BAD_PARAMETERS),
        }
    }

    fn rpmb_request(&self, req: &mut Request) -> Result<(), u32> {
        let (rq, rs) = match req.params[..] {
            [rq, rs, ..] if Self::is_memref(&rq) && Self::is_memref(&rs) => (rq, rs),
            _ => return Err(TEEC_ERROR_BAD_PARAMETERS),
        };
        let input = self.read_memref(&rq)?;
        let out = self.rpmb.lock().unwrap().request(&input, rs.b as usize, &self.cfg.rpmb_file)?;
        self.write_memref(&rs, &out)
    }

    fn shm_alloc(&self, req: &mut Request) -> Result<(), u32> {
        let p = *req.params.first().filter(|p| Self::is_value(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        let size = usize::try_from(p.b).ok().filter(|s| *s <= 64 << 20).ok_or(TEEC_ERROR_OUT_OF_MEMORY)?;
        // Our own pages, registered with the driver (as tee-supplicant does
        // when the driver can register memory): the kernel hands the secure
        // world a page list of them.
        let map = Mapping::anonymous(size).map_err(|_| TEEC_ERROR_OUT_OF_MEMORY)?;
        let mut d = sys::ShmRegisterData { addr: map.as_ptr() as u64, length: size as u64, flags: 0, id: 0 };
        let fd = sys::ioctl(&self.dev, sys::TEE_IOC_SHM_REGISTER, &mut d).map_err(|_| TEEC_ERROR_OUT_OF_MEMORY)?;
        let file = sys::file_from_fd(fd);
        self.shm.lock().unwrap().insert(d.id, Shm { _file: file, map, size });
        req.params[0].c = d.id as u64;
        log!(self, "SHM_ALLOC {size} bytes -> id {}", d.id);
        Ok(())
    }

    fn shm_free(&self, req: &mut Request) -> Result<(), u32> {
        let p = req.params.first().filter(|p| Self::is_value(p)).ok_or(TEEC_ERROR_BAD_PARAMETERS)?;
        // Dropping the mapping and the fd releases our reference.
        self.shm.lock().unwrap().remove(&(p.b as i32)).map(|_| ()).ok_or(TEEC_ERROR_BAD_PARAMETERS)
    }

    fn serve(self: Arc<Self>) {
        loop {
            let mut req = match self.recv() {
                Ok(r) => r,
                Err(e) => {
                    if e.raw_os_error() == Some(libc_eintr()) {
                        continue;
                    }
                    eprintln!("oxtee-supplicant: receive failed: {e}");
                    std::process::exit(1);
                }
            };
            let ret = self.handle(&mut req);
            if ret != TEEC_SUCCESS {
                log!(self, "request {} failed: {ret:#x}", req.func);
            }
            if let Err(e) = self.send(&req, ret) {
                eprintln!("oxtee-supplicant: answer failed: {e}");
            }
        }
    }
}

fn libc_eintr() -> i32 {
    4
}

fn main() {
    let cfg = parse_args();
    // A supplicant that was just killed may still hold the device for a
    // moment (EBUSY): wait for it rather than fail a restart.
    let mut tries = 0;
    let dev = loop {
        match OpenOptions::new().read(true).write(true).open(&cfg.device) {
            Ok(f) => break f,
            Err(e) if e.raw_os_error() == Some(16) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => {
                eprintln!("oxtee-supplicant: cannot open {}: {e}", cfg.device);
                std::process::exit(1);
            }
        }
    };
    if let Err(e) = std::fs::create_dir_all(&cfg.fs_root) {
        eprintln!("oxtee-supplicant: cannot create {}: {e}", cfg.fs_root.display());
    }
    if cfg.daemon {
        // Detach: re-run ourselves in the background without -d.
        let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "-d" && a != "--daemonize").collect();
        drop(dev);
        match std::process::Command::new(std::env::current_exe().unwrap_or_else(|_| "oxtee-supplicant".into()))
            .args(args)
            .stdin(std::process::Stdio::null())
            .spawn()
        {
            Ok(_) => std::process::exit(0),
            Err(e) => {
                eprintln!("oxtee-supplicant: cannot daemonize: {e}");
                std::process::exit(1);
            }
        }
    }
    eprintln!(
        "oxtee-supplicant: serving {} with {} threads (fs {}, TAs {}, rpmb {})",
        cfg.device,
        cfg.threads,
        cfg.fs_root.display(),
        cfg.ta_dir.display(),
        cfg.rpmb_file.display()
    );
    let fs = fs::Fs::new(cfg.fs_root.clone());
    let rpmb = Mutex::new(rpmb::Rpmb::default());
    let threads = cfg.threads;
    let s = Arc::new(Supplicant { dev, cfg, shm: Mutex::new(HashMap::new()), fs, rpmb });
    let workers: Vec<_> = (1..threads)
        .map(|_| {
            std::thread::spawn({
                let s = s.clone();
                move || s.serve()
            })
        })
        .collect();
    s.serve();
    for w in workers {
        let _ = w.join();
    }
}
