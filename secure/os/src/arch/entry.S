// S-EL1 entry points. The monitor enters the image at _start on cold boot,
// and later through the opteed vector table this OS hands back.

.section .text.boot, "ax"
.global _start
_start:
    mov     x19, x2                     // device tree (opteed passes it in x2)
    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:  bl      set_stack
    mov     x0, x19
    bl      {cold_boot}                 // returns the vector table address
    mov     x1, x0
    ldr     x0, ={entry_done}
    smc     #0
    b       .

// Sets sp to the top of this CPU's entry stack. Clobbers x9, x10.
set_stack:
    mrs     x9, mpidr_el1
    and     x10, x9, #0xff
    ubfx    x9, x9, #8, #8
    add     x9, x10, x9, lsl #3
    ldr     x10, =__entry_stacks_end
    sub     x10, x10, x9, lsl #15       // 32 KiB per CPU
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

fiq_entry:
    bl      set_stack
    bl      {fiq}
    ldr     x0, ={fiq_done}
    smc     #0
    b       .

// An entry path failed (unexpected exception or panic): report to the
// caller with x1 = error code and throw the call's stack away.
.global abort_call
abort_call:
    bl      set_stack
    mov     x1, x0
    mov     x2, #0
    mov     x3, #0
    mov     x4, #0
    ldr     x0, ={call_done}
    smc     #0
    b       .

// Exceptions taken in the OS itself. Report, then abort the current call.
.macro vec kind
    .balign 0x80
    mov     x0, #\kind
    b       exception_common
.endm

exception_common:
    bl      set_stack
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    bl      {exception}                 // returns the code to give the caller
    b       abort_call

.balign 0x800
.global os_exception_vectors
os_exception_vectors:
    vec 0
    vec 1
    vec 2
    vec 3
    vec 4
    vec 5
    vec 6
    vec 7
    vec 8
    vec 9
    vec 10
    vec 11
    vec 12
    vec 13
    vec 14
    vec 15
.ltorg
