/*
 * spc58nn startup: classic PPC32, big-endian (no VLE: Unicorn cannot decode it).
 *
 * Every app core starts here with its registers reset. The firmware has no .data/.bss
 * (link.ld asserts it), so there is nothing to copy or clear: pick this core's stack (the top
 * of its DSRAM) from INTC CORE_ID and call main. A core id without a DSRAM halts.
 */
#include "hal.h"

    .file   "start.S"

#define WAIT_INSN 0x7c00007c    /* `wait` (Power ISA 2.06); binutils spells it per -mcpu */

    .section .text.start, "ax", @progbits
    .globl  _start
    .type   _start, @function
_start:
    lis     %r9, INTC_BASE@h
    ori     %r9, %r9, INTC_BASE@l
    lwz     %r3, INTC_CORE_ID(%r9)
    cmplwi  %r3, HAL_APP_CORES
    bge-    park
    lis     %r10, core_stack_top@ha
    addi    %r10, %r10, core_stack_top@l
    slwi    %r11, %r3, 2
    lwzx    %r1, %r10, %r11
    li      %r0, 0
    stwu    %r0, -16(%r1)       /* first frame, back chain 0 */
    bl      main
    b       idle
park:
    li      %r0, 1
    stw     %r0, INTC_HALT(%r9)
    b       idle
    .size   _start, . - _start

/* void cpu_wait(void): one `wait`. The emulator resumes after it once a line is pending. */
    .section .text.cpu_wait, "ax", @progbits
    .globl  cpu_wait
    .type   cpu_wait, @function
cpu_wait:
    .long   WAIT_INSN
    blr
    .size   cpu_wait, . - cpu_wait

/* void idle(void): the final idle loop; the `wait` is its first instruction. */
    .section .text.idle, "ax", @progbits
    .globl  idle
    .type   idle, @function
idle:
    .long   WAIT_INSN
    b       idle
    .size   idle, . - idle

    .section .rodata.core_stack_top, "a", @progbits
    .p2align 2
    .type   core_stack_top, @object
core_stack_top:
    .long   DSRAM0_TOP, DSRAM1_TOP, DSRAM2_TOP
    .size   core_stack_top, . - core_stack_top
