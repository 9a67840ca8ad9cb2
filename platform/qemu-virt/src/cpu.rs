//! What the firmware must do for the CPU it runs on against the
//! speculation vulnerabilities SMCCC has workaround calls for, decided from
//! ID registers alone (pure, host-tested). The monitor applies it and
//! answers `SMCCC_ARCH_FEATURES` from it, as TF-A does for the same cores.

/// MIDR_EL1 implementer and part numbers.
const IMPLEMENTER_ARM: u64 = 0x41;
const PART_CORTEX_A57: u64 = 0xd07;
const PART_CORTEX_A72: u64 = 0xd08;

/// `SMCCC_ARCH_FEATURES` answers (SMCCC: 0 = call implemented and needed,
/// 1 = this PE is unaffected, -2 = not required (mitigated for good),
/// -1 = not supported: the firmware does not know).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Required = 0,
    Unaffected = 1,
    NotRequired = -2,
    Unknown = -1,
}

/// ID registers the decision rests on.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdRegs {
    pub midr: u64,
    pub pfr0: u64,
    pub pfr1: u64,
    pub mmfr1: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mitigations {
    /// Invalidate the branch predictor on every entry to EL3 (Cortex-A57
    /// and A72: turn the EL3 MMU off and on), which is also all that
    /// `SMCCC_ARCH_WORKAROUND_1` and `_3` then need to do.
    pub bp_invalidate_on_entry: bool,
    /// Cortex-A57: set CPUACTLR_EL1.DIS_LOAD_PASS_STORE (bit 55) at reset,
    /// which mitigates CVE-2018-3639 (speculative store bypass) for good.
    pub a57_disable_load_pass_store: bool,
    /// CVE-2017-5715 (Spectre v2), `SMCCC_ARCH_WORKAROUND_1`.
    pub workaround_1: Answer,
    /// CVE-2018-3639 (Spectre v4), `SMCCC_ARCH_WORKAROUND_2`.
    pub workaround_2: Answer,
    /// CVE-2022-23960 (Spectre-BHB), `SMCCC_ARCH_WORKAROUND_3`.
    pub workaround_3: Answer,
}

fn field(reg: u64, shift: u32) -> u64 {
    (reg >> shift) & 0xf
}

pub fn mitigations(id: IdRegs) -> Mitigations {
    let implementer = (id.midr >> 24) & 0xff;
    let part = (id.midr >> 4) & 0xfff;
    let arm = implementer == IMPLEMENTER_ARM;
    let a57 = arm && part == PART_CORTEX_A57;
    let a72 = arm && part == PART_CORTEX_A72;
    // ID_AA64PFR0_EL1.CSV2 (bits 59:56): branch targets trained in one
    // context cannot steer another; value 3 (CSV2_3) also covers branch
    // history. ID_AA64MMFR1_EL1.ECBHB (bits 63:60) likewise.
    let csv2 = field(id.pfr0, 56);
    // ID_AA64PFR1_EL1.SSBS (bits 7:4): architectural store-bypass control.
    let ssbs = field(id.pfr1, 4);
    let ecbhb = field(id.mmfr1, 60);
    let bp = a57 || a72;
    Mitigations {
        bp_invalidate_on_entry: bp,
        a57_disable_load_pass_store: a57,
        workaround_1: if bp {
            Answer::Required
        } else if csv2 >= 1 {
            Answer::Unaffected
        } else {
            Answer::Unknown
        },
        workaround_2: if a57 {
            Answer::NotRequired
        } else if a72 {
            // The A72 needs a dynamic switch we do not implement.
            Answer::Unknown
        } else if ssbs >= 1 {
            Answer::Unaffected
        } else {
            Answer::Unknown
        },
        workaround_3: if bp {
            Answer::Required
        } else if csv2 >= 3 || ecbhb >= 1 {
            Answer::Unaffected
        } else {
            Answer::Unknown
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// QEMU's cortex-a57 (r1p0) and `-cpu max` ("QEMU" implementer 0,
    /// CSV2 and SSBS advertised) as seen from EL3.
    const A57: IdRegs = IdRegs { midr: 0x411f_d070, pfr0: 0x1122_2222, pfr1: 0, mmfr1: 0 };
    const MAX: IdRegs = IdRegs { midr: 0x000f_0510, pfr0: 0x1201_1001_1111_1112, pfr1: 0x21, mmfr1: 0 };

    #[test]
    fn cortex_a57_is_mitigated_as_tf_a_does() {
        let m = mitigations(A57);
        assert!(m.bp_invalidate_on_entry && m.a57_disable_load_pass_store);
        assert_eq!(
            (m.workaround_1, m.workaround_2, m.workaround_3),
            (Answer::Required, Answer::NotRequired, Answer::Required)
        );
        let a72 = mitigations(IdRegs { midr: 0x410f_d083, ..A57 });
        assert!(a72.bp_invalidate_on_entry && !a72.a57_disable_load_pass_store);
        assert_eq!(a72.workaround_2, Answer::Unknown);
    }

    #[test]
    fn other_cores_are_judged_by_their_id_registers() {
        let m = mitigations(MAX);
        assert!(!m.bp_invalidate_on_entry && !m.a57_disable_load_pass_store);
        assert_eq!(
            (m.workaround_1, m.workaround_2, m.workaround_3),
            (Answer::Unaffected, Answer::Unaffected, Answer::Unknown)
        );
        let bhb_safe = mitigations(IdRegs { mmfr1: 1 << 60, ..MAX });
        assert_eq!(bhb_safe.workaround_3, Answer::Unaffected);
        // An unknown core that claims nothing: the firmware cannot tell.
        let bare = mitigations(IdRegs { midr: 0x4100_0000, ..IdRegs::default() });
        assert_eq!(
            (bare.workaround_1, bare.workaround_2, bare.workaround_3),
            (Answer::Unknown, Answer::Unknown, Answer::Unknown)
        );
        // Another implementer's part 0xd07 is not a Cortex-A57.
        assert!(!mitigations(IdRegs { midr: 0x511f_d070, ..A57 }).bp_invalidate_on_entry);
    }
}
