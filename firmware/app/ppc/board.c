/*
 * spc58nn (classic PPC32): waiting for the mailbox reply.
 *
 * The emulator does not vector external interrupts on PPC (MSR[EE] stays clear). Its simple
 * wake-up model: a core that reaches `wait` is stopped in front of it and woken once one of
 * its enabled INTC lines is pending. So the firmware polls INTC PENDING around `wait`.
 */
#include "demo.h"
#include "hal.h"

void board_reply_arm(uint32_t id)
{
    (void)id;
}

void board_reply_wait(uint32_t id)
{
    (void)id;
    for (;;) {
        if ((reg_read(INTC_BASE + INTC_PENDING) & (1u << IRQ_LINE_MAILBOX)) != 0u) {
            break;
        }
        cpu_wait();
    }
    /* Acknowledge the line at the INTC, as the Cortex-M IRQ handler does. */
    reg_write(INTC_BASE + INTC_PENDING, 1u << IRQ_LINE_MAILBOX);
}
