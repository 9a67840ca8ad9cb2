//! Arm Firmware Framework for A-profile (FF-A, DEN0077, v1.1; v1.0 callers
//! accepted): function ids, error codes, endpoint ids and framework-message
//! encodings shared by the monitor's SPMD, the OS's SPMC and the harness.
//! OP-TEE's own protocol on top of direct messages (upstream
//! `optee_ffa.h`) is in [`optee`]. Memory-transaction descriptor layouts
//! are in `crate::ffa_mem`.

/// Function ids are SMCCC fast calls of the standard-service owner (4),
/// numbers 0x60..=0x8E.
const fn smc32(num: u32) -> u32 {
    0x8400_0000 | num
}

const fn smc64(num: u32) -> u32 {
    0xC400_0000 | num
}

pub const ERROR: u32 = smc32(0x60);
pub const SUCCESS_32: u32 = smc32(0x61);
pub const SUCCESS_64: u32 = smc64(0x61);
pub const INTERRUPT: u32 = smc32(0x62);
pub const VERSION: u32 = smc32(0x63);
pub const FEATURES: u32 = smc32(0x64);
pub const RX_RELEASE: u32 = smc32(0x65);
pub const RXTX_MAP_32: u32 = smc32(0x66);
pub const RXTX_MAP_64: u32 = smc64(0x66);
pub const RXTX_UNMAP: u32 = smc32(0x67);
pub const PARTITION_INFO_GET: u32 = smc32(0x68);
pub const ID_GET: u32 = smc32(0x69);
pub const MSG_WAIT: u32 = smc32(0x6B);
pub const MSG_YIELD: u32 = smc32(0x6C);
pub const MSG_RUN: u32 = smc32(0x6D);
pub const MSG_SEND_DIRECT_REQ_32: u32 = smc32(0x6F);
pub const MSG_SEND_DIRECT_REQ_64: u32 = smc64(0x6F);
pub const MSG_SEND_DIRECT_RESP_32: u32 = smc32(0x70);
pub const MSG_SEND_DIRECT_RESP_64: u32 = smc64(0x70);
pub const MEM_DONATE_32: u32 = smc32(0x71);
pub const MEM_DONATE_64: u32 = smc64(0x71);
pub const MEM_LEND_32: u32 = smc32(0x72);
pub const MEM_LEND_64: u32 = smc64(0x72);
pub const MEM_SHARE_32: u32 = smc32(0x73);
pub const MEM_SHARE_64: u32 = smc64(0x73);
pub const MEM_RETRIEVE_REQ_32: u32 = smc32(0x74);
pub const MEM_RETRIEVE_REQ_64: u32 = smc64(0x74);
pub const MEM_RETRIEVE_RESP: u32 = smc32(0x75);
pub const MEM_RELINQUISH: u32 = smc32(0x76);
pub const MEM_RECLAIM: u32 = smc32(0x77);
pub const MEM_FRAG_RX: u32 = smc32(0x7A);
pub const MEM_FRAG_TX: u32 = smc32(0x7B);
pub const NORMAL_WORLD_RESUME: u32 = smc32(0x7C);
pub const NOTIFICATION_BITMAP_CREATE: u32 = smc32(0x7D);
pub const NOTIFICATION_BITMAP_DESTROY: u32 = smc32(0x7E);
pub const NOTIFICATION_BIND: u32 = smc32(0x7F);
pub const NOTIFICATION_UNBIND: u32 = smc32(0x80);
pub const NOTIFICATION_SET: u32 = smc32(0x81);
pub const NOTIFICATION_GET: u32 = smc32(0x82);
pub const NOTIFICATION_INFO_GET_32: u32 = smc32(0x83);
pub const NOTIFICATION_INFO_GET_64: u32 = smc64(0x83);
pub const RX_ACQUIRE: u32 = smc32(0x84);
pub const SPM_ID_GET: u32 = smc32(0x85);
pub const MSG_SEND2: u32 = smc32(0x86);
pub const SECONDARY_EP_REGISTER_64: u32 = smc64(0x87);
pub const MEM_PERM_GET: u32 = smc32(0x88);
pub const MEM_PERM_SET: u32 = smc32(0x89);

