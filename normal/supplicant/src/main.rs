//! oxtee-supplicant: the normal-world helper of the OP-TEE OS, in Rust.
//! Receives requests from the kernel on /dev/teepriv0 (TEE_IOC_SUPPL_RECV),
//! serves them concurrently on a pool of threads, and answers
//! (TEE_IOC_SUPPL_SEND). An error in one request is answered as an error;
//! nothing a request contains can stop the supplicant.
#![forbid(unsafe_code)]

mod errors;
mod fs;
mod handler;
mod plugin;
mod rpmb;
mod shm;
mod socket;
#[cfg(test)]
mod tests;

use errors::BAD_PARAMETERS;
use handler::Handler;
use oxtee_teec::sys::{self, IoctlParam, Mapping, SuppHead};
use shm::{ShmBuf, ShmDriver};
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Parameters offered to the kernel per request (the META one included):
/// as many as TEE_MAX_ARG_SIZE (1024 bytes) allows, so that a request
/// with more parameters than upstream ever sends still reaches the
/// handler and gets an error answer rather than failing the receive.
const RECV_PARAMS: usize = 31;
const META: u64 = sys::TEE_IOCTL_PARAM_ATTR_META;

/// A lock whose data stays usable if a thread panicked while holding it
/// (nothing here panics on purpose; this keeps one bug from becoming all).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Args {
    device: String,
    cfg: handler::Config,
    threads: usize,
    daemon: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: oxtee-supplicant [-d] [-v] [-f FS_DIR] [-t TA_DIR] [-r RPMB_FILE] [-j THREADS] [DEVICE]\n\
         defaults: FS_DIR=/var/lib/tee TA_DIR=/lib/optee_armtz RPMB_FILE=FS_DIR/rpmb.bin DEVICE=/dev/teepriv0"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        device: "/dev/teepriv0".into(),
        cfg: handler::Config {
            fs_root: "/var/lib/tee".into(),
            ta_dir: "/lib/optee_armtz".into(),
            rpmb_file: PathBuf::new(),
            verbose: false,
        },
        threads: 4,
        daemon: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "-d" | "--daemonize" => a.daemon = true,
            "-v" | "--verbose" => a.cfg.verbose = true,
            "-f" | "--fs-path" => a.cfg.fs_root = val().into(),
            "-t" | "--ta-path" => a.cfg.ta_dir = val().into(),
            "-r" | "--rpmb-file" => a.cfg.rpmb_file = val().into(),
            "-j" | "--threads" => a.threads = val().parse().unwrap_or_else(|_| usage()),
            "-h" | "--help" => usage(),
            d if !d.starts_with('-') => a.device = d.into(),
            _ => usage(),
        }
    }
    if a.cfg.rpmb_file.as_os_str().is_empty() {
        a.cfg.rpmb_file = a.cfg.fs_root.join("rpmb.bin");
    }
    a.threads = a.threads.clamp(1, 64);
    a
}

/// Application shared memory: our own pages, registered with the driver
/// (as tee-supplicant does when the driver can register memory), so the
/// kernel hands the secure world a page list of them.
struct KernelShm {
    _file: File,
    map: Mapping,
}

impl ShmBuf for KernelShm {
    fn bytes(&self) -> &[u8] {
        self.map.as_slice()
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.map.as_mut_slice()
    }
}

struct Driver {
    dev: Arc<File>,
}

impl ShmDriver for Driver {
    fn register(&self, size: usize) -> Result<(i32, Box<dyn ShmBuf>), u32> {
        let oom = errors::OUT_OF_MEMORY;
        let map = Mapping::anonymous(size).map_err(|_| oom)?;
        let mut d = sys::ShmRegisterData { addr: map.as_ptr() as u64, length: size as u64, flags: 0, id: 0 };
        let fd = sys::ioctl(&*self.dev, sys::TEE_IOC_SHM_REGISTER, &mut d).map_err(|_| oom)?;
        // Dropping the mapping and the fd releases our reference.
        Ok((d.id, Box::new(KernelShm { _file: sys::file_from_fd(fd), map })))
    }
}

