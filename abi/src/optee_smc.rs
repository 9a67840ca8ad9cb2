//! OP-TEE's SMC-conduit ABI (upstream `optee_smc.h`): function ids, a0 return
//! codes, RPC return encoding, capability bits and identification words.
//!
//! Register arguments are 32-bit (SMC32) even on AArch64; 64-bit quantities
//! travel split across two registers, high half first.

use crate::smc::OWNER_TRUSTED_OS_START;

/// Owner number OP-TEE uses for its own calls.
pub const OWNER_TRUSTED_OS: u8 = OWNER_TRUSTED_OS_START;
/// Owner number of the TF-A dispatcher's monitor-bound calls (see `opteed`).
pub const OWNER_TRUSTED_OS_OPTEED: u8 = 62;
/// Owner number of the generic Trusted-OS service queries (count/UID/revision).
pub const OWNER_TRUSTED_OS_API: u8 = 63;

const FAST: u32 = 1 << 31;

const fn fast_call(num: u32) -> u32 {
    FAST | (OWNER_TRUSTED_OS as u32) << 24 | num
}

const fn std_call(num: u32) -> u32 {
    (OWNER_TRUSTED_OS as u32) << 24 | num
}

const fn api_call(num: u32) -> u32 {
    FAST | (OWNER_TRUSTED_OS_API as u32) << 24 | num
}

// --- Generic service queries (owner 63) ---
/// Number of calls implemented (SMCCC-mandated).
pub const CALLS_COUNT: u32 = api_call(0xFF00);
/// API UID in a0..a3 (see [`API_UID`]).
pub const CALLS_UID: u32 = api_call(0xFF01);
/// API revision in a0 (major) / a1 (minor).
pub const CALLS_REVISION: u32 = api_call(0xFF03);

// --- Fast calls (owner 50) ---
/// Trusted OS UUID in a0..a3 (see [`OS_OPTEE_UUID`]).
pub const GET_OS_UUID: u32 = fast_call(0);
/// Trusted OS revision in a0/a1, optional build id in a2.
pub const GET_OS_REVISION: u32 = fast_call(1);
/// Static shared-memory window: a1 = base, a2 = size, a3 = cache attrs.
pub const GET_SHM_CONFIG: u32 = fast_call(7);
/// Legacy L2 cache-controller mutex configuration (32-bit Arm only).
pub const L2CC_MUTEX: u32 = fast_call(8);
/// a1 in: NSEC_CAP_* bits. Out: a1 = [`SecCaps`], a2 = highest notification
/// value, a3 bits 7:0 = parameter count the RPC arg of CALL_WITH_RPC_ARG needs.
pub const EXCHANGE_CAPABILITIES: u32 = fast_call(9);
/// Pops one cached shm cookie (a1:a2) per call until ENOTAVAIL.
pub const DISABLE_SHM_CACHE: u32 = fast_call(10);
/// Re-enables secure-side caching of shm objects.
pub const ENABLE_SHM_CACHE: u32 = fast_call(11);
/// Releases a secondary core (a1 = index, a2:a3 = NS entry point).
pub const BOOT_SECONDARY: u32 = fast_call(12);
/// Hypervisor announces a new guest (a1 = guest id).
pub const VM_CREATED: u32 = fast_call(13);
/// Hypervisor announces a guest's destruction (a1 = guest id).
pub const VM_DESTROYED: u32 = fast_call(14);
/// Number of secure threads, i.e. concurrent yielding calls, in a1.
pub const GET_THREAD_COUNT: u32 = fast_call(15);
/// Normal world can now take asynchronous notifications.
pub const ENABLE_ASYNC_NOTIF: u32 = fast_call(16);
/// Fetches one pending notification: a1 = value, a2 = ASYNC_NOTIF_* flags.
pub const GET_ASYNC_NOTIF_VALUE: u32 = fast_call(17);
/// Protected-memory window: a1 = base, a2 = size, a3 = PA width.
pub const GET_PROTMEM_CONFIG: u32 = fast_call(20);

// --- Yielding calls (owner 50) ---
/// Resumes a thread that returned an RPC; a1..a3 echo the RPC's a1..a3.
pub const RETURN_FROM_RPC: u32 = std_call(3);
/// a1:a2 = physical address of an `optee_msg_arg`, a3 = cache attrs.
pub const CALL_WITH_ARG: u32 = std_call(4);
/// Like CALL_WITH_ARG, plus a caller-provided RPC arg right after it.
pub const CALL_WITH_RPC_ARG: u32 = std_call(18);
/// a1:a2 = registered-shm cookie, a3 = offset of the arg inside it.
pub const CALL_WITH_REGD_ARG: u32 = std_call(19);

