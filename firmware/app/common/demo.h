/*
 * Interface between the shared code (demo.c, wh_mbox_client.c) and the per-architecture parts
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

/*
 * board.c: the mailbox reply interrupt (INTC line 0, HSM2HTF bit id), the way the architecture
 * handles it. Used by wh_mbox_client.c.
 *
 * board_reply_reset: acknowledge whatever is left of a previous reply (INTC PENDING line 0 and
 *   HSM2HTF bit id, write 1 to clear) and forget it. Called with no request outstanding, right
 *   before a new request is published, and at attach/detach: the next reply then sets HSM2HTF
 *   anew, which raises the line (the mailbox raises it only on a 0 -> 1 change of the flag).
 * board_reply_wait: return once ready(arg) is true (the response CSR answers the request),
 *   sleeping in `wait`/`wfi` meanwhile, without ever sleeping past the reply.
 */
typedef int (*board_ready_fn)(const void *arg);
void board_reply_reset(uint32_t id);
void board_reply_wait(uint32_t id, board_ready_fn ready, const void *arg);

/* demo.c */
uint32_t demo_checksum(uint32_t seed);
int main(void);

#endif
