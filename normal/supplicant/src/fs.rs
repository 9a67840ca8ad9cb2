//! The REE file system behind OPTEE_RPC_CMD_FS: files and directories under
//! one root directory, named by the secure world with relative paths.
//! Names are normal-world input from a possibly confused secure side and
//! from the kernel: anything that could leave the root is refused.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, ReadDir};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

pub const ITEM_NOT_FOUND: u32 = 0xffff_0008;
pub const BAD_PARAMETERS: u32 = 0xffff_0006;
pub const GENERIC: u32 = 0xffff_0000;
pub const SHORT_BUFFER: u32 = 0xffff_0010;
pub const ACCESS_CONFLICT: u32 = 0xffff_0003;

pub struct Fs {
    root: PathBuf,
    files: Mutex<HashMap<u64, File>>,
    dirs: Mutex<HashMap<u64, ReadDir>>,
    next: Mutex<u64>,
}

impl Fs {
    pub fn new(root: PathBuf) -> Fs {
        Fs { root, files: Mutex::new(HashMap::new()), dirs: Mutex::new(HashMap::new()), next: Mutex::new(1) }
    }

    /// Maps a secure-world name to a path under the root, or refuses it.
    pub fn path(&self, name: &[u8]) -> Result<PathBuf, u32> {
        let name = name.split(|b| *b == 0).next().unwrap_or(&[]);
        let name = std::str::from_utf8(name).map_err(|_| BAD_PARAMETERS)?;
        let rel = Path::new(name.trim_start_matches('/'));
        if name.is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(BAD_PARAMETERS);
        }
        Ok(self.root.join(rel))
    }

    fn handle(&self) -> u64 {
        let mut n = self.next.lock().unwrap();
        *n += 1;
        *n
    }

    pub fn open(&self, name: &[u8], create: bool) -> Result<u64, u32> {
        let path = self.path(name)?;
        let file = if create {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|_| GENERIC)?;
            }
            OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)
        } else {
            OpenOptions::new().read(true).write(true).open(&path)
        };
        let file = file.map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { ITEM_NOT_FOUND } else { GENERIC })?;
        let h = self.handle();
        self.files.lock().unwrap().insert(h, file);
        Ok(h)
    }

    pub fn close(&self, fd: u64) -> Result<(), u32> {
        let f = self.files.lock().unwrap().remove(&fd).ok_or(BAD_PARAMETERS)?;
        // Durability: what the secure side wrote is on disk once it closes.
        f.sync_all().map_err(|_| GENERIC)
    }

    pub fn read(&self, fd: u64, offset: u64, out: &mut [u8]) -> Result<usize, u32> {
        let files = self.files.lock().unwrap();
        let f = files.get(&fd).ok_or(BAD_PARAMETERS)?;
        let mut done = 0;
        while done < out.len() {
            match f.read_at(&mut out[done..], offset + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(_) => return Err(GENERIC),
            }
        }
        Ok(done)
    }

    pub fn write(&self, fd: u64, offset: u64, data: &[u8]) -> Result<(), u32> {
        let files = self.files.lock().unwrap();
        let f = files.get(&fd).ok_or(BAD_PARAMETERS)?;
        f.write_all_at(data, offset).map_err(|_| GENERIC)?;
        f.sync_data().map_err(|_| GENERIC)
    }

    pub fn truncate(&self, fd: u64, len: u64) -> Result<(), u32> {
        let files = self.files.lock().unwrap();
        let f = files.get(&fd).ok_or(BAD_PARAMETERS)?;
        f.set_len(len).map_err(|_| GENERIC)?;
        f.sync_all().map_err(|_| GENERIC)
    }

    pub fn remove(&self, name: &[u8]) -> Result<(), u32> {
        let path = self.path(name)?;
        fs::remove_file(&path)
            .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { ITEM_NOT_FOUND } else { GENERIC })?;
        // Remove now-empty parent directories, as tee-supplicant does.
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == self.root || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
        Ok(())
    }

    pub fn rename(&self, old: &[u8], new: &[u8], overwrite: bool) -> Result<(), u32> {
        let (old, new) = (self.path(old)?, self.path(new)?);
        if !overwrite && new.exists() {
            return Err(ACCESS_CONFLICT);
        }
        if let Some(dir) = new.parent() {
            fs::create_dir_all(dir).map_err(|_| GENERIC)?;
        }
        fs::rename(&old, &new)
            .map_err(|e| if e.kind() == std::io::ErrorKind::NotFound { ITEM_NOT_FOUND } else { GENERIC })?;
        // Make the rename itself durable.
        if let Some(dir) = new.parent() {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }

    pub fn opendir(&self, name: &[u8]) -> Result<u64, u32> {
        let path =
            if name.split(|b| *b == 0).next().unwrap_or(&[]).is_empty() { self.root.clone() } else { self.path(name)? };
        let rd = fs::read_dir(path).map_err(|_| ITEM_NOT_FOUND)?;
        let h = self.handle();
        self.dirs.lock().unwrap().insert(h, rd);
        Ok(h)
    }

    pub fn closedir(&self, h: u64) -> Result<(), u32> {
        self.dirs.lock().unwrap().remove(&h).map(|_| ()).ok_or(BAD_PARAMETERS)
    }

    /// Next entry name (NUL-terminated) or ITEM_NOT_FOUND at the end.
    pub fn readdir(&self, h: u64) -> Result<Vec<u8>, u32> {
        let mut dirs = self.dirs.lock().unwrap();
        let rd = dirs.get_mut(&h).ok_or(BAD_PARAMETERS)?;
        match rd.next() {
            Some(Ok(e)) => {
                let mut n = e.file_name().to_string_lossy().as_bytes().to_vec();
                n.push(0);
                Ok(n)
            }
            _ => Err(ITEM_NOT_FOUND),
        }
    }
}

