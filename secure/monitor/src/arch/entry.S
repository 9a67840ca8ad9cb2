// EL3 entry paths: reset stub, secondary holding pen, exception vectors and
// the world exit. Offsets into WorldContext come from Rust as const operands.

.section .text.boot, "ax"
.global _start
_start:
    // All CPUs start here, at the image's load address in secure flash.
    // A CPU outside the platform (Aff2/Aff3 set, Aff0 of 8 or more, or a
    // linear index past MAX_CPUS) has no stack, context or mailbox: it
    // stays here for good, before touching any memory.
    mrs     x0, mpidr_el1
    ubfx    x1, x0, #16, #8
    ubfx    x2, x0, #32, #8
    orr     x1, x1, x2
    cbnz    x1, unsupported_cpu
    and     x1, x0, #0xff
    cmp     x1, #8
    b.hs    unsupported_cpu
    ubfx    x0, x0, #8, #8
    add     x0, x1, x0, lsl #3          // linear CPU index
    cmp     x0, #{max_cpus}
    b.hs    unsupported_cpu
    cbnz    x0, secondary_pen

    // Primary: copy the loaded image (text, rodata, data) into secure RAM.
    adr     x1, _start
    ldr     x2, =__image_start
    ldr     x3, =__data_end
1:  ldp     x4, x5, [x1], #16
    stp     x4, x5, [x2], #16
    cmp     x2, x3
    b.lo    1b
    dsb     sy
    ic      iallu
    isb
    ldr     x4, =primary_ram_entry
    br      x4

unsupported_cpu:
    wfi
    b       unsupported_cpu

// Parked CPUs wait here until PSCI CPU_ON writes their mailbox. Runs first
// from flash, later (after CPU_OFF) from RAM; x0 = linear CPU index.
.global secondary_pen
secondary_pen:
    ldr     x1, ={mailboxes}
