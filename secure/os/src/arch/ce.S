.arch_extension fp
.arch_extension simd
.arch_extension aes
.arch_extension sha2
// AES, SHA-1, SHA-256 and GHASH on the Armv8 Cryptographic Extensions,
// called from arch/ce.rs (one bounded chunk per call).
//
// The kernel is built soft-float, so the FP/SIMD registers may hold the
// normal world's or a TA's live state. Every function therefore masks IRQ
// and FIQ, stores all of q0..q31 on the stack, works, and loads them back
// before unmasking: the caller's registers come back unchanged and no key
// or data stays in a register. Nothing here touches FPSR or FPCR (only
// integer SIMD instructions are used). x15 holds the caller's DAIF; bodies
// leave it alone.

.macro ce_enter
    mrs     x15, daif
    msr     daifset, #3
    sub     sp, sp, #512
    stp     q0, q1, [sp, #0]
    stp     q2, q3, [sp, #32]
    stp     q4, q5, [sp, #64]
    stp     q6, q7, [sp, #96]
    stp     q8, q9, [sp, #128]
    stp     q10, q11, [sp, #160]
    stp     q12, q13, [sp, #192]
    stp     q14, q15, [sp, #224]
    stp     q16, q17, [sp, #256]
    stp     q18, q19, [sp, #288]
    stp     q20, q21, [sp, #320]
    stp     q22, q23, [sp, #352]
    stp     q24, q25, [sp, #384]
    stp     q26, q27, [sp, #416]
    stp     q28, q29, [sp, #448]
    stp     q30, q31, [sp, #480]
.endm

.macro ce_restore
    ldp     q0, q1, [sp, #0]
    ldp     q2, q3, [sp, #32]
    ldp     q4, q5, [sp, #64]
    ldp     q6, q7, [sp, #96]
    ldp     q8, q9, [sp, #128]
    ldp     q10, q11, [sp, #160]
    ldp     q12, q13, [sp, #192]
    ldp     q14, q15, [sp, #224]
    ldp     q16, q17, [sp, #256]
    ldp     q18, q19, [sp, #288]
    ldp     q20, q21, [sp, #320]
    ldp     q22, q23, [sp, #352]
    ldp     q24, q25, [sp, #384]
    ldp     q26, q27, [sp, #416]
    ldp     q28, q29, [sp, #448]
    ldp     q30, q31, [sp, #480]
    add     sp, sp, #512
    msr     daif, x15
.endm

.macro ce_leave
    ce_restore
    ret
.endm

// ---------------------------------------------------------------- AES
// Round keys: x0 points at key 0 of `rounds + 1` (w1: 10, 12 or 14).
// Key i goes to v(30 - rounds + i), so the last nine rounds and the final
// key always sit in v20..v30 and the round sequence only branches at its
// start. The same layout serves the decryption keys.
.macro aes_load_keys
    mov     x6, x0
    cmp     w1, #12
    b.lt    101f
    b.eq    102f
    ldp     q16, q17, [x6], #32
102:
    ldp     q18, q19, [x6], #32
101:
    ldp     q20, q21, [x6], #32
    ldp     q22, q23, [x6], #32
    ldp     q24, q25, [x6], #32
    ldp     q26, q27, [x6], #32
    ldp     q28, q29, [x6], #32
    ldr     q30, [x6]
.endm

// One full round (AESE + AESMC) on v0 with key register \k.
.macro enc1 k
    aese    v0.16b, v\k\().16b
    aesmc   v0.16b, v0.16b
.endm

.macro enc4 k
    aese    v0.16b, v\k\().16b
    aesmc   v0.16b, v0.16b
    aese    v1.16b, v\k\().16b
    aesmc   v1.16b, v1.16b
    aese    v2.16b, v\k\().16b
    aesmc   v2.16b, v2.16b
    aese    v3.16b, v\k\().16b
    aesmc   v3.16b, v3.16b
.endm

.macro dec1 k
    aesd    v0.16b, v\k\().16b
    aesimc  v0.16b, v0.16b
.endm

.macro dec4 k
    aesd    v0.16b, v\k\().16b
    aesimc  v0.16b, v0.16b
    aesd    v1.16b, v\k\().16b
    aesimc  v1.16b, v1.16b
    aesd    v2.16b, v\k\().16b
    aesimc  v2.16b, v2.16b
    aesd    v3.16b, v\k\().16b
    aesimc  v3.16b, v3.16b
.endm

// The whole cipher on v0 (\n = 1) or v0..v3 (\n = 4): \op is enc or dec.
.macro aes_blocks op, n
    cmp     w1, #12
    b.lt    111f
    b.eq    112f
    \op\n   16
    \op\n   17
112:
    \op\n   18
    \op\n   19
111:
    .irp k, 20, 21, 22, 23, 24, 25, 26, 27, 28
    \op\n   \k
    .endr
    aes_last\n \op
.endm

// Last round: no (Inv)MixColumns, then the final key.
.macro aes_last1 op
.ifc \op, enc
    aese    v0.16b, v29.16b
.else
    aesd    v0.16b, v29.16b
.endif
    eor     v0.16b, v0.16b, v30.16b
.endm

.macro aes_last4 op
.ifc \op, enc
    aese    v0.16b, v29.16b
    aese    v1.16b, v29.16b
    aese    v2.16b, v29.16b
    aese    v3.16b, v29.16b
.else
    aesd    v0.16b, v29.16b
    aesd    v1.16b, v29.16b
    aesd    v2.16b, v29.16b
    aesd    v3.16b, v29.16b
.endif
    eor     v0.16b, v0.16b, v30.16b
    eor     v1.16b, v1.16b, v30.16b
    eor     v2.16b, v2.16b, v30.16b
    eor     v3.16b, v3.16b, v30.16b
.endm

// ECB in place: (keys x0, rounds w1, data x2, blocks x3); \op enc or dec.
.macro aes_ecb op
    ce_enter
    aes_load_keys
1:
    cmp     x3, #4
    b.lo    2f
    ldp     q0, q1, [x2]
    ldp     q2, q3, [x2, #32]
    aes_blocks \op, 4
    stp     q0, q1, [x2], #32
    stp     q2, q3, [x2], #32
    sub     x3, x3, #4
    b       1b
2:
    cbz     x3, 3f
    ldr     q0, [x2]
    aes_blocks \op, 1
    str     q0, [x2], #16
    sub     x3, x3, #1
    b       2b
3:
    ce_leave
.endm

// ce_aes_ecb_enc(enc_keys, rounds, data, blocks)
.global ce_aes_ecb_enc
.type ce_aes_ecb_enc, %function
ce_aes_ecb_enc:
    aes_ecb enc
.size ce_aes_ecb_enc, . - ce_aes_ecb_enc

// ce_aes_ecb_dec(dec_keys, rounds, data, blocks)
.global ce_aes_ecb_dec
.type ce_aes_ecb_dec, %function
ce_aes_ecb_dec:
    aes_ecb dec
.size ce_aes_ecb_dec, . - ce_aes_ecb_dec

// ce_aes_cbc_enc(enc_keys, rounds, data, blocks, iv): serial by nature;
// iv becomes the last ciphertext block.
.global ce_aes_cbc_enc
.type ce_aes_cbc_enc, %function
ce_aes_cbc_enc:
    ce_enter
    aes_load_keys
    ldr     q4, [x4]
1:
    cbz     x3, 2f
    ldr     q0, [x2]
    eor     v0.16b, v0.16b, v4.16b
    aes_blocks enc, 1
    str     q0, [x2], #16
    mov     v4.16b, v0.16b
    sub     x3, x3, #1
    b       1b
2:
    str     q4, [x4]
    ce_leave
.size ce_aes_cbc_enc, . - ce_aes_cbc_enc

// ce_aes_cbc_dec(dec_keys, rounds, data, blocks, iv): four blocks at a
// time; v4 is the block before the current group (iv at first), v8..v11
// the group's ciphertext.
.global ce_aes_cbc_dec
.type ce_aes_cbc_dec, %function
ce_aes_cbc_dec:
    ce_enter
    aes_load_keys
    ldr     q4, [x4]
1:
    cmp     x3, #4
    b.lo    2f
    ldp     q0, q1, [x2]
    ldp     q2, q3, [x2, #32]
    mov     v8.16b, v0.16b
    mov     v9.16b, v1.16b
    mov     v10.16b, v2.16b
    mov     v11.16b, v3.16b
    aes_blocks dec, 4
    eor     v0.16b, v0.16b, v4.16b
    eor     v1.16b, v1.16b, v8.16b
    eor     v2.16b, v2.16b, v9.16b
    eor     v3.16b, v3.16b, v10.16b
    mov     v4.16b, v11.16b
    stp     q0, q1, [x2], #32
    stp     q2, q3, [x2], #32
    sub     x3, x3, #4
    b       1b
2:
    cbz     x3, 3f
    ldr     q0, [x2]
    mov     v8.16b, v0.16b
    aes_blocks dec, 1
    eor     v0.16b, v0.16b, v4.16b
    mov     v4.16b, v8.16b
    str     q0, [x2], #16
    sub     x3, x3, #1
    b       2b
3:
    str     q4, [x4]
    ce_leave
.size ce_aes_cbc_dec, . - ce_aes_cbc_dec

// Counter block \n from x7:x8 (the 128-bit big-endian counter as two
// native words, high first), then the counter plus one (mod 2^128).
.macro ctr_block n
    rev     x9, x7
    rev     x10, x8
    fmov    d\n, x9
    mov     v\n\().d[1], x10
    adds    x8, x8, #1
    adc     x7, x7, xzr
.endm

// ce_aes_ctr(enc_keys, rounds, data, blocks, ctr): XORs the keystream
// into data; ctr is advanced by the number of blocks.
.global ce_aes_ctr
.type ce_aes_ctr, %function
ce_aes_ctr:
    ce_enter
    aes_load_keys
    ldp     x7, x8, [x4]
    rev     x7, x7
    rev     x8, x8
1:
    cmp     x3, #4
    b.lo    2f
    ctr_block 0
    ctr_block 1
    ctr_block 2
    ctr_block 3
    aes_blocks enc, 4
    ldp     q4, q5, [x2]
    ldp     q6, q7, [x2, #32]
    eor     v0.16b, v0.16b, v4.16b
    eor     v1.16b, v1.16b, v5.16b
    eor     v2.16b, v2.16b, v6.16b
    eor     v3.16b, v3.16b, v7.16b
    stp     q0, q1, [x2], #32
    stp     q2, q3, [x2], #32
    sub     x3, x3, #4
    b       1b
2:
    cbz     x3, 3f
    ctr_block 0
    aes_blocks enc, 1
    ldr     q4, [x2]
    eor     v0.16b, v0.16b, v4.16b
    str     q0, [x2], #16
    sub     x3, x3, #1
    b       2b
3:
    rev     x7, x7
    rev     x8, x8
    stp     x7, x8, [x4]
    ce_leave
.size ce_aes_ctr, . - ce_aes_ctr

// ------------------------------------------------------------- SHA-256
// State: v0 = a b c d, v1 = e f g h (lane 0 first); message words in
// v4..v7 (four rounds' worth each, rotating); round constants in
// v16..v31; v8/v9 the state at the start of the block.

// Four rounds with constants v\k and message words v\w.
.macro sha256_rounds k, w
    add     v3.4s, v\w\().4s, v\k\().4s
    mov     v2.16b, v0.16b
    sha256h q0, q1, v3.4s
    sha256h2 q1, q2, v3.4s
.endm

// The next four message words into v\a (from v\a, v\b, v\c, v\d: the
// sixteen words before them, oldest first).
.macro sha256_schedule a, b, c, d
    sha256su0 v\a\().4s, v\b\().4s
    sha256su1 v\a\().4s, v\c\().4s, v\d\().4s
.endm

// ce_sha256(state, data, blocks)
.global ce_sha256
.type ce_sha256, %function
ce_sha256:
    ce_enter
    adrp    x6, ce_sha256_k
    add     x6, x6, :lo12:ce_sha256_k
    ldp     q16, q17, [x6, #0]
    ldp     q18, q19, [x6, #32]
    ldp     q20, q21, [x6, #64]
    ldp     q22, q23, [x6, #96]
    ldp     q24, q25, [x6, #128]
    ldp     q26, q27, [x6, #160]
    ldp     q28, q29, [x6, #192]
    ldp     q30, q31, [x6, #224]
    ldp     q0, q1, [x0]
1:
    cbz     x2, 2f
    ldp     q4, q5, [x1], #32
    ldp     q6, q7, [x1], #32
    rev32   v4.16b, v4.16b
    rev32   v5.16b, v5.16b
    rev32   v6.16b, v6.16b
    rev32   v7.16b, v7.16b
    mov     v8.16b, v0.16b
    mov     v9.16b, v1.16b
    sha256_rounds 16, 4
    sha256_schedule 4, 5, 6, 7
    sha256_rounds 17, 5
    sha256_schedule 5, 6, 7, 4
    sha256_rounds 18, 6
    sha256_schedule 6, 7, 4, 5
    sha256_rounds 19, 7
    sha256_schedule 7, 4, 5, 6
    sha256_rounds 20, 4
    sha256_schedule 4, 5, 6, 7
    sha256_rounds 21, 5
    sha256_schedule 5, 6, 7, 4
    sha256_rounds 22, 6
    sha256_schedule 6, 7, 4, 5
    sha256_rounds 23, 7
    sha256_schedule 7, 4, 5, 6
    sha256_rounds 24, 4
    sha256_schedule 4, 5, 6, 7
    sha256_rounds 25, 5
    sha256_schedule 5, 6, 7, 4
    sha256_rounds 26, 6
    sha256_schedule 6, 7, 4, 5
    sha256_rounds 27, 7
    sha256_schedule 7, 4, 5, 6
    sha256_rounds 28, 4
    sha256_rounds 29, 5
    sha256_rounds 30, 6
    sha256_rounds 31, 7
    add     v0.4s, v0.4s, v8.4s
    add     v1.4s, v1.4s, v9.4s
    sub     x2, x2, #1
    b       1b
2:
    stp     q0, q1, [x0]
    ce_leave
.size ce_sha256, . - ce_sha256

// --------------------------------------------------------------- SHA-1
// State: v0 = a b c d, e in lane 0 of v1 or v2 (alternating: each group
// of four rounds computes the next group's e from the current a); message
// words in v4..v7; the four round constants in v16..v19; v8/v9 the state
// at the start of the block.

// Four rounds: \op is c, p or m; e in s\e, the next e into s\en.
.macro sha1_rounds op, k, w, e, en
    add     v3.4s, v\w\().4s, v\k\().4s
    sha1h   s\en, s0
    sha1\op q0, s\e, v3.4s
.endm

.macro sha1_schedule a, b, c, d
    sha1su0 v\a\().4s, v\b\().4s, v\c\().4s
    sha1su1 v\a\().4s, v\d\().4s
.endm

// w6 = a 32-bit constant, then into every lane of v\n.
.macro sha1_const n, hi, lo
    movz    w6, #\lo
    movk    w6, #\hi, lsl #16
    dup     v\n\().4s, w6
.endm

// ce_sha1(state, data, blocks)
.global ce_sha1
.type ce_sha1, %function
ce_sha1:
    ce_enter
    sha1_const 16, 0x5a82, 0x7999
    sha1_const 17, 0x6ed9, 0xeba1
    sha1_const 18, 0x8f1b, 0xbcdc
    sha1_const 19, 0xca62, 0xc1d6
    ldr     q0, [x0]
    ldr     s1, [x0, #16]
1:
    cbz     x2, 2f
    ldp     q4, q5, [x1], #32
    ldp     q6, q7, [x1], #32
    rev32   v4.16b, v4.16b
    rev32   v5.16b, v5.16b
    rev32   v6.16b, v6.16b
    rev32   v7.16b, v7.16b
    mov     v8.16b, v0.16b
    mov     v9.16b, v1.16b
    sha1_rounds c, 16, 4, 1, 2
    sha1_schedule 4, 5, 6, 7
    sha1_rounds c, 16, 5, 2, 1
    sha1_schedule 5, 6, 7, 4
    sha1_rounds c, 16, 6, 1, 2
    sha1_schedule 6, 7, 4, 5
    sha1_rounds c, 16, 7, 2, 1
    sha1_schedule 7, 4, 5, 6
    sha1_rounds c, 16, 4, 1, 2
    sha1_schedule 4, 5, 6, 7
    sha1_rounds p, 17, 5, 2, 1
    sha1_schedule 5, 6, 7, 4
    sha1_rounds p, 17, 6, 1, 2
    sha1_schedule 6, 7, 4, 5
    sha1_rounds p, 17, 7, 2, 1
    sha1_schedule 7, 4, 5, 6
    sha1_rounds p, 17, 4, 1, 2
    sha1_schedule 4, 5, 6, 7
    sha1_rounds p, 17, 5, 2, 1
    sha1_schedule 5, 6, 7, 4
    sha1_rounds m, 18, 6, 1, 2
    sha1_schedule 6, 7, 4, 5
    sha1_rounds m, 18, 7, 2, 1
    sha1_schedule 7, 4, 5, 6
    sha1_rounds m, 18, 4, 1, 2
    sha1_schedule 4, 5, 6, 7
    sha1_rounds m, 18, 5, 2, 1
    sha1_schedule 5, 6, 7, 4
    sha1_rounds m, 18, 6, 1, 2
    sha1_schedule 6, 7, 4, 5
    sha1_rounds p, 19, 7, 2, 1
    sha1_schedule 7, 4, 5, 6
    sha1_rounds p, 19, 4, 1, 2
    sha1_rounds p, 19, 5, 2, 1
    sha1_rounds p, 19, 6, 1, 2
    sha1_rounds p, 19, 7, 2, 1
    add     v0.4s, v0.4s, v8.4s
    add     v1.4s, v1.4s, v9.4s
    sub     x2, x2, #1
    b       1b
2:
    str     q0, [x0]
    str     s1, [x0, #16]
    ce_leave
.size ce_sha1, . - ce_sha1

// --------------------------------------------------------------- GHASH
// RBIT on every byte turns GCM's bit order into the plain one: bit i of
// the 128-bit little-endian value is the coefficient of x^i. Products are
// then ordinary carry-less products, reduced modulo
// x^128 + x^7 + x^2 + x + 1 by folding the upper half back times 0x87.
// v16 = h, v17 = h with its halves swapped, v18 = 0, v19 = 0x87 in both
// halves, v0 = the accumulator.

// ce_ghash(h, acc, data, blocks)
.global ce_ghash
.type ce_ghash, %function
ce_ghash:
    ce_enter
    ldr     q16, [x0]
    rbit    v16.16b, v16.16b
    ext     v17.16b, v16.16b, v16.16b, #8
    movi    v18.2d, #0
    mov     x6, #0x87
    dup     v19.2d, x6
    ldr     q0, [x1]
    rbit    v0.16b, v0.16b
1:
    cbz     x3, 2f
    ldr     q1, [x2], #16
    rbit    v1.16b, v1.16b
    eor     v0.16b, v0.16b, v1.16b
    // 256-bit product: lo = a0 h0, hi = a1 h1, mid = a0 h1 + a1 h0.
    pmull   v2.1q, v0.1d, v16.1d
    pmull2  v3.1q, v0.2d, v16.2d
    pmull   v4.1q, v0.1d, v17.1d
    pmull2  v5.1q, v0.2d, v17.2d
    eor     v4.16b, v4.16b, v5.16b
    // r0 (v2) = lo + mid x^64 mod x^128, r1 (v3) = hi + mid / x^64.
    ext     v5.16b, v18.16b, v4.16b, #8
    eor     v2.16b, v2.16b, v5.16b
    ext     v5.16b, v4.16b, v18.16b, #8
    eor     v3.16b, v3.16b, v5.16b
    // r1 x^128 = r1 * 0x87: its low word's product fits; its high word's
    // (u, up to 71 bits) sits at x^64, so u's top 7 bits fold once more.
    pmull2  v4.1q, v3.2d, v19.2d
    pmull   v5.1q, v3.1d, v19.1d
    eor     v2.16b, v2.16b, v5.16b
    ext     v5.16b, v18.16b, v4.16b, #8
    eor     v2.16b, v2.16b, v5.16b
    pmull2  v5.1q, v4.2d, v19.2d
    eor     v0.16b, v2.16b, v5.16b
    sub     x3, x3, #1
    b       1b
2:
    rbit    v0.16b, v0.16b
    str     q0, [x1]
    ce_leave
.size ce_ghash, . - ce_ghash

.pushsection .rodata.ce_sha256_k, "a"
.balign 16
ce_sha256_k:
    .word 0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5
    .word 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5
    .word 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3
    .word 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174
    .word 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc
    .word 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da
    .word 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7
    .word 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967
    .word 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13
    .word 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85
    .word 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3
    .word 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070
    .word 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5
    .word 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3
    .word 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208
    .word 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
.popsection

// ce_probe(regs_in, regs_out, func, a0, a1, a2, a3, a4): loads q0..q31
// from regs_in (512 bytes), calls func(a0..a4), stores q0..q31 to
// regs_out: the self-test's check that the functions above hand every
// SIMD register back unchanged. Like them, it keeps its caller's SIMD
// registers (and DAIF: in its frame, since func reuses x15).
.global ce_probe
.type ce_probe, %function
ce_probe:
    stp     x29, x30, [sp, #-32]!
    mov     x29, sp
    str     x1, [sp, #16]
    mov     x16, x2
    ce_enter
    str     x15, [x29, #24]
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
    mov     x0, x3
    mov     x1, x4
    mov     x2, x5
    mov     x3, x6
    mov     x4, x7
    blr     x16
    ldr     x0, [x29, #16]
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
    ldr     x15, [x29, #24]
    ce_restore
    ldp     x29, x30, [sp], #32
    ret
.size ce_probe, . - ce_probe
