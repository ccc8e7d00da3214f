/*
 * Board HAL for cortex-m-dual (boards/cortex-m-dual.toml): two Cortex-M4 (Thumb) app cores.
 * Every address below is copied from the board TOML; tests/firmware/test_c_firmware_build.py
 * checks that they still agree. Included by C and by assembler (start.S).
 */
#ifndef HSMEMU_APP_HAL_H
#define HSMEMU_APP_HAL_H

#include "app_regs.h"

#define HAL_ARCH_NAME        "arm"
#define HAL_APP_CORES        2            /* [cores.cpu0..cpu1] */

#define UART_BASE            0x40000000   /* [peripherals.uart] base */
#define INTC_BASE            0x40008000   /* [peripherals.intc] base */
#define MBOX_BASE            0x4000C000   /* [peripherals.mailbox] base */

/* [peripherals.mailbox] registers */
#define MBOX_HSM2HTF         0x00
#define MBOX_HSM2HTIE        0x04
#define MBOX_HT2HSMF         0x08
#define MBOX_HT2HSMIE        0x0C
#define MBOX_HSM2HTS         0x10
#define MBOX_HT2HSMS         0x14

/* [peripherals.mailbox] channels: channel n belongs to core n (sram 0x2000_0000..0x2000_3FFF) */
#define MBOX_CHANNEL0_BASE   0x20000000
#define MBOX_CHANNEL_STRIDE  0x2000
#define MBOX_CHANNEL_BASE(n) (MBOX_CHANNEL0_BASE + (n) * MBOX_CHANNEL_STRIDE)

/*
 * Per-core RAM, carved from [memory.sram] above the channels and the HSM's DMA allow list
 * (first 64 KiB): core n owns CORE_RAM_BASE + n * CORE_RAM_SIZE .. + CORE_RAM_SIZE.
 * Its lowest bytes hold the core-local block (struct core_local in board.c); the stack grows
 * down from the top. Room for CORE_RAM_MAX_CORES cores; a core with a higher id halts.
 */
#define CORE_RAM_BASE        0x20010000
#define CORE_RAM_SHIFT       14
#define CORE_RAM_SIZE        0x4000       /* 16 KiB = 1 << CORE_RAM_SHIFT */
#define CORE_RAM_MAX_CORES   4
#define CORE_RAM_LOCAL(n)    (CORE_RAM_BASE + (n) * CORE_RAM_SIZE)
#define CORE_STACK_TOP(n)    (CORE_RAM_BASE + ((n) + 1) * CORE_RAM_SIZE)

/*
 * Words shared by all app cores. Never initialised by the firmware: they rely on RAM being
 * zero at power-on (true in the emulator; real silicon would use a hardware semaphore or a
 * boot core that clears them before releasing the others).
 */
#define APP_SHARED_BASE      0x20020000
#define APP_MBOX_LOCK        (APP_SHARED_BASE + 0x0)   /* spinlock around HSM2HTIE updates */

#ifndef __ASSEMBLER__
/* Order the channel-memory writes before the doorbell write. */
static inline void hal_barrier(void)
{
    __asm__ volatile("dsb" ::: "memory");
}
#endif

#endif
