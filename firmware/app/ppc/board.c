/*
 * spc58nn (classic PPC32): waiting for the mailbox reply.
 *
 * The emulator does not vector external interrupts on PPC (MSR[EE] stays clear). Its simple
 * wake-up model: a core that reaches `wait` is stopped in front of it and woken once one of
 * its enabled INTC lines is pending (also when the line was already pending before the `wait`).
 * So the firmware polls: the response CSR first, then INTC PENDING, and only then `wait`.
 */
#include "demo.h"
#include "hal.h"

void board_reply_reset(uint32_t id)
{
    reg_write(INTC_BASE + INTC_PENDING, 1u << IRQ_LINE_MAILBOX);
    reg_write(MBOX_BASE + MBOX_HSM2HTF, 1u << id);
}

/*
 * loop { ready? -> done; line 0 pending? -> acknowledge it (PENDING, then HSM2HTF bit id);
 *        else `wait` }
 *
 * It cannot sleep past the reply: the HSM writes the response (data, then CSR) before it sets
 * HSM2HTF, which pends line 0, and board_reply_reset cleared both before the request was
 * published, so a pending line here belongs to this request's reply. If the reply lands after
 * the readiness test, either PENDING is already set when it is read (acknowledged; the next test
 * sees the CSR), or it becomes set later and stays set until this loop clears it, so `wait`
 * returns at once. If the loop ends on the CSR before the line is seen, the line and the flag
 * are left for the next board_reply_reset (wh_detach does the last one).
 */
void board_reply_wait(uint32_t id, board_ready_fn ready, const void *arg)
{
    uint32_t line = 1u << IRQ_LINE_MAILBOX;
    for (;;) {
        if (ready(arg)) {
            break;
        }
        if ((reg_read(INTC_BASE + INTC_PENDING) & line) != 0u) {
            reg_write(INTC_BASE + INTC_PENDING, line);
            reg_write(MBOX_BASE + MBOX_HSM2HTF, 1u << id);
        } else {
            cpu_wait();
        }
    }
}
