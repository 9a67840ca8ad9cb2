//! Generic Arm SMC Calling Convention (DEN0028) function-id decoding, owner
//! ranges and the architecture-service ids; PSCI comes from the `smccc` crate.

/// PSCI function ids, error codes and call helpers, re-exported so the whole
/// workspace agrees on a single source for them.
pub use smccc::psci;

/// A 32-bit SMC/HVC function identifier as passed in w0.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FunctionId(pub u32);

const FAST_BIT: u32 = 1 << 31;
const SMC64_BIT: u32 = 1 << 30;
const OWNER_SHIFT: u32 = 24;
const OWNER_MASK: u32 = 0x3F;
const RESERVED_SHIFT: u32 = 16;
const NUMBER_MASK: u32 = 0xFFFF;

/// Arm architecture calls (SMCCC_VERSION, workarounds, ...).
pub const OWNER_ARCH: u8 = 0;
/// CPU service calls.
pub const OWNER_CPU: u8 = 1;
/// Silicon-provider calls.
pub const OWNER_SIP: u8 = 2;
/// OEM calls.
pub const OWNER_OEM: u8 = 3;
/// Standard secure services (PSCI lives here).
pub const OWNER_STANDARD: u8 = 4;
/// Standard hypervisor services.
pub const OWNER_STANDARD_HYP: u8 = 5;
/// Vendor-specific hypervisor services.
pub const OWNER_VENDOR_HYP: u8 = 6;
/// First owner number reserved for trusted applications.
pub const OWNER_TRUSTED_APP_START: u8 = 48;
/// Last owner number reserved for trusted applications.
pub const OWNER_TRUSTED_APP_END: u8 = 49;
/// First owner number reserved for trusted OSes.
pub const OWNER_TRUSTED_OS_START: u8 = 50;
/// Last owner number reserved for trusted OSes.
pub const OWNER_TRUSTED_OS_END: u8 = 63;

impl FunctionId {
    /// Composes an id from its fields; `owner` is truncated to 6 bits.
    pub const fn new(fast: bool, smc64: bool, owner: u8, number: u16) -> Self {
        let mut raw = ((owner as u32) & OWNER_MASK) << OWNER_SHIFT | number as u32;
        if fast {
            raw |= FAST_BIT;
        }
        if smc64 {
            raw |= SMC64_BIT;
        }
        Self(raw)
    }

    /// Fast (atomic) call rather than a yielding one.
    pub const fn is_fast(self) -> bool {
        self.0 & FAST_BIT != 0
    }

    /// Uses the SMC64/HVC64 convention (x registers) rather than SMC32.
    pub const fn is_smc64(self) -> bool {
        self.0 & SMC64_BIT != 0
    }

    /// Owning entity number, bits 29:24.
    pub const fn owner(self) -> u8 {
        ((self.0 >> OWNER_SHIFT) & OWNER_MASK) as u8
    }

    /// Function number within the owner, bits 15:0.
    pub const fn number(self) -> u16 {
        (self.0 & NUMBER_MASK) as u16
    }

    /// Bits 23:16. Must be zero for fast calls, except that SMCCC v1.3 gives
    /// bit 16 to the "no live SVE state" hint, so callers usually ignore it.
    pub const fn reserved_bits(self) -> u8 {
        (self.0 >> RESERVED_SHIFT) as u8
    }

    /// Bit 16: caller promises it holds no live SVE state (SMCCC v1.3).
    pub const fn sve_hint(self) -> bool {
        self.reserved_bits() & 1 != 0
    }

    /// Owner falls in the trusted-OS range (50..=63).
    pub const fn is_trusted_os(self) -> bool {
        let owner = self.owner();
        owner >= OWNER_TRUSTED_OS_START && owner <= OWNER_TRUSTED_OS_END
    }

    /// Owner falls in the trusted-application range (48..=49).
    pub const fn is_trusted_app(self) -> bool {
        let owner = self.owner();
        owner >= OWNER_TRUSTED_APP_START && owner <= OWNER_TRUSTED_APP_END
    }
}

impl From<u32> for FunctionId {
    fn from(raw: u32) -> Self {
        Self(raw)
    }
}

impl From<FunctionId> for u32 {
    fn from(id: FunctionId) -> Self {
        id.0
    }
}

