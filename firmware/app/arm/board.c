/*
 * cortex-m-dual (Cortex-M4): the mailbox reply interrupt and the other exception handlers.
 *
 * The emulator models the NVIC in Python: for an enabled pending INTC line it performs the
 * exception entry (IRQ line n = exception 16 + n) at a quantum boundary when PRIMASK is clear,
 * and it wakes a core stopped in front of `wfi` whenever an enabled line is pending, whatever
 * PRIMASK says (as WFI does on real silicon). irq0_handler acknowledges the line and the reply
 * flag and records the interrupt in this core's core-local block (hal.h: CORE_RAM_LOCAL).
 */
#include "demo.h"
#include "hal.h"

_Static_assert(CORE_RAM_SIZE == (1 << CORE_RAM_SHIFT), "start.S computes stacks with the shift");

struct core_local {
    volatile uint32_t reply_irq;      /* set by irq0_handler, cleared by board_reply_reset */
    volatile uint32_t irq0_count;     /* number of line-0 interrupts handled */
};

static inline struct core_local *core_local(uint32_t id)
{
    return (struct core_local *)CORE_RAM_LOCAL(id);
}

/* Mask interrupts (PRIMASK = 1); returns the previous PRIMASK for irq_restore. */
static inline uint32_t irq_save(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}

static inline void irq_restore(uint32_t primask)
{
    __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
}

/* Acknowledge the reply: INTC line 0 first, then HSM2HTF bit id (see board_reply_wait). */
static void reply_ack(uint32_t id)
{
    reg_write(INTC_BASE + INTC_PENDING, 1u << IRQ_LINE_MAILBOX);
    reg_write(MBOX_BASE + MBOX_HSM2HTF, 1u << id);
}

void board_reply_reset(uint32_t id)
{
    /* With interrupts masked, so that irq0_handler cannot set the flag again in between. */
    uint32_t primask = irq_save();
    reply_ack(id);
    core_local(id)->reply_irq = 0u;
    irq_restore(primask);
}

/*
 * while (!ready()) { cpsid i; if (!flag && !ready()) wfi; cpsie i; }
 * (cpsie i stands for "restore PRIMASK": main runs with interrupts enabled, start.S does cpsie i)
 *
 * The last test and the `wfi` run with PRIMASK set, so irq0_handler cannot slip in between and
 * consume the interrupt: if the reply lands after the test, line 0 is pending and `wfi` returns
 * at once (WFI wakes on a pending enabled interrupt even while PRIMASK masks it). After `cpsie i`
 * the handler runs (in the emulator: at the next quantum boundary) and acknowledges the line and
 * HSM2HTF. Whether it has run by the time this returns does not matter: readiness is decided by
 * the response CSR, and board_reply_reset acknowledges a leftover before the next request.
 */
void board_reply_wait(uint32_t id, board_ready_fn ready, const void *arg)
{
    struct core_local *local = core_local(id);
    while (!ready(arg)) {
        uint32_t primask = irq_save();
        if (local->reply_irq == 0u && !ready(arg)) {
            cpu_wait();
        }
        irq_restore(primask); /* normally 0: `cpsie i` */
    }
}

/* Exception 16: INTC line 0, the mailbox reply. */
void irq0_handler(void)
{
    uint32_t id = reg_read(INTC_BASE + INTC_CORE_ID);
    if ((reg_read(INTC_BASE + INTC_PENDING) & (1u << IRQ_LINE_MAILBOX)) != 0u) {
        reply_ack(id);
        core_local(id)->irq0_count++;
        core_local(id)->reply_irq = 1u;
    }
}

/* Any other external interrupt: disable and acknowledge its line. */
void unexpected_irq_handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    uint32_t line = 1u << ((ipsr - 16u) & 31u);
    reg_write(INTC_BASE + INTC_ENABLE, reg_read(INTC_BASE + INTC_ENABLE) & ~line);
    reg_write(INTC_BASE + INTC_PENDING, line);
}

/* NMI, faults, SVC, PendSV, SysTick: none is expected; stop this core. */
void fault_handler(void)
{
    reg_write(INTC_BASE + INTC_HALT, 1u);
    idle();
}
