/*
 * Interface between the shared demo logic (demo.c) and the per-architecture parts
 * (<arch>/start.S, <arch>/board.c). Each board directory also provides hal.h.
 */
#ifndef HSMEMU_APP_DEMO_H
#define HSMEMU_APP_DEMO_H

#include <stdint.h>

static inline uint32_t reg_read(uintptr_t addr)
{
    return *(volatile uint32_t *)addr;
}

static inline void reg_write(uintptr_t addr, uint32_t value)
{
    *(volatile uint32_t *)addr = value;
}

/* start.S */
void cpu_wait(void);                       /* one `wait` / `wfi`, then return */
void idle(void) __attribute__((noreturn)); /* `wait` / `wfi` in a loop, forever */

/* board.c: waiting for the mailbox reply (IRQ line 0) the way the architecture does it */
void board_reply_arm(uint32_t id);         /* called before the doorbell is rung */
void board_reply_wait(uint32_t id);        /* returns once line 0 has fired (and is cleared) */

/* demo.c */
uint32_t demo_checksum(uint32_t seed);
int main(void);

#endif