/// Returns the implemented SMCCC version.
pub const SMCCC_VERSION: u32 = 0x8000_0000;
/// Queries whether an arch function id is implemented.
pub const SMCCC_ARCH_FEATURES: u32 = 0x8000_0001;
/// Returns the SoC identification.
pub const SMCCC_ARCH_SOC_ID: u32 = 0x8000_0002;
/// Spectre-v2 (CVE-2017-5715) branch-predictor mitigation.
pub const SMCCC_ARCH_WORKAROUND_1: u32 = 0x8000_8000;
/// Spectre-v4 (CVE-2018-3639) speculative-store-bypass control.
pub const SMCCC_ARCH_WORKAROUND_2: u32 = 0x8000_7FFF;
/// Spectre-BHB (CVE-2022-23960) mitigation.
pub const SMCCC_ARCH_WORKAROUND_3: u32 = 0x8000_3FFF;

/// Generic "not supported" answer for arch and feature queries.
pub const SMCCC_NOT_SUPPORTED: i32 = -1;
/// ARCH_FEATURES answer for a workaround this PE needs no call for (it is
/// mitigated permanently, e.g. at reset).
pub const SMCCC_NOT_REQUIRED: i32 = -2;
/// ARCH_FEATURES answer for a workaround: this PE is not affected.
pub const SMCCC_WORKAROUND_UNAFFECTED: i32 = 1;