// --- a1 sub-commands of L2CC_MUTEX ---
/// Read the mutex address back in a2:a3.
pub const L2CC_MUTEX_GET_ADDR: u32 = 0;
/// Set the mutex address from a2:a3.
pub const L2CC_MUTEX_SET_ADDR: u32 = 1;
/// Start using the mutex.
pub const L2CC_MUTEX_ENABLE: u32 = 2;
/// Stop using the mutex.
pub const L2CC_MUTEX_DISABLE: u32 = 3;

// --- GET_ASYNC_NOTIF_VALUE a2 flags and well-known values ---
/// a1 holds a real value.
pub const ASYNC_NOTIF_VALID: u32 = 1 << 0;
/// More values are queued; call again.
pub const ASYNC_NOTIF_PENDING: u32 = 1 << 1;
/// Value asking the driver to issue a DO_BOTTOM_HALF yielding call.
pub const ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF: u32 = 0;

/// GET_SHM_CONFIG a3 / CALL_WITH_ARG a3: normal cached write-back memory.
pub const SHM_CACHED: u32 = 1;

// --- a0 return codes ---
/// Call completed.
pub const RETURN_OK: u32 = 0;
/// All secure threads busy; retry later (a1..a3 preserved).
pub const RETURN_ETHREAD_LIMIT: u32 = 1;
/// Secure world not idle.
pub const RETURN_EBUSY: u32 = 2;
/// RETURN_FROM_RPC named a thread that is not waiting.
pub const RETURN_ERESUME: u32 = 3;
/// Bad physical address supplied.
pub const RETURN_EBADADDR: u32 = 4;
/// Bad sub-command or message command.
pub const RETURN_EBADCMD: u32 = 5;
/// Out of memory.
pub const RETURN_ENOMEM: u32 = 6;
/// Resource or feature not available.
pub const RETURN_ENOTAVAIL: u32 = 7;
/// Function id not recognised (SMCCC-wide value).
pub const RETURN_UNKNOWN_FUNCTION: u32 = 0xFFFF_FFFF;

// --- RPC returns: the OS hands a request to normal world via a0 ---
/// High half marking an a0 value as an RPC request.
pub const RPC_PREFIX: u32 = 0xFFFF_0000;
const RPC_PREFIX_MASK: u32 = 0xFFFF_0000;
const RPC_FUNC_MASK: u32 = 0x0000_FFFF;

/// Allocate a1 bytes for an RPC `optee_msg_arg`.
pub const RPC_FUNC_ALLOC: u32 = 0;
/// Free memory from RPC_FUNC_ALLOC (cookie in a1:a2).
pub const RPC_FUNC_FREE: u32 = 2;
/// A non-secure interrupt preempted the thread; handle it and resume.
pub const RPC_FUNC_FOREIGN_INTR: u32 = 4;
/// Service the RPC message whose shm cookie is in a1:a2.
pub const RPC_FUNC_CMD: u32 = 5;

/// Builds the a0 value that requests RPC function `func`.
pub const fn rpc_return(func: u32) -> u32 {
    RPC_PREFIX | (func & RPC_FUNC_MASK)
}

/// RPC function number carried in an RPC a0 value.
pub const fn rpc_func(a0: u32) -> u32 {
    a0 & RPC_FUNC_MASK
}

/// Whether a0 is an RPC request; UNKNOWN_FUNCTION shares the prefix but is not.
pub const fn is_rpc_return(a0: u32) -> bool {
    a0 != RETURN_UNKNOWN_FUNCTION && a0 & RPC_PREFIX_MASK == RPC_PREFIX
}

/// a0 for an RPC allocation request.
pub const RETURN_RPC_ALLOC: u32 = rpc_return(RPC_FUNC_ALLOC);
/// a0 for an RPC free request.
pub const RETURN_RPC_FREE: u32 = rpc_return(RPC_FUNC_FREE);
/// a0 when a foreign interrupt preempted the thread.
pub const RETURN_RPC_FOREIGN_INTR: u32 = rpc_return(RPC_FUNC_FOREIGN_INTR);
/// a0 for an RPC message command.
pub const RETURN_RPC_CMD: u32 = rpc_return(RPC_FUNC_CMD);

/// Secure-world capability bits returned by EXCHANGE_CAPABILITIES in a1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct SecCaps(pub u64);

