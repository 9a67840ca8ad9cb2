.arch_extension fp
.arch_extension simd
// User mode (S-EL0) entry and exit. Offsets follow oxtee_core::env::UserRegs:
// x0..x30 at 0, sp 248, pc 256, pstate 264, tpidr 272, esr 280, far 288,
// then the FP/SIMD area at 304 in fp_save's layout (q0..q31, FPSR, FPCR).

// user_run(regs: *mut UserRegs, ttbr1: u64) -> kind
// Saves the kernel's callee-saved registers and the regs pointer in a
// 112-byte frame, switches TTBR1 to the TA's tables and erets. The frame
// stays at the top of SP_EL1, where user_exit finds it.
.global user_run
user_run:
    sub     sp, sp, #112
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    str     x0, [sp, #96]
    msr     ttbr1_el1, x1
    isb
    mov     x19, x0
    add     x0, x19, #304
    bl      fp_restore
    mov     x0, x19
    ldp     x10, x11, [x0, #248]
    msr     sp_el0, x10
    msr     elr_el1, x11
    ldp     x10, x11, [x0, #264]
    msr     spsr_el1, x10
    msr     tpidr_el0, x11
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0, #0]
    eret
    dsb     nsh
    isb

// Common exit from user mode: x0 = kind (0 sync, 1 IRQ, 2 FIQ, 3 SError),
// the user's x0/x1 pushed just below the user_run frame.
.global user_exit
user_exit:
    ldr     x1, [sp, #112]
    stp     x2, x3, [x1, #16]
    stp     x4, x5, [x1, #32]
    stp     x6, x7, [x1, #48]
    stp     x8, x9, [x1, #64]
    stp     x10, x11, [x1, #80]
    stp     x12, x13, [x1, #96]
    stp     x14, x15, [x1, #112]
    stp     x16, x17, [x1, #128]
    stp     x18, x19, [x1, #144]
    stp     x20, x21, [x1, #160]
    stp     x22, x23, [x1, #176]
    stp     x24, x25, [x1, #192]
    stp     x26, x27, [x1, #208]
    stp     x28, x29, [x1, #224]
    str     x30, [x1, #240]
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x1, #0]
    mrs     x2, sp_el0
    mrs     x3, elr_el1
    stp     x2, x3, [x1, #248]
    mrs     x2, spsr_el1
    mrs     x3, tpidr_el0
    stp     x2, x3, [x1, #264]
    mrs     x2, esr_el1
    mrs     x3, far_el1
    stp     x2, x3, [x1, #280]
    // x19, x20 are saved already: keep the regs pointer and the kind there.
    mov     x19, x1
    mov     x20, x0
    add     x0, x1, #304
    bl      fp_save
    mov     x0, x20
    // No user translations while the kernel runs.
    adrp    x2, {empty_ttbr1}
    add     x2, x2, :lo12:{empty_ttbr1}
    msr     ttbr1_el1, x2
    isb
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    add     sp, sp, #112
    ret

// fp_save(area) / fp_restore(area): q0..q31 at 0, FPSR at 512, FPCR at 520.
.global fp_save
fp_save:
    stp     q0, q1, [x0, #0]
    stp     q2, q3, [x0, #32]
    stp     q4, q5, [x0, #64]
    stp     q6, q7, [x0, #96]
    stp     q8, q9, [x0, #128]
    stp     q10, q11, [x0, #160]
    stp     q12, q13, [x0, #192]
    stp     q14, q15, [x0, #224]
    stp     q16, q17, [x0, #256]
    stp     q18, q19, [x0, #288]
    stp     q20, q21, [x0, #320]
    stp     q22, q23, [x0, #352]
    stp     q24, q25, [x0, #384]
    stp     q26, q27, [x0, #416]
    stp     q28, q29, [x0, #448]
    stp     q30, q31, [x0, #480]
    mrs     x1, fpsr
    mrs     x2, fpcr
    add     x0, x0, #512
    stp     x1, x2, [x0]
    ret

.global fp_restore
fp_restore:
    ldp     q0, q1, [x0, #0]
    ldp     q2, q3, [x0, #32]
    ldp     q4, q5, [x0, #64]
    ldp     q6, q7, [x0, #96]
    ldp     q8, q9, [x0, #128]
    ldp     q10, q11, [x0, #160]
    ldp     q12, q13, [x0, #192]
    ldp     q14, q15, [x0, #224]
    ldp     q16, q17, [x0, #256]
    ldp     q18, q19, [x0, #288]
    ldp     q20, q21, [x0, #320]
    ldp     q22, q23, [x0, #352]
    ldp     q24, q25, [x0, #384]
    ldp     q26, q27, [x0, #416]
    ldp     q28, q29, [x0, #448]
    ldp     q30, q31, [x0, #480]
    add     x0, x0, #512
    ldp     x1, x2, [x0]
    msr     fpsr, x1
    msr     fpcr, x2
    ret
