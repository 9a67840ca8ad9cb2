//! The harness's shared memory: the reserved static pool (4 KiB blocks, for
//! call arguments, RPC buffers and TMEM) and a page heap elsewhere in RAM
//! for buffers it registers with the OS (handed out scattered on purpose).

use oxtee_platform::map;
use spin::Mutex;

const BLOCK: u64 = 4096;
const POOL_BLOCKS: usize = (map::STATIC_SHM_SIZE / BLOCK) as usize;
/// Pages for dynamic (registered / non-contiguous) buffers.
pub const DYN_BASE: u64 = 0x4400_0000;
const DYN_PAGES: usize = 16384;

struct Bitmap<const W: usize> {
    words: [u64; W],
    len: usize,
}

impl<const W: usize> Bitmap<W> {
    fn take_run(&mut self, n: usize) -> Option<usize> {
        let mut run = 0;
        for i in 0..self.len {
            if self.words[i / 64] & (1 << (i % 64)) == 0 {
                run += 1;
                if run == n {
                    let start = i + 1 - n;
                    for j in start..=i {
                        self.words[j / 64] |= 1 << (j % 64);
                    }
                    return Some(start);
                }
            } else {
                run = 0;
            }
        }
        None
    }

    fn give(&mut self, start: usize, n: usize) {
        for j in start..start + n {
            self.words[j / 64] &= !(1 << (j % 64));
        }
    }

    fn used(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

static POOL: Mutex<Bitmap<{ POOL_BLOCKS / 64 }>> =
    Mutex::new(Bitmap { words: [0; POOL_BLOCKS / 64], len: POOL_BLOCKS });
static DYN: Mutex<Bitmap<{ DYN_PAGES / 64 }>> = Mutex::new(Bitmap { words: [0; DYN_PAGES / 64], len: DYN_PAGES });

static RUN_LEN: [core::sync::atomic::AtomicU16; POOL_BLOCKS] =
    [const { core::sync::atomic::AtomicU16::new(0) }; POOL_BLOCKS];

/// A contiguous buffer in the static pool (whole blocks), zeroed.
pub fn pool_alloc(size: u64) -> Option<u64> {
    let n = size.div_ceil(BLOCK).max(1) as usize;
    let start = POOL.lock().take_run(n)?;
    RUN_LEN[start].store(n as u16, core::sync::atomic::Ordering::Relaxed);
    let pa = map::STATIC_SHM_BASE + start as u64 * BLOCK;
    crate::arch::write_mem(pa, &alloc::vec![0u8; n * BLOCK as usize]);
    Some(pa)
}

/// Frees a buffer from `pool_alloc` (ignores addresses it never gave out).
pub fn pool_free(pa: u64) {
    let Some(i) = pa.checked_sub(map::STATIC_SHM_BASE).map(|o| (o / BLOCK) as usize).filter(|&i| i < POOL_BLOCKS)
    else {
        return;
    };
    let n = RUN_LEN[i].swap(0, core::sync::atomic::Ordering::Relaxed) as usize;
    POOL.lock().give(i, n);
}

#[allow(dead_code)]
pub fn pool_in_use() -> usize {
    POOL.lock().used()
}

pub fn page_alloc() -> Option<u64> {
    let i = DYN.lock().take_run(1)?;
    Some(DYN_BASE + i as u64 * BLOCK)
}

pub fn page_free(pa: u64) {
    DYN.lock().give(((pa - DYN_BASE) / BLOCK) as usize, 1);
}

#[allow(dead_code)]
pub fn pages_in_use() -> usize {
    DYN.lock().used()
}