/// The parameters after the META ones that carry the request id; `None`
/// if a META parameter follows a real one (upstream gives up on such a
/// request too).
fn request_params(params: &mut [IoctlParam]) -> Option<&mut [IoctlParam]> {
    let metas = params.iter().take_while(|p| p.attr & META != 0).count();
    let (_, rest) = params.split_at_mut(metas.min(params.len()));
    (!rest.iter().any(|p| p.attr & META != 0)).then_some(rest)
}

struct Supplicant {
    dev: Arc<File>,
    handler: Handler,
}

impl Supplicant {
    /// Receives one request: its head and the parameters the kernel filled.
    fn recv(&self) -> std::io::Result<(u32, Vec<IoctlParam>)> {
        let head = SuppHead { func_or_ret: 0, num_params: RECV_PARAMS as u32 };
        let mut params = [IoctlParam::default(); RECV_PARAMS];
        // A bare META parameter asks the kernel for the request id (so
        // several threads can serve requests at once).
        params[0].attr = META;
        let mut buf = sys::encode(&head, &params);
        sys::ioctl_buf(&*self.dev, sys::TEE_IOC_SUPPL_RECV, &mut buf)?;
        let (head, params): (SuppHead, [IoctlParam; RECV_PARAMS]) = sys::decode(&buf);
        let n = (head.num_params as usize).min(RECV_PARAMS);
        Ok((head.func_or_ret, params.get(..n).unwrap_or_default().to_vec()))
    }

    fn serve_one(&self, func: u32, params: &mut [IoctlParam]) -> u32 {
        match request_params(params) {
            Some(rest) => self.handler.handle(func, rest),
            None => BAD_PARAMETERS,
        }
    }

    fn send(&self, params: &[IoctlParam], ret: u32) -> std::io::Result<()> {
        let head = SuppHead { func_or_ret: ret, num_params: params.len() as u32 };
        let mut buf = sys::encode(&head, params);
        sys::ioctl_buf(&*self.dev, sys::TEE_IOC_SUPPL_SEND, &mut buf).map(|_| ())
    }

    fn serve(self: Arc<Self>) {
        loop {
            let (func, mut params) = match self.recv() {
                Ok(r) => r,
                Err(e) => {
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    eprintln!("oxtee-supplicant: receive failed: {e}");
                    std::process::exit(1);
                }
            };
            let ret = self.serve_one(func, &mut params);
            if let Err(e) = self.send(&params, ret) {
                eprintln!("oxtee-supplicant: answer failed: {e}");
            }
        }
    }
}

fn main() {
    let Args { device, cfg, threads, daemon } = parse_args();
    // A supplicant that was just killed may still hold the device for a
    // moment (EBUSY): wait for it rather than fail a restart.
    let mut tries = 0;
    let dev = loop {
        match OpenOptions::new().read(true).write(true).open(&device) {
            Ok(f) => break f,
            Err(e) if e.raw_os_error() == Some(16) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => {
                eprintln!("oxtee-supplicant: cannot open {device}: {e}");
                std::process::exit(1);
            }
        }
    };
    if daemon {
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
        "oxtee-supplicant: serving {device} with {threads} threads (fs {}, TAs {}, rpmb {})",
        cfg.fs_root.display(),
        cfg.ta_dir.display(),
        cfg.rpmb_file.display()
    );
    let root = cfg.fs_root.clone();
    let dev = Arc::new(dev);
    let handler = Handler::new(cfg, Box::new(Driver { dev: dev.clone() }));
    // Created now so it exists (0700) from the start; a failure is retried
    // at the first file request, which gets STORAGE_NOT_AVAILABLE meanwhile.
    match handler.fs.root().map(|fd| rustix::fs::fstat(&*fd)) {
        Err(_) | Ok(Err(_)) => eprintln!("oxtee-supplicant: cannot create {}", root.display()),
        Ok(Ok(st)) if st.st_mode & 0o077 != 0 => eprintln!(
            "oxtee-supplicant: warning: {} is open to other users (mode {:o}); what it creates below is not",
            root.display(),
            st.st_mode & 0o7777
        ),
        Ok(Ok(_)) => {}
    }
    let s = Arc::new(Supplicant { dev, handler });
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