/// Whether `fid` (w0) is in the FF-A range (32- or 64-bit convention).
pub const fn is_ffa(fid: u32) -> bool {
    let num = fid & 0xffff;
    (fid & 0xBFFF_0000) == 0x8400_0000 && num >= 0x60 && num <= 0x8E
}

/// Error codes (w2 of `FFA_ERROR`), as signed 32-bit values.
pub const NOT_SUPPORTED: i32 = -1;
pub const INVALID_PARAMETERS: i32 = -2;
pub const NO_MEMORY: i32 = -3;
pub const BUSY: i32 = -4;
pub const INTERRUPTED: i32 = -5;
pub const DENIED: i32 = -6;
pub const RETRY: i32 = -7;
pub const ABORTED: i32 = -8;
pub const NO_DATA: i32 = -9;

/// Version words: bit 31 zero, major in 30:16, minor in 15:0.
pub const fn version(major: u16, minor: u16) -> u32 {
    ((major as u32 & 0x7fff) << 16) | minor as u32
}
pub const VERSION_1_0: u32 = version(1, 0);
pub const VERSION_1_1: u32 = version(1, 1);
/// The version oxtee's SPMD and SPMC implement.
pub const VERSION_IMPLEMENTED: u32 = VERSION_1_1;

/// Endpoint ids. Bit 15 set: a secure-world endpoint.
pub const NS_ENDPOINT_ID: u16 = 0;
/// The SPMD's id for framework messages (TF-A: `FFA_ENDPOINT_ID_MAX - 1`).
pub const SPMD_ID: u16 = 0xFFFF;
/// The SPMC's id (TF-A's S-EL1 SPMC manifests use this).
pub const SPMC_ID: u16 = 0x8000;
/// OP-TEE's own endpoint behind the SPMC (upstream takes the first free SP
/// id after the SPMC's).
pub const OPTEE_ID: u16 = 0x8001;

pub const fn is_secure_id(id: u16) -> bool {
    id & 0x8000 != 0
}

/// w1 of a direct message: source in 31:16, destination in 15:0.
pub const fn direct_ids(src: u16, dst: u16) -> u64 {
    ((src as u64) << 16) | dst as u64
}
pub const fn direct_src(w1: u64) -> u16 {
    (w1 >> 16) as u16
}
pub const fn direct_dst(w1: u64) -> u16 {
    w1 as u16
}

/// w2 of a direct message: framework message (bit 31) and its type (7:0).
pub const FWK_MSG_BIT: u64 = 1 << 31;
pub const FWK_MSG_PSCI: u64 = 0x0;
/// Response to a PSCI or warm-boot framework request.
pub const FWK_MSG_PM_RESP: u64 = 0x2;
/// FF-A version negotiation between the SPMD and the SPMC (TF-A's
/// `SPMD_FWK_MSG_FFA_VERSION_REQ` / `_RESP`): w3 the version.
pub const FWK_MSG_VERSION_REQ: u64 = 0x8;
pub const FWK_MSG_VERSION_RESP: u64 = 0x9;
/// Framework message type: bits 7:0 of w2.
pub const FWK_MSG_TYPE_MASK: u64 = 0xff;

/// Feature ids for `FFA_FEATURES` (w1 < 0x8400_0000 names a feature, not
/// a function): notification pending interrupt, schedule receiver
/// interrupt, managed exit interrupt.
pub const FEATURE_NPI: u32 = 0x1;
pub const FEATURE_SRI: u32 = 0x2;
pub const FEATURE_MEI: u32 = 0x3;

/// Partition properties (`FFA_PARTITION_INFO_GET`): direct requests
/// received and sent, indirect messages, notifications, AArch64.
pub const PART_PROP_DIRECT_REQ_RECV: u32 = 1 << 0;
pub const PART_PROP_DIRECT_REQ_SEND: u32 = 1 << 1;
pub const PART_PROP_INDIRECT_MSG: u32 = 1 << 2;
pub const PART_PROP_NOTIFICATION: u32 = 1 << 3;
pub const PART_PROP_AARCH64: u32 = 1 << 8;
/// `FFA_PARTITION_INFO_GET` flags (w5): return only the count.
pub const PARTITION_INFO_COUNT_ONLY: u32 = 1;

/// Partition id type (properties bits 5:4): a PE endpoint id.
pub const PART_PROP_ID_TYPE_PE: u32 = 0 << 4;

