/*
 * Board HAL for spc58nn (boards/spc58nn.toml): three classic PPC32 big-endian app cores.
 * Every address below is copied from the board TOML; tests/firmware/test_c_firmware_build.py
 * checks that they still agree. Included by C and by assembler (start.S).
 */
#ifndef HSMEMU_APP_HAL_H
#define HSMEMU_APP_HAL_H

#include "app_regs.h"

#define HAL_ARCH_NAME        "ppc"
#define HAL_APP_CORES        3            /* [cores.cpu0..cpu2] */

#define UART_BASE            0xFFE8C000   /* [peripherals.uart] base */
#define INTC_BASE            0xFC040000   /* [peripherals.intc] base */
#define MBOX_BASE            0xF7F30000   /* [peripherals.mailbox] base */

/* [peripherals.mailbox] registers (SPC58NE host view) */
#define MBOX_HSM2HTF         0x00
#define MBOX_HSM2HTIE        0x04
#define MBOX_HT2HSMF         0x08
#define MBOX_HT2HSMIE        0x0C
#define MBOX_HSM2HTS         0x10
#define MBOX_HT2HSMS         0x14

/* [peripherals.mailbox] channels: channel n belongs to core n */
#define MBOX_CHANNEL0_BASE   0x40060000
#define MBOX_CHANNEL_STRIDE  0x2000
#define MBOX_CHANNEL_BASE(n) (MBOX_CHANNEL0_BASE + (n) * MBOX_CHANNEL_STRIDE)

/* Per-core stacks: the top of each core's DSRAM ([memory.dsram0..2] origin + size). */
#define DSRAM0_TOP           0x50810000   /* 0x5080_0000 + 64 KiB */
#define DSRAM1_TOP           0x51810000   /* 0x5180_0000 + 64 KiB */
#define DSRAM2_TOP           0x52808000   /* 0x5280_0000 + 32 KiB */

/*
 * Words shared by all app cores, in system RAM above the mailbox channels and outside the
 * HSM's DMA allow list (first 256 KiB of sram). Never initialised by the firmware: they rely
 * on RAM being zero at power-on (true in the emulator; real silicon would use a hardware
 * semaphore or a boot core that clears them before releasing the others).
 */
#define APP_SHARED_BASE      0x400F0000
#define APP_MBOX_LOCK        (APP_SHARED_BASE + 0x0)   /* spinlock around HSM2HTIE updates */

#ifndef __ASSEMBLER__
/* Order the channel-memory writes before the doorbell write. */
static inline void hal_barrier(void)
{
    __asm__ volatile("sync" ::: "memory");
}
#endif

#endif
