//! The REE file system behind OPTEE_RPC_CMD_FS: files and directories under
//! one root directory, named by the secure world with relative paths.
//!
//! Names are input from a possibly confused secure side: they are confined
//! to the root (no `..`, a leading `/` means the root, as upstream's `./`
//! prefix does), and every component below the root is opened with
//! `O_NOFOLLOW` relative to its parent's descriptor, so a symbolic link
//! planted anywhere in the tree is an error and its target is never
//! touched. What is created here is private to the supplicant's user: files
//! 0600, directories 0700, set explicitly so the umask does not matter.

use crate::errors::{
    ACCESS_CONFLICT, BAD_PARAMETERS, GENERIC, ITEM_NOT_FOUND, OUT_OF_MEMORY, STORAGE_NO_SPACE, STORAGE_NOT_AVAILABLE,
};
use crate::lock;
use rustix::fs::{self as rfs, AtFlags, Dir, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::collections::HashMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Mode of every file the supplicant creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory the supplicant creates.
pub const DIR_MODE: u32 = 0o700;
/// Longest name accepted (Linux's PATH_MAX, terminator included).
const NAME_MAX_LEN: usize = 4096;
/// Longest component (NAME_MAX).
const COMPONENT_MAX_LEN: usize = 255;
/// Open files and directories the secure side may hold at once.
const MAX_HANDLES: usize = 1024;

const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

/// upstream's errno_to_teec.
fn teec(e: Errno) -> u32 {
    match e {
        Errno::NOSPC => STORAGE_NO_SPACE,
        Errno::NOENT => ITEM_NOT_FOUND,
        _ => GENERIC,
    }
}

fn io_teec(e: std::io::Error) -> u32 {
    teec(Errno::from_io_error(&e).unwrap_or(Errno::IO))
}

/// The components of a secure-world name: up to the first NUL, split at
/// `/` (empty components ignored, so a leading `/` means the root).
pub fn components(name: &[u8]) -> Result<Vec<&[u8]>, u32> {
    let name = name.split(|b| *b == 0).next().unwrap_or_default();
    if name.len() >= NAME_MAX_LEN {
        return Err(BAD_PARAMETERS);
    }
    let parts: Vec<&[u8]> = name.split(|b| *b == b'/').filter(|c| !c.is_empty()).collect();
    if parts.iter().any(|c| *c == b"." || *c == b".." || c.len() > COMPONENT_MAX_LEN) {
        return Err(BAD_PARAMETERS);
    }
    Ok(parts)
}

/// A name that must denote something below the root: its directories and
/// its last component.
fn split_leaf(name: &[u8]) -> Result<(Vec<&[u8]>, &[u8]), u32> {
    let mut parts = components(name)?;
    let leaf = parts.pop().ok_or(BAD_PARAMETERS)?;
    Ok((parts, leaf))
}

fn is_symlink(dir: &OwnedFd, name: &[u8]) -> Result<bool, Errno> {
    let st = rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
}

/// Creates `name` in `parent` as a private directory if it is missing and
/// opens it without following a link.
fn mkdir_private(parent: &OwnedFd, name: &[u8]) -> Result<OwnedFd, Errno> {
    let made = match rfs::mkdirat(parent, name, Mode::from_raw_mode(DIR_MODE)) {
        Ok(()) => true,
        Err(Errno::EXIST) => false,
        Err(e) => return Err(e),
    };
    let fd = rfs::openat(parent, name, DIR_FLAGS, Mode::empty())?;
    if made {
        // mkdirat's mode went through the umask.
        rfs::fchmod(&fd, Mode::from_raw_mode(DIR_MODE))?;
        let _ = rfs::fsync(parent);
    }
    Ok(fd)
}

/// Creates the configured root (and missing ancestors) 0700, as upstream's
/// mkpath does. The root path is configuration, so links in it are
/// followed; nothing below it is.
fn open_root(path: &Path) -> std::io::Result<OwnedFd> {
    if std::fs::symlink_metadata(path).is_err() {
        let mut missing: Vec<&Path> = path.ancestors().take_while(|p| std::fs::symlink_metadata(p).is_err()).collect();
        missing.retain(|p| !p.as_os_str().is_empty());
        for dir in missing.into_iter().rev() {
            match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
                Ok(()) => std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(rfs::open(path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?)
}

pub struct Fs {
    root_path: PathBuf,
    root: Mutex<Option<Arc<OwnedFd>>>,
    files: Mutex<Handles<Arc<File>>>,
    dirs: Mutex<Handles<Dir>>,
}

/// Small positive handles (the OS keeps them as an `int`), reused after
/// close.
struct Handles<T> {
    map: HashMap<u64, T>,
    next: u64,
}

impl<T> Handles<T> {
    fn new() -> Self {
        Handles { map: HashMap::new(), next: 1 }
    }

    fn insert(&mut self, v: T) -> Result<u64, T> {
        if self.map.len() >= MAX_HANDLES {
            return Err(v);
        }
        // At most MAX_HANDLES values are taken, so this ends.
        while self.map.contains_key(&self.next) {
            self.next = self.next % i32::MAX as u64 + 1;
        }
        let h = self.next;
        self.next = self.next % i32::MAX as u64 + 1;
        self.map.insert(h, v);
        Ok(h)
    }
}

impl Fs {
    pub fn new(root_path: PathBuf) -> Fs {
        Fs { root_path, root: Mutex::new(None), files: Mutex::new(Handles::new()), dirs: Mutex::new(Handles::new()) }
    }

    /// The root, created and opened on first use (and retried after a
    /// failure, as upstream's lazy init).
    pub fn root(&self) -> Result<Arc<OwnedFd>, u32> {
        let mut root = lock(&self.root);
        if let Some(fd) = root.as_ref() {
            return Ok(fd.clone());
        }
        let fd = Arc::new(open_root(&self.root_path).map_err(|_| STORAGE_NOT_AVAILABLE)?);
        *root = Some(fd.clone());
        Ok(fd)
    }

    /// Opens the directories `dirs` below the root one by one, never
    /// following a link; with `create`, missing ones are made private.
    /// Returns every descriptor on the way, the root's first.
    fn walk(&self, dirs: &[&[u8]], create: bool) -> Result<Vec<OwnedFd>, Errno> {
        let root = self.root().map_err(|_| Errno::NOENT)?;
        let mut chain = vec![rfs::openat(&*root, ".", DIR_FLAGS, Mode::empty())?];
        for name in dirs {
            let parent = chain.last().ok_or(Errno::NOENT)?;
            let fd = match rfs::openat(parent, *name, DIR_FLAGS, Mode::empty()) {
                Err(Errno::NOENT) if create => mkdir_private(parent, name)?,
                r => r?,
            };
            chain.push(fd);
        }
        Ok(chain)
    }

    fn parent_of(&self, dirs: &[&[u8]], create: bool) -> Result<OwnedFd, Errno> {
        self.walk(dirs, create)?.pop().ok_or(Errno::NOENT)
    }

    fn add_file(&self, fd: OwnedFd) -> Result<u64, u32> {
        let st = rfs::fstat(&fd).map_err(teec)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(GENERIC);
        }
        lock(&self.files).insert(Arc::new(File::from(fd))).map_err(|_| GENERIC)
    }

    /// FS_OPEN: an existing file, read-write or else read-only (upstream
    /// retries read-only for a read-only file system).
    pub fn open(&self, name: &[u8]) -> Result<u64, u32> {
        let (dirs, leaf) = split_leaf(name)?;
        let dir = self.parent_of(&dirs, false).map_err(|_| ITEM_NOT_FOUND)?;
        let flags = OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rfs::openat(&dir, leaf, flags | OFlags::RDWR, Mode::empty())
            .or_else(|_| rfs::openat(&dir, leaf, flags | OFlags::RDONLY, Mode::empty()))
            .map_err(|_| ITEM_NOT_FOUND)?;
        self.add_file(fd)
    }

    /// FS_CREATE: a new empty file 0600 (an existing one is truncated),
    /// making missing directories 0700.
    pub fn create(&self, name: &[u8]) -> Result<u64, u32> {
        let (dirs, leaf) = split_leaf(name)?;
        let dir = self.parent_of(&dirs, true).map_err(teec)?;
        let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match rfs::openat(&dir, leaf, flags | OFlags::CREATE | OFlags::EXCL, Mode::from_raw_mode(FILE_MODE)) {
            Ok(fd) => {
                // The open's mode went through the umask.
                rfs::fchmod(&fd, Mode::from_raw_mode(FILE_MODE)).map_err(teec)?;
                fd
            }
            Err(Errno::EXIST) => rfs::openat(&dir, leaf, flags | OFlags::TRUNC, Mode::empty()).map_err(teec)?,
            Err(e) => return Err(teec(e)),
        };
        let h = self.add_file(fd)?;
        let _ = rfs::fsync(&dir);
        Ok(h)
    }

    fn file(&self, h: u64) -> Result<Arc<File>, u32> {
        lock(&self.files).map.get(&h).cloned().ok_or(BAD_PARAMETERS)
    }

    pub fn close(&self, h: u64) -> Result<(), u32> {
        let f = lock(&self.files).map.remove(&h).ok_or(BAD_PARAMETERS)?;
        // Durability: what the secure side wrote is on disk once it closes.
        f.sync_all().map_err(io_teec)
    }

    /// Up to `len` bytes from `offset` (fewer at the end of the file).
    /// `len` is bounded by the caller (the shared buffer it goes to).
    pub fn read(&self, h: u64, offset: u64, len: usize) -> Result<Vec<u8>, u32> {
        let f = self.file(h)?;
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| OUT_OF_MEMORY)?;
        out.resize(len, 0);
        let mut done = 0;
        while let Some(rest) = out.get_mut(done..).filter(|r| !r.is_empty()) {
            let at = offset.checked_add(done as u64).ok_or(BAD_PARAMETERS)?;
            match f.read_at(rest, at) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_teec(e)),
            }
        }
        out.truncate(done);
        Ok(out)
    }

    pub fn write(&self, h: u64, offset: u64, data: &[u8]) -> Result<(), u32> {
        let f = self.file(h)?;
        offset.checked_add(data.len() as u64).ok_or(BAD_PARAMETERS)?;
        f.write_all_at(data, offset).map_err(io_teec)?;
        f.sync_data().map_err(io_teec)
    }

    pub fn truncate(&self, h: u64, len: u64) -> Result<(), u32> {
        let f = self.file(h)?;
        f.set_len(len).map_err(io_teec)?;
        f.sync_all().map_err(io_teec)
    }

    /// FS_REMOVE: a file, then its directories as they become empty.
    pub fn remove(&self, name: &[u8]) -> Result<(), u32> {
        let (dirs, leaf) = split_leaf(name)?;
        let chain = self.walk(&dirs, false).map_err(teec)?;
        let dir = chain.last().ok_or(ITEM_NOT_FOUND)?;
        // A link is not ours to remove either.
        if is_symlink(dir, leaf).map_err(teec)? {
            return Err(GENERIC);
        }
        rfs::unlinkat(dir, leaf, AtFlags::empty()).map_err(teec)?;
        let _ = rfs::fsync(dir);
        // chain[i] holds dirs[i]; stop at the first that is not empty.
        for (parent, name) in chain.iter().zip(&dirs).rev() {
            if rfs::unlinkat(parent, *name, AtFlags::REMOVEDIR).is_err() {
                break;
            }
            let _ = rfs::fsync(parent);
        }
        Ok(())
    }

    /// FS_RENAME, without replacing an existing `new` unless `overwrite`.
    pub fn rename(&self, old: &[u8], new: &[u8], overwrite: bool) -> Result<(), u32> {
        let (old_dirs, old_leaf) = split_leaf(old)?;
        let (new_dirs, new_leaf) = split_leaf(new)?;
        let old_dir = self.parent_of(&old_dirs, false).map_err(teec)?;
        if is_symlink(&old_dir, old_leaf).map_err(teec)? {
            return Err(GENERIC);
        }
        let new_dir = self.parent_of(&new_dirs, true).map_err(teec)?;
        match is_symlink(&new_dir, new_leaf) {
            Ok(true) => return Err(GENERIC),
            Ok(false) if !overwrite => return Err(ACCESS_CONFLICT),
            Ok(false) | Err(Errno::NOENT) => {}
            Err(e) => return Err(teec(e)),
        }
        let flags = if overwrite { RenameFlags::empty() } else { RenameFlags::NOREPLACE };
        let r = match rfs::renameat_with(&old_dir, old_leaf, &new_dir, new_leaf, flags) {
            // A file system without RENAME_NOREPLACE: `new` was absent
            // just above.
            Err(Errno::INVAL) if !overwrite => rfs::renameat(&old_dir, old_leaf, &new_dir, new_leaf),
            r => r,
        };
        r.map_err(|e| if e == Errno::EXIST { ACCESS_CONFLICT } else { teec(e) })?;
        let _ = rfs::fsync(&new_dir);
        let _ = rfs::fsync(&old_dir);
        Ok(())
    }

    /// FS_OPENDIR. As upstream, a directory holding nothing but dot files
    /// is "not found", and dot files are never listed.
    pub fn opendir(&self, name: &[u8]) -> Result<u64, u32> {
        let dirs = components(name)?;
        let fd = self.parent_of(&dirs, false).map_err(|_| ITEM_NOT_FOUND)?;
        let mut dir = Dir::new(fd).map_err(|_| ITEM_NOT_FOUND)?;
        if next_visible(&mut dir)?.is_none() {
            return Err(ITEM_NOT_FOUND);
        }
        dir.rewind();
        lock(&self.dirs).insert(dir).map_err(|_| OUT_OF_MEMORY)
    }

    pub fn closedir(&self, h: u64) -> Result<(), u32> {
        lock(&self.dirs).map.remove(&h).map(|_| ()).ok_or(BAD_PARAMETERS)
    }

    /// Next entry name, NUL-terminated, or ITEM_NOT_FOUND at the end.
    pub fn readdir(&self, h: u64) -> Result<Vec<u8>, u32> {
        let mut dirs = lock(&self.dirs);
        let dir = dirs.map.get_mut(&h).ok_or(BAD_PARAMETERS)?;
        next_visible(dir)?.ok_or(ITEM_NOT_FOUND)
    }
}

fn next_visible(dir: &mut Dir) -> Result<Option<Vec<u8>>, u32> {
    while let Some(entry) = dir.read() {
        let entry = entry.map_err(teec)?;
        let name = entry.file_name().to_bytes_with_nul();
        if name.first() != Some(&b'.') {
            return Ok(Some(name.to_vec()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
