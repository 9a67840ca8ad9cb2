//! The TF-A "opteed" dispatcher protocol between the secure OS and the EL3
//! monitor: the OS's entry-vector table and the ids it uses to hand back.
//!
//! These ids break SMCCC on purpose: they say SMC32 but carry 64-bit values
//! in x1.. on AArch64, as only the monitor ever sees them.

const fn monitor_return(num: u32) -> u32 {
    // Fast, SMC32, owner 62 (trusted OS, dispatcher-reserved).
    1 << 31 | 62 << 24 | num
}

/// Cold boot finished; x1 = address of the OS's [`Vector`] table.
pub const RETURN_ENTRY_DONE: u32 = monitor_return(0);
/// `CpuOn` vector finished; x1 = 0 on success.
pub const RETURN_ON_DONE: u32 = monitor_return(1);
/// `CpuOff` vector finished; x1 = 0 on success.
pub const RETURN_OFF_DONE: u32 = monitor_return(2);
/// `CpuSuspend` vector finished; x1 = 0 on success.
pub const RETURN_SUSPEND_DONE: u32 = monitor_return(3);
/// `CpuResume` vector finished; x1 = 0 on success.
pub const RETURN_RESUME_DONE: u32 = monitor_return(4);
/// SMC vector finished; x1..x4 become the normal world's x0..x3.
pub const RETURN_CALL_DONE: u32 = monitor_return(5);
/// `Fiq` vector finished.
pub const RETURN_FIQ_DONE: u32 = monitor_return(6);
/// `SystemOff` vector finished.
pub const RETURN_SYSTEM_OFF_DONE: u32 = monitor_return(7);
/// `SystemReset` vector finished.
pub const RETURN_SYSTEM_RESET_DONE: u32 = monitor_return(8);

/// Normal-world call to the dispatcher: load the OS from a payload
/// (x1:x2 = size, x3:x4 = physical address). Only when TF-A loads the OS late.
pub const NSSMC_CALL_LOAD_IMAGE: u32 = 1 << 31 | 63 << 24 | 2;

wire_enum! {
    /// Slots of the OS entry-vector table: one 4-byte branch instruction per
    /// entry, in this order, which the monitor jumps into.
    pub enum Vector: usize {
        /// Yielding (standard) SMC from normal world.
        YieldSmc = 0,
        /// Fast SMC from normal world.
        FastSmc = 1,
        /// A core was powered on (PSCI CPU_ON).
        CpuOn = 2,
        /// A core is powering off.
        CpuOff = 3,
        /// A core resumes from suspend.
        CpuResume = 4,
        /// A core is suspending.
        CpuSuspend = 5,
        /// A secure interrupt arrived while normal world ran.
        Fiq = 6,
        /// PSCI SYSTEM_OFF.
        SystemOff = 7,
        /// PSCI SYSTEM_RESET.
        SystemReset = 8,
    }
}

/// Bytes in one vector slot (a single A64 instruction).
pub const VECTOR_SLOT_SIZE: usize = 4;
/// Bytes in the whole table.
pub const VECTOR_TABLE_SIZE: usize = Vector::ALL.len() * VECTOR_SLOT_SIZE;

impl Vector {
    /// Byte offset of this slot from the table base.
    pub const fn offset(self) -> usize {
        self as usize * VECTOR_SLOT_SIZE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smc::FunctionId;

    #[test]
    fn return_ids() {
        assert_eq!(
            [
                RETURN_ENTRY_DONE,
                RETURN_ON_DONE,
                RETURN_OFF_DONE,
                RETURN_SUSPEND_DONE,
                RETURN_RESUME_DONE,
                RETURN_CALL_DONE,
                RETURN_FIQ_DONE,
                RETURN_SYSTEM_OFF_DONE,
                RETURN_SYSTEM_RESET_DONE,
            ],
            [
                0xBE00_0000,
                0xBE00_0001,
                0xBE00_0002,
                0xBE00_0003,
                0xBE00_0004,
                0xBE00_0005,
                0xBE00_0006,
                0xBE00_0007,
                0xBE00_0008,
            ]
        );
        let id = FunctionId(RETURN_CALL_DONE);
        assert!(id.is_fast() && !id.is_smc64() && id.is_trusted_os());
        assert_eq!(id.owner(), crate::optee_smc::OWNER_TRUSTED_OS_OPTEED);
        assert_eq!(NSSMC_CALL_LOAD_IMAGE, 0xBF00_0002);
    }

    #[test]
    fn vector_table_layout() {
        assert_eq!(VECTOR_TABLE_SIZE, 36);
        assert_eq!(Vector::ALL.len(), 9);
        let expected = [
            (Vector::YieldSmc, 0),
            (Vector::FastSmc, 4),
            (Vector::CpuOn, 8),
            (Vector::CpuOff, 12),
            (Vector::CpuResume, 16),
            (Vector::CpuSuspend, 20),
            (Vector::Fiq, 24),
            (Vector::SystemOff, 28),
            (Vector::SystemReset, 32),
        ];
        for (i, (v, off)) in expected.into_iter().enumerate() {
            assert_eq!(Vector::ALL[i], v);
            assert_eq!(v.offset(), off);
            assert_eq!(Vector::try_from(i), Ok(v));
            assert_eq!(usize::from(v), i);
        }
        assert_eq!(Vector::try_from(9), Err(9));
    }
}
