//! The file operations a store is built on. Names are relative paths with
//! `/` separators below the store's root; `create` makes missing parent
//! directories (as tee-supplicant does). A backend answers with upstream's
//! codes: ITEM_NOT_FOUND for a missing file, ACCESS_CONFLICT when `rename`
//! without overwrite finds the target, STORAGE_NO_SPACE when full.
//!
//! Durability contract (what tee-supplicant gives: files opened `O_SYNC`,
//! directory fsync after create/rename/remove): when `write`, `truncate`,
//! `rename`, `create` or `remove` returns Ok, the change survives a power
//! cut; `rename` is atomic.

use super::R;

/// A backend's handle of an open file.
pub type Fd = u32;

pub trait Backend {
    /// Opens an existing file for reading and writing.
    fn open(&mut self, name: &str) -> R<Fd>;
    /// Creates `name` empty (truncating an existing file), parents made.
    fn create(&mut self, name: &str) -> R<Fd>;
    fn close(&mut self, fd: Fd) -> R<()>;
    /// Reads at `off`; returns how many bytes were read (short at the end).
    fn read(&mut self, fd: Fd, off: u64, buf: &mut [u8]) -> R<usize>;
    /// Writes `data` at `off` (extending the file as needed).
    fn write(&mut self, fd: Fd, off: u64, data: &[u8]) -> R<()>;
    fn truncate(&mut self, fd: Fd, len: u64) -> R<()>;
    fn remove(&mut self, name: &str) -> R<()>;
    /// Renames atomically; without `overwrite` an existing `new` is
    /// ACCESS_CONFLICT.
    fn rename(&mut self, old: &str, new: &str, overwrite: bool) -> R<()>;
    /// Calls `f` with the name of every entry of directory `dir` (not
    /// recursive; `.`/`..` excluded). A missing directory lists nothing.
    fn list(&mut self, dir: &str, f: &mut dyn FnMut(&str)) -> R<()>;
}

/// An in-memory backend for tests, with power cuts and tampering.
///
/// Files are inodes named by paths (POSIX-like: an open file stays
/// readable after its name is removed or replaced). Every durable
/// operation (`write`, `truncate`, `create`, `remove`, `rename`) is
/// numbered from 0; [`mem::MemBackend::cut_at`]`(n)` makes operation `n`
/// torn (a write applies a prefix of some length, another operation
/// happens or not) and every operation after it fail with
/// ERROR_COMMUNICATION, as if the machine lost power. [`mem::MemBackend::reboot`]
/// brings it back with the files as the cut left them.
#[cfg(any(test, feature = "fakes", feature = "test-hooks"))]
pub mod mem {
    use super::{Backend, Fd, R};
    use alloc::collections::BTreeMap;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use oxtee_abi::tee::TeeResult;

