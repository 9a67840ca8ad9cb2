//! The secure_storage example's contract between the TA and its host
//! program: the TA's UUID, its commands (the first three as in
//! optee_examples' `secure_storage`), and the encoding of the object list
//! `CMD_LIST` answers.
#![no_std]
#![forbid(unsafe_code)]

/// The TA's UUID.
pub const UUID: &str = "c6229ccc-5e72-49ff-b9a5-7676d4b792ae";

/// p0 memref input: object id; p1 memref output: the object's data.
/// `ItemNotFound` if there is no such object; `ShortBuffer` with the size
/// needed if p1 is too small.
pub const CMD_READ: u32 = 0;
/// p0 memref input: object id; p1 memref input: data. Creates the object
/// in the TA's private storage, replacing one of the same id.
pub const CMD_WRITE: u32 = 1;
/// p0 memref input: object id. Deletes the object; `ItemNotFound` if there
/// is none.
pub const CMD_DELETE: u32 = 2;
/// p0 memref output: the TA's objects as a list (see [`push_entry`]);
/// p1 value output: `a` = how many. `ShortBuffer` with the size needed if
/// p0 is too small.
pub const CMD_LIST: u32 = 3;

/// Longest object id (GP's `TEE_OBJECT_ID_MAX_LEN`).
pub const MAX_ID: usize = 64;
/// Largest object the TA writes or reads in one command.
pub const MAX_DATA: usize = 32 * 1024;

/// Bytes one list entry takes for an id of `id_len` bytes.
pub const fn entry_len(id_len: usize) -> usize {
    1 + id_len + 4
}

/// Appends the entry for object `id` holding `data_size` bytes (id length
/// as one byte, the id, the data size as big-endian u32) at `used` in
/// `out` if it fits, and returns the list's new length either way (so that
/// a too-small buffer still yields the size needed). `None` for an id
/// longer than [`MAX_ID`].
pub fn push_entry(out: &mut [u8], used: usize, id: &[u8], data_size: u32) -> Option<usize> {
    if id.len() > MAX_ID {
        return None;
    }
    let end = used.checked_add(entry_len(id.len()))?;
    if let Some(dst) = out.get_mut(used..end) {
        dst[0] = id.len() as u8;
        dst[1..1 + id.len()].copy_from_slice(id);
        dst[1 + id.len()..].copy_from_slice(&data_size.to_be_bytes());
    }
    Some(end)
}

/// The entries of a list [`push_entry`] wrote: `(id, data size)`. Ends at
/// the end of the list or at the first malformed entry (check
/// [`Entries::rest`] is empty after the last one).
pub struct Entries<'a> {
    rest: &'a [u8],
}

/// Iterates over an encoded list.
pub fn entries(list: &[u8]) -> Entries<'_> {
    Entries { rest: list }
}

impl<'a> Entries<'a> {
    /// What is left: empty once a well-formed list is consumed.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a [u8], u32);

    fn next(&mut self) -> Option<Self::Item> {
        let (&len, tail) = self.rest.split_first()?;
        let len = len as usize;
        if len > MAX_ID || tail.len() < len + 4 {
            return None;
        }
        let (id, tail) = tail.split_at(len);
        let (size, tail) = tail.split_at(4);
        self.rest = tail;
        Some((id, u32::from_be_bytes([size[0], size[1], size[2], size[3]])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_is_well_formed() {
        extern crate std;
        use std::string::ToString;
        let u = oxtee_teec::Uuid::parse(UUID).expect("a well-formed UUID");
        assert_eq!(u.to_string(), UUID);
    }

    #[test]
    fn list_round_trips() {
        let mut buf = [0u8; 64];
        let mut used = 0;
        used = push_entry(&mut buf, used, b"first", 7000).unwrap();
        used = push_entry(&mut buf, used, b"", 0).unwrap();
        used = push_entry(&mut buf, used, &[0xff; 3], u32::MAX).unwrap();
        assert_eq!(used, entry_len(5) + entry_len(0) + entry_len(3));
        let mut it = entries(&buf[..used]);
        assert_eq!(it.next(), Some((&b"first"[..], 7000)));
        assert_eq!(it.next(), Some((&b""[..], 0)));
        assert_eq!(it.next(), Some((&[0xffu8; 3][..], u32::MAX)));
        assert_eq!(it.next(), None);
        assert!(it.rest().is_empty());
    }

    #[test]
    fn a_short_buffer_still_counts_the_size_needed() {
        let mut buf = [0u8; 8];
        let used = push_entry(&mut buf, 0, b"abc", 1).unwrap();
        assert_eq!(used, 8);
        let more = push_entry(&mut buf, used, b"defgh", 2).unwrap();
        assert_eq!(more, 8 + 10);
        assert_eq!(&buf, &[3, b'a', b'b', b'c', 0, 0, 0, 1], "the entry that did not fit is not written");
        assert_eq!(push_entry(&mut buf, 0, &[0; MAX_ID + 1], 0), None);
    }

    #[test]
    fn malformed_lists_stop_the_iteration() {
        let mut it = entries(&[2, b'a']);
        assert_eq!(it.next(), None);
        assert_eq!(it.rest(), &[2, b'a']);
        let mut it = entries(&[65; 80]);
        assert_eq!(it.next(), None, "an id longer than MAX_ID");
        let mut it = entries(&[1, b'x', 0, 0, 0, 5, 9]);
        assert_eq!(it.next(), Some((&b"x"[..], 5)));
        assert_eq!(it.next(), None);
        assert_eq!(it.rest(), &[9]);
    }
}