impl SecCaps {
    /// A reserved shared-memory window exists (see GET_SHM_CONFIG).
    pub const HAVE_RESERVED_SHM: Self = Self(1 << 0);
    /// Temporary memrefs may point at unregistered memory.
    pub const UNREGISTERED_SHM: Self = Self(1 << 1);
    /// REGISTER_SHM / UNREGISTER_SHM supported; args may live anywhere.
    pub const DYNAMIC_SHM: Self = Self(1 << 2);
    /// Built with guest (hypervisor) support.
    pub const VIRTUALIZATION: Self = Self(1 << 3);
    /// Memrefs with a NULL buffer are accepted.
    pub const MEMREF_NULL: Self = Self(1 << 4);
    /// Asynchronous notifications supported.
    pub const ASYNC_NOTIF: Self = Self(1 << 5);
    /// CALL_WITH_RPC_ARG / CALL_WITH_REGD_ARG supported.
    pub const RPC_ARG: Self = Self(1 << 6);
    /// The OS may ask normal world to probe for an RPMB device.
    pub const RPMB_PROBE: Self = Self(1 << 7);
    /// Static protected memory supported.
    pub const PROTMEM: Self = Self(1 << 8);
    /// Dynamically lent protected memory supported.
    pub const DYNAMIC_PROTMEM: Self = Self(1 << 9);

    /// No capabilities.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Raw register value.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// All bits of `other` are set in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Bitwise OR.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// Normal-world capability (EXCHANGE_CAPABILITIES a1 in): NW runs on one CPU.
pub const NSEC_CAP_UNIPROCESSOR: u64 = 1 << 0;

/// API UID 384fb3e0-e7f8-11e3-af63-0002a5d5c51b as returned in a0..a3.
pub const API_UID: [u32; 4] = [0x384f_b3e0, 0xe7f8_11e3, 0xaf63_0002, 0xa5d5_c51b];
/// Message-protocol API revision, major.
pub const API_REVISION_MAJOR: u32 = crate::msg::REVISION_MAJOR;
/// Message-protocol API revision, minor.
pub const API_REVISION_MINOR: u32 = crate::msg::REVISION_MINOR;
/// OP-TEE OS UUID 486178e0-e7f8-11e3-bc5e-0002a5d5c51b as returned in a0..a3.
/// oxtee reports it too, since normal-world drivers match on it.
pub const OS_OPTEE_UUID: [u32; 4] = [0x4861_78e0, 0xe7f8_11e3, 0xbc5e_0002, 0xa5d5_c51b];
/// oxtee's own OS revision, major (GET_OS_REVISION a0).
pub const OS_REVISION_MAJOR: u32 = 0;
/// oxtee's own OS revision, minor (GET_OS_REVISION a1).
pub const OS_REVISION_MINOR: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smc::FunctionId;

    #[test]
    fn function_ids() {
        assert_eq!(CALLS_COUNT, 0xBF00_FF00);
        assert_eq!(CALLS_UID, 0xBF00_FF01);
        assert_eq!(CALLS_REVISION, 0xBF00_FF03);
        assert_eq!(GET_OS_UUID, 0xB200_0000);
        assert_eq!(GET_OS_REVISION, 0xB200_0001);
        assert_eq!(GET_SHM_CONFIG, 0xB200_0007);
        assert_eq!(L2CC_MUTEX, 0xB200_0008);
        assert_eq!(EXCHANGE_CAPABILITIES, 0xB200_0009);
        assert_eq!(DISABLE_SHM_CACHE, 0xB200_000A);
        assert_eq!(ENABLE_SHM_CACHE, 0xB200_000B);
        assert_eq!(BOOT_SECONDARY, 0xB200_000C);
        assert_eq!(VM_CREATED, 0xB200_000D);
        assert_eq!(VM_DESTROYED, 0xB200_000E);
        assert_eq!(GET_THREAD_COUNT, 0xB200_000F);
        assert_eq!(ENABLE_ASYNC_NOTIF, 0xB200_0010);
        assert_eq!(GET_ASYNC_NOTIF_VALUE, 0xB200_0011);
        assert_eq!(GET_PROTMEM_CONFIG, 0xB200_0014);
        assert_eq!(RETURN_FROM_RPC, 0x3200_0003);
        assert_eq!(CALL_WITH_ARG, 0x3200_0004);
        assert_eq!(CALL_WITH_RPC_ARG, 0x3200_0012);
        assert_eq!(CALL_WITH_REGD_ARG, 0x3200_0013);
        assert_eq!((OWNER_TRUSTED_OS, OWNER_TRUSTED_OS_OPTEED, OWNER_TRUSTED_OS_API), (50, 62, 63));
    }

    #[test]
    fn ids_decode_consistently() {
        let yielding = [RETURN_FROM_RPC, CALL_WITH_ARG, CALL_WITH_RPC_ARG, CALL_WITH_REGD_ARG];
        for id in yielding.map(FunctionId) {
            assert!(!id.is_fast() && !id.is_smc64());
            assert_eq!(id.owner(), OWNER_TRUSTED_OS);
        }
        let fast = [GET_OS_UUID, GET_SHM_CONFIG, EXCHANGE_CAPABILITIES, GET_PROTMEM_CONFIG];
        for id in fast.map(FunctionId) {
            assert!(id.is_fast() && !id.is_smc64() && id.is_trusted_os());
            assert_eq!(id.owner(), OWNER_TRUSTED_OS);
        }
        for id in [CALLS_COUNT, CALLS_UID, CALLS_REVISION].map(FunctionId) {
            assert_eq!(id.owner(), OWNER_TRUSTED_OS_API);
        }
    }