    /// Counts of calls by kind (for round-trip figures).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Calls {
        pub open: u64,
        pub create: u64,
        pub close: u64,
        pub read: u64,
        pub write: u64,
        pub truncate: u64,
        pub remove: u64,
        pub rename: u64,
        pub list: u64,
    }

    impl Calls {
        pub fn total(&self) -> u64 {
            self.open
                + self.create
                + self.close
                + self.read
                + self.write
                + self.truncate
                + self.remove
                + self.rename
                + self.list
        }
    }

    #[derive(Default)]
    pub struct MemBackend {
        names: BTreeMap<String, u64>,
        inodes: BTreeMap<u64, Vec<u8>>,
        next_ino: u64,
        fds: BTreeMap<Fd, u64>,
        next_fd: Fd,
        /// Durable operations done so far (since creation, kept by reboot).
        pub ops: u64,
        cut: Option<u64>,
        fail: Option<(u64, bool)>,
        seed: u64,
        dead: bool,
        pub calls: Calls,
        /// Largest number of files open at once (leak check).
        pub max_open: usize,
    }

    fn mix(mut x: u64) -> u64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    impl MemBackend {
        pub fn new() -> MemBackend {
            MemBackend { next_fd: 1, ..Default::default() }
        }

        /// Durable operation `n` (counted from 0 since creation) is torn
        /// and everything after it fails.
        pub fn cut_at(&mut self, n: u64) {
            self.cut_with(n, 0);
        }

        /// [`Self::cut_at`], `seed` choosing how the torn operation tears.
        pub fn cut_with(&mut self, n: u64, seed: u64) {
            self.cut = Some(n);
            self.seed = seed;
        }

        /// Durable operation `n` fails with ERROR_COMMUNICATION, having
        /// happened completely (`applied`) or not at all; the backend goes
        /// on working (an RPC lost on its way back, or refused).
        pub fn fail_at(&mut self, n: u64, applied: bool) {
            self.fail = Some((n, applied));
        }

        /// Whether the power is off (a cut happened).
        pub fn is_dead(&self) -> bool {
            self.dead
        }

        /// Power back: open files are forgotten, files stay as they are.
        pub fn reboot(&mut self) {
            self.fds.clear();
            self.cut = None;
            self.dead = false;
            let live: Vec<u64> = self.names.values().copied().collect();
            self.inodes.retain(|k, _| live.contains(k));
        }

        pub fn open_count(&self) -> usize {
            self.fds.len()
        }

        /// Every file name (sorted).
        pub fn names(&self) -> Vec<String> {
            self.names.keys().cloned().collect()
        }

        pub fn get(&self, name: &str) -> Option<&Vec<u8>> {
            self.names.get(name).and_then(|i| self.inodes.get(i))
        }

        /// Replaces a file's contents (creating it if needed).
        pub fn put(&mut self, name: &str, data: Vec<u8>) {
            let ino = match self.names.get(name) {
                Some(i) => *i,
                None => {
                    self.next_ino += 1;
                    self.names.insert(name.to_string(), self.next_ino);
                    self.next_ino
                }
            };
            self.inodes.insert(ino, data);
        }

        pub fn flip(&mut self, name: &str, off: usize, mask: u8) {
            let ino = self.names[name];
            let f = self.inodes.get_mut(&ino).expect("inode");
            f[off] ^= mask;
        }

        /// Exchanges the contents of two files.
        pub fn swap(&mut self, a: &str, b: &str) {
            let da = self.get(a).expect("a").clone();
            let db = self.get(b).expect("b").clone();
            self.put(a, db);
            self.put(b, da);
        }

        pub fn cut_file(&mut self, name: &str, len: usize) {
            let ino = self.names[name];
            self.inodes.get_mut(&ino).expect("inode").truncate(len);
        }

        pub fn delete(&mut self, name: &str) {
            self.names.remove(name);
        }

        /// A copy of every file.
        pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
            self.names.iter().map(|(n, i)| (n.clone(), self.inodes[i].clone())).collect()
        }

        /// Puts back files from a snapshot (others untouched).
        pub fn restore(&mut self, snap: &BTreeMap<String, Vec<u8>>, only: Option<&str>) {
            for (n, d) in snap {
                if only.is_none_or(|o| o == n) {
                    self.put(n, d.clone());
                }
            }
        }

        /// Counts a durable operation: Ok(None) to do it fully, Ok(Some(r))
        /// for the torn one (r: a number to choose what survives), Err
        /// after the cut.
        fn durable(&mut self) -> R<Option<u64>> {
            if self.dead {
                return Err(TeeResult::ERROR_COMMUNICATION);
            }
            let n = self.ops;
            self.ops += 1;
            if let Some((f, applied)) = self.fail
                && f == n
            {
                // Tear codes: 0 = all of it, 9 = none of it.
                return Ok(Some(if applied { 0 } else { 9 }));
            }
            if self.cut == Some(n) {
                self.dead = true;
                return Ok(Some(mix(n.wrapping_add(0x9e37_79b9) ^ mix(self.seed))));
            }
            Ok(None)
        }

        fn alive(&self) -> R<()> {
            if self.dead { Err(TeeResult::ERROR_COMMUNICATION) } else { Ok(()) }
        }

        fn ino(&self, fd: Fd) -> R<u64> {
            self.fds.get(&fd).copied().ok_or(TeeResult::ERROR_BAD_PARAMETERS)
        }

        fn new_fd(&mut self, ino: u64) -> Fd {
            let fd = self.next_fd;
            self.next_fd += 1;
            self.fds.insert(fd, ino);
            self.max_open = self.max_open.max(self.fds.len());
            fd
        }
    }

    impl Backend for MemBackend {
        fn open(&mut self, name: &str) -> R<Fd> {
            self.calls.open += 1;
            self.alive()?;
            let ino = *self.names.get(name).ok_or(TeeResult::ERROR_ITEM_NOT_FOUND)?;
            Ok(self.new_fd(ino))
        }

        fn create(&mut self, name: &str) -> R<Fd> {
            self.calls.create += 1;
            let torn = self.durable()?;
            if let Some(r) = torn {
                if r & 8 == 0 {
                    self.put(name, Vec::new());
                }
                return Err(TeeResult::ERROR_COMMUNICATION);
            }
            self.put(name, Vec::new());
            let ino = self.names[name];
            Ok(self.new_fd(ino))
        }

        fn close(&mut self, fd: Fd) -> R<()> {
            self.calls.close += 1;
            self.fds.remove(&fd).map(|_| ()).ok_or(TeeResult::ERROR_BAD_PARAMETERS)
        }

        fn read(&mut self, fd: Fd, off: u64, buf: &mut [u8]) -> R<usize> {
            self.calls.read += 1;
            self.alive()?;
            let f = &self.inodes[&self.ino(fd)?];
            let Ok(off) = usize::try_from(off) else { return Ok(0) };
            if off >= f.len() {
                return Ok(0);
            }
            let n = buf.len().min(f.len() - off);
            buf[..n].copy_from_slice(&f[off..off + n]);
            Ok(n)
        }

        fn write(&mut self, fd: Fd, off: u64, data: &[u8]) -> R<()> {
            self.calls.write += 1;
            let ino = self.ino(fd);
            let torn = self.durable()?;
            let ino = ino?;
            // Torn: all of it, none of it, or a prefix of any length.
            let n = match torn {
                Some(r) if r % 4 == 0 => data.len(),
                Some(r) if r % 4 == 1 => 0,
                Some(r) => ((r >> 2) % (data.len() as u64 + 1)) as usize,
                None => data.len(),
            };
            let off = off as usize;
            let f = self.inodes.get_mut(&ino).expect("inode of an open fd");
            if n > 0 || torn.is_none() {
                if f.len() < off + n {
                    f.resize(off + n, 0);
                }
                f[off..off + n].copy_from_slice(&data[..n]);
            }
            if torn.is_some() { Err(TeeResult::ERROR_COMMUNICATION) } else { Ok(()) }
        }

        fn truncate(&mut self, fd: Fd, len: u64) -> R<()> {
            self.calls.truncate += 1;
            let ino = self.ino(fd);
            let torn = self.durable()?;
            let ino = ino?;
            if torn.is_none_or(|r| r & 8 == 0) {
                self.inodes.get_mut(&ino).expect("inode").resize(len as usize, 0);
            }
            if torn.is_some() { Err(TeeResult::ERROR_COMMUNICATION) } else { Ok(()) }
        }

        fn remove(&mut self, name: &str) -> R<()> {
            self.calls.remove += 1;
            let torn = self.durable()?;
            if !self.names.contains_key(name) {
                return if torn.is_some() {
                    Err(TeeResult::ERROR_COMMUNICATION)
                } else {
                    Err(TeeResult::ERROR_ITEM_NOT_FOUND)
                };
            }
            if torn.is_none_or(|r| r & 8 == 0) {
                self.names.remove(name);
            }
            if torn.is_some() { Err(TeeResult::ERROR_COMMUNICATION) } else { Ok(()) }
        }

        fn rename(&mut self, old: &str, new: &str, overwrite: bool) -> R<()> {
            self.calls.rename += 1;
            let torn = self.durable()?;
            let res = match self.names.get(old) {
                None => Err(TeeResult::ERROR_ITEM_NOT_FOUND),
                Some(_) if !overwrite && self.names.contains_key(new) => Err(TeeResult::ERROR_ACCESS_CONFLICT),
                Some(&ino) => {
                    if torn.is_none_or(|r| r & 8 == 0) {
                        self.names.remove(old);
                        self.names.insert(new.to_string(), ino);
                    }
                    Ok(())
                }
            };
            if torn.is_some() { Err(TeeResult::ERROR_COMMUNICATION) } else { res }
        }

        fn list(&mut self, dir: &str, f: &mut dyn FnMut(&str)) -> R<()> {
            self.calls.list += 1;
            self.alive()?;
            let mut prefix = dir.to_string();
            prefix.push('/');
            for n in self.names.keys() {
                if let Some(rest) = n.strip_prefix(&prefix)
                    && !rest.contains('/')
                {
                    f(rest);
                }
            }
            Ok(())
        }
    }
}
