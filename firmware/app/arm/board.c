/*
 * cortex-m-dual (Cortex-M4): the mailbox reply interrupt and the other exception handlers.
 *
 * The emulator models the NVIC in Python: for an enabled pending INTC line it performs the
 * exception entry (IRQ line n = exception 16 + n) when PRIMASK is clear, and wakes a core
 * stopped in front of `wfi`. The handler acknowledges the line and sets a flag in this core's
 * core-local block (hal.h: CORE_RAM_LOCAL), which main polls around `wfi`.
 *
 * Known limit, as with every `while (!flag) wfi;` loop: if the interrupt is taken between the
 * flag test and the `wfi`, the `wfi` sleeps until the next interrupt. The mailbox reply comes
 * from the HSM long after the doorbell, so the window is not hit here; the race-free form
 * (`cpsid i` around the test, `wfi`, `cpsie i`) needs pending interrupts to be taken right
 * after `cpsie i`, which the emulator does only at quantum boundaries.
 */
#include "demo.h"
#include "hal.h"

_Static_assert(CORE_RAM_SIZE == (1 << CORE_RAM_SHIFT), "start.S computes stacks with the shift");

struct core_local {
    volatile uint32_t reply_irq;      /* set by irq0_handler */
    volatile uint32_t irq0_count;     /* number of line-0 interrupts taken */
};

static inline struct core_local *core_local(uint32_t id)
{
    return (struct core_local *)CORE_RAM_LOCAL(id);
}

void board_reply_arm(uint32_t id)
{
    core_local(id)->reply_irq = 0u;
}

void board_reply_wait(uint32_t id)
{
    struct core_local *local = core_local(id);
    while (local->reply_irq == 0u) {
        cpu_wait();
    }
}

/* Exception 16: INTC line 0, the mailbox reply. */
void irq0_handler(void)
{
    uint32_t id = reg_read(INTC_BASE + INTC_CORE_ID);
    uint32_t line = 1u << IRQ_LINE_MAILBOX;
    if ((reg_read(INTC_BASE + INTC_PENDING) & line) != 0u) {
        reg_write(INTC_BASE + INTC_PENDING, line);
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