1:  wfe
    ldr     x2, [x1, x0, lsl #3]
    cbz     x2, 1b
    br      x2
.ltorg

.section .text.el3, "ax"

// Sets sp to the top of this CPU's EL3 stack. Clobbers x9, x10.
set_stack:
    mrs     x9, mpidr_el1
    and     x10, x9, #0xff
    ubfx    x9, x9, #8, #8
    add     x9, x10, x9, lsl #3
    ldr     x10, =__stacks_end
    sub     x10, x10, x9, lsl #14       // 16 KiB per CPU
    mov     sp, x10
    ret

primary_ram_entry:
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  bl      set_stack
    ldr     x1, =el3_vectors
    msr     vbar_el3, x1
    isb
    bl      {cold_boot}
    b       world_exit

.global warm_entry
warm_entry:
    bl      set_stack
    ldr     x1, =el3_vectors
    msr     vbar_el3, x1
    isb
    bl      {warm_boot}
    b       world_exit

// x0 = &WorldContext to run. Never returns: sp_el3 keeps pointing at the
// context so the next exception from that world saves straight into it.
.global world_exit
world_exit:
    mov     sp, x0
    ldp     x1, x2, [sp, #{ctx_elr}]
    msr     elr_el3, x1
    msr     spsr_el3, x2
    ldp     x1, x2, [sp, #{ctx_scr}]    // scr, then sp_el0
    msr     scr_el3, x1
    msr     sp_el0, x2
    ldr     x1, [sp, #{ctx_pmcr}]
    msr     pmcr_el0, x1
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    ldp     x0, x1, [sp, #0]
    eret

// Saves the interrupted world's registers into the context sp points at,
// then runs the Rust dispatcher on this CPU's stack. x0 = exception kind.
save_and_dispatch:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x2, sp_el0
    str     x2, [sp, #{ctx_sp_el0}]
    mrs     x2, elr_el3
    mrs     x3, spsr_el3
    stp     x2, x3, [sp, #{ctx_elr}]
    // Each world has its own PMCR_EL0; with DP set, the cycle counter
    // stops wherever event counting is prohibited (EL3, the secure world:
    // MDCR_EL3.SPME is clear), whatever the normal world programmed.
    mrs     x2, pmcr_el0
    str     x2, [sp, #{ctx_pmcr}]
    orr     x2, x2, #(1 << 5)
    msr     pmcr_el0, x2
    mov     x1, x0
    mov     x0, sp
    ldr     x2, [x0, #{ctx_runtime_sp}]
    mov     sp, x2
    bl      {dispatch}
    b       world_exit

// Exceptions taken at EL3 itself are bugs in the monitor: report them.
el3_fault:
    bl      set_stack
    mrs     x1, esr_el3
    mrs     x2, elr_el3
    mrs     x3, far_el3
    bl      {el3_fault}
1:  wfe
    b       1b

.macro vec_fault kind
    .balign 0x80
    mov     x0, #\kind
    b       el3_fault
.endm

.macro vec_lower kind
    .balign 0x80
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       save_and_dispatch
.endm

// For CPUs whose branch predictor lower ELs can train (Cortex-A57/A72,
// CVE-2017-5715 and CVE-2022-23960): every entry from a lower EL turns the
// EL3 MMU off and on again, which invalidates their branch predictor. An
// SMCCC_ARCH_WORKAROUND_1/3 call (SMC #0 from AArch64) needs nothing else
// and returns at once with its registers unchanged.
.macro vec_lower_bp_inval kind
    .balign 0x80
    stp     x0, x1, [sp, #0]
    mrs     x1, sctlr_el3
    bic     x1, x1, #1
    msr     sctlr_el3, x1
    isb
    orr     x1, x1, #1
    msr     sctlr_el3, x1
    isb
.if \kind == 0
    mov     w1, #0x8000
    movk    w1, #0x8000, lsl #16        // SMCCC_ARCH_WORKAROUND_1
    cmp     w0, w1
    mov     w1, #0x3fff
    movk    w1, #0x8000, lsl #16        // SMCCC_ARCH_WORKAROUND_3
    ccmp    w0, w1, #4, ne
    b.ne    1f
    mrs     x1, esr_el3
    movz    w0, #0x5e00, lsl #16        // EC = SMC64, IL, imm16 = 0
    cmp     w1, w0
    b.ne    1f
    ldp     x0, x1, [sp, #0]
    eret
1:
.endif
    mov     x0, #\kind
    b       save_and_dispatch
.endm

.macro vec_table name, lower
.balign 0x800
.global \name
\name:
    vec_fault 0
    vec_fault 1
    vec_fault 2
    vec_fault 3
    vec_fault 4
    vec_fault 5
    vec_fault 6
    vec_fault 7
    \lower 0     // lower EL, AArch64: synchronous (SMC)
    \lower 1     // IRQ
    \lower 2     // FIQ
    \lower 3     // SError
    vec_fault 12    // lower EL, AArch32: not supported
    vec_fault 13
    vec_fault 14
    vec_fault 15
.endm

    vec_table el3_vectors, vec_lower
    vec_table el3_vectors_bp_inval, vec_lower_bp_inval
.ltorg

// EL1 system registers of one world. Order matches El1Regs in Rust.
.global el1_save
el1_save:
    mrs x1, sctlr_el1;      mrs x2, actlr_el1;      stp x1, x2, [x0, #0]
    mrs x1, cpacr_el1;      mrs x2, csselr_el1;     stp x1, x2, [x0, #16]
    mrs x1, sp_el1;         mrs x2, esr_el1;        stp x1, x2, [x0, #32]
    mrs x1, ttbr0_el1;      mrs x2, ttbr1_el1;      stp x1, x2, [x0, #48]
    mrs x1, mair_el1;       mrs x2, amair_el1;      stp x1, x2, [x0, #64]
    mrs x1, tcr_el1;        mrs x2, tpidr_el1;      stp x1, x2, [x0, #80]
    mrs x1, tpidr_el0;      mrs x2, tpidrro_el0;    stp x1, x2, [x0, #96]
    mrs x1, par_el1;        mrs x2, far_el1;        stp x1, x2, [x0, #112]
    mrs x1, afsr0_el1;      mrs x2, afsr1_el1;      stp x1, x2, [x0, #128]
    mrs x1, contextidr_el1; mrs x2, vbar_el1;       stp x1, x2, [x0, #144]
    mrs x1, spsr_el1;       mrs x2, elr_el1;        stp x1, x2, [x0, #160]
    mrs x1, cntkctl_el1;    mrs x2, mdscr_el1;      stp x1, x2, [x0, #176]
    ret

.global el1_restore
el1_restore:
    ldp x1, x2, [x0, #0];   msr sctlr_el1, x1;      msr actlr_el1, x2
    ldp x1, x2, [x0, #16];  msr cpacr_el1, x1;      msr csselr_el1, x2
    ldp x1, x2, [x0, #32];  msr sp_el1, x1;         msr esr_el1, x2
    ldp x1, x2, [x0, #48];  msr ttbr0_el1, x1;      msr ttbr1_el1, x2
    ldp x1, x2, [x0, #64];  msr mair_el1, x1;       msr amair_el1, x2
    ldp x1, x2, [x0, #80];  msr tcr_el1, x1;        msr tpidr_el1, x2
    ldp x1, x2, [x0, #96];  msr tpidr_el0, x1;      msr tpidrro_el0, x2
    ldp x1, x2, [x0, #112]; msr par_el1, x1;        msr far_el1, x2
    ldp x1, x2, [x0, #128]; msr afsr0_el1, x1;      msr afsr1_el1, x2
    ldp x1, x2, [x0, #144]; msr contextidr_el1, x1; msr vbar_el1, x2
    ldp x1, x2, [x0, #160]; msr spsr_el1, x1;       msr elr_el1, x2
    ldp x1, x2, [x0, #176]; msr cntkctl_el1, x1;    msr mdscr_el1, x2
    ret

// FP/SIMD registers of one world: q0-q31, then fpsr and fpcr.
.arch_extension fp
.arch_extension simd
.global fp_save
fp_save:
    stp q0, q1, [x0, #0];     stp q2, q3, [x0, #32]
    stp q4, q5, [x0, #64];    stp q6, q7, [x0, #96]
    stp q8, q9, [x0, #128];   stp q10, q11, [x0, #160]
    stp q12, q13, [x0, #192]; stp q14, q15, [x0, #224]
    stp q16, q17, [x0, #256]; stp q18, q19, [x0, #288]
    stp q20, q21, [x0, #320]; stp q22, q23, [x0, #352]
    stp q24, q25, [x0, #384]; stp q26, q27, [x0, #416]
    stp q28, q29, [x0, #448]; stp q30, q31, [x0, #480]
    mrs x1, fpsr;             mrs x2, fpcr
    add x0, x0, #512
    stp x1, x2, [x0]
    ret

.global fp_restore
fp_restore:
    ldp q0, q1, [x0, #0];     ldp q2, q3, [x0, #32]
    ldp q4, q5, [x0, #64];    ldp q6, q7, [x0, #96]
    ldp q8, q9, [x0, #128];   ldp q10, q11, [x0, #160]
    ldp q12, q13, [x0, #192]; ldp q14, q15, [x0, #224]
    ldp q16, q17, [x0, #256]; ldp q18, q19, [x0, #288]
    ldp q20, q21, [x0, #320]; ldp q22, q23, [x0, #352]
    ldp q24, q25, [x0, #384]; ldp q26, q27, [x0, #416]
    ldp q28, q29, [x0, #448]; ldp q30, q31, [x0, #480]
    add x0, x0, #512
    ldp x1, x2, [x0]
    msr fpsr, x1;             msr fpcr, x2
    ret
.ltorg
