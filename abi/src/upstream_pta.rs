//! Pseudo-TAs that upstream OP-TEE provides and that clients written for it
//! call by UUID: the RNG PTA (Linux's `optee-rng` driver) and the
//! invoke-tests PTA of upstream's embedded tests (upstream's xtest). UUIDs,
//! command numbers and result codes as upstream defines them.

use crate::uuid::Uuid;

/// The RNG pseudo-TA (`rng.pta`), listed by device enumeration.
pub mod rng {
    use super::Uuid;

    /// ab7a617c-b8e7-4d8f-8301-d09b61036b64
    pub const UUID: Uuid = Uuid::new(0xab7a_617c, 0xb8e7, 0x4d8f, [0x83, 0x01, 0xd0, 0x9b, 0x61, 0x03, 0x6b, 0x64]);
    /// p0 memref inout: filled with random bytes (all of its size).
    pub const CMD_GET_ENTROPY: u32 = 0;
    /// p0 value out: a = data rate in bytes per second (0: no limit),
    /// b = entropy per 1024 bits of output.
    pub const CMD_GET_RNG_INFO: u32 = 1;
    /// What GET_RNG_INFO answers (see docs/kernel-clients.md).
    pub const RATE: u32 = 0;
    pub const QUALITY: u32 = 1024;
}

/// The invoke-tests pseudo-TA (`invoke_tests.pta`) of upstream's embedded
/// tests: only in oxtee's test build.
pub mod invoke_tests {
    use super::Uuid;

    /// d96a5b40-c3e5-21e3-8794-1002a5d5c61b
    pub const UUID: Uuid = Uuid::new(0xd96a_5b40, 0xc3e5, 0x21e3, [0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b]);
    /// Logs a greeting; parameters unused.
    pub const CMD_TRACE: u32 = 0;
    /// Parameter round trips, chosen by the parameter types: one value
    /// inout (a = a + b); one value out and three values in (out = sum of
    /// the inputs, a and b separately); one memref inout (first byte = the
    /// 8-bit sum of all bytes).
    pub const CMD_PARAMS: u32 = 1;
    /// Runs the OS's self tests; parameters unused.
    pub const CMD_SELF_TESTS: u32 = 2;
    /// Secure data path copies (p0 in, p1 out / p0 inout): need secure
    /// data-path memory, which oxtee does not have, so they refuse
    /// normal-world memory with BAD_PARAMETERS, as upstream does.
    pub const CMD_COPY_NSEC_TO_SEC: u32 = 3;
    pub const CMD_READ_MODIFY_SEC: u32 = 4;
    pub const CMD_COPY_SEC_TO_NSEC: u32 = 5;
    /// Hash-tree corner cases of upstream's REE file system.
    pub const CMD_FS_HTREE: u32 = 6;
    /// p0 value in (a = MUTEX_WRITER or MUTEX_READER, b = rounds), p1 value
    /// out (a = lockers of the same kind waiting before, b = holders of the
    /// same kind inside, counting this one).
    pub const CMD_MUTEX: u32 = 7;
    pub const MUTEX_WRITER: u32 = 0;
    pub const MUTEX_READER: u32 = 1;
    /// Lock-dependency checker tests (NOT_SUPPORTED without one).
    pub const CMD_LOCKDEP: u32 = 8;
    /// p0 value in (a: top 16 bits decrypt, low 16 bits key bits; b: mode
    /// AES_*), p1 value in (a = repetitions, b = unit size), p2 memref in,
    /// p3 memref out.
    pub const CMD_AES_PERF: u32 = 9;
    pub const AES_ECB: u32 = 0;
    pub const AES_CBC: u32 = 1;
    pub const AES_CTR: u32 = 2;
    pub const AES_XTS: u32 = 3;
    pub const AES_GCM: u32 = 4;
    /// p0 memref inout that must be null and empty.
    pub const CMD_MEMREF_NULL: u32 = 10;
    pub const CMD_DT_DRIVER_TESTS: u32 = 11;
    pub const CMD_TRANSFER_LIST_TESTS: u32 = 12;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn uuids_read_as_upstream_writes_them() {
        assert_eq!(rng::UUID.to_string(), "ab7a617c-b8e7-4d8f-8301-d09b61036b64");
        assert_eq!(invoke_tests::UUID.to_string(), "d96a5b40-c3e5-21e3-8794-1002a5d5c61b");
    }
}
