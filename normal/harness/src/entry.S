// Normal-world harness entry. The monitor enters _start on the boot CPU
// with x0 = device tree; CPUs started by PSCI CPU_ON enter secondary_entry
// with x0 = context id.

.section .text.boot, "ax"
.global _start
_start:
    mrs     x20, cntvct_el0             // first instruction's time: boot cost
    mov     x19, x0
    bl      early_cpu
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  mov     x0, x19
    mov     x1, x20
    bl      {primary_main}
    b       .

.global secondary_entry
secondary_entry:
    mov     x19, x0
    bl      early_cpu
    mov     x0, x19
    bl      {secondary_main}
    b       .

// FP/SIMD on (the target uses it), vectors, stack at this CPU's slot.
// Clobbers x9-x10.
early_cpu:
    mrs     x9, cpacr_el1
    orr     x9, x9, #(3 << 20)
    msr     cpacr_el1, x9
    ldr     x9, =harness_vectors
    msr     vbar_el1, x9
    isb
    mrs     x9, mpidr_el1
    and     x10, x9, #0xff
    ubfx    x9, x9, #8, #8
    add     x9, x10, x9, lsl #3
    ldr     x10, =__stacks_end
    sub     x10, x10, x9, lsl #15
    mov     sp, x10
    ret

// smc_probe(regs: *mut [u64; 29], fp: *mut [u128; 8]): loads x0-x28 and
// q0-q7 from the buffers, issues SMC #0, and stores them all back, so the
// caller sees exactly what the secure side returned or preserved.
.global smc_probe
smc_probe:
    stp     x29, x30, [sp, #-96]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    stp     x0, x1, [sp, #-16]!
    ldp     q0, q1, [x1, #0]
    ldp     q2, q3, [x1, #32]
    ldp     q4, q5, [x1, #64]
    ldp     q6, q7, [x1, #96]
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
    ldr     x28, [x0, #224]
    ldp     x0, x1, [x0, #0]
    smc     #0
    stp     x0, x1, [sp, #-16]!         // results x0/x1, below the saved pointers
    ldr     x0, [sp, #16]               // regs buffer
    ldp     x1, x29, [sp], #16          // x1 = result x0, x29 = result x1
    stp     x1, x29, [x0, #0]
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    str     x28, [x0, #224]
    ldp     x0, x1, [sp], #16
    stp     q0, q1, [x1, #0]
    stp     q2, q3, [x1, #32]
    stp     q4, q5, [x1, #64]
    stp     q6, q7, [x1, #96]
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret

// time_smc_loop(fid, n, do_smc) -> virtual-counter ticks for n calls of
// `fid` with x1-x7 zero; do_smc = 0 runs the same loop without the SMC.
.global time_smc_loop
time_smc_loop:
    mov     x9, x0
    mov     x10, x1
    mov     x11, x2
    isb
    mrs     x12, cntvct_el0
1:  cbz     x10, 3f
    mov     x0, x9
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    cbz     x11, 2f
    smc     #0
2:  sub     x10, x10, #1
    b       1b
3:  isb
    mrs     x0, cntvct_el0
    sub     x0, x0, x12
    ret
.ltorg

// Exception vectors. IRQs (the normal-world timer) are counted by Rust;
// anything else is a harness bug and is reported.
.macro hvec kind
    .balign 0x80
    sub     sp, sp, #288
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       hvec_common
.endm

hvec_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    str     x30, [sp, #240]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #248]
    bl      {exception}
    ldp     x1, x2, [sp, #248]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldr     x30, [sp, #240]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #288
    eret

.balign 0x800
.global harness_vectors
harness_vectors:
    hvec 0
    hvec 1
    hvec 2
    hvec 3
    hvec 4
    hvec 5
    hvec 6
    hvec 7
    hvec 8
    hvec 9
    hvec 10
    hvec 11
    hvec 12
    hvec 13
    hvec 14
    hvec 15
.ltorg