/// Standard-service general queries (owner 4): how many standard-service
/// calls are implemented, the implementation's UID (x0..x3), its revision.
pub const STD_SVC_CALL_COUNT: u32 = 0x8400_FF00;
pub const STD_SVC_UID: u32 = 0x8400_FF01;
pub const STD_SVC_REVISION: u32 = 0x8400_FF03;
/// The UID oxtee's monitor answers to [`STD_SVC_UID`]
/// (e1347e61-247f-4e92-b22c-295fdb06fd16, one 32-bit word per register, in
/// the word order OP-TEE uses for its UIDs), so a normal world can tell it
/// from other firmware (TF-A answers its own).
pub const MONITOR_STD_SVC_UID: [u32; 4] = [0xe134_7e61, 0x247f_4e92, 0xb22c_295f, 0xdb06_fd16];
/// What a monitor places in x0 for a function id nobody implements; the
/// 32-bit view (w0) reads as 0xFFFF_FFFF.
pub const UNKNOWN_FUNCTION_64: u64 = u64::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_fields() {
        let id = FunctionId(0xC400_0003); // PSCI CPU_ON, SMC64
        assert!(id.is_fast());
        assert!(id.is_smc64());
        assert_eq!(id.owner(), OWNER_STANDARD);
        assert_eq!(id.number(), 3);
        assert_eq!(id.reserved_bits(), 0);
        assert!(!id.is_trusted_os());

        let yielding = FunctionId(0x3200_0004);
        assert!(!yielding.is_fast());
        assert!(!yielding.is_smc64());
        assert_eq!(yielding.owner(), 50);
        assert!(yielding.is_trusted_os());

        let odd = FunctionId(0x80FF_0001);
        assert_eq!(odd.reserved_bits(), 0xFF);
        assert!(odd.sve_hint());
        assert!(!FunctionId(0x8000_0001).sve_hint());
        assert_eq!(FunctionId(0x8001_0000).reserved_bits(), 1);
    }

    #[test]
    fn compose_round_trips() {
        assert_eq!(FunctionId::new(true, false, 50, 0), FunctionId(0xB200_0000));
        assert_eq!(FunctionId::new(true, false, 63, 0xFF01), FunctionId(0xBF00_FF01));
        assert_eq!(FunctionId::new(false, false, 50, 4), FunctionId(0x3200_0004));
        assert_eq!(FunctionId::new(true, true, 4, 3), FunctionId(0xC400_0003));
        // Owner wider than 6 bits must not leak into the type/convention bits.
        assert_eq!(FunctionId::new(false, false, 0xFF, 0).0, 0x3F00_0000);
        assert_eq!(u32::from(FunctionId::from(7u32)), 7);
    }

    #[test]
    fn owner_ranges() {
        for owner in 0..=63u8 {
            let id = FunctionId::new(true, false, owner, 0);
            assert_eq!(id.owner(), owner);
            assert_eq!(id.is_trusted_os(), (50..=63).contains(&owner));
            assert_eq!(id.is_trusted_app(), (48..=49).contains(&owner));
        }
        assert_eq!(
            [
                OWNER_ARCH,
                OWNER_CPU,
                OWNER_SIP,
                OWNER_OEM,
                OWNER_STANDARD,
                OWNER_STANDARD_HYP,
                OWNER_VENDOR_HYP,
                OWNER_TRUSTED_APP_START,
                OWNER_TRUSTED_APP_END,
                OWNER_TRUSTED_OS_START,
                OWNER_TRUSTED_OS_END,
            ],
            [0, 1, 2, 3, 4, 5, 6, 48, 49, 50, 63]
        );
    }

    #[test]
    fn arch_ids() {
        assert_eq!(SMCCC_VERSION, 0x8000_0000);
        assert_eq!(SMCCC_ARCH_FEATURES, 0x8000_0001);
        assert_eq!(SMCCC_ARCH_SOC_ID, 0x8000_0002);
        assert_eq!(SMCCC_ARCH_WORKAROUND_1, 0x8000_8000);
        assert_eq!(SMCCC_ARCH_WORKAROUND_2, 0x8000_7FFF);
        assert_eq!(SMCCC_ARCH_WORKAROUND_3, 0x8000_3FFF);
        assert_eq!(SMCCC_NOT_SUPPORTED, -1);
        assert_eq!(SMCCC_NOT_REQUIRED, -2);
        assert_eq!(SMCCC_WORKAROUND_UNAFFECTED, 1);
        assert_eq!((STD_SVC_CALL_COUNT, STD_SVC_UID, STD_SVC_REVISION), (0x8400_FF00, 0x8400_FF01, 0x8400_FF03));
        assert_eq!(UNKNOWN_FUNCTION_64, 0xFFFF_FFFF_FFFF_FFFF);
        // Our arch ids must agree with the smccc crate's.
        assert_eq!(SMCCC_VERSION, smccc::arch::SMCCC_VERSION);
        assert_eq!(SMCCC_ARCH_FEATURES, smccc::arch::SMCCC_ARCH_FEATURES);
        assert_eq!(SMCCC_ARCH_SOC_ID, smccc::arch::SMCCC_ARCH_SOC_ID);
        assert_eq!(SMCCC_ARCH_WORKAROUND_1, smccc::arch::SMCCC_ARCH_WORKAROUND_1);
        assert_eq!(SMCCC_ARCH_WORKAROUND_2, smccc::arch::SMCCC_ARCH_WORKAROUND_2);
        assert_eq!(SMCCC_ARCH_WORKAROUND_3, smccc::arch::SMCCC_ARCH_WORKAROUND_3);
    }

    /// Pins the PSCI numbers (DEN0022) we take from `smccc`, so an upgrade
    /// of that crate cannot silently change what the monitor dispatches on.
    #[test]
    fn psci_pins() {
        assert_eq!(psci::PSCI_VERSION, 0x8400_0000);
        assert_eq!(psci::PSCI_CPU_SUSPEND_32, 0x8400_0001);
        assert_eq!(psci::PSCI_CPU_SUSPEND_64, 0xC400_0001);
        assert_eq!(psci::PSCI_CPU_OFF, 0x8400_0002);
        assert_eq!(psci::PSCI_CPU_ON_32, 0x8400_0003);
        assert_eq!(psci::PSCI_CPU_ON_64, 0xC400_0003);
        assert_eq!(psci::PSCI_AFFINITY_INFO_32, 0x8400_0004);
        assert_eq!(psci::PSCI_AFFINITY_INFO_64, 0xC400_0004);
        assert_eq!(psci::PSCI_MIGRATE_INFO_TYPE, 0x8400_0006);
        assert_eq!(psci::PSCI_SYSTEM_OFF, 0x8400_0008);
        assert_eq!(psci::PSCI_SYSTEM_RESET, 0x8400_0009);
        assert_eq!(psci::PSCI_FEATURES, 0x8400_000A);
        assert_eq!(psci::PSCI_SYSTEM_RESET2_64, 0xC400_0012);

        assert_eq!(psci::error::SUCCESS, 0);
        assert_eq!(psci::error::NOT_SUPPORTED, -1);
        assert_eq!(psci::error::INVALID_PARAMETERS, -2);
        assert_eq!(psci::error::DENIED, -3);
        assert_eq!(psci::error::ALREADY_ON, -4);
        assert_eq!(psci::error::ON_PENDING, -5);
        assert_eq!(psci::error::INTERNAL_FAILURE, -6);
        assert_eq!(psci::error::NOT_PRESENT, -7);
        assert_eq!(psci::error::DISABLED, -8);
        assert_eq!(psci::error::INVALID_ADDRESS, -9);

        for id in [psci::PSCI_VERSION, psci::PSCI_CPU_ON_64, psci::PSCI_SYSTEM_OFF] {
            assert_eq!(FunctionId(id).owner(), OWNER_STANDARD);
            assert!(FunctionId(id).is_fast());
        }
    }
}
