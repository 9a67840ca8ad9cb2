// S-EL1 entry points. The monitor enters the image at _start on cold boot,
// and later through the opteed vector table this OS hands back.

.section .text.boot, "ax"
.global _start
_start:
    mov     x19, x2                     // device tree (opteed passes it in x2)
    mov     x20, x0                     // an SPMD's SPMC manifest (TOS_FW_CONFIG)
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  bl      set_stack
    mov     x0, x19
    mov     x1, x20
    bl      {cold_boot}                 // returns the vector table address
    mov     x1, x0
    ldr     x0, ={entry_done}
    smc     #0
    b       .

// Sets sp to the top of this CPU's entry stack. Clobbers x9, x10, x11.
set_stack:
    mrs     x9, mpidr_el1
    and     x10, x9, #0xff
    ubfx    x9, x9, #8, #8
    add     x9, x10, x9, lsl #3
    ldr     x10, =__entry_stacks_end
    mov     x11, #0x9000                // 36 KiB per CPU: 32 KiB stack, 4 KiB guard
    msub    x10, x9, x11, x10
    mov     sp, x10
    ret

// The table the monitor calls through: one branch per event, in opteed order.
.balign 8
.global os_vector_table
os_vector_table:
    b       yield_smc_entry
    b       fast_smc_entry
    b       cpu_on_entry
    b       cpu_off_entry
    b       cpu_resume_entry
    b       cpu_suspend_entry
    b       fiq_entry
    b       system_off_entry
    b       system_reset_entry

// x0-x7 hold the SMC; the handler rewrites them in place; x1-x4 go back
// to the monitor, which hands them to the normal world as x0-x3.
.macro smc_entry name, handler
\name:
    bl      set_stack
    sub     sp, sp, #64
    stp     x0, x1, [sp, #0]
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    mov     x0, sp
    bl      \handler
    ldp     x1, x2, [sp, #0]
    ldp     x3, x4, [sp, #16]
    ldr     x0, ={call_done}
    smc     #0
    b       .
.endm

smc_entry fast_smc_entry, {fast_smc}
smc_entry yield_smc_entry, {yield_smc}

.macro power_entry name, handler, done
\name:
    bl      set_stack
    bl      \handler
    mov     x1, #0
    ldr     x0, =\done
    smc     #0
    b       .
.endm

power_entry cpu_on_entry, {cpu_on}, {on_done}
power_entry cpu_off_entry, {cpu_off}, {off_done}
power_entry cpu_resume_entry, {cpu_resume}, {resume_done}
power_entry cpu_suspend_entry, {cpu_suspend}, {suspend_done}
power_entry system_off_entry, {system_off}, {system_off_done}
power_entry system_reset_entry, {system_reset}, {system_reset_done}

// FF-A mode: a CPU turned on later starts here (registered with
// FFA_SECONDARY_EP_REGISTER_64), MMU off, in a fresh context; it serves
// FF-A calls in a loop on its entry stack and never comes back here.
.global ffa_secondary_entry
ffa_secondary_entry:
    bl      set_stack
    bl      {ffa_cpu_on}
    b       .

fiq_entry:
    bl      set_stack
    bl      {fiq}
    ldr     x0, ={fiq_done}
    smc     #0
    b       .

// A panic: x0 = why (the panic kind). The abort path runs on this CPU's
// entry stack, whatever stack the panic happened on.
.global abort_call
abort_call:
    // The caller's frame chain, for the report's call stack.
    mov     x5, x29
    mov     x6, x30
    mov     x7, sp
    bl      set_stack
    mov     x1, #0
    mov     x2, #0
    mov     x3, #0
    b       abort_common

// x0..x3 = kind, ESR, ELR, FAR, x5..x7 = x29, x30, sp where it happened.
// `exception` writes the SMC to return to
// the monitor with (function id, x1..x4) into a frame on this stack.
abort_common:
    sub     sp, sp, #48
    mov     x4, sp
    bl      {exception}
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldr     x4, [sp, #32]
    smc     #0
    b       .

// Exceptions taken in the OS itself. Synchronous ones and SErrors are
// reported and abort the current call; IRQ/FIQ go to the interrupt handler.
.macro vec kind
    .balign 0x80
    mov     x0, #\kind
    b       exception_common
.endm

.macro vec_intr kind
    .balign 0x80
    sub     sp, sp, #288
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       intr_common
.endm

// Exceptions from user mode (S-EL0): back to user_run's caller.
.macro vec_user kind
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    mov     x0, #\kind
    b       user_exit
.endm

exception_common:
    // The call is abandoned: report from this CPU's entry stack, which is
    // good even if the fault was a thread stack overflowing into its guard.
    // x29, x30 and sp as they were, for the report (x5..x7 are lost).
    mov     x5, x29
    mov     x6, x30
    mov     x7, sp
    bl      set_stack
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    b       abort_common

// Saves the interrupted context on the current stack (a thread's, when the
// interrupt hit one), runs the handler (which may suspend the thread and
// resume it on another CPU), then restores and returns.
intr_common:
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
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #248]
    bl      {interrupt}
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
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #288
    eret

.balign 0x800
.global os_exception_vectors
os_exception_vectors:
    vec 0               // current EL, SP_EL0
    vec 1
    vec 2
    vec 3
    vec 4               // current EL, SP_ELx: synchronous
    vec_intr 5          // IRQ
    vec_intr 6          // FIQ
    vec 7               // SError
    vec_user 0          // lower EL (S-EL0), AArch64: synchronous
    vec_user 1          // IRQ
    vec_user 2          // FIQ
    vec_user 3          // SError
    vec 12              // lower EL, AArch32
    vec 13
    vec 14
    vec 15

// switch_context(save: *mut KernelContext, load: *const KernelContext):
// callee-saved registers and sp; returns into the loaded context.
.global switch_context
switch_context:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x9, sp
    str     x9, [x0, #96]
    ldp     x19, x20, [x1, #0]
    ldp     x21, x22, [x1, #16]
    ldp     x23, x24, [x1, #32]
    ldp     x25, x26, [x1, #48]
    ldp     x27, x28, [x1, #64]
    ldp     x29, x30, [x1, #80]
    ldr     x9, [x1, #96]
    mov     sp, x9
    ret

// First code of a trusted thread: x19 = thread index, x20 = its body
// (the call, or the end of an aborted call).
.global thread_trampoline
thread_trampoline:
    mov     x0, x19
    blr     x20
    b       .
.ltorg