/// Partition information descriptor size: v1.0 (8 bytes) and v1.1 (24,
/// with the UUID).
pub const PART_INFO_SIZE_1_0: usize = 8;
pub const PART_INFO_SIZE_1_1: usize = 24;

/// `FFA_NOTIFICATION_GET` flags (w2): which bitmaps to return.
pub const NOTIF_GET_SP: u32 = 1 << 0;
pub const NOTIF_GET_VM: u32 = 1 << 1;
pub const NOTIF_GET_SPM: u32 = 1 << 2;
pub const NOTIF_GET_HYP: u32 = 1 << 3;
/// `FFA_NOTIFICATION_BIND`/`SET` flags (w2) bit 0: per-vCPU notification.
pub const NOTIF_FLAG_PER_VCPU: u32 = 1 << 0;
/// `FFA_NOTIFICATION_SET` flags (w2) bit 1: delay the schedule receiver
/// interrupt. (Bit 0 is per-vCPU, 31:16 the vCPU id.)
pub const NOTIF_SET_DELAY_SRI: u32 = 1 << 1;
/// `FFA_NOTIFICATION_INFO_GET` (w2): more pending (bit 0), number of id
/// lists (11:7), per list the count of vCPU ids (2 bits from bit 12).
pub const NOTIF_INFO_MORE_PENDING: u64 = 1 << 0;
pub const NOTIF_INFO_LIST_COUNT_SHIFT: u32 = 7;
pub const NOTIF_INFO_LIST_SIZE_SHIFT: u32 = 12;

/// The schedule receiver interrupt oxtee's SPMC raises for the normal
/// world's pending notifications: a non-secure SGI (as TF-A's and Hafnium's
/// SPMCs choose; Linux learns it from `FFA_FEATURES(FEATURE_SRI)`).
pub const SRI_INTID: u32 = 8;

/// OP-TEE's protocol over FF-A direct messages (upstream `optee_ffa.h`).
/// w3 names the service; the yielding bit is 31.
pub mod optee {
    pub const YIELDING_CALL_BIT: u32 = 1 << 31;
    pub const GET_API_VERSION: u32 = 0;
    pub const GET_OS_VERSION: u32 = 1;
    pub const EXCHANGE_CAPABILITIES: u32 = 2;
    pub const UNREGISTER_SHM: u32 = 3;
    pub const ENABLE_ASYNC_NOTIF: u32 = 5;
    pub const RELEASE_PROTMEM: u32 = 8;
    pub const YIELDING_CALL_WITH_ARG: u32 = YIELDING_CALL_BIT;
    pub const YIELDING_CALL_RESUME: u32 = YIELDING_CALL_BIT | 1;

    /// w4 of a yielding call's response.
    pub const RETURN_DONE: u32 = 0;
    pub const RETURN_RPC_CMD: u32 = 1;
    pub const RETURN_INTERRUPT: u32 = 2;

    /// API version (GET_API_VERSION): major, minor.
    pub const API_MAJOR: u32 = 1;
    pub const API_MINOR: u32 = 0;

    /// Secure capabilities (w5 of EXCHANGE_CAPABILITIES).
    pub const SEC_CAP_ARG_OFFSET: u32 = 1 << 0;
    pub const SEC_CAP_ASYNC_NOTIF: u32 = 1 << 1;
    pub const SEC_CAP_RPMB_PROBE: u32 = 1 << 2;
    pub const SEC_CAP_PROTMEM: u32 = 1 << 3;

    /// Notification values below this are the normal world's to choose.
    pub const MAX_ASYNC_NOTIF_VALUE: u32 = 64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_the_spec() {
        assert_eq!(VERSION, 0x8400_0063);
        assert_eq!(MSG_SEND_DIRECT_REQ_64, 0xC400_006F);
        assert_eq!(SECONDARY_EP_REGISTER_64, 0xC400_0087);
        assert!(is_ffa(MEM_SHARE_64) && is_ffa(ERROR) && !is_ffa(0x8400_0000) && !is_ffa(0x8400_008F));
        assert!(!is_ffa(0xB200_0009));
        assert_eq!(version(1, 1), 0x1_0001);
        assert_eq!(direct_ids(0xFFFF, 0x8000), 0xFFFF_8000);
    }
}
