//! The block buffering GP leaves to the library (upstream libutee's
//! `tee_buffer_update`): a cipher or CCM update gives the kernel only
//! whole blocks and keeps the rest for the next call; CTS and XTS keep
//! more than one block back (two-block buffering), because their final
//! call must see the last two blocks. Pure code, tested on the host.

/// Output bytes a cipher update of `src_len` more bytes produces with
/// `offs` bytes buffered (what the caller must have room for).
pub(crate) fn update_len(offs: usize, block_size: usize, two_blocks: bool, src_len: usize) -> usize {
    let total = offs + src_len;
    if two_blocks {
        if total > 2 * block_size { (total - 2 * block_size).div_ceil(block_size) * block_size } else { 0 }
    } else if block_size > 1 {
        total / block_size * block_size
    } else {
        src_len
    }
}

/// Gives `feed` the complete blocks of (the `*offs` buffered bytes of
/// `buf` + `src`) that may go now, keeps the rest in `buf`, and returns
/// the bytes `feed` wrote to `dst`. `feed(data, out)` processes `data`
/// (whole blocks) into `out` and returns the length written. `dst` must
/// hold [`update_len`] bytes.
pub(crate) fn update(
    buf: &mut [u8],
    offs: &mut usize,
    block_size: usize,
    two_blocks: bool,
    mut src: &[u8],
    dst: &mut [u8],
    feed: &mut dyn FnMut(&[u8], &mut [u8]) -> usize,
) -> usize {
    let bs = block_size;
    // With two-block buffering, hold back at least one byte more than a
    // block... i.e. never hand over data the final call may need.
    let (buf_size, extra) = if two_blocks { (2 * bs, 1) } else { (bs, 0) };
    let mut written = 0;

    if *offs > 0 {
        // Top up the block in progress (or the second block).
        let room = if *offs < bs { bs - *offs } else { buf_size - *offs };
        let l = room.min(src.len());
        buf[*offs..*offs + l].copy_from_slice(&src[..l]);
        *offs += l;
        src = &src[l..];
        if !offs.is_multiple_of(bs) {
            return 0;
        }
    }

    if *offs > 0 && *offs + src.len() >= buf_size + extra {
        // Send the buffered blocks the end won't need.
        let l = if two_blocks { (*offs + src.len() - buf_size).div_ceil(bs) * bs } else { bs }.min(*offs);
        written += feed(&buf[..l], &mut dst[written..]);
        *offs -= l;
        if *offs > 0 {
            // What is left of the input fits behind the kept block.
            buf.copy_within(l..buf_size, 0);
            buf[*offs..*offs + src.len()].copy_from_slice(src);
            *offs += src.len();
            return written;
        }
    }

    if src.len() >= buf_size + extra {
        // The buffer is empty: whole blocks straight from the input.
        let l = if two_blocks { src.len() - buf_size } else { src.len() - buf_size + 1 }.div_ceil(bs) * bs;
        written += feed(&src[..l], &mut dst[written..]);
        src = &src[l..];
    }

    buf[*offs..*offs + src.len()].copy_from_slice(src);
    *offs += src.len();
    written
}