    #[test]
    fn return_codes() {
        assert_eq!(
            [
                RETURN_OK,
                RETURN_ETHREAD_LIMIT,
                RETURN_EBUSY,
                RETURN_ERESUME,
                RETURN_EBADADDR,
                RETURN_EBADCMD,
                RETURN_ENOMEM,
                RETURN_ENOTAVAIL,
            ],
            [0, 1, 2, 3, 4, 5, 6, 7]
        );
        assert_eq!(RETURN_UNKNOWN_FUNCTION, 0xFFFF_FFFF);
        assert_eq!((L2CC_MUTEX_GET_ADDR, L2CC_MUTEX_SET_ADDR, L2CC_MUTEX_ENABLE, L2CC_MUTEX_DISABLE), (0, 1, 2, 3));
        assert_eq!((ASYNC_NOTIF_VALID, ASYNC_NOTIF_PENDING), (1, 2));
        assert_eq!(ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF, 0);
        assert_eq!(SHM_CACHED, 1);
    }

    #[test]
    fn rpc_encoding() {
        assert_eq!(RPC_PREFIX, 0xFFFF_0000);
        assert_eq!((RPC_FUNC_ALLOC, RPC_FUNC_FREE, RPC_FUNC_FOREIGN_INTR, RPC_FUNC_CMD), (0, 2, 4, 5));
        assert_eq!(RETURN_RPC_ALLOC, 0xFFFF_0000);
        assert_eq!(RETURN_RPC_FREE, 0xFFFF_0002);
        assert_eq!(RETURN_RPC_FOREIGN_INTR, 0xFFFF_0004);
        assert_eq!(RETURN_RPC_CMD, 0xFFFF_0005);
        for rpc in [RETURN_RPC_ALLOC, RETURN_RPC_FREE, RETURN_RPC_FOREIGN_INTR, RETURN_RPC_CMD] {
            assert!(is_rpc_return(rpc));
            assert_eq!(rpc_return(rpc_func(rpc)), rpc);
        }
        assert_eq!(rpc_func(RETURN_RPC_CMD), RPC_FUNC_CMD);
        assert!(!is_rpc_return(RETURN_UNKNOWN_FUNCTION));
        assert!(!is_rpc_return(RETURN_OK));
        assert!(!is_rpc_return(RETURN_ENOTAVAIL));
        assert!(!is_rpc_return(0xFFFE_0005));
        // Bits above the function field are ignored rather than corrupting the prefix.
        assert_eq!(rpc_return(0x1_0005), RETURN_RPC_CMD);
    }

    #[test]
    fn capabilities() {
        let all = [
            (SecCaps::HAVE_RESERVED_SHM, 0),
            (SecCaps::UNREGISTERED_SHM, 1),
            (SecCaps::DYNAMIC_SHM, 2),
            (SecCaps::VIRTUALIZATION, 3),
            (SecCaps::MEMREF_NULL, 4),
            (SecCaps::ASYNC_NOTIF, 5),
            (SecCaps::RPC_ARG, 6),
            (SecCaps::RPMB_PROBE, 7),
            (SecCaps::PROTMEM, 8),
            (SecCaps::DYNAMIC_PROTMEM, 9),
        ];
        for (cap, bit) in all {
            assert_eq!(cap.bits(), 1 << bit);
        }
        let caps = SecCaps::DYNAMIC_SHM.union(SecCaps::RPC_ARG);
        assert_eq!(caps.bits(), 0x44);
        assert!(caps.contains(SecCaps::DYNAMIC_SHM));
        assert!(caps.contains(SecCaps::RPC_ARG));
        assert!(!caps.contains(SecCaps::ASYNC_NOTIF));
        assert!(!caps.contains(SecCaps::DYNAMIC_SHM.union(SecCaps::MEMREF_NULL)));
        assert!(caps.contains(SecCaps::empty()));
        assert_eq!(SecCaps::default(), SecCaps::empty());
        assert_eq!(NSEC_CAP_UNIPROCESSOR, 1);
    }

    #[test]
    fn identification() {
        assert_eq!(API_UID, [0x384fb3e0, 0xe7f811e3, 0xaf630002, 0xa5d5c51b]);
        assert_eq!((API_REVISION_MAJOR, API_REVISION_MINOR), (2, 0));
        assert_eq!(OS_OPTEE_UUID, [0x486178e0, 0xe7f811e3, 0xbc5e0002, 0xa5d5c51b]);
        assert_eq!((OS_REVISION_MAJOR, OS_REVISION_MINOR), (0, 1));
    }
}
