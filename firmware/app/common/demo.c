/*
 * hsmemu app-core demo, shared by every board (ppc_demo.elf, arm_demo.elf).
 *
 * The same ELF runs on every app core of its board. Nothing here uses writable globals:
 * per-core state lives on the core's own stack (set up by start.S from INTC CORE_ID).
 *
 * What it does, on core N:
 *   1. prints "hello from <arch> app core N\n" on the UART;
 *   2. computes demo_checksum(N) and prints "checksum xxxxxxxx\n" (8 lowercase hex digits);
 *   3. mailbox ping: writes 0x1000 + N into the data of its channel's request block, enables
 *      its bit in HSM2HTIE and IRQ line 0 in the INTC, rings HT2HSMF bit N, waits for the
 *      reply interrupt (board_reply_wait), clears HSM2HTF bit N and prints
 *      "hsm reply xxxxxxxx\n" with the first data word of the response block;
 *   4. idles forever in `idle` (start.S).
 */
#include "demo.h"
#include "hal.h"

#define CHECKSUM_ITERATIONS 20000u

static void uart_putc(char c)
{
    while ((reg_read(UART_BASE + UART_STATUS) & UART_STATUS_TXRDY) == 0) {
    }
    reg_write(UART_BASE + UART_TXDATA, (uint8_t)c);
}

static void uart_puts(const char *s)
{
    while (*s != '\0') {
        uart_putc(*s++);
    }
}

static void uart_put_hex32(uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    for (int shift = 28; shift >= 0; shift -= 4) {
        uart_putc(digits[(value >> shift) & 0xFu]);
    }
}

static void uart_put_dec(uint32_t value)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        uart_putc(buf[--n]);
    }
}

/*
 * The demo checksum. Keep this formula exactly: the TriCore demo firmware implements the
 * same one, and the tests recompute it in Python.
 *
 *   x = seed (the core id); acc = 0
 *   repeat 20000 times (all arithmetic on uint32, modulo 2^32):
 *       x   = x * 1664525 + 1013904223
 *       acc = acc ^ x
 *       acc = (acc << 1) | (acc >> 31)        (rotate left by 1)
 *   result = acc
 */
__attribute__((noinline)) uint32_t demo_checksum(uint32_t seed)
{
    uint32_t x = seed;
    uint32_t acc = 0u;
    for (uint32_t i = 0u; i < CHECKSUM_ITERATIONS; i++) {
        x = x * 1664525u + 1013904223u;
        acc ^= x;
        acc = (acc << 1) | (acc >> 31);
    }
    return acc;
}

/*
 * A spinlock on a word shared by all app cores (APP_MBOX_LOCK, zero at power-on).
 * HSM2HTIE is one register for all cores, so setting a bit is a read-modify-write; the cores
 * run the same code in lock-step, and without the lock two of them could read the old value
 * in the same window and one enable bit would be lost (that core would then sleep forever).
 */
static void app_lock_take(uint32_t owner)
{
    volatile uint32_t *lock = (volatile uint32_t *)APP_MBOX_LOCK;
    uint32_t expected;
    do {
        expected = 0u;
    } while (!__atomic_compare_exchange_n(lock, &expected, owner, 0, __ATOMIC_ACQUIRE,
                                          __ATOMIC_RELAXED));
}

static void app_lock_give(void)
{
    __atomic_store_n((volatile uint32_t *)APP_MBOX_LOCK, 0u, __ATOMIC_RELEASE);
}

int main(void)
{
    uint32_t id = reg_read(INTC_BASE + INTC_CORE_ID);
    uint32_t bit = 1u << id;
    uintptr_t channel = MBOX_CHANNEL_BASE(id);

    uart_puts("hello from " HAL_ARCH_NAME " app core ");
    uart_put_dec(id);
    uart_putc('\n');

    uart_puts("checksum ");
    uart_put_hex32(demo_checksum(id));
    uart_putc('\n');

    /* Mailbox ping. */
    reg_write(channel + CH_REQUEST + CH_DATA, 0x1000u + id);

    app_lock_take(id + 1u);
    reg_write(MBOX_BASE + MBOX_HSM2HTIE, reg_read(MBOX_BASE + MBOX_HSM2HTIE) | bit);
    app_lock_give();

    board_reply_arm(id);
    reg_write(INTC_BASE + INTC_ENABLE,
              reg_read(INTC_BASE + INTC_ENABLE) | (1u << IRQ_LINE_MAILBOX));
    hal_barrier();
    reg_write(MBOX_BASE + MBOX_HT2HSMF, bit);

    board_reply_wait(id);

    reg_write(MBOX_BASE + MBOX_HSM2HTF, bit);
    uint32_t reply = reg_read(channel + CH_RESPONSE + CH_DATA);

    uart_puts("hsm reply ");
    uart_put_hex32(reply);
    uart_putc('\n');

    idle();
}
