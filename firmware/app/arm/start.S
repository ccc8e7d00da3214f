/*
 * cortex-m-dual startup: Cortex-M4, Thumb-2, little-endian.
 *
 * The vector table sits at flash address 0 (VTOR reset value). Its initial SP is core 0's
 * stack; every core then moves SP to its own stack (hal.h: CORE_STACK_TOP(id)) before
 * touching memory. There is no .data/.bss to copy or clear (link.ld asserts it).
 */
#include "hal.h"

    .file   "start.S"

#define IRQ_VECTORS 8

    .syntax unified
    .thumb

    .section .vectors, "a", %progbits
    .p2align 2
    .globl  vector_table
    .type   vector_table, %object
vector_table:
    .word   CORE_STACK_TOP(0)       /*  0: initial SP */
    .word   _start                  /*  1: reset */
    .word   fault_handler           /*  2: NMI */
    .word   fault_handler           /*  3: HardFault */
    .word   fault_handler           /*  4: MemManage */
    .word   fault_handler           /*  5: BusFault */
    .word   fault_handler           /*  6: UsageFault */
    .word   0, 0, 0, 0              /*  7-10: reserved */
    .word   fault_handler           /* 11: SVCall */
    .word   fault_handler           /* 12: DebugMonitor */
    .word   0                       /* 13: reserved */
    .word   fault_handler           /* 14: PendSV */
    .word   fault_handler           /* 15: SysTick */
    .word   irq0_handler            /* 16: IRQ 0, mailbox reply */
    .rept   IRQ_VECTORS - 1
    .word   unexpected_irq_handler  /* 17..: IRQ 1 (timer) and up */
    .endr
    .size   vector_table, . - vector_table

    .section .text.start, "ax", %progbits
    .globl  _start
    .type   _start, %function
    .thumb_func
_start:
    ldr     r0, =INTC_BASE
    ldr     r1, [r0, #INTC_CORE_ID]
    cmp     r1, #CORE_RAM_MAX_CORES
    bhs     park
    adds    r1, r1, #1
    lsls    r1, r1, #CORE_RAM_SHIFT
    ldr     r2, =CORE_RAM_BASE
    add     r2, r2, r1
    mov     sp, r2                  /* CORE_STACK_TOP(id) */
    cpsie   i
    bl      main
    b       idle
park:
    movs    r1, #1
    str     r1, [r0, #INTC_HALT]
    b       idle
    .ltorg
    .size   _start, . - _start

/* void cpu_wait(void): one `wfi`. */
    .section .text.cpu_wait, "ax", %progbits
    .globl  cpu_wait
    .type   cpu_wait, %function
    .thumb_func
cpu_wait:
    wfi
    bx      lr
    .size   cpu_wait, . - cpu_wait

/* void idle(void): the final idle loop; the `wfi` is its first instruction. */
    .section .text.idle, "ax", %progbits
    .globl  idle
    .type   idle, %function
    .thumb_func
idle:
    wfi
    b       idle
    .size   idle, . - idle