/// A reader for a whole file (TA images).
pub fn read_all(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let mut v = Vec::new();
    f.seek(SeekFrom::Start(0))?;
    f.read_to_end(&mut v)?;
    Ok(v)
}

/// Writes a whole file durably (RPMB image).
pub fn write_all_durable(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp() -> PathBuf {
        let d = std::env::temp_dir().join(format!("oxtee-fs-{}-{:?}", std::process::id(), std::thread::current().id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn names_cannot_escape_the_root() {
        let fs = Fs::new(tmp());
        assert!(fs.path(b"dirf.db\0").is_ok());
        assert!(fs.path(b"/1/2\0junk").is_ok());
        for bad in [&b"../x"[..], b"a/../../b", b"", b"\0", b"\xff"] {
            assert_eq!(fs.path(bad), Err(BAD_PARAMETERS), "{bad:?}");
        }
    }

    #[test]
    fn file_lifecycle() {
        let root = tmp();
        let fs = Fs::new(root.clone());
        assert_eq!(fs.open(b"a/b", false), Err(ITEM_NOT_FOUND));
        let fd = fs.open(b"a/b\0", true).unwrap();
        fs.write(fd, 3, b"xyz").unwrap();
        let mut buf = [9u8; 8];
        assert_eq!(fs.read(fd, 0, &mut buf), Ok(6));
        assert_eq!(&buf[..6], b"\0\0\0xyz");
        fs.truncate(fd, 4).unwrap();
        fs.close(fd).unwrap();
        assert_eq!(fs.close(fd), Err(BAD_PARAMETERS));
        fs.rename(b"a/b", b"c", false).unwrap();
        let fd = fs.open(b"x", true).unwrap();
        fs.close(fd).unwrap();
        assert_eq!(fs.rename(b"x", b"c", false), Err(ACCESS_CONFLICT));
        fs.rename(b"x", b"c", true).unwrap();
        let d = fs.opendir(b"\0").unwrap();
        let mut names = Vec::new();
        while let Ok(n) = fs.readdir(d) {
            names.push(n);
        }
        assert!(names.contains(&b"c\0".to_vec()), "{names:?}");
        assert_eq!(fs.readdir(d), Err(ITEM_NOT_FOUND));
        fs.closedir(d).unwrap();
        fs.remove(b"c").unwrap();
        assert_eq!(fs.remove(b"c"), Err(ITEM_NOT_FOUND));
        let fd = fs.open(b"p/q/r", true).unwrap();
        fs.close(fd).unwrap();
        fs.remove(b"p/q/r").unwrap();
        assert!(!root.join("p").exists(), "empty parents are removed");
    }
}
